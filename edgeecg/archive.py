"""Batches: a folder of inputs in, one JSON per input and one summary.csv out, safe to re-run on an archive.

- Every output is named by its input's path relative to the folder, suffix kept (`a/page.png.json`,
  `doc.pdf.p2.json` for page 2 of a PDF), so two `page.png` in different folders never share a file.
- A folder that already holds results is refused unless `resume` (skip the inputs whose result is there, made
  by the same model) or `overwrite`: nothing is replaced without being asked.
- Results are written as each input finishes, so an interrupted run loses only what was in flight, and a
  refused input is a row with its reason, never a lost batch.
- The work runs in this process, in a process pool, or on Ray (archive_ray.py); naming, resuming and the summary
  are the same whichever runs it.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from edgeecg.imaging.page import IMAGE_SUFFIXES, DigitizeError, pdf_pages
from edgeecg.prediction import RECORD_SUFFIXES, PredictConfig, Prediction, predict_file, resolve_input
from edgeecg.record import RecordError

SUMMARY = "summary.csv"
MEASURES = {"heart_rate": "heart_rate_bpm", "rr_cv": "rr_cv", "pr": "pr_ms", "qrs": "qrs_ms", "qt": "qt_ms",
            "qtc_bazett": "qtc_bazett_ms"}


class ArchiveError(RecordError):
    """A batch that cannot start as asked (results in the way, a model that differs from theirs)."""


@dataclass(frozen=True)
class RayConfig:
    """Where a Ray run goes: `address` None starts a local Ray with `workers` CPUs; otherwise the cluster's
    address (`ray://head:10001`, or `auto` on one of its nodes) and `workers` actors, 0 for one per CPU there."""

    address: str | None = None
    workers: int = 0


@dataclass(frozen=True)
class Item:
    """One input: a file, or one page of a PDF."""

    path: Path
    name: str                    # path relative to the batch's folder, '/'-separated
    page: int | None = None

    @property
    def stem(self) -> str:
        """The name its outputs are given (`<stem>.json`, `<stem>.annotated.png`)."""
        return self.name + (f".p{self.page}" if self.page else "")


LIST_SUFFIX = ".txt"


def listed(source: Path) -> tuple[list[Path], Path]:
    """The files a list names (one path per line, relative to the list's folder; `#` comments), and the folder
    their names are taken relative to. A listed file that is missing stays in: its row says so."""
    lines = [ln.strip() for ln in source.read_text().splitlines()]
    files = [source.parent / ln for ln in lines if ln and not ln.startswith("#")]
    if not files:
        raise ArchiveError(f"{source}: the list names no files (one path per line)")
    files = [resolve_input(f) if not f.suffix and f.with_name(f.name + ".hea").is_file() else f for f in files]
    base = Path(os.path.commonpath([f.resolve().parent for f in files]))
    return [f.resolve() for f in files], base


def items_in(source: Path, exclude: Path | None = None) -> list[Item]:
    """The inputs a path stands for: a file (or a WFDB record's name), every readable file under a folder
    (`exclude`, the output folder, left out), or the files a `.txt` list names; every page of each PDF."""
    if source.is_dir():
        skip = exclude.resolve() if exclude is not None else None
        files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in
                       RECORD_SUFFIXES + IMAGE_SUFFIXES and not (skip and skip in p.resolve().parents))
        base = source
    elif source.suffix.lower() == LIST_SUFFIX and source.is_file():
        files, base = listed(source)
    else:
        files = [resolve_input(source)]
        base = files[0].parent
    items: list[Item] = []
    for f in files:
        name = f.relative_to(base).as_posix()
        if f.suffix.lower() == ".pdf" and f.is_file():
            try:
                pages = pdf_pages(f)
            except DigitizeError:
                pages = 1                      # the refusal, with its reason, comes when the page is read
            items += [Item(f, name, k) for k in range(1, pages + 1)]
        else:
            items.append(Item(f, name))
    return items


def result_path(out: Path, item: Item) -> Path:
    return out / f"{item.stem}.json"


def earlier_results(items: list[Item], out: Path, model_sha256: str, resume: bool, overwrite: bool
                    ) -> dict[str, Prediction]:
    """The results that a resumed run keeps, by item stem; ArchiveError where results are in the way."""
    if resume and overwrite:
        raise ArchiveError("--resume keeps earlier results and --overwrite replaces them: pass one of the two")
    found = [it for it in items if result_path(out, it).is_file()]
    if overwrite or not (found or (out / SUMMARY).is_file()):
        return {}
    if not resume:
        example = result_path(out, found[0]).name if found else SUMMARY
        raise ArchiveError(f"{out} already holds results of an earlier run ({len(found)} of these {len(items)} "
                           f"inputs, e.g. {example}); pass --resume to skip them, --overwrite to replace them, "
                           "or another --out")
    kept = {}
    for it in found:
        try:
            earlier = Prediction.from_dict(json.loads(result_path(out, it).read_text()))
        except (json.JSONDecodeError, TypeError, KeyError):
            continue                          # a result cut short by an interruption: made again
        if earlier.model is not None and earlier.model.sha256 != model_sha256:
            raise ArchiveError(f"{result_path(out, it)} was made with model {earlier.model.name} "
                               f"({earlier.model.sha256[:12]}), not this one; --resume would mix two models' "
                               "results: use another --out or --overwrite")
        kept[it.stem] = earlier
    return kept


def write_result(out: Path, item: Item, prediction: Prediction) -> Path:
    path = result_path(out, item)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(prediction.to_dict(), indent=2))
    tmp.replace(path)                        # a result is whole or absent, never half-written
    return path


_WORKER: dict = {}


def _init_worker(model: str, threads: int) -> None:
    from edgeecg.runtime import Runtime

    _WORKER["runtime"] = Runtime(model, threads=threads)


def _work(job: tuple) -> Prediction:
    item, cfg, notice, annotate = job
    return predict_file(_WORKER["runtime"], item.path, cfg, item.name, item.page, notice, annotate)


def _jobs(items: list[Item], cfg: PredictConfig, notice: str, out: Path | None) -> list[tuple]:
    return [(it, cfg, notice, None if out is None else out / f"{it.stem}.annotated.png") for it in items]


def predict_items(items: list[Item], model: Path, cfg: PredictConfig, notice: str = "", workers: int = 1,
                  out: Path | None = None) -> Iterator[tuple[Item, Prediction]]:
    """(item, result) in input order; `workers` > 1 is a process pool with one runtime per process."""
    jobs = _jobs(items, cfg, notice, out)
    if workers <= 1:
        _init_worker(str(model), 0)
        for job in jobs:
            yield job[0], _work(job)
        return
    ctx = get_context("spawn")         # never fork a process that holds ONNX Runtime's thread pools
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(str(model), 1)) as pool:
        yield from zip((j[0] for j in jobs), pool.map(_work, jobs, chunksize=1), strict=True)


def run(items: list[Item], model: Path, cfg: PredictConfig, out: Path | None, notice: str = "", workers: int = 1,
        resume: bool = False, overwrite: bool = False,
        on_done: Callable[[Item, Prediction, bool], None] = lambda *_: None, ray: RayConfig | None = None
        ) -> list[Prediction]:
    """Every item's result, in order: earlier ones kept where resuming, new ones written as they finish.

    `ray` runs the work on Ray (workers there are its actors) and adds `summary.parquet` beside the CSV."""
    from edgeecg.runtime import Runtime

    kept = earlier_results(items, out, Runtime(model).sha256, resume, overwrite) if out is not None else {}
    results: dict[str, Prediction] = dict(kept)
    for it in items:
        if it.stem in kept:
            on_done(it, kept[it.stem], True)
    todo = [it for it in items if it.stem not in kept]
    if ray is not None:
        from edgeecg.archive_ray import predict_on_ray

        stream = predict_on_ray(todo, model, cfg, notice, out, ray) if todo else iter(())
    else:
        stream = predict_items(todo, model, cfg, notice, workers, out)
    for it, prediction in stream:
        if out is not None:
            write_result(out, it, prediction)
        results[it.stem] = prediction
        on_done(it, prediction, False)
    ordered = [results[it.stem] for it in items]
    if out is not None:
        write_summary(ordered, out)
        if ray is not None:
            write_parquet(ordered, out)
    return ordered


def _value(m: dict | None, key: str) -> float | None:
    v = (m or {}).get(key) or {}
    return v.get("value")


def summary_table(results: list[Prediction]) -> tuple[list[str], list[list]]:
    """The summary's columns and rows (None where a value is absent): refusals with their reason, measurements,
    then every probability."""
    labels = next((tuple(s.label for s in r.labels) for r in results if r.ok), ())
    columns = ["source", "page", "status", "reason", "findings", "af_probability", *MEASURES.values(), "rhythm",
               "digitizer_confidence", "layout", "model_sha256", *labels]
    rows = []
    for r in results:
        q = r.quality or {}
        probs = r.probabilities
        rows.append([r.source, r.page, "ok" if r.ok else "refused", r.error or None,
                     ";".join(s.label for s in r.findings), r.af_probability,
                     *(_value(r.measurements, m) for m in MEASURES), (r.measurements or {}).get("rhythm"),
                     q.get("confidence"), q.get("layout"), r.model.sha256 if r.model else None,
                     *(probs.get(n) for n in labels)])
    return columns, rows


def write_summary(results: list[Prediction], out: Path) -> Path:
    """`summary.csv`, one row per input (empty cells where a value is absent)."""
    columns, rows = summary_table(results)
    out.mkdir(parents=True, exist_ok=True)
    path = out / SUMMARY
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        w.writerows(["" if v is None else v for v in row] for row in rows)
    return path


def write_parquet(results: list[Prediction], out: Path) -> Path:
    """`summary.parquet`: the CSV's table with types (nulls where absent), for the tools an archive is read with."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns, rows = summary_table(results)
    text = {"source", "status", "reason", "findings", "rhythm", "layout", "model_sha256"}
    kind = {c: pa.string() if c in text else pa.int32() if c == "page" else pa.float64() for c in columns}
    table = pa.table({c: pa.array([row[k] for row in rows], type=kind[c]) for k, c in enumerate(columns)})
    path = out / SUMMARY.replace(".csv", ".parquet")
    tmp = path.with_name(path.name + ".part")
    pq.write_table(table, tmp)
    tmp.replace(path)
    return path
