"""Signal -> patches: the one preprocessing step that training, evaluation, calibration and the device share.

A 12-lead signal with NaN where nothing was observed is cut, lead by lead, into fixed-length patches on a
fixed time grid. Each patch keeps its lead index and time slot, so a patch seen at 5.0-5.5 s stays at slot
10 whatever layout it came from. Patches that are missing (observed fraction below `min_observed`) are
dropped, so the token count N varies with the layout. numpy only: no torch on the device path.

Two forms of the same tokens:
- padded (`PaddedTokens`): [B, N_max] arrays plus a validity mask, for batches and fixed-shape engines;
- ragged (`Tokens`): one record's N present patches, for the CPU runtime.
`tokenize` (ragged) is `tokenize_batch` (padded) on a batch of one, so there is only one code path.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

N_LEADS = 12


class TokenizeError(ValueError):
    """A signal that cannot be tokenized, with what to do about it."""


@dataclass(frozen=True)
class TokenizerConfig:
    """The default 125 samples at 100 Hz (1.25 s) tile 10 s exactly (8 slots) and put the 2.5 s column edges
    of 3x4 and the 5 s edge of 2x6 on patch edges, so a printed cell is whole patches. 50 (0.5 s) does too,
    at about three times the compute per record; 125 keeps training on a laptop CPU within minutes.
    """

    fs: float = 100.0
    patch_len: int = 125
    duration: float = 10.0
    min_observed: float = 0.5

    def __post_init__(self) -> None:
        n = self.duration * self.fs
        if abs(n - round(n)) > 1e-6 or round(n) % self.patch_len:
            raise TokenizeError(f"patch_len {self.patch_len} must tile {self.duration} s at {self.fs} Hz "
                                f"({n:g} samples) exactly")
        if not 0.0 < self.min_observed <= 1.0:
            raise TokenizeError(f"min_observed must be in (0, 1], got {self.min_observed}")

    @property
    def n_samples(self) -> int:
        return int(round(self.duration * self.fs))

    @property
    def n_slots(self) -> int:
        return self.n_samples // self.patch_len

    @property
    def max_tokens(self) -> int:
        return N_LEADS * self.n_slots

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Tokens:
    """One record's present patches (ragged form)."""

    patches: np.ndarray    # float32 [N, P] mV, missing samples set to 0
    lead: np.ndarray       # int64 [N]
    slot: np.ndarray       # int64 [N]
    observed: np.ndarray   # float32 [N] fraction of the patch's samples that were observed

    def __len__(self) -> int:
        return len(self.lead)


@dataclass
class PaddedTokens:
    """A batch of tokens padded to N_max; `valid` marks real patches, padding is all zeros."""

    patches: np.ndarray    # float32 [B, N_max, P]
    lead: np.ndarray       # int64 [B, N_max]
    slot: np.ndarray       # int64 [B, N_max]
    observed: np.ndarray   # float32 [B, N_max]
    valid: np.ndarray      # bool [B, N_max]

    def ragged(self) -> list[Tokens]:
        return [Tokens(self.patches[b, v], self.lead[b, v], self.slot[b, v], self.observed[b, v])
                for b, v in enumerate(self.valid)]


def resample(signal: np.ndarray, fs: float, target_fs: float) -> np.ndarray:
    """NaN-aware resampling of [..., T] from fs to target_fs, keeping true times.

    Downsampling first averages over one output period (anti-aliasing); a resampled sample is observed
    only where the nearest input sample was observed.
    """
    if fs == target_fs:
        return signal
    if fs <= 0 or target_fs <= 0:
        raise TokenizeError(f"sampling rates must be positive, got {fs} and {target_fs}")
    signal = np.asarray(signal, dtype=np.float64)
    observed = ~np.isnan(signal)
    values = np.where(observed, signal, 0.0)
    if fs > target_fs:
        width = max(1, int(round(fs / target_fs)))
        kernel = np.ones(width)
        conv = np.apply_along_axis(lambda x: np.convolve(x, kernel, mode="same"), -1, values)
        counts = np.apply_along_axis(lambda x: np.convolve(x, kernel, mode="same"), -1, observed.astype(float))
        values = np.where(counts > 0, conv / np.maximum(counts, 1), 0.0)
    n_in = signal.shape[-1]
    n_out = int(np.floor((n_in - 1) * target_fs / fs)) + 1
    t_out = np.arange(n_out) / target_fs
    t_in = np.arange(n_in) / fs
    flat_v = values.reshape(-1, n_in)
    flat_o = observed.reshape(-1, n_in)
    nearest = np.clip(np.round(t_out * fs).astype(np.int64), 0, n_in - 1)
    out = np.stack([np.interp(t_out, t_in, row) for row in flat_v])
    out[~flat_o[:, nearest]] = np.nan
    return out.reshape(*signal.shape[:-1], n_out).astype(np.float32)


def fit_length(signals: np.ndarray, n: int) -> np.ndarray:
    """Crop or NaN-pad the time axis to n samples (the tail, so true times are kept)."""
    t = signals.shape[-1]
    if t == n:
        return signals
    if t > n:
        return signals[..., :n]
    pad = np.full((*signals.shape[:-1], n - t), np.nan, dtype=signals.dtype)
    return np.concatenate([signals, pad], axis=-1)


def tokenize_batch(signals: np.ndarray, fs: float, cfg: TokenizerConfig = TokenizerConfig(),
                   n_max: int | None = None) -> PaddedTokens:
    """[B, 12, T] signals (NaN = not observed) at fs -> padded tokens, present patches first in each row.

    N_max is the largest token count in the batch unless `n_max` fixes it (for fixed-shape engines).
    """
    signals = np.asarray(signals)
    if signals.ndim != 3 or signals.shape[1] != N_LEADS:
        raise TokenizeError(f"signals must have shape [B, 12, T], got {signals.shape}")
    if np.isinf(signals).any():
        raise TokenizeError("signal contains inf; use NaN for samples that were not observed")
    x = fit_length(resample(signals, fs, cfg.fs), cfg.n_samples).astype(np.float32, copy=False)
    b = x.shape[0]
    frac, keep = _present(x, cfg)
    counts = keep.sum(1)
    width = int(counts.max()) if n_max is None else n_max
    if n_max is not None and counts.max() > n_max:
        raise TokenizeError(f"a record has {counts.max()} patches, more than n_max={n_max}")
    order = np.argsort(~keep, axis=1, kind="stable")[:, :width]    # present patches first, in lead/slot order
    valid = np.take_along_axis(keep, order, 1)
    patches = np.take_along_axis(np.nan_to_num(x, nan=0.0).reshape(b, -1, cfg.patch_len), order[..., None], 1)
    observed = np.take_along_axis(frac.reshape(b, -1), order, 1)
    lead, slot = np.divmod(order, cfg.n_slots)
    patches[~valid] = 0.0
    return PaddedTokens(patches, np.where(valid, lead, 0), np.where(valid, slot, 0),
                        np.where(valid, observed, 0.0).astype(np.float32), valid)


def _present(x: np.ndarray, cfg: TokenizerConfig) -> tuple[np.ndarray, np.ndarray]:
    """Observed fraction [B, 12, S] of each patch, and which patches are kept [B, 12*S] (lead-major)."""
    frac = (~np.isnan(x.reshape(x.shape[0], N_LEADS, cfg.n_slots, cfg.patch_len))).mean(-1, dtype=np.float32)
    return frac, (frac >= cfg.min_observed).reshape(x.shape[0], -1)


def token_counts(signals: np.ndarray, cfg: TokenizerConfig = TokenizerConfig()) -> np.ndarray:
    """int [B]: how many patches `tokenize_batch` keeps per record (signals already at cfg.fs, cfg length).

    Training groups records of similar counts into a batch, so padding costs little compute.
    """
    return _present(fit_length(signals, cfg.n_samples), cfg)[1].sum(1)


def tokenize(signal: np.ndarray, fs: float, cfg: TokenizerConfig = TokenizerConfig()) -> Tokens:
    """One [12, T] signal -> its present patches (ragged). Refuses a record with nothing observed."""
    signal = np.asarray(signal)
    if signal.ndim != 2:
        raise TokenizeError(f"signal must have shape [12, T], got {signal.shape}")
    tokens = tokenize_batch(signal[None], fs, cfg).ragged()[0]
    if len(tokens) == 0:
        raise TokenizeError(f"no patch has at least {cfg.min_observed:.0%} of its samples observed; "
                            "the record shows too little signal to classify")
    return tokens


def pad(tokens: list[Tokens], n_max: int | None = None) -> PaddedTokens:
    """Ragged tokens -> one padded batch (the runtime batches records this way)."""
    width = max(len(t) for t in tokens) if n_max is None else n_max
    if any(len(t) > width for t in tokens):
        raise TokenizeError(f"a record has more than n_max={width} patches")
    b, p = len(tokens), tokens[0].patches.shape[1]
    out = PaddedTokens(np.zeros((b, width, p), np.float32), np.zeros((b, width), np.int64),
                       np.zeros((b, width), np.int64), np.zeros((b, width), np.float32),
                       np.zeros((b, width), bool))
    for i, t in enumerate(tokens):
        n = len(t)
        out.patches[i, :n], out.lead[i, :n], out.slot[i, :n] = t.patches, t.lead, t.slot
        out.observed[i, :n], out.valid[i, :n] = t.observed, True
    return out
