"""Heart rate, rhythm and intervals against the simulator's own fiducials, and unavailability where the shown
leads do not allow a measurement (seeds here are not the ones the shares were chosen on)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeecg.data.synth import SynthConfig, simulate
from edgeecg.data.synth_conditions import SYNTH_LABELS
from edgeecg.layouts import apply
from edgeecg.measure import measure
from edgeecg.record import LEADS


@pytest.fixture(scope="module")
def batch():
    return simulate(40, SynthConfig(fs=500.0), seed=11)


def _true_rate(batch, i: int) -> float:
    onsets = batch.truth.qrs_onsets[i][np.isfinite(batch.truth.qrs_onsets[i])]
    return 60.0 / float(np.mean(np.diff(onsets)))


@pytest.mark.parametrize("layout", ["12x1", "3x4", "3x4+II", "2x6"])
def test_heart_rate_follows_the_beats_across_printed_layouts(batch, layout: str) -> None:
    errors = []
    for i in range(len(batch.signals)):
        sig = batch.signals[i] if layout == "12x1" else apply(batch.signals[i], layout, 500.0)
        m = measure(sig, 500.0)
        assert m.heart_rate.available, m.heart_rate.reason
        errors.append(abs(m.heart_rate.value - _true_rate(batch, i)))
    assert np.median(errors) < 1.0 and np.mean(np.asarray(errors) < 3.0) >= 0.95


def test_intervals_on_a_full_record_match_the_generators_fiducials(batch) -> None:
    err = {"pr": [], "qrs": [], "qt": []}
    for i in range(len(batch.signals)):
        m = measure(batch.signals[i], 500.0)
        for name, truth in (("pr", batch.truth.pr[i]), ("qrs", batch.truth.qrs[i]), ("qt", batch.truth.qt[i])):
            value = getattr(m, name).value
            if np.isfinite(truth) and value is not None:
                err[name].append(value - 1000 * truth)
    assert len(err["qrs"]) >= 38 and len(err["qt"]) >= 35 and len(err["pr"]) >= 25
    assert np.median(np.abs(err["qrs"])) < 10 and np.median(np.abs(err["qt"])) < 25
    assert np.median(np.abs(err["pr"])) < 20


def test_a_100_hz_record_reads_like_its_500_hz_original(batch) -> None:
    fine = measure(batch.signals[0], 500.0)
    coarse = measure(batch.signals[0][:, ::5], 100.0)
    assert abs(fine.heart_rate.value - coarse.heart_rate.value) < 1.0
    assert abs(fine.qrs.value - coarse.qrs.value) < 20


def test_atrial_fibrillation_reads_irregular(batch) -> None:
    af = [i for i in range(len(batch.signals)) if batch.labels[i, SYNTH_LABELS.index("AFIB")]]
    assert af
    readings = [measure(batch.signals[i], 500.0) for i in af]
    assert all(m.rhythm == "irregular" for m in readings)
    assert all(m.rr_cv.value > 0.12 for m in readings)


def test_one_rhythm_strip_gives_the_rate_but_not_the_intervals(batch) -> None:
    only_ii = np.full_like(batch.signals[0], np.nan)
    only_ii[1] = batch.signals[0][1]
    m = measure(only_ii, 500.0)
    assert abs(m.heart_rate.value - _true_rate(batch, 0)) < 1.0
    assert not m.qrs.available and "intervals need 2" in m.qrs.reason and not m.qtc_bazett.available


def test_too_little_signal_is_unavailable_with_the_reason(batch) -> None:
    short = np.full_like(batch.signals[0], np.nan)
    short[:, :600] = batch.signals[0][:, :600]           # 1.2 s: one or two beats
    m = measure(short, 500.0)
    assert not m.heart_rate.available and "heart rate needs 3" in m.heart_rate.reason
    assert m.rhythm == "unavailable" and not m.qt.available
    summary = m.as_dict()
    assert summary["heart_rate"]["available"] is False and summary["heart_rate"]["reason"]


def test_a_flat_line_finds_no_beats() -> None:
    flat = np.zeros((len(LEADS), 5000), np.float32)
    m = measure(flat, 500.0)
    assert not m.heart_rate.available and m.beats_s == []
