"""`edgeecg predict`: records in, probabilities and ranked findings out, with the torch-free runtime.

Inputs: a WFDB/Challenge record (`.hea`), a signal CSV (`data/csv_io.py`), or a folder of them (batch mode,
a process pool, one summary CSV; a failing input is reported with its reason and the batch goes on). Photos
and scans need the digitizer, which does not exist yet: they are refused with that reason, never guessed at.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

from edgeecg.record import Record, RecordError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".pdf")
RECORD_SUFFIXES = (".hea", ".csv")
AF_LABELS = ("AFIB", "AF")


@dataclass
class Prediction:
    source: str
    ok: bool
    error: str = ""
    probabilities: dict[str, float] | None = None
    findings: list[dict] | None = None           # label, probability, threshold; highest first
    af_probability: float | None = None
    model: str = ""
    notice: str = ""


def load_input(path: Path, fs: float | None = None) -> Record:
    """A record from a `.hea` or `.csv` file; images are refused until the digitizer exists."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        raise RecordError("photos and scans need the photo digitizer, which edgeecg does not have "
                          "yet; give a WFDB record or a signal CSV")
    if suffix == ".hea":
        from edgeecg.data.wfdb_io import read_wfdb

        return read_wfdb(path)
    if suffix == ".csv":
        from edgeecg.data.csv_io import read_csv

        return read_csv(path, fs)
    raise RecordError(f"unsupported input {path.suffix!r}; use a .hea record, a .csv of signals "
                      f"(or, later, an image: {', '.join(IMAGE_SUFFIXES)})")


def inputs_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in RECORD_SUFFIXES + IMAGE_SUFFIXES)


def predict_one(runtime, path: Path, threshold: float, fs: float | None = None, notice: str = "") -> Prediction:
    try:
        record = load_input(path, fs)
        prob = runtime.predict(record.signal, record.fs)
    except (RecordError, ValueError, OSError) as err:
        return Prediction(str(path), False, error=str(err))
    names = runtime.label_names
    probabilities = {n: round(float(p), 4) for n, p in zip(names, prob, strict=True)}
    findings = [{"label": n, "probability": p, "threshold": threshold}
                for n, p in sorted(probabilities.items(), key=lambda kv: -kv[1]) if p >= threshold]
    af = next((probabilities[n] for n in AF_LABELS if n in probabilities), None)
    return Prediction(str(path), True, probabilities=probabilities, findings=findings, af_probability=af,
                      model=str(runtime.path), notice=notice)


_WORKER = None


def _init_worker(model: str, threads: int) -> None:
    global _WORKER
    from edgeecg.runtime import Runtime

    _WORKER = Runtime(model, threads=threads)


def _work(args: tuple[Path, float, float | None, str]) -> Prediction:
    return predict_one(_WORKER, *args)


def predict_many(paths: list[Path], model: Path, threshold: float, fs: float | None, notice: str, workers: int = 1,
                 on_done: Callable[[Prediction], None] = lambda p: None) -> list[Prediction]:
    """Every input, in order; `workers` > 1 uses a process pool with one runtime per process."""
    jobs = [(p, threshold, fs, notice) for p in paths]
    if workers <= 1:
        _init_worker(str(model), 0)
        results = []
        for job in jobs:
            results.append(_work(job))
            on_done(results[-1])
        return results
    ctx = get_context("spawn")         # never fork a process that holds ONNX Runtime's thread pools
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(str(model), 1)) as pool:
        results = []
        for r in pool.map(_work, jobs):
            results.append(r)
            on_done(r)
    return results


def write_outputs(results: list[Prediction], out: Path, label_names: tuple[str, ...]) -> Path:
    """One JSON per input and `summary.csv` (source, status, top finding, AF probability, every probability)."""
    out.mkdir(parents=True, exist_ok=True)
    for r in results:
        (out / f"{Path(r.source).stem}.json").write_text(json.dumps(asdict(r), indent=2))
    summary = out / "summary.csv"
    with summary.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source", "status", "top_finding", "af_probability", *label_names])
        for r in results:
            if r.ok:
                top = r.findings[0]["label"] if r.findings else ""
                w.writerow([r.source, "ok", top, "" if r.af_probability is None else r.af_probability,
                            *(r.probabilities[n] for n in label_names)])
            else:
                w.writerow([r.source, f"error: {r.error}", "", "", *([""] * len(label_names))])
    return summary
