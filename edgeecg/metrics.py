"""Metrics through scikit-learn: AUROC per class and macro, bootstrap intervals, F1 at chosen thresholds.

A class that is all positive or all negative in a set has no AUROC; it is left out of the macro mean
(and reported as NaN), never counted as 0.5.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score, precision_recall_curve, roc_auc_score


def per_class_auroc(labels: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """float [C], NaN where the class has only one value in `labels`."""
    out = np.full(labels.shape[1], np.nan)
    for c in range(labels.shape[1]):
        if 0 < labels[:, c].sum() < len(labels):
            out[c] = roc_auc_score(labels[:, c], prob[:, c])
    return out


def macro_auroc(labels: np.ndarray, prob: np.ndarray) -> float:
    aucs = per_class_auroc(labels, prob)
    return float(np.nanmean(aucs)) if np.isfinite(aucs).any() else float("nan")


def bootstrap_macro_auroc(labels: np.ndarray, prob: np.ndarray, n_boot: int = 200, seed: int = 0
                          ) -> tuple[float, float]:
    """95 % percentile interval of macro AUROC over records resampled with replacement."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(labels), len(labels))
        v = macro_auroc(labels[idx], prob[idx])
        if np.isfinite(v):
            values.append(v)
    if not values:
        return float("nan"), float("nan")
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def bootstrap_class_auroc(labels: np.ndarray, prob: np.ndarray, n_boot: int = 200, seed: int = 0
                          ) -> np.ndarray:
    """float [C, 2]: 95 % interval of each class's AUROC (NaN where undefined)."""
    rng = np.random.default_rng(seed)
    samples = np.stack([per_class_auroc(labels[idx], prob[idx])
                        for idx in (rng.integers(0, len(labels), len(labels)) for _ in range(n_boot))])
    out = np.full((labels.shape[1], 2), np.nan)
    for c in range(labels.shape[1]):
        col = samples[:, c][np.isfinite(samples[:, c])]
        if len(col):
            out[c] = np.percentile(col, [2.5, 97.5])
    return out


def best_thresholds(labels: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Per-class threshold in [0.02, 0.98] maximising F1 on this (validation) set; 0.5 where the class never
    occurs. One precision-recall curve per class gives F1 at every distinct threshold at once."""
    out = np.full(labels.shape[1], 0.5)
    for c in range(labels.shape[1]):
        if labels[:, c].any():
            precision, recall, thresholds = precision_recall_curve(labels[:, c], prob[:, c])
            with np.errstate(invalid="ignore", divide="ignore"):
                f1 = np.nan_to_num(2 * precision[:-1] * recall[:-1] / (precision[:-1] + recall[:-1]))
            ok = (thresholds >= 0.02) & (thresholds <= 0.98)
            if ok.any():
                out[c] = float(thresholds[ok][int(np.argmax(f1[ok]))])
    return out


def macro_f1(labels: np.ndarray, prob: np.ndarray, thresholds: np.ndarray) -> float:
    present = labels.any(0)
    return float(f1_score(labels[:, present], prob[:, present] >= thresholds[present], average="macro",
                          zero_division=0))
