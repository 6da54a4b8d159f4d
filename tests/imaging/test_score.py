import numpy as np
import pytest

from edgeecg.imaging.score import resample_to, score


def test_perfect_and_offset_copies_score_high():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(12, 1000)).astype(np.float32)
    truth[3, :500] = np.nan
    exact = score(truth, 100, truth, 100)
    shifted = score(truth, 100, truth + 0.7, 100)  # the bench removes a constant offset (the 2025 Kaggle rule)
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


def _challenge_2024_snr(label: np.ndarray, output: np.ndarray) -> float:
    """The published per-lead definition, written out independently: the label's finite samples, output NaN as
    0, no offset removed."""
    keep = np.isfinite(label)
    x, y = label[keep], np.nan_to_num(output[keep], nan=0.0)
    return float(10 * np.log10((x ** 2).sum() / ((y - x) ** 2).sum()))


@pytest.mark.parametrize("offset, gap", [(0.0, 0), (0.3, 0), (0.0, 400), (0.2, 250)])
def test_cinc2024_snr_follows_the_challenge_definition(offset: float, gap: int) -> None:
    rng = np.random.default_rng(2)
    truth = rng.normal(size=(12, 1000))
    truth[5, :300] = np.nan                      # a lead the page shows only in part
    out = truth + 0.2 * rng.normal(size=truth.shape) + offset
    out[:, 100:100 + gap] = np.nan
    got = {s.lead: s for s in score(truth, 500, out, 500)}
    for i, s in enumerate(got.values()):
        assert s.cinc2024_snr_db == pytest.approx(_challenge_2024_snr(truth[i], out[i]), abs=1e-6)
        assert s.cinc2024_snr_db <= s.snr_db + 1e-9   # the offset is the Challenge's error, not the bench's


def test_a_refused_record_scores_zero_db_under_the_challenge_rule() -> None:
    truth = np.random.default_rng(3).normal(size=(12, 500))
    assert all(s.cinc2024_snr_db == pytest.approx(0.0) for s in score(truth, 100, np.full_like(truth, np.nan), 100))
