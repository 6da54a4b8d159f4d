"""Metrics in plain numpy: AUROC per class and macro, bootstrap intervals, F1 at chosen thresholds.

numpy only, so the device runner's AUROC parity gate runs on the core install (a Jetson has no reason to carry
scikit-learn). The definitions are scikit-learn's (`roc_auc_score`, `precision_recall_curve`, `f1_score`), and
`tests/test_metrics.py` holds them to it where scikit-learn is installed.

A class that is all positive or all negative in a set has no AUROC; it is left out of the macro mean
(and reported as NaN), never counted as 0.5.
"""

from __future__ import annotations

import numpy as np


def _ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks with ties given their mean rank (the Mann-Whitney convention)."""
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], len(x)]
    mean_rank = (starts + ends + 1) / 2.0            # mean of 1-based ranks starts+1 .. ends
    ranks = np.empty(len(x))
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def auroc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve of one binary label; NaN where `y` holds one class only."""
    y = np.asarray(y).astype(bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _ranks(np.asarray(score, dtype=np.float64))
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def per_class_auroc(labels: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """float [C], NaN where the class has only one value in `labels`."""
    return np.array([auroc(labels[:, c], prob[:, c]) for c in range(labels.shape[1])])


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


def precision_recall_curve(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, thresholds) at every distinct score, thresholds increasing; as scikit-learn's, a final
    (precision 1, recall 0) point closes the curve."""
    y = np.asarray(y).astype(bool)
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="mergesort")
    s, t = np.asarray(score, dtype=np.float64)[order], y[order]
    last = np.r_[np.flatnonzero(s[1:] != s[:-1]), len(s) - 1]       # last index of each distinct score
    tp = np.cumsum(t)[last].astype(np.float64)
    fp = (last + 1) - tp
    thresholds = s[last]
    precision = tp / (tp + fp)                                        # every distinct score holds a sample
    recall = tp / tp[-1] if tp[-1] > 0 else np.ones_like(tp)
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


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


def f1(y: np.ndarray, predicted: np.ndarray) -> float:
    """F1 of one binary label; 0 where there are neither positives nor predictions (scikit-learn's
    zero_division=0)."""
    y, predicted = np.asarray(y).astype(bool), np.asarray(predicted).astype(bool)
    tp = float((y & predicted).sum())
    denominator = float(y.sum() + predicted.sum())
    return 2 * tp / denominator if denominator else 0.0


def macro_f1(labels: np.ndarray, prob: np.ndarray, thresholds: np.ndarray) -> float:
    present = np.flatnonzero(labels.any(0))
    if not len(present):
        return 0.0
    return float(np.mean([f1(labels[:, c], prob[:, c] >= thresholds[c]) for c in present]))
