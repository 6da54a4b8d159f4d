"""Loads checkpoints and their data, and evaluates them on identical masked test records."""

from __future__ import annotations

from pathlib import Path

from edgeecg.checkpoint import load_checkpoint
from edgeecg.data.sources import load_source
from edgeecg.evaluate import Evaluation, evaluate_probs
from edgeecg.train import predict


def evaluate_checkpoints(folders: list[Path], data: str | None = None, fill: str = "both", n_boot: int = 100,
                         seed: int | None = None, progress: bool = True) -> list[Evaluation]:
    """One Evaluation per checkpoint (two for a baseline with fill='both': zero fill and interpolation)."""
    ckpts = [load_checkpoint(f) for f in folders]
    first = ckpts[0]
    train_cfg = first.meta.get("train_config", {})
    spec = data or first.meta["data"]["spec"]
    seed = train_cfg.get("seed", 0) if seed is None else seed
    splits = load_source(spec, first.tokenizer, seed, train_cfg.get("n_train", 8000), train_cfg.get("n_eval", 2000),
                         train_cfg.get("task", "subclass"))
    evaluations = []
    for folder, ck in zip(folders, ckpts, strict=True):
        if ck.label_names != splits.label_names:
            raise ValueError(f"{folder}: labels {ck.label_names} differ from the data's {splits.label_names}")
        fills = ["zero"] if ck.kind == "patchecg" else (["zero", "interp"] if fill == "both" else [fill])
        for how in fills:
            name = ck.kind if ck.kind == "patchecg" else f"baseline ({how} fill)"

            def run(signals, ck=ck, how=how):
                return predict(ck.model, ck.kind, signals, splits.fs, ck.tokenizer, how)

            evaluations.append(evaluate_probs(name, splits.label_names, run, splits.test.signals,
                                              splits.test.labels, splits.val.signals, splits.val.labels,
                                              splits.fs, seed=seed, n_boot=n_boot, progress=progress))
    return evaluations
