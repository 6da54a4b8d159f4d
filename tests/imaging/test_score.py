import numpy as np
import pytest

from edgeecg.imaging.score import resample_to, score


def test_perfect_and_offset_copies_score_high():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(12, 1000)).astype(np.float32)
    truth[3, :500] = np.nan
    exact = score(truth, 100, truth, 100)
    shifted = score(truth, 100, truth + 0.7, 100)  # a constant offset is removed, as in the Challenge
    assert all(s.snr_db > 100 for s in exact) and all(s.snr_db > 100 for s in shifted)
    assert all(s.recovered == 1.0 for s in exact)


def test_noise_sets_the_snr_and_missing_samples_count_as_zero():
    rng = np.random.default_rng(1)
    truth = rng.normal(size=(12, 2000))
    noisy = truth + 0.1 * rng.normal(size=truth.shape)
    assert np.median([s.snr_db for s in score(truth, 500, noisy, 500)]) == pytest.approx(20.0, abs=0.5)
    gaps = noisy.copy()
    gaps[:, :1000] = np.nan
    s = score(truth, 500, gaps, 500)
    assert all(x.recovered == pytest.approx(0.5) for x in s) and all(x.snr_db < 4 for x in s)


def test_resampling_keeps_nan_where_the_source_has_none():
    sig = np.tile(np.arange(100, dtype=float), (12, 1))
    sig[:, 40:60] = np.nan
    out = resample_to(sig, 100, 500, 500)
    assert np.isnan(out[:, 200:297]).all() and np.isfinite(out[:, :197]).all() and np.isfinite(out[:, 303:495]).all()


def test_fill_gaps_bridges_short_gaps_only():
    from edgeecg.imaging.trace import fill_gaps

    v = np.arange(20, dtype=float)
    assert np.array_equal(fill_gaps(v, 2), v)  # nothing missing
    v[3:5] = np.nan
    v[10:16] = np.nan
    out = fill_gaps(v, 2)
    assert np.allclose(out[3:5], [3, 4]) and np.isnan(out[10:16]).all()
