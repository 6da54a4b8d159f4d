"""How hard is the simulator's task? A full-signal 1-D CNN on complete 12x1 records, AUROC on held-out ones.

The layout-robustness claim is only measurable if a strong model on full signals lands well below a
perfect score; this script is the check. Needs the `train` extra (torch, scikit-learn).

    python benchmarks/synth_separability.py --n-train 8000 --epochs 8
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

from edgeecg.data.synth import SynthConfig, simulate
from edgeecg.data.synth_conditions import SYNTH_LABELS
from edgeecg.metrics import auroc


def cnn(n_out: int, width: int = 64) -> nn.Module:
    """A compact ResNet-free 1-D CNN: strided conv blocks, global average pooling, linear head."""
    layers: list[nn.Module] = []
    c_in = 12
    for c_out, stride in ((width, 1), (width, 2), (2 * width, 2), (2 * width, 2), (2 * width, 2)):
        layers += [nn.Conv1d(c_in, c_out, 7, stride, 3, bias=False), nn.BatchNorm1d(c_out), nn.ReLU()]
        c_in = c_out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(c_in, n_out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-train", type=int, default=8000)
    ap.add_argument("--n-test", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    train = simulate(args.n_train, SynthConfig(), seed=args.seed)
    test = simulate(args.n_test, SynthConfig(), seed=args.seed + 10_000)
    x_tr, y_tr = torch.from_numpy(train.signals), torch.from_numpy(train.labels.astype(np.float32))
    x_te = torch.from_numpy(test.signals)
    model = cnn(len(SYNTH_LABELS))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    steps = args.epochs * (len(x_tr) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    loss_fn = nn.BCEWithLogitsLoss()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x_tr))
        for a in range(0, len(perm) - 63, 64):
            idx = perm[a:a + 64]
            opt.zero_grad()
            loss = loss_fn(model(x_tr[idx]), y_tr[idx])
            loss.backward()
            opt.step()
            sched.step()
        print(f"epoch {epoch + 1}/{args.epochs} loss {loss.item():.4f} ({time.perf_counter() - t0:.0f} s)")
    model.eval()
    with torch.no_grad():
        prob = torch.sigmoid(torch.cat([model(x_te[a:a + 256]) for a in range(0, len(x_te), 256)])).numpy()
    aucs = {name: auroc(test.labels[:, i], prob[:, i]) for i, name in enumerate(SYNTH_LABELS)}
    print(f"\nfull-signal 1-D CNN on 12x1, {args.n_train} train / {args.n_test} test records, "
          f"{args.epochs} epochs, {time.perf_counter() - t0:.0f} s")
    for name, auc in sorted(aucs.items(), key=lambda kv: kv[1]):
        print(f"  {name:10s} AUROC {auc:.3f}")
    print(f"macro AUROC {np.mean(list(aucs.values())):.3f}")


if __name__ == "__main__":
    main()
