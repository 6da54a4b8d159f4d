"""What a PatchECG training step costs on this CPU with and without dropout, and what the self-distillation
teacher pass costs in training and in eval mode (why the edge preset has no dropout and the teacher runs in
eval mode). Median of repeated steps, one batch of whole 12x1 records, measured as ratios in one run.

    python benchmarks/train_step.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from rich.console import Console
from rich.table import Table

from edgeecg.batches import model_inputs
from edgeecg.data.sources import load_source
from edgeecg.model import PatchECG, PatchECGConfig
from edgeecg.tokens import TokenizerConfig


def median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def timings(dropout: float, inputs: tuple[torch.Tensor, ...], target: torch.Tensor, tok: TokenizerConfig,
            repeats: int) -> tuple[float, float, float]:
    """(training step, teacher pass in training mode, teacher pass in eval mode), ms."""
    torch.manual_seed(0)
    model = PatchECG(PatchECGConfig.preset("edge", n_labels=target.shape[1], patch_len=tok.patch_len,
                                           n_slots=tok.n_slots, dropout=dropout))
    opt = torch.optim.AdamW(model.parameters())

    def step() -> None:
        model.train()
        loss = F.binary_cross_entropy_with_logits(model(*inputs), target)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def teacher(mode: bool) -> None:
        model.train(mode)
        with torch.no_grad():
            model(*inputs)

    return (median_ms(step, repeats), median_ms(lambda: teacher(True), repeats),
            median_ms(lambda: teacher(False), repeats))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=8)
    args = ap.parse_args()
    tok = TokenizerConfig()
    splits = load_source("synth", tok, seed=0, n_train=args.batch, n_eval=16)
    inputs = model_inputs("patchecg", np.asarray(splits.train.signals, np.float32), splits.fs, tok)
    target = torch.from_numpy(splits.train.labels.astype(np.float32))
    table = Table(title=f"PatchECG edge, batch {args.batch}, {inputs[0].shape[1]} tokens, "
                        f"{torch.get_num_threads()} threads (ms, median of {args.repeats})")
    for col in ("dropout", "training step", "teacher pass, training mode", "teacher pass, eval mode"):
        table.add_column(col, justify="right")
    steps = {}
    for dropout in (0.1, 0.0):
        step, teacher_train, teacher_eval = timings(dropout, inputs, target, tok, args.repeats)
        steps[dropout] = step
        table.add_row(f"{dropout:g}", f"{step:.0f}", f"{teacher_train:.0f}", f"{teacher_eval:.0f}")
    console = Console()
    console.print(table)
    console.print(f"dropout's share of a training step: {1 - steps[0.0] / steps[0.1]:.0%}")


if __name__ == "__main__":
    main()
