"""The numpy metrics against scikit-learn's definitions (skipped where scikit-learn is not installed)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeecg import metrics

sk = pytest.importorskip("sklearn.metrics")


def _data(seed: int, n: int = 300, c: int = 5, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.random((n, c)) < rng.uniform(0.05, 0.6, c)
    prob = np.clip(labels * rng.uniform(0.1, 0.4, c) + rng.random((n, c)) * 0.7, 0, 1)
    return labels.astype(int), np.round(prob, 1) if ties else prob


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auroc_matches_scikit_learn(seed: int, ties: bool) -> None:
    labels, prob = _data(seed, ties=ties)
    expected = [sk.roc_auc_score(labels[:, k], prob[:, k]) for k in range(labels.shape[1])]
    np.testing.assert_allclose(metrics.per_class_auroc(labels, prob), expected, atol=1e-12)


@pytest.mark.parametrize("ties", [False, True])
def test_precision_recall_curve_matches_scikit_learn(ties: bool) -> None:
    labels, prob = _data(3, ties=ties)
    for k in range(labels.shape[1]):
        for mine, theirs in zip(metrics.precision_recall_curve(labels[:, k], prob[:, k]),
                                sk.precision_recall_curve(labels[:, k], prob[:, k]), strict=True):
            np.testing.assert_allclose(mine, theirs, atol=1e-12)


def test_macro_f1_matches_scikit_learn_and_skips_absent_classes() -> None:
    labels, prob = _data(4)
    labels[:, 2] = 0                                                  # a class that never occurs
    thresholds = metrics.best_thresholds(labels, prob)
    assert thresholds[2] == 0.5
    present = labels.any(0)
    expected = sk.f1_score(labels[:, present], prob[:, present] >= thresholds[present], average="macro",
                           zero_division=0)
    assert metrics.macro_f1(labels, prob, thresholds) == pytest.approx(expected, abs=1e-12)


def test_a_class_with_one_value_has_no_auroc_and_leaves_the_macro_mean() -> None:
    labels, prob = _data(5, c=3)
    labels[:, 1] = 1
    aucs = metrics.per_class_auroc(labels, prob)
    assert np.isnan(aucs[1]) and np.isfinite(aucs[[0, 2]]).all()
    assert metrics.macro_auroc(labels, prob) == pytest.approx(np.mean(aucs[[0, 2]]))
