"""Round trips render -> (capture) -> digitize -> score, with floors that fail when the digitizer regresses,
and the bad inputs that must be refused with a reason."""

import cv2
import numpy as np
import pytest

from edgeecg.imaging import digitize as digitize_module
from edgeecg.imaging import thin_strokes
from edgeecg.imaging.capture import capture
from edgeecg.imaging.digitize import DigitizeConfig, _agreeing_ticks, _common_edge, _refine_origin, digitize
from edgeecg.imaging.page import DigitizeError
from edgeecg.imaging.render import RenderConfig, render
from edgeecg.imaging.score import score
from edgeecg.layouts import Cell
from edgeecg.record import LEADS, Record


def _median_snr(shot, result) -> float:
    return float(np.median([s.snr_db for s in score(shot.truth.signal, shot.truth.fs, result.record.signal,
                                                      result.record.fs)]))


STYLES = [
    RenderConfig(),
    RenderConfig(grid="green", font="triplex", label_position="below", dpi=150),
    RenderConfig(grid="grey", font="duplex", line_width=0.45, dpi=300, paper="letter"),
    RenderConfig(grid="pink", rhythm_position="top", trace_colour=(0, 0, 120), margin_left=8.0),
    RenderConfig(grid="orange", separators=False, dpi=250),
]


@pytest.mark.parametrize("layout", ["3x4", "3x4+II", "3x4+II+V1", "3x4+3", "2x6", "2x6+II", "12x1"])
@pytest.mark.parametrize("style", range(len(STYLES)))
def test_layout_is_detected_across_print_styles(ecgs, layout, style):
    shot = render(ecgs[style], layout, STYLES[style])
    result = digitize(shot.image, DigitizeConfig(fs=100.0))
    assert result.quality.layout == layout
    assert _median_snr(shot, result) > 10.0


@pytest.mark.parametrize("layout", ["3x4+V1", "3x4+V5", "6x2-cabrera", "12x1-cabrera"])
@pytest.mark.parametrize("style", [0, 1, 2])
def test_other_vendors_prints_are_told_from_their_twins(ecgs, layout, style):
    """3x4+V1 and 3x4+V5 print as 3x4+II but for the strip's lead, Cabrera as 6x2 and 12x1 but for the limb
    leads' order (and -aVR): how exactly the strip copies its cell, and the limb-lead laws, tell them apart; the
    inverted aVR comes out the right way up."""
    shot = render(ecgs[style], layout, STYLES[style])
    result = digitize(shot.image, DigitizeConfig(fs=100.0))
    assert result.quality.layout == layout
    assert _median_snr(shot, result) > 12.0
    avr = LEADS.index("aVR")
    read, truth = result.record.signal[avr], shot.truth.signal[avr]
    both = np.isfinite(read) & np.isfinite(truth)
    assert np.corrcoef(read[both], truth[both])[0, 1] > 0.9


@pytest.mark.parametrize("layout", ["3x4", "3x4+II", "6x2", "12x1"])
def test_clean_render_round_trip(ecgs, layout):
    shot = render(ecgs[1], layout)
    result = digitize(shot.image, DigitizeConfig(fs=100.0))
    assert _median_snr(shot, result) > 15.0
    assert result.quality.gain_mm_per_mv == 10.0 and result.quality.grid_found
    assert result.quality.px_per_mm_x == pytest.approx(200 / 25.4, rel=2e-3)


@pytest.mark.parametrize(("severity", "best", "median"), [("scan", 16.0, 15.0), ("photo", 14.0, 10.0),
                                                         ("poor-photo", 8.0, 5.0)])
def test_captured_round_trip(ecgs, severity, best, median):
    """Floors at about the level `edgeecg bench digitize` measures, so that a regression shows."""
    snrs = []
    for seed in range(3):
        shot = capture(render(ecgs[2 + seed], "3x4+II"), severity, seed=seed)
        snrs.append(_median_snr(shot, digitize(shot.image, DigitizeConfig(fs=100.0))))
    assert max(snrs) > best and np.median(snrs) > median


@pytest.mark.parametrize(("paper", "dpi"), [("a4", 150.0), ("letter", 250.0)])
def test_without_a_grid_the_sheet_size_sets_the_scale(ecgs, paper, dpi):
    """No grid: the pulse (5 mm, a few dozen px) tells A4 from Letter, the sheet's width gives the scale."""
    shot = capture(render(ecgs[1], "3x4", RenderConfig(grid="none", paper=paper, dpi=dpi)), "scan", seed=1)
    result = digitize(shot.image, DigitizeConfig(fs=100.0))
    assert result.quality.px_per_mm_x == pytest.approx(shot.truth.px_per_mm * result.flat.shape[1]
                                                       / shot.image.shape[1], rel=0.01)
    assert any(f"sheet's size ({paper}" in n for n in result.quality.notes)
    assert _median_snr(shot, result) > 14.0


def test_a_scanned_sheets_shape_tells_letter_from_a4_where_its_pulse_reads_a_pixel_off(ecgs):
    """At 100 dpi a pulse is 20 px wide and this one reads a pixel narrow, the 6 % that parts A4 from Letter: the
    page's shape (1.29 wide to 1, A4's is 1.41) says Letter, and the signals keep their time scale."""
    cfg = RenderConfig(paper="letter", dpi=99.85, grid="none", line_width=0.27, font="complex",
                       label_position="below", margin_left=15.2, margin_top=16.5, margin_bottom=7.8)
    shot = render(ecgs[0], "3x4+II", cfg)
    result = digitize(shot.image, DigitizeConfig(fs=100.0))
    assert any("sheet's size (letter" in n for n in result.quality.notes)
    assert result.quality.px_per_mm_x == pytest.approx(shot.truth.px_per_mm, rel=0.005)
    assert _median_snr(shot, result) > 10.0


@pytest.mark.parametrize(("frame_is_sheet", "paper"), [(True, "letter"), (False, "a4")])
def test_only_a_frame_that_is_the_sheet_has_its_shape_trusted(frame_is_sheet, paper):
    """A Letter-shaped frame whose pulse reads 6 % fine (A4's width): a scan's frame is the sheet, so Letter; a
    sheet flattened from a photo's outline keeps a tilt's foreshortening, so the pulse's paper, A4."""
    from edgeecg.imaging.digitize import _sheet_scale

    ppm = 3.93
    shape = (round(215.9 * ppm), round(279.4 * ppm))
    assert _sheet_scale(shape, shape[1] / 297.0, frame_is_sheet)[2] == paper
    assert _sheet_scale(shape, 1.2 * ppm, frame_is_sheet) is None   # a pulse a fifth off fits no sheet


@pytest.mark.parametrize("drift_mv", [0.0, 0.4])
def test_a_grid_less_page_is_levelled_by_where_its_rows_end_not_by_its_baselines(ecgs, drift_mv):
    """Printed square, a grid-less 3x4's baselines step from cell to cell, and a signal drifting over its 10 s
    tilts every row alike: read off the baselines, this page leant by tenths of a degree (a degree with the
    drift), its rows read milliseconds apart, far below 5 dB (the drifting one broke the limb-lead laws). Its
    rows' pens end straight down the page, which sets it level."""
    from dataclasses import replace

    record = ecgs[0]
    ramp = np.linspace(0.0, drift_mv, record.signal.shape[1], dtype=np.float32)
    shot = render(replace(record, signal=record.signal + ramp), "3x4", RenderConfig(grid="none"))
    result = digitize(shot.image, DigitizeConfig(fs=100.0))
    assert abs(result.quality.rotation_deg) < 0.05
    assert _median_snr(shot, result) > 18.0


@pytest.mark.parametrize(("ends", "lean"), [([500.0, 500.0, 500.0], None),           # straight: left as read
                                            ([500.0, 502.0, 504.0], -0.286),         # 2 px per 400 px down
                                            ([504.0, 502.0, 500.0, 498.0], 0.286),
                                            ([500.0, 503.0, 498.0, 504.0], None),    # scattered: no line
                                            ([500.0, 502.0], None)])                 # two rows say too little
def test_rows_ends_lean_is_read_only_where_they_lie_on_one_line(ends, lean):
    from edgeecg.imaging.digitize import _ends_lean

    baselines = 200.0 + 400.0 * np.arange(len(ends))
    got = _ends_lean(np.array(ends), baselines, 8.0)
    assert got == (None if lean is None else pytest.approx(lean, abs=0.005))


@pytest.mark.parametrize("found_page", [True, False])
def test_a_flattened_sheet_may_keep_its_foreshortening(ecgs, found_page):
    """A sheet flattened from a steep photo's outline keeps the outline's proportions: its grid reads 1.2x
    finer down than across. Both axes are the grid's, and are used as read; on a scan, millimetres are
    square, and two axes that far apart mean one of them is wrong."""
    from edgeecg.imaging.digitize import _ink_mask, _scale
    from edgeecg.imaging.page import darkness

    shot = render(ecgs[1], "3x4", RenderConfig(dpi=200))
    h, w = shot.image.shape[:2]
    squashed = cv2.resize(shot.image, (w, int(h / 1.22)), interpolation=cv2.INTER_AREA)
    ink, grid_img = darkness(squashed)
    ppm_x, ppm_y, grid_found, notes = _scale(w, grid_img, _ink_mask(ink), found_page)
    assert grid_found
    if found_page:
        assert not notes
        assert (ppm_x, ppm_y) == pytest.approx((200 / 25.4, 200 / 25.4 / 1.22), rel=0.01)
    else:
        assert notes == ["grid measured along one axis only"] and ppm_x == ppm_y


def _lag_ms(truth: np.ndarray, read: np.ndarray, fs: float) -> float:
    """The time shift (ms, 0.1 ms steps) that best lines `read` up with `truth`."""
    t = np.arange(truth.size) / fs
    ok, shown = np.isfinite(read), np.isfinite(truth)
    shifts = np.arange(-6.0, 6.01, 0.1)
    errors = []
    for d in shifts / 1000:
        e = np.interp(t[shown] + d, t[ok], read[ok]) - truth[shown]
        errors.append(np.var(e))
    return float(shifts[int(np.argmin(errors))])


def test_rows_of_a_scan_are_lined_up_on_the_grid(ecgs):
    """A deskewed scan keeps a few hundredths of a degree: here 0.6 px of shear from the top row to the
    bottom one at 150 dpi. The rows were read 2 ms apart in time (a QRS flank climbs 0.1 mV per ms); their
    vertical grid lines now line them up, as for photos."""
    shot = render(ecgs[1], "6x2", RenderConfig(dpi=150))
    h, w = shot.image.shape[:2]
    k = 0.6 / (0.8 * h)
    sheared = cv2.warpAffine(shot.image, np.float32([[1, k, -k * h / 2], [0, 1, 0]]), (w, h),
                             flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    read = digitize(sheared, DigitizeConfig(fs=shot.truth.fs)).record.signal
    lag = {lead: _lag_ms(shot.truth.signal[i], read[i], shot.truth.fs) for i, lead in enumerate(LEADS)}
    assert abs(lag["aVF"] - lag["I"]) < 1.2 and abs(lag["V6"] - lag["V1"]) < 1.2


def test_a_page_photographed_at_a_slant_filling_the_frame_is_read_from_its_grid(ecgs, keystone):
    """No outline to flatten it by, its vertical lines leaning up to 8 % of the width: each row's leads sat at
    their own times, and the limb leads broke Einthoven's law (the old code refused it for that). Read
    band by band from the grid, it reads as a photo does."""
    shot = render(ecgs[1], "3x4+II", RenderConfig(dpi=120, grid="pink"))
    out = digitize(keystone(shot.image, 0.08), DigitizeConfig(fs=100.0, min_confidence=0.0))
    assert out.quality.layout == "3x4+II" and not out.quality.page_found
    assert _median_snr(shot, out) > 15.0


def test_a_scan_whose_rows_are_in_line_is_not_read_band_by_band(ecgs, monkeypatch):
    """The thin bands cost a scan time and, on a grid that prints every line alike, once read a scan as leaning
    (most of a decibel lost): they are read only where some row lies LEAN_ROWS_MM out of line."""
    from edgeecg.imaging import grid

    calls = []
    monkeypatch.setattr(grid, "leaning_column_maps", lambda *a: calls.append(a) or None)
    shot = capture(render(ecgs[2], "3x4+II", RenderConfig(dpi=150)), "scan", seed=3)
    digitize(shot.image, DigitizeConfig(fs=100.0, min_confidence=0.0))
    assert calls == []


def test_a_pale_pen_under_bold_labels_is_read_at_the_images_own_level(ecgs):
    """A pale grey pen under bold black labels: Otsu's level lands between the labels and the trace (most of
    the ink, in one sharp mode below it), so the split is redone below; before, the trace fell apart at
    that level and was only read at 65 % of it, by the faint-trace fallback."""
    shot = render(ecgs[1], "3x4", RenderConfig(trace_colour=(150, 150, 150)))
    result = digitize(shot.image, DigitizeConfig(fs=shot.truth.fs))
    assert result.quality.layout == "3x4"
    assert not any(n.startswith("faint traces") for n in result.quality.notes)
    assert _median_snr(shot, result) > 18.0


@pytest.mark.parametrize("rec", [0, 1, 2])
def test_a_crisp_grey_grid_does_not_erase_the_traces_on_its_lines(ecgs, rec):
    """A clean export with a grey grid: its major lines pass the ink threshold, and the rule removal took the
    level stretches lying on them (baselines sit on major lines) with them: rows lost, pulses not found,
    one print refused. The grid's own ink level now sets a floor under the threshold."""
    shot = render(ecgs[rec], "3x4", RenderConfig(grid="grey", trace_colour=(40, 40, 40)))
    result = digitize(shot.image, DigitizeConfig(fs=shot.truth.fs))
    assert result.quality.layout == "3x4" and result.quality.pulse_found
    assert _median_snr(shot, result) > 18.0


@pytest.mark.parametrize("rec", [1, 3])
def test_a_web_scans_grey_grid_as_dark_as_its_trace_is_taken_out_not_refused(ecgs, rec, monkeypatch):
    """At 72 dpi a grey grid's lines are as dark as the pixel-wide trace: no ink level parts them, and such scans
    were refused as covered in dark marks. With the grid's lines taken out of the ink (grid_removal) they read,
    and say how."""
    shot = capture(render(ecgs[rec], "3x4+II", RenderConfig(grid="grey", dpi=72, trace_colour=(40, 40, 40))),
                   "scan", seed=rec)
    cfg = DigitizeConfig(fs=shot.truth.fs, min_confidence=0.0)
    result = digitize(shot.image, cfg)
    assert result.quality.layout == "3x4+II"
    assert "a grid as dark as the trace: read with its lines taken out" in result.quality.notes
    assert _median_snr(shot, result) > 7.0
    monkeypatch.setattr(digitize_module, "without_grid_lines", lambda ink: ink)
    with pytest.raises(DigitizeError, match="dark marks cover"):
        digitize(shot.image, cfg)


def test_a_screenshot_size_exports_thin_strokes_are_read_whole(ecgs, monkeypatch):
    """A 90 dpi export with a pen a pixel wide: anti-aliasing splits every steep stroke's darkness between two
    pixels that each fall short of the ink level, so QRS complexes read as dashes and lost their apexes. Read
    as pixel pairs (thin_strokes), the same page reads far better than with them turned off: by more than 3 dB
    (more than 4 dB before islands ended where a path leaps over blank paper, `trace._leaps`, which lifted the
    dashed read too)."""
    shot = render(ecgs[0], "3x4+II", RenderConfig(dpi=90, grid="red", line_width=0.2))
    cfg = DigitizeConfig(layout="3x4+II", fs=shot.truth.fs, min_confidence=0.0)
    with_pairs = _median_snr(shot, digitize(shot.image, cfg))
    monkeypatch.setattr(thin_strokes, "NOISE_FREE", 1.01)   # no image counts as digital
    without = _median_snr(shot, digitize(shot.image, cfg))
    assert with_pairs > 10.0 and with_pairs > without + 3.0


def test_wave_tips_are_read_at_their_height(ecgs):
    """A steep stroke's column holds the whole climb; reading its middle left the five tallest samples of
    each lead 0.04-0.06 mV (median) off, reading the stroke across leaves about 0.02."""
    errors = []
    for rec in ecgs[:3]:
        shot = render(rec, "3x4", RenderConfig(line_width=0.3))
        got = digitize(shot.image, DigitizeConfig(fs=100.0)).record.signal
        for truth, read in zip(shot.truth.signal, got, strict=True):
            shown = np.flatnonzero(np.isfinite(truth))
            tips = shown[np.argsort(-np.abs(truth[shown] - np.median(truth[shown])))[:5]]
            errors += list(np.abs((read[tips] - np.nanmedian(read)) - (truth[tips] - np.median(truth[shown]))))
    assert np.median(errors) < 0.035   # mV


def test_a_tip_between_two_samples_goes_to_the_nearest():
    """A path read 0.6 px late puts an R wave's tip (row 20 at x 10.6) between the samples at x 10 and 12:
    interpolated, both read on the flanks, 14 and 35 px short. The tip goes to the sample nearest it. A
    lone stray point beyond a tip (a speck read at row 5 beside the tip at x 20) is no tip and is left out."""
    from edgeecg.imaging.digitize import _snap_apexes

    vx = np.array([0.0, 8.0, 10.6, 13.0, 18.0, 20.0, 22.0, 30.0])
    vy = np.array([80.0, 80.0, 20.0, 80.0, 80.0, 20.0, 80.0, 80.0])
    t = np.linspace(0.0, 1.0, 60, endpoint=False)               # the path: points along each stroke, as read
    px = np.concatenate([a + t * (b - a) for a, b in zip(vx[:-1], vx[1:], strict=True)])
    py = np.concatenate([a + t * (b - a) for a, b in zip(vy[:-1], vy[1:], strict=True)])
    py[np.argmin(np.abs(px - 20.5))] = 5.0                      # the speck
    x = np.arange(0.0, 31.0, 2.0)                               # samples every 2 px
    vals = np.interp(x, px, py)
    before = vals.copy()
    _snap_apexes(vals, x, px, py, 2.0)
    assert before[5] > 30.0 and vals[5] == pytest.approx(20.0, abs=0.5)
    assert vals[10] == pytest.approx(20.0, abs=0.5)
    assert np.array_equal(np.delete(vals, 5), np.delete(before, 5))


def test_waves_taller_than_a_12x1_row_are_followed_into_the_next(ecgs):
    """12x1 rows are 15 mm apart; at 1.6x these records' voltage the QRS reaches past halfway to the next
    row. Cut at the band's edge, the most extreme samples read about 0.5 mV short (median); followed into
    the neighbours' bands (their own ink taken out) they read within a few hundredths."""
    errors = []
    for rec in ecgs[1:4]:
        shot = render(Record(rec.signal * 1.6, rec.fs), "12x1")
        got = digitize(shot.image, DigitizeConfig(layout="12x1", fs=100.0)).record.signal
        for truth, read in zip(shot.truth.signal, got, strict=True):
            far = np.argsort(-np.abs(truth - np.median(truth)))[:5]
            errors += list(np.abs((read[far] - np.nanmedian(read)) - (truth[far] - np.median(truth))))
    assert np.nanmedian(errors) < 0.15   # mV


def test_a_beat_in_every_row_at_a_cell_boundary_is_not_a_separator():
    """In 6x2 the right column's leads are simultaneous: a narrow beat at 7.5 s stands in every row where
    3x4+3 would put a separator. A tick crosses the baseline; an R wave stays on one side of it."""
    fs = 100.0
    t = np.arange(int(10 * fs)) / fs
    beats = sum(np.exp(-0.5 * ((t - b) / 0.012) ** 2) for b in (0.6, 1.7, 2.9, 4.1, 5.3, 6.4, 7.5, 8.7, 9.6))
    rng = np.random.default_rng(0)
    wander = np.cumsum(rng.normal(0, 0.01, (12, len(t))), axis=1)   # each lead its own slow drift
    scale = rng.choice([-1.0, 1.0], 12) * rng.uniform(0.6, 1.4, 12)
    sig = scale[:, None] * beats + wander - wander.mean(axis=1, keepdims=True)
    lead_i, lead_ii = sig[0], sig[1]              # the other limb leads as Einthoven and Goldberger make them
    sig[2:6] = [lead_ii - lead_i, -(lead_i + lead_ii) / 2, lead_i - lead_ii / 2, lead_ii - lead_i / 2]
    record = Record(sig.astype(np.float32), fs)
    shot = render(record, "6x2", RenderConfig(separators=True))
    # spikes of random sign without P or T waves say nothing of which way up the page is: given, not found
    cfg = DigitizeConfig(fs=fs, orientation="as-given")
    assert digitize(shot.image, cfg).quality.layout == "2x6"   # 6x2's look-alike


def test_lead_names_from_a_layout_file_come_out_in_their_usual_spelling(ecgs, tmp_path):
    """A layout file may spell leads as real files do (avr, v1); the digitizer reports PTB-XL's names."""
    path = tmp_path / "lower.toml"
    path.write_text('name = "lower"\ncolumns = [["i", "ii", "iii"], ["avr", "avl", "avf"], ["v1", "v2", "v3"], '
                    '["v4", "v5", "v6"]]\n')
    result = digitize(render(ecgs[0], "3x4").image, DigitizeConfig(layout=str(path), fs=100.0))
    assert {c.lead for c in result.cells} == set(LEADS)


def test_samples_sit_at_their_true_time_and_nan_elsewhere(ecgs):
    shot = render(ecgs[0], "3x4")
    rec = digitize(shot.image, DigitizeConfig(fs=100.0)).record
    shown = np.isfinite(shot.truth.signal)
    assert np.isfinite(rec.signal[shown]).mean() > 0.97
    assert np.isnan(rec.signal[~shown]).all()


def test_given_layout_and_gain_are_used(ecgs):
    shot = render(ecgs[0], "6x2-sync")
    result = digitize(shot.image, DigitizeConfig(layout="6x2-sync", fs=100.0, gain=10.0))
    assert result.quality.layout == "6x2-sync" and not result.quality.layout_detected
    assert _median_snr(shot, result) > 10.0
    with pytest.raises(DigitizeError, match="prints 4 rows but the image shows 6"):
        digitize(shot.image, DigitizeConfig(layout="3x4+II"))


def test_gain_read_from_the_calibration_pulse(ecgs):
    shot = render(ecgs[0], "3x4+II", RenderConfig(gain=5.0))
    result = digitize(shot.image, DigitizeConfig(fs=100.0))
    assert result.quality.gain_mm_per_mv == 5.0 and result.quality.pulse_found
    assert _median_snr(shot, result) > 6.0


def _blank(h, w, value=255):
    return np.full((h, w, 3), value, np.uint8)


@pytest.mark.parametrize(("image", "reason"), [
    (_blank(1200, 1600), "blank"),
    (_blank(200, 500, 128), "at least 250 px"),
    (np.random.default_rng(0).integers(0, 255, (1200, 1600, 3)).astype(np.uint8), "does not look like"),
    (np.zeros((10, 10), np.float32), "8-bit"),
])
def test_bad_images_are_refused_with_a_reason(image, reason):
    with pytest.raises(DigitizeError, match=reason):
        digitize(image)


def test_defocused_photo_is_refused(ecgs):
    shot = render(ecgs[0], "3x4+II")
    with pytest.raises(DigitizeError, match="blurred"):
        digitize(cv2.GaussianBlur(shot.image, (0, 0), 6))


def test_a_page_of_text_is_not_an_ecg():
    img = _blank(1654, 2339)
    for i in range(40):
        cv2.putText(img, "Patient report: the quick brown fox jumps over the lazy dog " * 2, (40, 60 + 38 * i),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    with pytest.raises(DigitizeError):
        digitize(img)


def test_outer_bands_that_are_not_traces_are_left_out(traced_row):
    from edgeecg.imaging.digitize import _printable_rows

    x = np.arange(2000)

    traces = [traced_row(100.0 * (i + 1), 100.0 * (i + 1) + 8 * np.sin(x / 30.0)) for i in range(12)]
    words = np.where((x // 40) % 3 == 0, 20.0, np.nan)         # a header line: short dashes, dead level
    kept = _printable_rows([traced_row(20.0, words)] + traces, {3, 4, 6, 12}, ppm=8.0)
    assert [r.baseline for r in kept] == [r.baseline for r in traces]
    # every band a trace: the count stands, and the layout match reports it
    assert len(_printable_rows(traces[:5], {3, 4, 6, 12}, ppm=8.0)) == 5


def test_rows_that_break_the_print_pattern_go_even_when_the_count_is_printable(traced_row):
    """3 rows and a split one make 4 (3x4+II's count); 5 rows and a short header line make 6 (2x6's)."""
    from edgeecg.imaging.digitize import _printable_rows

    x = np.arange(2000)

    wave = 8 * np.sin(x / 30.0)
    three = [traced_row(b, b + wave) for b in (300.0, 600.0, 900.0)]
    split = traced_row(650.0, np.where(x % 200 < 100, 650.0 + wave, np.nan))   # half a band, 50 px below a row
    kept = _printable_rows(three[:2] + [split] + three[2:], {3, 4, 6}, ppm=8.0)
    assert [r.baseline for r in kept] == [300.0, 600.0, 900.0]
    five = [traced_row(100.0 + 150 * i, 100.0 + 150 * i + wave) for i in range(5)]
    header = traced_row(20.0, np.where(x < 600, 20.0 + wave, np.nan))            # a line of text, 600 px long
    kept = _printable_rows([header] + five, {3, 4, 5, 6}, ppm=8.0)
    assert [r.baseline for r in kept] == [r.baseline for r in five]


def test_a_row_split_in_two_by_wander_is_merged_back():
    from edgeecg.imaging.digitize import _even_rows

    clean = np.zeros((1300, 1000), np.uint8)
    truth = [100.0 + 90 * i for i in range(12)]
    for y in truth:
        clean[int(y) - 1: int(y) + 2] = 255
    found = truth[:5] + [truth[5] - 20, truth[5] + 25] + truth[6:]    # the sixth band split in two peaks
    assert np.allclose(_even_rows(clean, found, {3, 4, 5, 6, 7, 12}, ppm=6.0), truth)
    # two rows too many, or a spacing that is not the print's: left alone for the layout match to refuse
    assert _even_rows(clean, truth[:8] + [900.0, 1240.0], {3, 4, 5, 6, 7, 12}, ppm=6.0)[-1] == 1240.0


def test_calibration_pulse_after_the_traces_is_read_as_one(ecgs):
    """Some machines print the pulses after the traces: they still give the gain, and on grid-less paper the
    scale, and the signal stops before them."""
    shot = render(ecgs[0], "3x4+II", RenderConfig(separators=False, pulse="end"))
    result = digitize(shot.image, DigitizeConfig(fs=100.0))
    assert result.quality.pulse_found and result.quality.gain_mm_per_mv == 10.0
    assert any("after the traces" in note for note in result.quality.notes)
    # read through the pulse, the end would be 10 mm off
    end = max(c.x1 for c in shot.truth.cells)
    assert abs(max(c.x1 for c in result.cells) - end) < 1.0 * shot.truth.px_per_mm
    # without a grid, levelled by its baselines, this page read its cells at the wrong times (-2 dB, refused by the
    # limb-lead laws); levelled by where its rows start, it reads as it lies: read mirrored, it keeps the laws as a
    # 3x4+V5 running backwards, which must not outvote it
    bare = render(ecgs[0], "3x4+II", RenderConfig(grid="none", separators=False, pulse="end"))
    result = digitize(bare.image, DigitizeConfig(fs=100.0))
    assert result.quality.layout == "3x4+II" and result.quality.orientation == "as given"
    assert any("where its rows' traces start" in note for note in result.quality.notes)
    assert _median_snr(bare, result) > 15.0


def test_a_pulse_after_the_traces_gives_the_scale_of_grid_less_paper(ecgs):
    """The sheet's width gives the scale once the pulse has told A4 from Letter, to well under a pulse pixel's 4 %
    (read as given: the traces of this mirrored page run backwards, and the laws' check is what refuses it)."""
    bare = render(ecgs[0], "3x4+II", RenderConfig(grid="none", separators=False))
    from edgeecg.imaging.digitize import read_as_given
    from edgeecg.imaging.page import find_page

    mirrored = np.ascontiguousarray(bare.image[:, ::-1])
    q = read_as_given(mirrored, find_page(mirrored), DigitizeConfig(fs=100.0)).quality
    notes = q.notes
    assert any("after the traces" in n for n in notes) and any("calibration pulse says" in n for n in notes)
    assert not any("page width" in n for n in notes)   # the pulse's scale replaced the guess, and says so
    assert q.px_per_mm_x == pytest.approx(bare.truth.px_per_mm, rel=0.005)


def test_pulses_after_the_traces_time_the_page_from_where_the_pen_starts(ecgs):
    """Machines leave different gaps between a trace's end and the pulse after it (this renderer 2 mm; a start
    pulse mirrored would leave 3): time zero is read where the pen starts, which no gap moves."""
    shot = render(ecgs[1], "3x4+II", RenderConfig(pulse="end"))
    result = digitize(shot.image, DigitizeConfig(fs=100.0))
    assert any("after the traces" in note for note in result.quality.notes)
    assert abs(min(c.x0 for c in result.cells) - min(c.x0 for c in shot.truth.cells)) < 0.5 * shot.truth.px_per_mm
    assert _median_snr(shot, result) > 15.0


@pytest.mark.parametrize("cut", ["end", "start", "both"])
def test_an_image_that_cuts_into_the_traces_is_read_with_the_missing_time_nan(ecgs, cut):
    """A web image cropped 0.6 s into the traces at one end (or a little at the start and 0.6 s at the end, as a
    real 3x4 thumbnail): read with time zero from the end inside the image (where both are cut, where the printed
    labels fit), the samples the image lacks NaN, and a note. Coverage counts the samples in the image only: the
    missing time is known to be missing, not lost by the tracer (a real 3x4 cut 0.6 s short was refused for it)."""
    shot = render(ecgs[2], "3x4", RenderConfig(pulse="none", dpi=150))
    cells = shot.truth.cells
    x_first, x_last, sec_px = min(c.x0 for c in cells), max(c.x1 for c in cells), 25 * shot.truth.px_per_mm
    left = {"end": 0, "start": int(x_first + 0.6 * sec_px), "both": int(x_first + 2)}[cut]
    right = {"end": int(x_last - 0.6 * sec_px), "start": shot.image.shape[1], "both": int(x_last - 0.6 * sec_px)}[cut]
    out = digitize(np.ascontiguousarray(shot.image[:, left:right]), DigitizeConfig(fs=100.0, min_confidence=0.0))
    side = "start" if cut == "start" else "end"
    assert any(n.startswith(f"the image cuts off the traces' {side}") for n in out.quality.notes)
    assert out.quality.layout == "3x4"
    lost = slice(0, 50) if cut == "start" else slice(950, 1000)
    assert np.isnan(out.record.signal[:, lost]).all()
    assert _median_snr(shot, out) > 15.0
    assert min(lead.coverage for lead in out.quality.leads) > 0.95


def test_a_print_below_2_px_per_mm_is_refused_naming_its_resolution(ecgs):
    shot = render(ecgs[0], "3x4+II", RenderConfig(dpi=150))
    small = cv2.resize(shot.image, None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)   # 45 dpi: 1.8 px/mm
    with pytest.raises(DigitizeError, match="px/mm in the image"):
        digitize(small, DigitizeConfig(fs=100.0))


def test_an_outline_that_cuts_the_traces_ends_by_more_than_4_percent_is_widened_until_it_does_not(ecgs):
    """The grid's texture can stop short of the traces' ends; an outline 4 % inside them on each side still cut
    them once widened by 4 %, and time zero, which hangs on the pens' ends, read early (below 0 dB on the old code)."""
    from edgeecg.imaging.digitize import read_as_given
    from edgeecg.imaging.page import find_page

    shot = capture(render(ecgs[0], "3x4+II"), "photo", seed=0)
    corners = find_page(shot.image)
    narrow = corners.copy()
    narrow[:, 0] = corners[:, 0].mean() + 0.92 * (corners[:, 0] - corners[:, 0].mean())
    cfg = DigitizeConfig(fs=100.0, min_confidence=0.0)
    whole, cut = (read_as_given(shot.image, c, cfg) for c in (corners, narrow))
    assert _median_snr(shot, cut) > _median_snr(shot, whole) - 1.5 and _median_snr(shot, cut) > 15.0


def test_a_close_up_of_part_of_a_page_is_refused_as_one(ecgs):
    """A phone held close to two rows of a page shows under 4 s of them: no row spans a printed one's 100 mm,
    and the refusal says so (before: "no ECG trace rows found", as for an image with no ECG at all)."""
    shot = render(ecgs[0], "3x4+II")
    h, w = shot.image.shape[:2]
    x0 = int(0.3 * w)
    close_up = shot.image[int(0.12 * h): int(0.55 * h), x0: x0 + int(80 * shot.truth.px_per_mm)]
    with pytest.raises(DigitizeError, match=r"found 2 row\(s\) of trace spanning at most 8\d mm .* a close-up"):
        digitize(close_up, DigitizeConfig(fs=100.0))


def _torn_ends(shot, rows: tuple[int, ...], mm: float = 2.0) -> np.ndarray:
    """The page with the last `mm` of these rows' traces erased (a blurred photo loses a faint pen's end)."""
    ppm = shot.truth.px_per_mm
    cut = shot.image.copy()
    for row in rows:
        box = max((c for c in shot.truth.cells if c.row == row), key=lambda c: c.x1)
        cut[int(box.baseline - 15 * ppm): int(box.baseline + 15 * ppm), int(box.x1 - mm * ppm): int(box.x1 + 2)] = 255
    return cut


def test_rows_that_lost_their_traces_end_do_not_pull_time_zero_back(ecgs):
    """Two of four rows' ends erased 2 mm early: the median of the four pen ends fell a millimetre short, 40 ms
    of every lead; where a gap splits the rows, the half that reach past it now set it."""
    shot = render(ecgs[0], "3x4+II")
    cfg = DigitizeConfig(fs=100.0, min_confidence=0.0)
    whole = _median_snr(shot, digitize(shot.image, cfg))
    torn = _median_snr(shot, digitize(_torn_ends(shot, (0, 2)), cfg))
    assert torn > whole - 1.0


@pytest.mark.parametrize("edges, ppm, last, expected", [
    ([781.7, 797.1, 797.2, 783.7, 797.2, 782.4], 2.95, True, 797.2),   # half the rows lost their ends: the rest decide
    ([1347.3, 1348.6, 1353.3, 1355.7, 1355.9, 1357.1], 5.06, True, 1354.5),  # a poor photo's scatter: the median
    ([100.0, 100.2, 100.4, 112.0], 3.0, True, 100.3),                  # one row past the rest: the median
    ([60.0, 60.2, 70.0, 71.0], 3.0, False, 60.1),                      # starts: half begin late, the early ones decide
])
def test_the_rows_common_pen_end_sides_with_the_rows_that_reach_it(edges, ppm, last, expected):
    assert _common_edge(np.array(edges), ppm, last) == pytest.approx(expected, abs=0.05)


@pytest.mark.parametrize("second_off_px", [0.0, 6.0])
def test_two_ticks_a_millimetre_apart_do_not_move_time_zero_halfway(traced_row, second_off_px):
    """Separator ticks pin time zero to a fraction of a pixel; a QRS or grid line taken for a tick lies about a
    millimetre off. Two ticks that agree move time zero to them; one true and one a millimetre off had met halfway
    (a poor photo read 20 ms late, at 0.5 dB, stated 0.995), and now leave the first guess as it was."""
    ppm, sec_px, x0, truth = 8.0, 200.0, 100.0, 102.0   # the first guess (from the pens' ends) 2 px early
    ink = np.zeros((400, 2200), np.uint8)
    rows = []
    for base, tick_s, off in ((100, 2.5, 0.0), (200, 5.0, second_off_px), (300, None, 0.0)):
        ink[base - 1: base + 2, 100:2100] = 255
        if tick_s is not None:
            x = int(truth + tick_s * sec_px + off)
            ink[base - 24: base + 25, x: x + 2] = 255
        rows.append(traced_row(float(base), np.where((np.arange(2200) >= 100) & (np.arange(2200) < 2100),
                                                     float(base), np.nan)))
    cells = tuple(Cell("I", t, t + 2.5) for t in (0.0, 2.5, 5.0, 7.5))
    found, scale = _refine_origin(ink, rows, (cells,) * 3, x0, sec_px, ppm, fit_scale=False, clipped=False)
    assert scale == sec_px
    assert found == pytest.approx(truth + 0.5, abs=0.3) if second_off_px == 0 else found == x0


@pytest.mark.parametrize("case", ["one off", "scale off", "scale off, one off"])
def test_ticks_fit_the_line_most_of_them_lie_on(case):
    """Six ticks at a 3x4's boundaries in two rows: one a QRS 3 px from its boundary (at 8.6 px/mm) had tilted
    the fitted line and the last column 10 ms; a photo's scale 0.6 % off spreads the ticks 4 px along the row,
    which a mean at the measured scale would count as disagreeing."""
    sec_px, slope, icpt = 214.76, 214.76 * (1.006 if "scale" in case else 1.0), 180.0
    pos = np.array([2.5, 5.0, 7.5, 2.5, 5.0, 7.5])
    xs = icpt + slope * pos + np.array([0.2, -0.1, 0.1, -0.2, 0.0, 3.0 if "one off" in case else -0.1])
    found, scale = _agreeing_ticks(pos, xs, sec_px, tol=0.25 * 8.6, scaled=True, guess=icpt + 4.0)
    assert found == pytest.approx(icpt, abs=0.4) and scale == pytest.approx(slope, abs=0.1)


@pytest.mark.parametrize("true_pair_first", [True, False])
def test_of_two_tick_pairs_the_one_nearer_the_pens_ends_sets_time_zero(true_pair_first):
    """A photo's ticks fell into two pairs a millimetre and a quarter apart (one pair R-S strokes at the
    boundary); both hold as many ticks, and the pens' ends, within a millimetre of the truth, tell them apart
    whichever pair is found first."""
    ppm, sec_px, truth = 8.6, 214.76, 180.0
    true_pair = (np.array([2.5, 7.5]), truth + sec_px * np.array([2.5, 7.5]))
    off_pair = (np.array([5.0, 5.0]), truth + 1.25 * ppm + sec_px * np.array([5.0, 5.0]))
    pairs = (true_pair, off_pair) if true_pair_first else (off_pair, true_pair)
    pos, xs = (np.concatenate([p[i] for p in pairs]) for i in (0, 1))
    found, scale = _agreeing_ticks(pos, xs, sec_px, tol=0.25 * ppm, scaled=False, guess=truth + 0.6 * ppm)
    assert found == pytest.approx(truth, abs=0.1) and scale == sec_px


def test_rows_whose_pens_stop_apart_say_how_far_time_zero_is_in_doubt(ecgs):
    """Every row of a print stops at 10 s; where two of four rows' ends are gone 2 mm early (a blurred photo
    loses a faint pen's end), the rows' ends disagree by about a millimetre, which the confidence weighs."""
    shot = render(ecgs[0], "3x4+II")
    whole = digitize(shot.image, DigitizeConfig(fs=100.0, min_confidence=0.0)).quality
    assert whole.end_spread_mm < 0.1 and whole.features["end_spread"] == pytest.approx(whole.end_spread_mm, abs=1e-3)
    torn = digitize(_torn_ends(shot, (0, 2)), DigitizeConfig(fs=100.0, min_confidence=0.0)).quality
    assert 0.7 < torn.end_spread_mm < 1.3 and torn.confidence < whole.confidence


def test_rows_whose_pens_stop_far_apart_say_so_in_a_note(ecgs):
    """Two rows' ends 4 mm short: time zero is in doubt by more than the confidence weighs, and the note (which a
    refusal quotes) says by how much, so that a user knows what to retake."""
    shot = render(ecgs[0], "3x4+II")
    torn = digitize(_torn_ends(shot, (0, 2), mm=4.0), DigitizeConfig(fs=100.0, min_confidence=0.0)).quality
    assert torn.end_spread_mm > 1.0
    assert any(n.startswith("the rows' traces end up to 4.") for n in torn.notes), torn.notes
    whole = digitize(shot.image, DigitizeConfig(fs=100.0, min_confidence=0.0)).quality
    assert not any("traces end up to" in n for n in whole.notes)
