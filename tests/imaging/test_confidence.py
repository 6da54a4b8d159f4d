"""Calibrated confidence: the fit recovers a known logistic model, the bar keeps at most the share of wrong reads
asked for, the shipped model turns the digitizer's features into a probability, and a read below the bar is
refused with the reason."""

from __future__ import annotations

import numpy as np
import pytest

from edgeecg.imaging import confidence
from edgeecg.imaging.confidence import FEATURES, Calibrator, ReadFeatures, bar_for, fit, reliability


def _draws(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURES)))
    true = np.zeros(len(FEATURES))
    true[:3] = (2.0, -1.0, 0.5)
    p = 1 / (1 + np.exp(-(x @ true + 1.0)))
    return x, (rng.random(n) < p).astype(float), p


def test_the_fit_states_what_it_finds_on_unseen_draws():
    x, y, _ = _draws(4000, 0)
    model = fit(x, y, l2=0.1, signs=np.zeros(len(FEATURES)))
    assert np.array(model.weights)[:3] == pytest.approx(np.array([2.0, -1.0, 0.5]) * x[:, :3].std(axis=0), abs=0.2)
    xt, yt, _ = _draws(4000, 1)
    p = np.array([model.probability(ReadFeatures(*row)) for row in xt])
    for band in reliability(p, yt):
        if band["reads"] >= 200:
            assert abs(band["stated"] - band["right"]) < 0.06, band


def test_a_weight_against_its_features_meaning_is_left_out():
    x, y, _ = _draws(4000, 0)                  # right reads have more coverage and less min_coverage
    free = fit(x, y, l2=0.1, signs=np.zeros(len(FEATURES)))
    held = fit(x, y, l2=0.1)                   # min_coverage may only count for a read
    k = FEATURES.index("min_coverage")
    assert free.weights[k] < -0.5 and held.weights[k] == 0.0
    cov = FEATURES.index("coverage")          # still found (a left-out feature attenuates the others a little)
    assert held.weights[cov] > 0.8 * free.weights[cov] > 1.0
    assert all(w * s >= 0 for w, s in zip(held.weights, confidence.directions(), strict=True))


def test_the_bar_keeps_the_most_reads_with_at_most_the_wrong_share_asked():
    p = np.array([0.99, 0.98, 0.97, 0.9, 0.8, 0.7, 0.6])
    y = np.array([1, 1, 1, 0, 1, 1, 0], float)
    assert bar_for(p, y, 0.2) == 0.7          # 6 kept, 1 wrong: 17 %
    assert bar_for(p, y, 0.0) == 0.97
    assert bar_for(np.array([0.9]), np.array([0.0]), 0.02) == 1.0   # nothing can be kept


def test_a_model_for_other_features_is_refused():
    model = Calibrator(("completeness",), (0.0,), (1.0,), (1.0,), 0.0, 0.5)
    with pytest.raises(ValueError, match="fit-confidence"):
        model.probability(ReadFeatures(*np.zeros(len(FEATURES))))


def test_roughness_tells_a_jagged_trace_from_an_ecg(ecgs):
    ecg = ecgs[0].signal
    jagged = ecg + np.random.default_rng(0).normal(0, 0.3, ecg.shape)
    assert confidence.roughness(jagged) > 3 * confidence.roughness(ecg)
    assert confidence.log_amplitude(ecg * 10) == pytest.approx(confidence.log_amplitude(ecg) + 1, abs=1e-6)


def test_the_shipped_model_states_a_probability_and_a_read_below_the_bar_is_refused(ecgs):
    from edgeecg.imaging.digitize import DigitizeConfig, UnsureReadError, digitize
    from edgeecg.imaging.render import render

    page = render(ecgs[1], "3x4+II")
    out = digitize(page.image, DigitizeConfig(fs=100.0))
    q = out.quality
    assert 0.0 <= q.confidence <= 1.0 and set(q.features) == set(FEATURES)
    assert q.confidence >= confidence.load().bar
    with pytest.raises(UnsureReadError, match="calibrated confidence"):
        digitize(page.image, DigitizeConfig(fs=100.0, min_confidence=min(1.0, q.confidence + 1e-3)))


def test_held_out_probabilities_never_see_their_own_run():
    x, y, _ = _draws(900, 2)
    runs = np.repeat(np.arange(3), 300)
    p = confidence.held_out(x, y, runs)
    flipped = y.copy()
    flipped[runs == 1] = 1 - flipped[runs == 1]   # run 1's truth turned over: only the other runs' states move
    q = confidence.held_out(x, flipped, runs)
    assert np.array_equal(p[runs == 1], q[runs == 1]) and not np.allclose(p[runs != 1], q[runs != 1])
    alone = fit(x[runs != 1], y[runs != 1])
    assert p[runs == 1] == pytest.approx(alone.probabilities(x[runs == 1]))


def test_the_bar_from_held_out_runs_is_the_stricter_where_the_fit_overfits():
    """With many features and few reads, a model rates its own fitting reads too well: its bar set on them keeps
    more wrong reads on new draws than the bar set on runs it never saw."""
    x, y, _ = _draws(240, 3)
    runs = np.repeat(np.arange(4), 60)
    in_sample = fit(x, y, l2=0.01, wrong_share=0.05, signs=np.zeros(len(FEATURES)))
    held = fit(x, y, l2=0.01, wrong_share=0.05, signs=np.zeros(len(FEATURES)), runs=runs)
    assert held.weights == in_sample.weights and held.bar > in_sample.bar
    scored, p = confidence.fit_scored(x, y, l2=0.01, wrong_share=0.05, signs=np.zeros(len(FEATURES)), runs=runs)
    assert scored == held and np.array_equal(p, confidence.held_out(x, y, runs, 0.01, np.zeros(len(FEATURES))))
    assert held.bar == bar_for(p, y, 0.05)
    xt, yt, _ = _draws(4000, 4)
    pt = in_sample.probabilities(xt)
    assert 1 - yt[pt >= held.bar].mean() < 1 - yt[pt >= in_sample.bar].mean()


@pytest.mark.parametrize("text", ["", '{"names": ["coverage"], "mean"', '[1, 2]', '{"weights": [1.0]}'])
def test_a_model_file_cut_short_or_not_a_model_is_refused_naming_it(tmp_path, text):
    bad = tmp_path / "confidence.json"
    bad.write_text(text)
    with pytest.raises(RuntimeError, match="cannot be read.*fit-confidence"):
        confidence.load(bad)
