import numpy as np
import pytest

from edgeecg import layouts as lay
from edgeecg.record import LEADS

REQUIRED = ["3x4", "3x4+II", "3x4+II+V1", "3x4+3", "2x6", "2x6+II", "6x2", "6x2-sync", "12x1"]
COLUMNS_3X4 = {"I": (0, 2.5), "II": (0, 2.5), "III": (0, 2.5), "aVR": (2.5, 5), "aVL": (2.5, 5),
               "aVF": (2.5, 5), "V1": (5, 7.5), "V2": (5, 7.5), "V3": (5, 7.5), "V4": (7.5, 10),
               "V5": (7.5, 10), "V6": (7.5, 10)}


def _shown_seconds(layout: str, fs: float) -> dict[str, set[int]]:
    """Sample indices each lead shows, derived independently of observed_mask from the definitions."""
    mask = lay.observed_mask(layout, fs, int(10 * fs))
    return {lead: set(np.flatnonzero(mask[i]).tolist()) for i, lead in enumerate(LEADS)}


def test_all_required_layouts_exist():
    assert set(REQUIRED) <= set(lay.LAYOUTS)
    assert lay.RANDOM == "random"


@pytest.mark.parametrize("fs", [100.0, 500.0])
def test_3x4_shows_each_lead_only_in_its_column(fs):
    shown = _shown_seconds("3x4", fs)
    for lead, (a, b) in COLUMNS_3X4.items():
        assert shown[lead] == set(range(int(a * fs), int(b * fs))), lead
    # e.g. V1-V3 only in 5.0-7.5 s
    assert min(shown["V2"]) / fs == 5.0 and (max(shown["V2"]) + 1) / fs == 7.5


@pytest.mark.parametrize("fs", [100.0, 500.0])
@pytest.mark.parametrize("name,strips", [("3x4+II", ["II"]), ("3x4+II+V1", ["II", "V1"]),
                                         ("3x4+3", ["II", "V1", "V5"]), ("3x4+V1", ["V1"]), ("3x4+V5", ["V5"])])
def test_rhythm_strips_add_full_leads_to_3x4(name, strips, fs):
    shown = _shown_seconds(name, fs)
    for lead, (a, b) in COLUMNS_3X4.items():
        expected = set(range(int(10 * fs))) if lead in strips else set(range(int(a * fs), int(b * fs)))
        assert shown[lead] == expected, lead


@pytest.mark.parametrize("fs", [100.0, 500.0])
@pytest.mark.parametrize("name", ["2x6", "6x2", "2x6+II"])
def test_2x6_limb_leads_first_half_chest_second(name, fs):
    shown = _shown_seconds(name, fs)
    first, second = set(range(int(5 * fs))), set(range(int(5 * fs), int(10 * fs)))
    for lead in LEADS[:6]:
        assert shown[lead] == (first | second if (name == "2x6+II" and lead == "II") else first), lead
    for lead in LEADS[6:]:
        assert shown[lead] == second, lead


@pytest.mark.parametrize("fs", [100.0, 500.0])
def test_6x2_sync_shows_everything_in_the_first_five_seconds(fs):
    mask = lay.observed_mask("6x2-sync", fs, int(10 * fs))
    assert mask[:, : int(5 * fs)].all() and not mask[:, int(5 * fs):].any()


@pytest.mark.parametrize(("cabrera", "plain"), [("6x2-cabrera", "6x2"), ("12x1-cabrera", "12x1")])
def test_cabrera_prints_the_limb_leads_in_their_circle_with_avr_inverted(cabrera, plain):
    layout = lay.LAYOUTS[cabrera]
    limb = [row[0] for row in layout.grid[:6]]
    assert [c.label for c in limb] == ["aVL", "I", "-aVR", "II", "aVF", "III"]
    assert [c.sign for c in limb] == [1.0, 1.0, -1.0, 1.0, 1.0, 1.0] and limb[2].lead == "aVR"
    # the same samples as the PTB-XL order, only elsewhere on the paper: the model needs nothing new
    np.testing.assert_array_equal(lay.observed_mask(cabrera, 100, 1000), lay.observed_mask(plain, 100, 1000))


def test_other_vendors_layouts_are_read_but_not_in_the_models_mix():
    assert set(lay.VENDOR) <= set(lay.LAYOUTS) and not set(lay.VENDOR) & set(lay.PRINTED)
    drawn = lay.layout_masks([lay.RANDOM] * 200, 100, 1000, np.random.default_rng(0))
    printed = [lay.observed_mask(name, 100, 1000) for name in lay.PRINTED]
    assert all(any(np.array_equal(m, p) for p in printed) for m in drawn)
    assert not any(np.array_equal(lay.observed_mask("3x4+V1", 100, 1000), p) for p in printed)


def test_12x1_shows_everything_and_the_grid_cells_are_consistent():
    assert lay.observed_mask("12x1", 500, 5000).all()
    for layout in lay.LAYOUTS.values():
        for cell in layout.cells:
            assert 0 <= cell.start < cell.end <= layout.duration


def test_apply_puts_nan_at_true_times_not_shifted():
    sig = np.tile(np.arange(1000, dtype=np.float32), (12, 1))
    out = lay.apply(sig, "3x4", 100)
    v1 = out[LEADS.index("V1")]
    assert np.isnan(v1[:500]).all() and np.isnan(v1[750:]).all()
    np.testing.assert_array_equal(v1[500:750], np.arange(500, 750))


def test_mask_longer_than_the_page_hides_the_overhang():
    mask = lay.observed_mask("12x1", 100, 1200)
    assert mask[:, :1000].all() and not mask[:, 1000:].any()


def test_blackouts_are_one_contiguous_block_of_at_most_80_percent():
    rng = np.random.default_rng(0)
    masks = lay.blackout_masks(rng, 200, 1000)
    hidden = ~masks
    frac = hidden.mean(-1)
    assert frac.max() <= 0.8 and frac.min() >= 0.0 and frac.mean() > 0.3
    runs = (np.diff(hidden.astype(int), axis=-1) == 1).sum(-1) + hidden[..., 0]
    assert runs.max() <= 1   # one block at most per lead
    # leads are independent: the 12 leads of a record are not all hidden in the same place
    assert (hidden[:, 0] != hidden[:, 1]).any()


def test_window_masks_show_every_lead_in_one_shared_stretch():
    masks = lay.window_masks(np.random.default_rng(0), 300, 1000)
    assert (masks == masks[:, :1]).all()                       # the same stretch in all 12 leads
    shown = masks[:, 0]
    runs = (np.diff(shown.astype(int), axis=-1) == 1).sum(-1) + shown[:, 0]
    assert (runs == 1).all()                                   # one contiguous stretch per record
    frac = shown.mean(-1)
    assert frac.min() >= 0.25 and frac.max() <= 1.0 and 0.5 < frac.mean() < 0.75
    assert shown[:, 0].any() and shown[:, -1].any() and not shown[:, 0].all()   # starts vary
    with pytest.raises(ValueError):
        lay.window_masks(np.random.default_rng(0), 2, 1000, min_fraction=0.0)


def test_mask_mix_window_share_draws_shared_windows():
    masks = lay.MaskMix(0.0, 0.0, 0.0, p_window=1.0).sample(np.random.default_rng(2), 200, 100, 1000)
    assert (masks == masks[:, :1]).all() and not masks.all(axis=(1, 2)).all()
    with pytest.raises(ValueError):
        lay.MaskMix(p_layout=0.5, p_blackout=0.3, p_both=0.2, p_window=0.1)


def test_mask_mix_covers_all_kinds_and_never_hides_a_whole_record():
    rng = np.random.default_rng(1)
    mix = lay.MaskMix()
    masks = mix.sample(rng, 400, 100, 1000)
    assert masks.any(axis=(1, 2)).all()
    full = masks.all(axis=(1, 2))
    printed = {name: lay.observed_mask(name, 100, 1000) for name in lay.PRINTED}
    exact_layout = [any((m == p).all() for p in printed.values()) for m in masks]
    assert 0.05 < full.mean() < 0.2                 # about 10 % full signals
    assert 0.3 < np.mean(exact_layout) < 0.65       # about 40 % printed layouts (+ full = 12x1)
    with pytest.raises(ValueError):
        lay.MaskMix(p_layout=0.8, p_blackout=0.5)


def test_random_layout_needs_a_generator_and_draws_printed_ones():
    with pytest.raises(lay.LayoutError, match="random generator"):
        lay.layout_masks(["random"], 100, 1000)
    masks = lay.layout_masks(["random"] * 50, 100, 1000, np.random.default_rng(0))
    fractions = {round(m.mean(), 3) for m in masks}
    assert len(fractions) > 3


def test_layout_from_toml_columns_and_rows(tmp_path):
    cols = tmp_path / "ward.toml"
    cols.write_text('name = "ward"\nrhythm = ["II"]\n'
                    'columns = [["I","II","III"],["aVR","aVL","aVF"],["V1","V2","V3"],["V4","V5","V6"]]\n')
    layout = lay.load_toml(cols)
    np.testing.assert_array_equal(lay.observed_mask(layout, 100, 1000), lay.observed_mask("3x4+II", 100, 1000))
    rows = tmp_path / "rows.toml"
    rows.write_text('name = "odd"\n[[row]]\ncells = [{lead = "V1", start = 1.0, end = 3.0}]\n')
    mask = lay.observed_mask(lay.get_layout(str(rows)), 100, 1000)
    assert mask.sum() == 200 and mask[6, 100:300].all()
    inverted = tmp_path / "inverted.toml"
    inverted.write_text('name = "inv"\nrhythm = ["-aVR"]\ncolumns = [["I","II","III"],["-aVR","aVL","aVF"]]\n')
    strip, = lay.load_toml(inverted).rows[-1]
    assert (strip.lead, strip.inverted, strip.label) == ("aVR", True, "-aVR")
    lay.register(layout)
    assert lay.get_layout("ward") is layout
    del lay.LAYOUTS["ward"]


@pytest.mark.parametrize("text,message", [
    ('name = "x"\n[[row]]\ncells = [{lead = "MLII", start = 0.0, end = 2.0}]\n', "unknown lead name"),
    ('name = "x"\n[[row]]\ncells = [{lead = "I", start = 3.0, end = 2.0}]\n', "start < end"),
    ('name = "x"\n', "needs either"),
    ('name = "x"\n[[row]]\ncells = [{lead = "-V7", start = 0.0, end = 2.0}]\n', "unknown lead name"),
    ('name = "x"\ncolumns = [["I"], ["II"]]\nstarts = [0.0]\n', "2 columns but 1 starts"),
    ("name = \n", "not valid TOML"),
])
def test_bad_layout_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(lay.LayoutError, match=message):
        lay.load_toml(path)


def test_unknown_layout_name_lists_the_known_ones():
    with pytest.raises(lay.LayoutError, match="known: 3x4"):
        lay.get_layout("4x3")
