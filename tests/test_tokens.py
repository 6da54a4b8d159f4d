"""Tokenizer: token counts per layout, padded == ragged, resampling at true times, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from edgeecg.layouts import LAYOUTS, apply, observed_mask
from edgeecg.tokens import TokenizeError, TokenizerConfig, pad, resample, token_counts, tokenize, tokenize_batch

TOK = TokenizerConfig()


def _signal(seed: int = 0, fs: float = 100.0) -> np.ndarray:
    t = np.arange(int(10 * fs)) / fs
    rng = np.random.default_rng(seed)
    return (np.sin(2 * np.pi * rng.uniform(0.5, 3, (12, 1)) * t) * rng.uniform(0.2, 1.5, (12, 1))).astype(np.float32)


def test_default_patch_tiles_ten_seconds_and_column_edges() -> None:
    assert TOK.n_samples % TOK.patch_len == 0
    for edge_s in (2.5, 5.0, 7.5):
        assert (edge_s * TOK.fs) % TOK.patch_len == 0


@pytest.mark.parametrize("patch_len", [50, 125])
@pytest.mark.parametrize("layout", ["12x1", "3x4", "3x4+II", "2x6", "6x2-sync"])
def test_token_count_equals_shown_patches(layout: str, patch_len: int) -> None:
    tok = TokenizerConfig(patch_len=patch_len)
    shown = observed_mask(layout, tok.fs, tok.n_samples)
    tokens = tokenize(apply(_signal(), layout, tok.fs), tok.fs, tok)
    expected = int(shown.reshape(12, tok.n_slots, patch_len).mean(-1).__ge__(tok.min_observed).sum())
    assert len(tokens) == expected
    assert np.all(shown.reshape(12, tok.n_slots, patch_len)[tokens.lead, tokens.slot].all(-1))


def test_3x4_tokens_sit_at_true_time() -> None:
    tokens = tokenize(apply(_signal(), "3x4", TOK.fs), TOK.fs, TOK)
    assert len(tokens) == 12 * TOK.n_slots // 4
    v1 = tokens.slot[tokens.lead == 6]                                 # V1 is shown 5.0-7.5 s only
    assert sorted(v1 * TOK.patch_len / TOK.fs) == [5.0, 6.25]


def test_patch_values_are_the_signal_in_mv() -> None:
    sig = _signal(3)
    tokens = tokenize(sig, TOK.fs, TOK)
    for k in (0, 17, 95):
        a = tokens.slot[k] * TOK.patch_len
        np.testing.assert_array_equal(tokens.patches[k], sig[tokens.lead[k], a:a + TOK.patch_len])


def test_padded_batch_equals_ragged_records() -> None:
    names = ["12x1", "3x4", "2x6+II", "3x4+3"]
    sigs = np.stack([apply(_signal(i), n, TOK.fs) for i, n in enumerate(names)])
    batch = tokenize_batch(sigs, TOK.fs, TOK)
    assert batch.patches.shape == (4, 96, TOK.patch_len)
    for b, (row, name) in enumerate(zip(batch.ragged(), names, strict=True)):
        one = tokenize(sigs[b], TOK.fs, TOK)
        for field in ("patches", "lead", "slot", "observed"):
            np.testing.assert_array_equal(getattr(row, field), getattr(one, field), err_msg=f"{name} {field}")
    assert not batch.patches[~batch.valid].any() and not batch.lead[~batch.valid].any()
    repadded = pad(batch.ragged(), n_max=96)
    np.testing.assert_array_equal(repadded.patches, batch.patches)
    np.testing.assert_array_equal(repadded.valid, batch.valid)
    np.testing.assert_array_equal(token_counts(sigs, TOK), batch.valid.sum(1))


def test_partly_missing_patch_kept_with_its_fraction() -> None:
    sig = _signal()
    sig[:, :] = np.nan
    sig[0, :100] = 1.0                         # 0.8 of slot 0 and nothing else
    tokens = tokenize(sig, TOK.fs, TOK)
    assert len(tokens) == 1 and tokens.observed[0] == pytest.approx(0.8)
    assert np.isfinite(tokens.patches).all() and tokens.patches[0, 100:].sum() == 0


def test_500hz_is_resampled_to_the_same_tokens() -> None:
    t500 = np.arange(5000) / 500
    sig500 = np.tile(np.sin(2 * np.pi * 1.0 * t500), (12, 1)).astype(np.float32)
    sig100 = sig500[:, ::5]
    a = tokenize(apply(sig500, "3x4", 500), 500, TOK)
    b = tokenize(apply(sig100, "3x4", 100), 100, TOK)
    np.testing.assert_array_equal(a.lead, b.lead)
    np.testing.assert_array_equal(a.slot, b.slot)
    np.testing.assert_allclose(a.patches, b.patches, atol=0.02)     # one-sided averaging at cell edges
    assert np.median(np.abs(a.patches - b.patches)) < 1e-3


def test_resample_keeps_gaps_at_true_time() -> None:
    x = np.ones((1, 5000), np.float32)
    x[0, 2500:3750] = np.nan                   # 5.0-7.5 s missing at 500 Hz
    y = resample(x, 500, 100)
    assert y.shape == (1, 1000)
    assert np.isnan(y[0, 505:745]).all() and np.isfinite(y[0, :495]).all() and np.isfinite(y[0, 755:]).all()


def test_short_record_is_nan_padded_not_stretched() -> None:
    sig = _signal()[:, :600]                  # 6 s: slot 4 (5.0-6.25 s) is 80 % observed, slots 5-7 empty
    tokens = tokenize(sig, TOK.fs, TOK)
    assert tokens.slot.max() == 4 and len(tokens) == 12 * 5
    np.testing.assert_allclose(tokens.observed[tokens.slot == 4], 0.8)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((11, 1000)), "shape"),
    (np.full((12, 1000), np.nan), "too little signal"),
    (np.full((12, 1000), np.inf), "inf"),
])
def test_refuses_bad_signals(bad: np.ndarray, message: str) -> None:
    with pytest.raises(TokenizeError, match=message):
        tokenize(bad, 100, TOK)


def test_config_refuses_patch_that_does_not_tile() -> None:
    with pytest.raises(TokenizeError, match="tile"):
        TokenizerConfig(patch_len=120)


def test_all_builtin_layouts_tokenize() -> None:
    for name in LAYOUTS:
        assert 0 < len(tokenize(apply(_signal(), name, TOK.fs), TOK.fs, TOK)) <= TOK.max_tokens
