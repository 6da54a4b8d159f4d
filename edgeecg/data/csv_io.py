"""Signals as CSV: one column per lead (PTB-XL names, any order), an optional `time` column in seconds.

The form spreadsheet users and the digitizer exchange: values in mV, an empty cell or NaN where the lead was
not shown. Leads absent from the header are not observed.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from edgeecg.record import LEADS, Record, RecordError, lead_index


def read_csv(path: str | Path, fs: float | None = None) -> Record:
    """Reads a signal CSV; the rate comes from the `time` column, or `fs` where there is none."""
    path = Path(path)
    if not path.is_file():
        raise RecordError(f"CSV file {path} not found")
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 3:
        raise RecordError(f"{path}: needs a header row and at least two rows of samples")
    header = [h.strip() for h in rows[0]]
    time_col = next((i for i, h in enumerate(header) if h.lower() in ("time", "t", "time_s", "seconds")), None)
    leads = {i: lead_index(h) for i, h in enumerate(header) if i != time_col}
    if not leads:
        raise RecordError(f"{path}: no lead columns in the header (expected names like {', '.join(LEADS[:3])})")
    try:
        values = np.array([[float(c) if c.strip() not in ("", "nan", "NaN") else np.nan for c in r]
                           for r in rows[1:] if any(c.strip() for c in r)], dtype=np.float64)
    except ValueError as err:
        raise RecordError(f"{path}: a cell is not a number ({err})") from None
    if values.ndim != 2 or values.shape[1] != len(header):
        raise RecordError(f"{path}: every row needs {len(header)} cells")
    if time_col is not None:
        step = np.diff(values[:, time_col])
        if not (step > 0).all():
            raise RecordError(f"{path}: the time column must increase row by row")
        fs = float(np.round(1.0 / np.median(step), 6))
    elif fs is None:
        raise RecordError(f"{path}: no time column; give the sampling rate (--fs)")
    signal = np.full((len(LEADS), len(values)), np.nan, dtype=np.float32)
    for col, lead in leads.items():
        signal[lead] = values[:, col]
    return Record(signal, fs, record_id=path.stem, meta={"source": "csv"})


def write_csv(record: Record, path: str | Path) -> Path:
    """Writes `time` plus the 12 leads; NaN cells stay empty."""
    path = Path(path)
    t = np.arange(record.n_samples) / record.fs
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["time", *LEADS])
        for k in range(record.n_samples):
            w.writerow([f"{t[k]:.6f}", *("" if np.isnan(v) else f"{v:.5f}" for v in record.signal[:, k])])
    return path
