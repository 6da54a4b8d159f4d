"""PTB-XL: the database table, the 23 diagnostic subclasses, the standard folds, and a decoded-signal cache.

Label rule (as in PTB-XL's own benchmark): a record has a diagnostic subclass when any of its SCP
statements with `diagnostic == 1` in `scp_statements.csv` belongs to it, whatever the statement's
likelihood. Subclasses are in the fixed alphabetical order of `SUBCLASSES`; superclasses in the benchmark's
order of `SUPERCLASSES`. The split is the standard one: folds 1-8 train, 9 validation, 10 test.

Decoding 21,837 WFDB files each epoch would dominate training, so `load_ptbxl` decodes once into one
memory-mapped `.npy` array keyed by the database content and the sampling rate.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from edgeecg.data.wfdb_io import read_wfdb
from edgeecg.record import LEADS, Record, RecordError

log = logging.getLogger(__name__)

SUBCLASSES: tuple[str, ...] = (
    "AMI", "CLBBB", "CRBBB", "ILBBB", "IMI", "IRBBB", "ISCA", "ISCI", "ISC_", "IVCD", "LAFB/LPFB",
    "LAO/LAE", "LMI", "LVH", "NORM", "NST_", "PMI", "RAO/RAE", "RVH", "SEHYP", "STTC", "WPW", "_AVB",
)
SUPERCLASSES: tuple[str, ...] = ("NORM", "MI", "STTC", "CD", "HYP")
SPLITS: dict[str, tuple[int, ...]] = {"train": tuple(range(1, 9)), "val": (9,), "test": (10,)}
Task = Literal["subclass", "superclass"]


def default_cache_dir() -> Path:
    """Where decoded arrays go unless told otherwise: $EDGEECG_CACHE or ~/.cache/edgeecg."""
    return Path(os.environ.get("EDGEECG_CACHE", Path.home() / ".cache" / "edgeecg"))


@dataclass(frozen=True)
class Statement:
    """One row of scp_statements.csv that matters for labels."""

    code: str
    diagnostic: bool
    subclass: str
    superclass: str


@dataclass(frozen=True)
class PtbxlRow:
    """One row of ptbxl_database.csv."""

    ecg_id: int
    scp_codes: dict[str, float]
    strat_fold: int
    filename_lr: str
    filename_hr: str
    age: float | None
    sex: str | None


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise RecordError(f"{path} not found; is {path.parent} a PTB-XL root (the folder holding "
                          "ptbxl_database.csv and records100/)?")
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def read_statements(root: Path) -> dict[str, Statement]:
    rows = _read_csv(root / "scp_statements.csv")
    out = {}
    for row in rows:
        code = row.get("") or row.get("Unnamed: 0") or next(iter(row.values()))
        diag = row.get("diagnostic", "").strip() in {"1", "1.0"}
        out[code] = Statement(code, diag, row.get("diagnostic_subclass", ""), row.get("diagnostic_class", ""))
    subclasses = sorted({s.subclass for s in out.values() if s.diagnostic})
    if tuple(subclasses) != SUBCLASSES:
        raise RecordError(f"{root / 'scp_statements.csv'}: diagnostic subclasses {subclasses} differ from "
                          f"PTB-XL 1.0.x's 23; is this file from another release?")
    return out


def _parse_row(row: dict[str, str], path: Path) -> PtbxlRow:
    try:
        codes = ast.literal_eval(row["scp_codes"])  # a dict literal; literal_eval runs no code
        if not isinstance(codes, dict):
            raise ValueError("scp_codes is not a dict")
        age = float(row["age"]) if row.get("age") else None
        sex = {"0": "M", "1": "F", "0.0": "M", "1.0": "F"}.get(row.get("sex", ""))
        return PtbxlRow(int(float(row["ecg_id"])), {str(k): float(v) for k, v in codes.items()},
                        int(float(row["strat_fold"])), row["filename_lr"], row["filename_hr"],
                        age if age is not None and 0 <= age < 130 else None, sex)
    except (KeyError, ValueError, SyntaxError) as err:
        raise RecordError(f"{path}: malformed row for ecg_id {row.get('ecg_id', '?')}: {err}") from None


@dataclass
class PtbxlIndex:
    """The database table and statement definitions of one PTB-XL tree."""

    root: Path
    rows: list[PtbxlRow]
    statements: dict[str, Statement]
    digest: str

    @classmethod
    def load(cls, root: str | Path) -> PtbxlIndex:
        root = Path(root)
        db = root / "ptbxl_database.csv"
        rows = [_parse_row(r, db) for r in _read_csv(db)]
        if not rows:
            raise RecordError(f"{db} has no records")
        digest = hashlib.sha256(db.read_bytes()).hexdigest()[:16]
        return cls(root, rows, read_statements(root), digest)

    def label_names(self, task: Task) -> tuple[str, ...]:
        return SUBCLASSES if task == "subclass" else SUPERCLASSES

    def row_labels(self, row: PtbxlRow, task: Task = "subclass") -> tuple[str, ...]:
        """Diagnostic label names of one row, in the task's fixed order."""
        found = set()
        for code in row.scp_codes:
            st = self.statements.get(code)
            if st is not None and st.diagnostic:
                found.add(st.subclass if task == "subclass" else st.superclass)
        return tuple(n for n in self.label_names(task) if n in found)

    def labels(self, task: Task = "subclass") -> np.ndarray:
        """uint8 [N, C] multi-hot diagnostic labels."""
        names = self.label_names(task)
        return np.array([[n in self.row_labels(row, task) for n in names] for row in self.rows],
                        dtype=np.uint8).reshape(len(self.rows), len(names))

    def code_labels(self, codes: tuple[str, ...]) -> np.ndarray:
        """uint8 [N, len(codes)]: whether each row lists these SCP codes (e.g. rhythm statements SBRAD, PVC)."""
        return np.array([[code in row.scp_codes for code in codes] for row in self.rows],
                        dtype=np.uint8).reshape(len(self.rows), len(codes))

    def af(self) -> np.ndarray:
        """uint8 [N]: atrial fibrillation (rhythm statement AFIB)."""
        return np.array([int("AFIB" in row.scp_codes) for row in self.rows], dtype=np.uint8)

    def folds(self) -> np.ndarray:
        return np.array([row.strat_fold for row in self.rows], dtype=np.int64)

    def record_path(self, i: int, fs: int) -> Path:
        row = self.rows[i]
        return self.root / (row.filename_lr if fs == 100 else row.filename_hr)

    def available(self, fs: int) -> np.ndarray:
        """bool [N]: whether the record's files exist at this rate (partial trees are common)."""
        return np.array([self.record_path(i, fs).with_suffix(".hea").is_file() for i in range(len(self.rows))])

    def read_record(self, i: int, fs: int = 100, task: Task = "subclass") -> Record:
        """One record with its diagnostic labels (and AFIB where present)."""
        rec = read_wfdb(self.record_path(i, fs))
        row = self.rows[i]
        labels = self.row_labels(row, task)
        if "AFIB" in row.scp_codes:
            labels += ("AFIB",)
        return Record(rec.signal, rec.fs, labels, tuple(row.scp_codes), row.age, row.sex,
                      str(row.ecg_id), {"source": "ptbxl", "strat_fold": str(row.strat_fold)})


@dataclass
class PtbxlData:
    """Decoded PTB-XL in arrays: what training and evaluation read."""

    signals: np.ndarray          # float32 [N, 12, T] mV, memory-mapped
    labels: np.ndarray           # uint8 [N, C]
    label_names: tuple[str, ...]
    af: np.ndarray               # uint8 [N]
    folds: np.ndarray            # int [N]
    ecg_ids: np.ndarray          # int [N]
    fs: int
    missing_ids: list[int] = field(default_factory=list)

    def split(self, name: str) -> np.ndarray:
        """Row indices of `train` (folds 1-8), `val` (9) or `test` (10)."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; use one of {', '.join(SPLITS)}")
        return np.flatnonzero(np.isin(self.folds, SPLITS[name]))


def load_ptbxl(root: str | Path, fs: int = 100, task: Task = "subclass", cache_dir: str | Path | None = None,
               on_missing: Literal["skip", "error"] = "skip", progress: bool = True) -> PtbxlData:
    """Opens a PTB-XL tree at 100 or 500 Hz, decoding every record once into a memory-mapped cache.

    Records whose files are absent (partial trees) are skipped and listed in `missing_ids`, with a
    warning, unless `on_missing="error"`.
    """
    if fs not in (100, 500):
        raise ValueError(f"PTB-XL ships 100 Hz and 500 Hz records, not {fs} Hz")
    index = PtbxlIndex.load(root)
    present = index.available(fs)
    missing = [row.ecg_id for row, ok in zip(index.rows, present, strict=True) if not ok]
    if missing and on_missing == "error":
        raise RecordError(f"{index.root}: {len(missing)} of {len(index.rows)} records missing at {fs} Hz "
                          f"(first: ecg_id {missing[0]}); run `edgeecg data fetch ptbxl {index.root}`")
    if missing:
        log.warning("%s: %d of %d records absent at %d Hz, skipped", index.root, len(missing),
                    len(index.rows), fs)
    keep = np.flatnonzero(present)
    if keep.size == 0:
        raise RecordError(f"{index.root}: no record files found at {fs} Hz")
    signals = _cached_signals(index, keep, fs, Path(cache_dir) if cache_dir else default_cache_dir(), progress)
    return PtbxlData(signals, index.labels(task)[keep], index.label_names(task), index.af()[keep],
                     index.folds()[keep], np.array([index.rows[i].ecg_id for i in keep]), fs, missing)


def _cached_signals(index: PtbxlIndex, keep: np.ndarray, fs: int, cache_dir: Path, progress: bool) -> np.ndarray:
    ids = ",".join(str(index.rows[i].ecg_id) for i in keep)
    key = hashlib.sha256(f"{index.digest}|{fs}|{ids}".encode()).hexdigest()[:16]
    array_path = cache_dir / f"ptbxl-{fs}hz-{key}.npy"
    done_path = array_path.with_suffix(".json")
    if array_path.is_file() and done_path.is_file():
        return np.load(array_path, mmap_mode="r")
    cache_dir.mkdir(parents=True, exist_ok=True)
    n_samples = 10 * fs
    partial = array_path.with_suffix(".partial.npy")
    out = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=(len(keep), len(LEADS), n_samples))
    rows = range(len(keep))
    if progress:
        from rich.progress import track

        rows = track(rows, description=f"decoding PTB-XL at {fs} Hz")
    for j in rows:
        rec = read_wfdb(index.record_path(int(keep[j]), fs)).fit(10.0)
        if rec.fs != fs:
            raise RecordError(f"{index.record_path(int(keep[j]), fs)}: expected {fs} Hz, header says {rec.fs}")
        out[j] = rec.signal
    out.flush()
    del out
    partial.replace(array_path)
    done_path.write_text(json.dumps({"root": str(index.root), "fs": fs, "n": len(keep), "database": index.digest}))
    return np.load(array_path, mmap_mode="r")
