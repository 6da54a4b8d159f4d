"""PatchECG against the full-signal baseline on every printed layout (default simulator task, fixed seeds).

Trains both models with the project's defaults where no checkpoint exists yet (`edgeecg train` and
`edgeecg train --model baseline`), evaluates them on identical masked test records, and checks the paper's
central claim: PatchECG stays nearly flat across printed layouts while zero-filled and interpolated
full-signal baselines fall. Needs the `train` extra.

    python benchmarks/layout_robustness.py --patchecg runs/synth-patchecg --baseline runs/synth-baseline
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from edgeecg.checkpoint import META
from edgeecg.evaluate import Evaluation, plot_png, print_table, save_json
from edgeecg.evaluation_run import evaluate_checkpoints
from edgeecg.layouts import PRINTED as MODEL_LAYOUTS
from edgeecg.train import TrainConfig, train

FULL = "12x1"
PRINTED = tuple(name for name in MODEL_LAYOUTS if name != FULL)


def claims(evaluations: list[Evaluation]) -> list[tuple[str, float, str, bool]]:
    """(what, measured, target, holds) for the claims the issue asks to show."""
    by_model = {e.model: e.by_condition() for e in evaluations}
    patch = by_model["patchecg"]
    worst = min(PRINTED, key=lambda c: patch[c].macro_auroc)
    flat = patch[FULL].macro_auroc - patch[worst].macro_auroc
    drops = {m: r[FULL].macro_auroc - r["3x4"].macro_auroc for m, r in by_model.items()}
    best_baseline = min(v for m, v in drops.items() if m != "patchecg")
    rows = [(f"PatchECG {FULL} macro AUROC (task not saturated)", patch[FULL].macro_auroc, "< 0.99",
             patch[FULL].macro_auroc < 0.99),
            (f"PatchECG {FULL} minus worst printed layout ({worst})", flat, "<= 0.02", flat <= 0.02)]
    rows += [(f"{m}: drop {FULL} -> 3x4", d, "", True) for m, d in drops.items()]
    ratio = drops["patchecg"] / best_baseline if best_baseline > 0 else float("inf")
    rows.append(("PatchECG drop / smallest baseline drop", ratio, "<= 0.5", ratio <= 0.5))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patchecg", type=Path, default=Path("runs/synth-patchecg"))
    ap.add_argument("--baseline", type=Path, default=Path("runs/synth-baseline"))
    ap.add_argument("--out", type=Path, default=Path("runs/layout-bench"))
    ap.add_argument("--n-boot", type=int, default=200)
    args = ap.parse_args()
    console = Console()
    for kind, folder in (("patchecg", args.patchecg), ("baseline", args.baseline)):
        if not (folder / META).is_file():
            console.print(f"training {kind} -> {folder}")
            train(TrainConfig(model=kind, out=str(folder)))
    evaluations = evaluate_checkpoints([args.patchecg, args.baseline], n_boot=args.n_boot)
    print_table(evaluations, console)
    table = Table(title="claims")
    for col in ("claim", "measured", "target", "holds"):
        table.add_column(col)
    rows = claims(evaluations)
    for what, value, target, holds in rows:
        table.add_row(what, f"{value:.3f}", target, ("yes" if holds else "[red]no[/]") if target else "")
    console.print(table)
    for folder in (args.patchecg, args.baseline):
        meta = json.loads((folder / "last" / META).read_text())
        console.print(f"{folder}: {meta['parameters']:,} parameters, {meta['epoch'] + 1} epochs in "
                      f"{meta['train_seconds']:.0f} s of training")
    save_json(evaluations, args.out / "evaluation.json")
    (args.out / "claims.json").write_text(json.dumps([dict(zip(("claim", "measured", "target", "holds"), r,
                                                                strict=True)) for r in rows], indent=2))
    console.print(f"wrote {plot_png(evaluations, args.out / 'auroc_per_layout.png')} and JSON in {args.out}")


if __name__ == "__main__":
    main()
