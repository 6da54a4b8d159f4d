"""`edgeecg predict`: photos, scans or records in; probabilities and ranked findings out (torch-free runtime).

Inputs: a photo or scan of a printed ECG (digitized first; its quality report comes with the findings and an
annotated PNG shows what was read), a WFDB/Challenge record (`.hea`), a signal CSV (`data/csv_io.py`), or a
folder of them (batch mode, a process pool, one summary CSV; a failing input is reported with its reason and
the batch goes on).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

from edgeecg.imaging.page import IMAGE_SUFFIXES
from edgeecg.record import Record, RecordError

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
    quality: dict | None = None                  # the digitizer's report, for photos and scans
    annotated: str = ""                          # PNG: the page as read, traced leads and the findings


def load_input(path: Path, fs: float | None = None) -> Record:
    """A record from a `.hea` or `.csv` file (images go through `digitize_input`)."""
    suffix = path.suffix.lower()
    if suffix == ".hea":
        from edgeecg.data.wfdb_io import read_wfdb

        return read_wfdb(path)
    if suffix == ".csv":
        from edgeecg.data.csv_io import read_csv

        return read_csv(path, fs)
    raise RecordError(f"unsupported input {path.suffix!r}; use a photo or scan ({', '.join(IMAGE_SUFFIXES)}), "
                      f"a .hea record or a .csv of signals")


def digitize_input(path: Path, layout: str = "auto"):
    """(record, Digitized) from a photo or scan; DigitizeError says why an image cannot be read."""
    from edgeecg.imaging.digitize import DigitizeConfig, digitize
    from edgeecg.imaging.page import load_image

    result = digitize(load_image(path), DigitizeConfig(layout=layout))
    return result.record, result


def inputs_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in RECORD_SUFFIXES + IMAGE_SUFFIXES)


def predict_one(runtime, path: Path, threshold: float, fs: float | None = None, notice: str = "",
                layout: str = "auto", annotate_dir: Path | None = None) -> Prediction:
    from edgeecg.imaging.page import DigitizeError

    digitized = None
    try:
        if path.suffix.lower() in IMAGE_SUFFIXES:
            record, digitized = digitize_input(path, layout)
        else:
            record = load_input(path, fs)
        prob = runtime.predict(record.signal, record.fs)
    except (RecordError, DigitizeError, ValueError, OSError) as err:
        return Prediction(str(path), False, error=str(err))
    names = runtime.label_names
    probabilities = {n: round(float(p), 4) for n, p in zip(names, prob, strict=True)}
    findings = [{"label": n, "probability": p, "threshold": threshold}
                for n, p in sorted(probabilities.items(), key=lambda kv: -kv[1]) if p >= threshold]
    af = next((probabilities[n] for n in AF_LABELS if n in probabilities), None)
    out = Prediction(str(path), True, probabilities=probabilities, findings=findings, af_probability=af,
                     model=str(runtime.path), notice=notice)
    if digitized is not None:
        out.quality = digitized.quality.as_dict()
        if annotate_dir is not None:
            out.annotated = str(_annotate(digitized, out, annotate_dir / f"{path.stem}.annotated.png"))
    return out


def _annotate(digitized, prediction: Prediction, path: Path) -> Path:
    from edgeecg.imaging.outputs import overlay, write_png

    found = ", ".join(f"{f['label']} {f['probability']:.2f}" for f in prediction.findings or []) or "none"
    lines = [f"findings (p >= {prediction.findings[0]['threshold'] if prediction.findings else '-'}): {found}"]
    if prediction.af_probability is not None:
        lines.append(f"AF probability {prediction.af_probability:.2f}")
    if prediction.notice:
        lines.append(prediction.notice)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_png(path, overlay(digitized, lines))


_WORKER = None


def _init_worker(model: str, threads: int) -> None:
    global _WORKER
    from edgeecg.runtime import Runtime

    _WORKER = Runtime(model, threads=threads)


def _work(args: tuple) -> Prediction:
    return predict_one(_WORKER, *args)


def predict_many(paths: list[Path], model: Path, threshold: float, fs: float | None, notice: str, workers: int = 1,
                 on_done: Callable[[Prediction], None] = lambda p: None, layout: str = "auto",
                 annotate_dir: Path | None = None) -> list[Prediction]:
    """Every input, in order; `workers` > 1 uses a process pool with one runtime per process."""
    jobs = [(p, threshold, fs, notice, layout, annotate_dir) for p in paths]
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
        w.writerow(["source", "status", "top_finding", "af_probability", "digitizer_confidence", "layout",
                    *label_names])
        for r in results:
            q = r.quality or {}
            if r.ok:
                top = r.findings[0]["label"] if r.findings else ""
                w.writerow([r.source, "ok", top, "" if r.af_probability is None else r.af_probability,
                            q.get("confidence", ""), q.get("layout", ""), *(r.probabilities[n] for n in label_names)])
            else:
                w.writerow([r.source, f"error: {r.error}", "", "", "", "", *([""] * len(label_names))])
    return summary
