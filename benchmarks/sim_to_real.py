"""Sim-to-real: the simulator-trained model scored on real PTB-XL records, for the conditions it models.

How physiological is the simulator? A model that never saw a real ECG is scored on real ones: each
simulator label is matched to its PTB-XL diagnostic subclass, or to the SCP rhythm/form statement of the
same code (AFIB, PVC, SBRAD, STACH). Per-class AUROC with bootstrap 95 % intervals, on full 12x1 signals
and on the 3x4 print. Needs the `train` extra.

    python benchmarks/sim_to_real.py --checkpoint runs/synth-patchecg --ptbxl ../shared/data/ptbxl-500
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from edgeecg.batches import masked
from edgeecg.checkpoint import load_checkpoint
from edgeecg.data.ptbxl import SUBCLASSES, PtbxlIndex, load_ptbxl
from edgeecg.evaluate import condition_masks
from edgeecg.metrics import bootstrap_class_auroc, per_class_auroc
from edgeecg.train import predict

MIN_POSITIVES = 5


def real_labels(root: Path, names: tuple[str, ...], ecg_ids: np.ndarray, subclass_labels: np.ndarray) -> np.ndarray:
    """uint8 [N, C] PTB-XL truth for each model label (subclass column, else the SCP code itself)."""
    index = PtbxlIndex.load(root)
    row_of = {row.ecg_id: i for i, row in enumerate(index.rows)}
    codes = index.code_labels(names)[[row_of[int(i)] for i in ecg_ids]]
    return np.stack([subclass_labels[:, SUBCLASSES.index(n)] if n in SUBCLASSES else codes[:, k]
                     for k, n in enumerate(names)], axis=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoint", type=Path, default=Path("runs/synth-patchecg"))
    ap.add_argument("--ptbxl", type=Path, default=Path("../shared/data/ptbxl-500"))
    ap.add_argument("--out", type=Path, default=Path("runs/sim-to-real.json"))
    ap.add_argument("--n-boot", type=int, default=200)
    args = ap.parse_args()
    console = Console()
    ck = load_checkpoint(args.checkpoint)
    data = load_ptbxl(args.ptbxl, 100, "subclass")
    truth = real_labels(args.ptbxl, ck.label_names, data.ecg_ids, data.labels)
    signals = np.asarray(data.signals, dtype=np.float32)
    result: dict[str, dict] = {}
    for cond in ("12x1", "3x4"):
        x = masked(signals, condition_masks(cond, len(signals), data.fs, signals.shape[-1], seed=0))
        prob = predict(ck.model, ck.kind, x, data.fs, ck.tokenizer)
        aucs, ci = per_class_auroc(truth, prob), bootstrap_class_auroc(truth, prob, args.n_boot)
        result[cond] = {n: {"auroc": float(aucs[k]), "ci": [float(c) for c in ci[k]],
                            "positives": int(truth[:, k].sum())} for k, n in enumerate(ck.label_names)}
    table = Table(title=f"sim-to-real: {args.checkpoint} on {len(signals)} real PTB-XL records")
    for col in ("label", "positives", "AUROC 12x1 [95 % CI]", "AUROC 3x4 [95 % CI]"):
        table.add_column(col, justify="right")
    scored = []
    for k, name in enumerate(ck.label_names):
        pos = int(truth[:, k].sum())
        if pos < MIN_POSITIVES:
            table.add_row(name, str(pos), "too few positives", "")
            continue
        scored.append(name)
        table.add_row(name, str(pos), *(f"{result[c][name]['auroc']:.3f} [{result[c][name]['ci'][0]:.3f}-"
                                         f"{result[c][name]['ci'][1]:.3f}]" for c in ("12x1", "3x4")))
    means = {c: float(np.mean([result[c][n]["auroc"] for n in scored])) for c in result}
    table.add_row("mean (scored)", "", f"{means['12x1']:.3f}", f"{means['3x4']:.3f}")
    console.print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"checkpoint": str(args.checkpoint), "records": len(signals),
                                    "min_positives": MIN_POSITIVES, "mean_auroc": means, "per_class": result},
                                   indent=2))
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
