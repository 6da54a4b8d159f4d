"""Training data from a spec string: `synth`, `synth:DIR`, `ptbxl:DIR` or `wfdb:DIR`, split train/val/test.

Every source becomes the same arrays (float32 [N, 12, T] at the model's rate, NaN where not recorded, and
uint8 multi-hot labels), with a description and a content hash that go into the checkpoint.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeecg.record import Record, RecordError
from edgeecg.tokens import TokenizerConfig, fit_length, resample


@dataclass
class Split:
    signals: np.ndarray   # float32 [N, 12, T]
    labels: np.ndarray    # uint8 [N, C]


@dataclass
class DataSplits:
    train: Split
    val: Split
    test: Split
    label_names: tuple[str, ...]
    fs: float
    description: str
    digest: str


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _split_by_hash(ids: list[str]) -> np.ndarray:
    """0 train / 1 val / 2 test, 80/10/10, stable per record id (so it does not change with the folder)."""
    bucket = np.array([int(hashlib.sha256(i.encode()).hexdigest()[:8], 16) % 10 for i in ids])
    return np.where(bucket < 8, 0, np.where(bucket == 8, 1, 2))


def _splits(signals: np.ndarray, labels: np.ndarray, part: np.ndarray) -> tuple[Split, Split, Split]:
    return tuple(Split(np.asarray(signals[part == k], dtype=np.float32), labels[part == k]) for k in range(3))


def load_source(spec: str, tok: TokenizerConfig, seed: int = 0, n_train: int = 8000, n_eval: int = 2000,
                task: str = "subclass") -> DataSplits:
    """Loads a data spec into train/val/test splits at the tokenizer's sampling rate."""
    kind, _, arg = spec.partition(":")
    if kind == "synth" and not arg:
        from edgeecg.data.synth import SynthConfig, simulate

        cfg = SynthConfig(fs=tok.fs, duration=tok.duration)
        parts = [simulate(n, cfg, seed=seed * 1000 + k) for k, n in enumerate((n_train, n_eval, n_eval))]
        label_names = _synth_labels()
        splits = [Split(p.signals, p.labels) for p in parts]
        desc = f"simulator, {n_train}/{n_eval}/{n_eval} records, seed {seed}, config {cfg.digest()}"
        return DataSplits(*splits, label_names, tok.fs, desc, _digest(parts[0].labels, parts[0].signals[:50]))
    if kind == "synth":
        from edgeecg.data.synth_store import read_dataset

        ds = read_dataset(arg)
        signals = _to_rate(np.asarray(ds.signals), ds.fs, tok)
        part = np.zeros(len(signals), dtype=int)
        n = len(signals)
        part[int(0.8 * n):int(0.9 * n)], part[int(0.9 * n):] = 1, 2
        return DataSplits(*_splits(signals, ds.labels, part), ds.label_names, tok.fs,
                          f"simulated data set {arg} ({n} records)", ds.meta["signals_sha256"][:16])
    if kind == "ptbxl":
        from edgeecg.data.ptbxl import SPLITS, load_ptbxl

        fs = 100 if tok.fs <= 100 else 500
        data = load_ptbxl(arg, fs, task)  # type: ignore[arg-type]
        signals = _to_rate(np.asarray(data.signals), fs, tok)
        part = np.select([np.isin(data.folds, SPLITS["val"]), np.isin(data.folds, SPLITS["test"])], [1, 2], 0)
        return DataSplits(*_splits(signals, data.labels, part), data.label_names, tok.fs,
                          f"PTB-XL {arg} at {fs} Hz, {task}es, strat folds", _digest(data.ecg_ids, data.labels))
    if kind == "wfdb":
        return _load_wfdb(Path(arg), tok)
    raise RecordError(f"unknown data spec {spec!r}; use synth, synth:DIR, ptbxl:DIR or wfdb:DIR")


def _synth_labels() -> tuple[str, ...]:
    from edgeecg.data.synth_conditions import SYNTH_LABELS

    return SYNTH_LABELS


def _to_rate(signals: np.ndarray, fs: float, tok: TokenizerConfig) -> np.ndarray:
    return fit_length(resample(signals, fs, tok.fs), tok.n_samples).astype(np.float32)


def _load_wfdb(folder: Path, tok: TokenizerConfig, min_count: int = 2) -> DataSplits:
    """A Challenge folder: labels are the mapped names seen in at least `min_count` records."""
    from edgeecg.data.wfdb_io import find_records, read_wfdb

    records = [read_wfdb(p) for p in find_records(folder)]
    if not records:
        raise RecordError(f"{folder}: no .hea records found")
    counts: dict[str, int] = {}
    for r in records:
        for label in r.labels:
            counts[label] = counts.get(label, 0) + 1
    names = tuple(sorted(k for k, v in counts.items() if v >= min_count))
    if not names:
        raise RecordError(f"{folder}: no label occurs in {min_count} or more records; nothing to learn")
    signals = np.stack([_to_rate(r.signal[None], r.fs, tok)[0] for r in records])
    labels = np.array([[n in r.labels for n in names] for r in records], dtype=np.uint8)
    part = _split_by_hash([r.record_id for r in records])
    return DataSplits(*_splits(signals, labels, part), names, tok.fs,
                      f"WFDB folder {folder} ({len(records)} records)", _digest(labels, signals[:20]))


def sample_records(source: str, n: int, seed: int = 0) -> list[Record]:
    """Up to `n` whole records from `synth` (100 Hz), `ptbxl:DIR`, `wfdb:DIR` or one .hea/.csv file: what the
    renderer prints and the digitizer bench reads back (training uses `load_source`, which tokenizes)."""
    from edgeecg.prediction import load_record

    if source == "synth":
        from edgeecg.data.synth import SynthConfig, simulate

        return simulate(n, SynthConfig(fs=100.0), seed=seed).records()
    kind, _, path = source.partition(":")
    if kind == "ptbxl" and path:
        from edgeecg.data.ptbxl import PtbxlIndex

        index = PtbxlIndex.load(path)
        return [index.read_record(i, 100) for i in range(min(n, len(index.rows)))]
    if kind == "wfdb" and path:
        from edgeecg.data.wfdb_io import find_records, read_wfdb

        return [read_wfdb(p) for p in find_records(path)[:n]]
    return [load_record(Path(source))]
