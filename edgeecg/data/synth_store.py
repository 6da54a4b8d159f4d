"""Simulated data sets on disk: one float32 array plus a label table, readable by training.

Layout of a data set folder::

    signals.npy   float32 [N, 12, T] mV (memory-mappable)
    labels.csv    record, then one 0/1 column per label in SYNTH_LABELS order
    meta.json     config, seed, label names, fs, and the SHA-256 of signals.npy
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgeecg.data.synth import SynthConfig, simulate
from edgeecg.data.synth_conditions import SYNTH_LABELS
from edgeecg.record import LEADS, RecordError


@dataclass
class SynthDataset:
    signals: np.ndarray
    labels: np.ndarray
    label_names: tuple[str, ...]
    fs: float
    meta: dict


def write_dataset(out: str | Path, n: int, cfg: SynthConfig, seed: int = 0, chunk: int = 1000,
                  progress: bool = True) -> Path:
    """Simulates `n` records in chunks (each with its own child seed) straight into `out/signals.npy`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n_samples = int(round(cfg.duration * cfg.fs))
    signals = np.lib.format.open_memmap(out / "signals.npy", mode="w+", dtype=np.float32,
                                        shape=(n, len(LEADS), n_samples))
    labels = np.zeros((n, len(SYNTH_LABELS)), dtype=np.uint8)
    starts = range(0, n, chunk)
    seeds = np.random.SeedSequence(seed).spawn(len(starts))
    if progress:
        from rich.progress import track

        starts = track(starts, description=f"simulating {n} records")
    for child, a in zip(seeds, starts, strict=True):
        batch = simulate(min(chunk, n - a), cfg, child)
        signals[a:a + len(batch.signals)] = batch.signals
        labels[a:a + len(batch.signals)] = batch.labels
    signals.flush()
    del signals
    with (out / "labels.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["record", *SYNTH_LABELS])
        writer.writerows([[i, *row] for i, row in enumerate(labels.tolist())])
    digest = hashlib.sha256((out / "signals.npy").read_bytes()).hexdigest()
    meta = {"kind": "edgeecg-synth", "n": n, "fs": cfg.fs, "seed": seed, "config": asdict(cfg),
            "config_digest": cfg.digest(), "labels": list(SYNTH_LABELS), "signals_sha256": digest}
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    return out


def read_dataset(folder: str | Path) -> SynthDataset:
    """Opens a folder written by `write_dataset` (signals memory-mapped)."""
    folder = Path(folder)
    for name in ("signals.npy", "labels.csv", "meta.json"):
        if not (folder / name).is_file():
            raise RecordError(f"{folder}: {name} missing; create the data set with `edgeecg data synth --out {folder}`")
    meta = json.loads((folder / "meta.json").read_text())
    signals = np.load(folder / "signals.npy", mmap_mode="r", allow_pickle=False)
    with (folder / "labels.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    names = tuple(rows[0][1:])
    labels = np.array([[int(x) for x in r[1:]] for r in rows[1:]], dtype=np.uint8).reshape(-1, len(names))
    if signals.ndim != 3 or signals.shape[1] != len(LEADS) or len(labels) != len(signals):
        raise RecordError(f"{folder}: signals {signals.shape} and {len(labels)} label rows do not match")
    return SynthDataset(signals, labels, names, float(meta["fs"]), meta)
