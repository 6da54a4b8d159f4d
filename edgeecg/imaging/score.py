"""Scoring a digitized record against the rendered truth.

Per lead, on the samples the image shows: SNR = 10 log10(signal power / error power); untraced samples count
as 0 mV, so a digitizer cannot gain by leaving hard stretches out. Two variants:
- `snr_db`, the bench's own figure: the constant offset between the two removed first (a baseline the paper
  does not print is not the digitizer's error), summarised as a median over leads;
- `cinc2024_snr_db`, the PhysioNet/CinC Challenge 2024 definition as its scoring code has it: no offset removed,
  no time shift, the truth's finite samples only, output NaN as 0; summarised as the mean over every
  (record, lead) pair, a refused record's leads scoring 0 dB (its output is all zeros).
Pearson r and the recovered share are reported beside them.
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
    cinc2024_snr_db: float
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
        power = max(float((x ** 2).sum()), 1e-12)
        cinc = 10 * np.log10(power / max(float((err ** 2).sum()), 1e-12))
        err -= err.mean()
        snr = 10 * np.log10(power / max(float((err ** 2).sum()), 1e-12))
        r = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else 0.0
        out.append(LeadScore(lead, float(snr), r, float(cinc), float(got.mean())))
    return out
