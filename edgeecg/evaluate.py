"""Per-layout evaluation: macro AUROC with bootstrap intervals, per-class AUROC, macro F1, AF AUROC.

Every printed layout in `layouts.PRINTED`, the random layout mix and random per-lead blackouts are applied to
the same held-out records with fixed seeds, so models (and precisions) are compared on identical inputs.
F1 uses per-class thresholds chosen on the validation set under the same condition.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgeecg.batches import masked
from edgeecg.layouts import BLACKOUT, CONDITIONS, condition_masks
from edgeecg.metrics import best_thresholds, bootstrap_macro_auroc, macro_f1, per_class_auroc

__all__ = ["BLACKOUT", "CONDITIONS", "condition_masks", "evaluate_probs", "plot_png", "print_table", "save_json"]


@dataclass
class ConditionResult:
    condition: str
    macro_auroc: float
    ci_low: float
    ci_high: float
    macro_f1: float
    per_class: list[float]
    af_auroc: float | None


@dataclass
class Evaluation:
    model: str                 # e.g. "patchecg", "baseline (zero fill)"
    label_names: list[str]
    n_test: int
    results: list[ConditionResult]

    def by_condition(self) -> dict[str, ConditionResult]:
        return {r.condition: r for r in self.results}


def evaluate_probs(name: str, label_names: tuple[str, ...], predict_fn, test_signals: np.ndarray,
                   test_labels: np.ndarray, val_signals: np.ndarray, val_labels: np.ndarray, fs: float,
                   conditions: tuple[str, ...] = CONDITIONS, seed: int = 0, n_boot: int = 100,
                   progress: bool = False, val_predict_fn=None) -> Evaluation:
    """Runs `predict_fn(masked_signals) -> prob [N, C]` under every condition and scores it.

    `val_predict_fn` (default: `predict_fn`) scores the validation records, where they need another model
    (cross-validation).
    """
    val_predict_fn = val_predict_fn or predict_fn
    af = label_names.index("AFIB") if "AFIB" in label_names else None
    results = []
    items = conditions
    if progress:
        from rich.progress import track

        items = track(conditions, description=f"evaluating {name}")
    n_samples = test_signals.shape[-1]
    for cond in items:
        prob = predict_fn(masked(test_signals, condition_masks(cond, len(test_signals), fs, n_samples, seed)))
        val_prob = val_predict_fn(masked(val_signals, condition_masks(cond, len(val_signals), fs, n_samples, seed + 1)))
        aucs = per_class_auroc(test_labels, prob)
        lo, hi = bootstrap_macro_auroc(test_labels, prob, n_boot, seed)
        thresholds = best_thresholds(val_labels, val_prob)
        results.append(ConditionResult(cond, float(np.nanmean(aucs)), lo, hi,
                                       macro_f1(test_labels, prob, thresholds),
                                       [float(a) for a in aucs],
                                       None if af is None or np.isnan(aucs[af]) else float(aucs[af])))
    return Evaluation(name, list(label_names), len(test_signals), results)


def save_json(evaluations: list[Evaluation], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(e) for e in evaluations], indent=2))
    return path


def print_table(evaluations: list[Evaluation], console) -> None:
    """Macro AUROC [95 % CI] per condition, one column per model."""
    from rich.table import Table

    table = Table(title=f"macro AUROC per layout (test records: {evaluations[0].n_test})")
    table.add_column("layout")
    for e in evaluations:
        table.add_column(e.model, justify="right")
    for cond in [r.condition for r in evaluations[0].results]:
        row = [cond]
        for e in evaluations:
            r = e.by_condition()[cond]
            row.append(f"{r.macro_auroc:.3f} [{r.ci_low:.3f}-{r.ci_high:.3f}]  F1 {r.macro_f1:.2f}"
                       + (f"  AF {r.af_auroc:.3f}" if r.af_auroc is not None else ""))
        table.add_row(*row)
    console.print(table)


def plot_png(evaluations: list[Evaluation], path: str | Path) -> Path:
    """Grouped bar chart of macro AUROC per layout with 95 % intervals, one colour per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conds = [r.condition for r in evaluations[0].results]
    x = np.arange(len(conds))
    width = 0.8 / len(evaluations)
    fig, ax = plt.subplots(figsize=(max(8, 0.9 * len(conds)), 4.2))
    for k, e in enumerate(evaluations):
        res = e.by_condition()
        mid = np.array([res[c].macro_auroc for c in conds])
        err = np.array([[mid[i] - res[c].ci_low, res[c].ci_high - mid[i]] for i, c in enumerate(conds)]).T
        ax.bar(x + (k - (len(evaluations) - 1) / 2) * width, mid, width, yerr=err, capsize=2, label=e.model)
    lows = [r.ci_low for e in evaluations for r in e.results if np.isfinite(r.ci_low)]
    ax.set_ylim(max(0.0, min(lows) - 0.05) if lows else 0.5, 1.0)
    ax.set_xticks(x, conds, rotation=30, ha="right")
    ax.set_ylabel("macro AUROC (95 % CI)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
