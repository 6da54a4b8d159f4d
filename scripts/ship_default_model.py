"""Replaces the model shipped in the package (`edgeecg/models/synth-edge`) with a newly trained one.

Copies the checkpoint and its FP32 and INT8 exports, then measures `expected.json` exactly the way the
regression gate (`tests/test_regression.py`) checks it, so the gate holds the new model to its own figures.

    edgeecg train --out runs/synth-patchecg
    edgeecg export runs/synth-patchecg --int8
    python scripts/ship_default_model.py runs/synth-patchecg export/synth-patchecg

A checkpoint trained before `edgeecg train` chose per-class thresholds on its validation set has none; the
script then chooses them the way training does now, on the training run's own validation records and masks,
and writes them into the shipped checkpoint and both ONNX files (`--thresholds-only` does just that for the
model already shipped).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from edgeecg import bench
from edgeecg.checkpoint import META, WEIGHTS, load_checkpoint
from edgeecg.models import DEFAULT
from edgeecg.runtime import MODEL_FILES, Runtime

ROOT = Path(__file__).resolve().parents[1]
GATED_LAYOUTS = ("12x1", "3x4", "3x4+II", "2x6", "blackout")
N_TEST, SEED = 400, 0


def copy_model(checkpoint: Path, export: Path) -> None:
    """Checkpoint + ONNX files into the package; the export manifest names where the checkpoint came from."""
    for name in (WEIGHTS, META):
        shutil.copy2(checkpoint / name, DEFAULT / name)
    for precision in ("fp32", "int8"):
        shutil.copy2(export / MODEL_FILES[precision], DEFAULT / MODEL_FILES[precision])
    manifest = json.loads((export / "export.json").read_text())
    manifest["checkpoint"] = f"edgeecg/models/synth-edge (trained as {checkpoint})"
    (DEFAULT / "export.json").write_text(json.dumps(manifest, indent=2) + "\n")


def measure_expected() -> dict:
    """FP32 AUROC per gated layout on the gate's records, with the gate's own profile settings."""
    profile = bench.regression_profile(ROOT / "devices" / "x86-cpu.toml")
    fp32 = DEFAULT / MODEL_FILES["fp32"]
    (report,), _ = bench.run(profile, [fp32], reference=None, n_test=N_TEST, seed=SEED, progress=lambda *_: None)
    return {"n_test": N_TEST, "seed": SEED, "int8_vs_fp32_max_ratio": 1.5,
            "fp32_auroc": {name: round(report.auroc[name], 4) for name in GATED_LAYOUTS},
            "measured_with": f"bench.run, x86-cpu profile (warmup 10, min_runs 60), {N_TEST} simulator records, "
                             f"seed {SEED}"}


def add_thresholds() -> dict:
    """Validation thresholds for the shipped checkpoint (if it lacks them), into checkpoint.json and the ONNX
    metadata; the weights, and so every figure the gate checks, stay as they are."""
    from dataclasses import replace

    from edgeecg.data.sources import load_source
    from edgeecg.export import set_metadata
    from edgeecg.layouts import MaskMix
    from edgeecg.train import TrainConfig, predict, validation_signals, validation_thresholds

    meta = json.loads((DEFAULT / META).read_text())
    if "thresholds" not in meta:
        raw = dict(meta["train_config"])
        cfg = TrainConfig(**{**raw, "mask_mix": MaskMix(**raw["mask_mix"])})
        ck = load_checkpoint(DEFAULT)
        splits = load_source(cfg.data, ck.tokenizer, cfg.seed, cfg.n_train, cfg.n_eval, cfg.task)
        prob = predict(ck.model, ck.kind, validation_signals(splits, cfg), splits.fs, ck.tokenizer)
        meta.update(validation_thresholds(splits.val.labels, prob, ck.label_names))
        (DEFAULT / META).write_text(json.dumps(meta, indent=2) + "\n")
    thresholds = tuple(meta["thresholds"][n] for n in meta["label_names"])
    manifest = json.loads((DEFAULT / "export.json").read_text())
    for precision in ("fp32", "int8"):
        path = DEFAULT / MODEL_FILES[precision]
        info = Runtime(path).info
        set_metadata(path, replace(info, thresholds=thresholds, thresholds_from=meta["thresholds_from"]))
        manifest["files"][precision]["bytes"] = path.stat().st_size
    (DEFAULT / "export.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return meta["thresholds"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", type=Path, nargs="?", help="training output folder (model.safetensors + "
                                                             "checkpoint.json)")
    ap.add_argument("export", type=Path, nargs="?", help="`edgeecg export --int8` output folder for that checkpoint")
    ap.add_argument("--thresholds-only", action="store_true", help="only add validation thresholds to the model "
                                                                   "already shipped")
    args = ap.parse_args()
    if args.thresholds_only:
        print(f"validation thresholds of {DEFAULT}: {add_thresholds()}")
        return
    if args.checkpoint is None or args.export is None:
        raise SystemExit("error: give the checkpoint and export folders, or --thresholds-only")
    for folder, needed in ((args.checkpoint, (WEIGHTS, META)),
                           (args.export, (MODEL_FILES["fp32"], MODEL_FILES["int8"], "export.json"))):
        missing = [n for n in needed if not (folder / n).is_file()]
        if missing:
            raise SystemExit(f"error: {folder} lacks {', '.join(missing)}; see the usage at the top of this script")
    copy_model(args.checkpoint, args.export)
    add_thresholds()
    expected = measure_expected()
    (DEFAULT / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    print(f"shipped {args.checkpoint} into {DEFAULT}; expected FP32 AUROC {expected['fp32_auroc']}")


if __name__ == "__main__":
    main()
