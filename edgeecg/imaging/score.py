"""Scoring a digitized record against the rendered truth, as the PhysioNet Challenge 2024 did.

Per lead, on the samples the image shows: SNR = 10 log10(signal power / error power) after removing the
constant offset between the two; untraced samples count as 0 mV (the Challenge's rule), so a digitizer
cannot gain by leaving hard stretches out. Pearson r and the recovered share are reported beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeecg.record import LEADS


@dataclass(frozen=True)
class LeadScore:
    lead: str
    snr_db: float
    pearson_r: float
    recovered: float


def resample_to(signal: np.ndarray, fs_from: float, fs_to: float, n_to: int) -> np.ndarray:
    """Linear resampling of [12, T] onto n_to samples at fs_to, NaN kept where the source is NaN."""
    t_to = np.arange(n_to) / fs_to
    t_from = np.arange(signal.shape[1]) / fs_from
    out = np.full((signal.shape[0], n_to), np.nan, np.float64)
    for i, row in enumerate(signal):
        ok = np.isfinite(row)
        if ok.sum() < 2:
            continue
        vals = np.interp(t_to, t_from[ok], row[ok], left=np.nan, right=np.nan)
        nearest = np.clip(np.round(t_to * fs_from).astype(int), 0, len(row) - 1)
        vals[~ok[nearest]] = np.nan
        out[i] = vals
    return out


def score(truth: np.ndarray, truth_fs: float, pred: np.ndarray, pred_fs: float) -> list[LeadScore]:
    """One LeadScore per lead that the truth shows; `pred` is resampled to the truth's rate first."""
    p = resample_to(pred, pred_fs, truth_fs, truth.shape[1])
    out = []
    for i, lead in enumerate(LEADS):
        shown = np.isfinite(truth[i])
        if shown.sum() < 10:
            continue
        x = truth[i, shown].astype(np.float64)
        y = p[i, shown]
        got = np.isfinite(y)
        y = np.where(got, y, 0.0)
        err = y - x
        err -= err.mean()
        snr = 10 * np.log10(max(float((x ** 2).sum()), 1e-12) / max(float((err ** 2).sum()), 1e-12))
        r = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else 0.0
        out.append(LeadScore(lead, float(snr), r, float(got.mean())))
    return out
