"""Real training at small scale: PatchECG and the baseline on real PTB-XL records, 5-fold cross-validation.

The 10 strat folds pair into 5 cross-validation folds; for fold k the pair k is the test set, the next pair
is validation (early stopping, F1 thresholds) and the rest is training. Labels are the 5 superclasses
(NORM, MI, STTC, CD, HYP). Test predictions of the 5 folds are pooled and scored per printed layout, so
every record is scored once per layout by a model that never trained on it. Needs the `train` extra.

    python benchmarks/ptbxl_cv.py --ptbxl ../shared/data/ptbxl-500 --epochs 30
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from rich.console import Console

from edgeecg.checkpoint import load_checkpoint
from edgeecg.data.ptbxl import load_ptbxl
from edgeecg.data.sources import DataSplits, Split
from edgeecg.evaluate import evaluate_probs, plot_png, print_table, save_json
from edgeecg.train import TrainConfig, predict, train

N_FOLDS = 5


def fold_of(strat_folds: np.ndarray) -> np.ndarray:
    """Strat folds 1-10 -> cross-validation folds 0-4 (pairs), keeping PTB-XL's patient-wise stratification."""
    return (strat_folds - 1) // 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ptbxl", type=Path, default=Path("../shared/data/ptbxl-500"))
    ap.add_argument("--out", type=Path, default=Path("runs/ptbxl-cv"))
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--n-boot", type=int, default=200)
    args = ap.parse_args()
    console = Console()
    data = load_ptbxl(args.ptbxl, 100, "superclass")
    signals, labels = np.asarray(data.signals, dtype=np.float32), data.labels
    cv = fold_of(data.folds)
    tests = [np.flatnonzero(cv == k) for k in range(N_FOLDS)]
    vals = [np.flatnonzero(cv == (k + 1) % N_FOLDS) for k in range(N_FOLDS)]
    models: dict[str, list] = {"patchecg": [], "baseline": []}
    t0 = time.perf_counter()
    for k in range(N_FOLDS):
        train_idx = np.flatnonzero((cv != k) & (cv != (k + 1) % N_FOLDS))
        splits = DataSplits(Split(signals[train_idx], labels[train_idx]), Split(signals[vals[k]], labels[vals[k]]),
                            Split(signals[tests[k]], labels[tests[k]]), data.label_names, data.fs,
                            f"PTB-XL {args.ptbxl} superclasses, CV fold {k}", f"cv{k}")
        for kind in models:
            out = args.out / f"fold{k}" / kind
            console.print(f"fold {k + 1}/{N_FOLDS}: {kind}, {len(train_idx)} training records")
            train(TrainConfig(data=f"ptbxl:{args.ptbxl}", model=kind, out=str(out), epochs=args.epochs,
                              batch_size=32, patience=8, task="superclass", seed=k, progress=False), splits=splits)
            models[kind].append(load_checkpoint(out))
    console.print(f"trained {2 * N_FOLDS} models in {time.perf_counter() - t0:.0f} s")

    def pooled(kind: str, fill: str, parts: list[np.ndarray]):
        """predict_fn over records concatenated fold by fold: each fold's part goes to that fold's model."""
        bounds = np.cumsum([0, *map(len, parts)])

        def run(x: np.ndarray) -> np.ndarray:
            return np.concatenate([predict(ck.model, kind, x[bounds[k]:bounds[k + 1]], data.fs, ck.tokenizer, fill)
                                   for k, ck in enumerate(models[kind])])
        return run

    test_order, val_order = np.concatenate(tests), np.concatenate(vals)
    evaluations = []
    for kind, fill in (("patchecg", "zero"), ("baseline", "zero"), ("baseline", "interp")):
        name = kind if kind == "patchecg" else f"baseline ({fill} fill)"
        evaluations.append(evaluate_probs(name, data.label_names, pooled(kind, fill, tests), signals[test_order],
                                          labels[test_order], signals[val_order], labels[val_order], data.fs,
                                          n_boot=args.n_boot, progress=True, val_predict_fn=pooled(kind, fill, vals)))
    print_table(evaluations, console)
    save_json(evaluations, args.out / "evaluation.json")
    console.print(f"wrote {plot_png(evaluations, args.out / 'auroc_per_layout.png')} and evaluation.json")


if __name__ == "__main__":
    main()
