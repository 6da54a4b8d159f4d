import numpy as np
import pytest

from edgeecg.data.synth import SynthConfig, simulate
from edgeecg.data.synth_conditions import PRESCRIBED, SYNTH_LABELS, L, Prescribed
from edgeecg.data.synth_store import read_dataset, write_dataset
from edgeecg.record import LEADS, RecordError

N = 1500


@pytest.fixture(scope="module")
def batch():
    return simulate(N, SynthConfig(), seed=7)


@pytest.fixture(scope="module")
def clean():
    return simulate(N, SynthConfig(noise=0.0), seed=7)


def _idx(name: str) -> int:
    return LEADS.index(name)


def _rr_stats(truth, i, skip_pvc=True):
    """Mean heart rate and RR coefficient of variation from QRS onsets (pairs of non-PVC beats by default)."""
    on, pvc = truth.qrs_onsets[i], truth.pvc[i]
    keep = ~np.isnan(on)
    on, pvc = on[keep], pvc[keep]
    rr = np.diff(on)
    if skip_pvc:
        rr = rr[~pvc[1:] & ~pvc[:-1]]
    return 60.0 / rr.mean(), rr.std() / rr.mean()


def _prescription(labels_row) -> Prescribed:
    """The ranges that apply to a record: each interval from the label that prescribes it, else normal."""
    names = [n for n, v in zip(SYNTH_LABELS, labels_row, strict=True) if v]
    pick = {field: next((PRESCRIBED[n] for n in names if n in PRESCRIBED and getattr(PRESCRIBED[n], field)
                         != getattr(Prescribed(), field)), Prescribed()) for field in ("hr", "pr", "qrs")}
    return Prescribed(hr=pick["hr"].hr, pr=pick["pr"].pr, qrs=pick["qrs"].qrs)


def test_shapes_dtype_and_every_label_occurs(batch):
    assert batch.signals.shape == (N, 12, 1000) and batch.signals.dtype == np.float32
    assert np.isfinite(batch.signals).all()
    counts = batch.labels.sum(0)
    assert (counts > 0).all(), dict(zip(SYNTH_LABELS, counts, strict=True))
    assert (batch.labels.sum(1) >= 1).all()
    assert (batch.labels.sum(1) >= 2).mean() > 0.2     # multi-label combinations occur


def test_lead_relations_hold_to_float_precision(batch):
    s = batch.signals.astype(np.float64)
    i, ii, iii = s[:, _idx("I")], s[:, _idx("II")], s[:, _idx("III")]
    np.testing.assert_allclose(iii, ii - i, atol=1e-5)
    np.testing.assert_allclose(s[:, _idx("aVR")] + s[:, _idx("aVL")] + s[:, _idx("aVF")], 0, atol=1e-5)
    np.testing.assert_allclose(s[:, _idx("aVR")], -(i + ii) / 2, atol=1e-5)


def test_seeded_and_reproducible():
    a, b, c = simulate(20, seed=3), simulate(20, seed=3), simulate(20, seed=4)
    np.testing.assert_array_equal(a.signals, b.signals)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.signals, c.signals)


def test_intervals_lie_in_each_conditions_prescribed_range(batch):
    t = batch.truth
    for i in range(N):
        rx = _prescription(batch.labels[i])
        hr, _ = _rr_stats(t, i)
        assert rx.hr[0] <= hr <= rx.hr[1], (i, hr, rx)
        assert rx.qrs[0] <= t.qrs[i] <= rx.qrs[1], (i, t.qrs[i], rx)
        if not batch.labels[i, L["AFIB"]]:
            assert rx.pr[0] <= t.pr[i] <= rx.pr[1], (i, t.pr[i], rx)


def test_af_is_irregular_without_p_waves_and_sinus_is_regular(batch):
    t = batch.truth
    af = batch.labels[:, L["AFIB"]] == 1
    cv = np.array([_rr_stats(t, i, skip_pvc=not af[i])[1] for i in range(N)])
    assert af.sum() > 50
    assert cv[af].min() > 0.07          # irregularly irregular
    assert cv[~af].max() < 0.055        # sinus rhythm with physiological variability only
    assert (t.p_amplitude[af] == 0).all() and np.isnan(t.pr[af]).all()
    assert (t.p_amplitude[~af] > 0.04).all()


def test_pvcs_are_premature_and_only_in_pvc_records(batch):
    t = batch.truth
    has = batch.labels[:, L["PVC"]] == 1
    assert t.pvc[has].any(1).all() and not t.pvc[~has].any()
    for i in np.flatnonzero(has)[:50]:
        on = t.qrs_onsets[i]
        for b in np.flatnonzero(t.pvc[i]):
            before, after = on[b] - on[b - 1], on[b + 1] - on[b] if b + 1 < len(on) else np.nan
            if not (np.isnan(before) or np.isnan(after)):   # neighbours outside the 10 s are NaN
                assert before < after                        # early beat, then a compensatory pause


def test_lvh_raises_sokolow_voltage(clean):
    s = clean.signals
    sokolow = -s[:, _idx("V1")].min(1) + s[:, _idx("V5")].max(1)
    lvh = (clean.labels[:, L["LVH"]] == 1) & (clean.labels.sum(1) == 1)
    norm = (clean.labels[:, L["NORM"]] == 1) & (clean.labels.sum(1) == 1)
    assert np.median(sokolow[lvh]) > 1.12 * np.median(sokolow[norm])
    # but the classes overlap: many LVH records are below the top normal voltages (not separable by voltage)
    assert (sokolow[lvh] < np.percentile(sokolow[norm], 90)).mean() > 0.1


def test_clbbb_is_negative_in_v1_and_positive_in_v6(clean):
    s = clean.signals
    lbbb = clean.labels[:, L["CLBBB"]] == 1
    v1, v6 = s[lbbb, _idx("V1")], s[lbbb, _idx("V6")]
    assert (-v1.min(1) > v1.max(1)).mean() > 0.8
    assert (v6.max(1) > -v6.min(1)).mean() > 0.8


def test_inferior_mi_puts_q_waves_in_the_inferior_leads(clean):
    s = clean.signals
    t = clean.truth

    def q_depth(i: int) -> float:
        """Deepest negative deflection of aVF in the first 40 ms of the supraventricular QRS complexes."""
        depths = [-s[i, _idx("aVF"), int(on * clean.fs):int((on + 0.04) * clean.fs) + 1].min()
                  for on, pvc in zip(t.qrs_onsets[i], t.pvc[i], strict=True) if not np.isnan(on) and not pvc]
        return float(np.median(depths))

    def only(name: str) -> np.ndarray:
        return np.flatnonzero((clean.labels[:, L[name]] == 1) & (clean.labels.sum(1) == 1))

    imi = np.array([q_depth(i) for i in only("IMI")])
    norm = np.array([q_depth(i) for i in only("NORM")])
    assert np.median(imi) > 0.05 and np.median(imi) > 3 * max(np.median(norm), 0.01)


def test_dataset_round_trip_and_hash_is_reproducible(tmp_path):
    cfg = SynthConfig()
    write_dataset(tmp_path / "a", 300, cfg, seed=1, chunk=128, progress=False)
    write_dataset(tmp_path / "b", 300, cfg, seed=1, chunk=128, progress=False)
    a, b = read_dataset(tmp_path / "a"), read_dataset(tmp_path / "b")
    assert a.signals.shape == (300, 12, 1000) and a.label_names == SYNTH_LABELS
    assert a.meta["signals_sha256"] == b.meta["signals_sha256"]
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.labels.sum() > 300


def test_reading_an_incomplete_dataset_names_the_missing_file(tmp_path):
    with pytest.raises(RecordError, match="meta.json missing|signals.npy missing"):
        read_dataset(tmp_path)


def test_500hz_records_and_invalid_n():
    hi = simulate(10, SynthConfig(fs=500.0), seed=0)
    assert hi.signals.shape == (10, 12, 5000) and np.isfinite(hi.signals).all()
    with pytest.raises(ValueError):
        simulate(0)


def test_records_carry_label_names():
    recs = simulate(5, seed=2).records()
    assert all(r.labels and set(r.labels) <= set(SYNTH_LABELS) for r in recs)
