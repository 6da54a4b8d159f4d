"""`edgeecg predict`: findings and measurements from photos, scans, PDFs, records and archives (see cli.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()


def predict(
    source: Annotated[Path, typer.Argument(help="A photo or scan (PNG/JPEG/BMP/TIFF/WEBP, or a PDF: every page), "
                                                "a WFDB record (.hea, or its name), a signal .csv, a folder of "
                                                "them, or a .txt list of them (one path per line).")],
    model: Annotated[Path | None, typer.Option(help="Exported .onnx/.engine (default: the shipped INT8 "
                                                    "demonstration model).")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder for one JSON (and annotated PNG) per input and "
                                                  "summary.csv, named by path relative to SOURCE.")] = None,
    threshold: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Probability at which any label is a "
                                                                           "finding (default: the model's per-class "
                                                                           "validation thresholds).")] = None,
    csv_fs: Annotated[float | None, typer.Option(min=1.0, help="Sampling rate (Hz) of a CSV without a time "
                                                               "column.")] = None,
    layout: Annotated[str, typer.Option(help="Printed layout of images: auto, a name or a .toml file.")] = "auto",
    speed: Annotated[float, typer.Option(min=1.0, help="Paper speed of images, mm/s.")] = 25.0,
    gain: Annotated[float | None, typer.Option(min=0.1, help="Gain of images, mm/mV (default: read from the "
                                                             "calibration pulse).")] = None,
    orientation: Annotated[str, typer.Option(help="auto: find which way up the page lies in the image (mirrored, "
                                                  "upside down, a quarter turn) and read it upright; as-given: "
                                                  "trust the image.")] = "auto",
    tracer: Annotated[str, typer.Option(help="classical: every pixel above the ink threshold; net: only the ink "
                                             "the shipped segmenter network marks as trace (opt-in: on the bench "
                                             "it does not yet beat classical).")] = "classical",
    min_confidence: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="Refuse images whose read's calibrated confidence is below this (default: the bar "
                               "the shipped model was fitted to; 0 keeps every read).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Processes for a folder (default 1); with --engine ray, "
                                                             "Ray actors (default: one per CPU, of this machine "
                                                             "or of the cluster).")] = None,
    engine: Annotated[str, typer.Option(help="local (this process or a process pool) or ray (Ray Data; also writes "
                                             "summary.parquet).")] = "local",
    ray_address: Annotated[str | None, typer.Option(help="A Ray cluster to run on (ray://head:10001, or auto on one "
                                                         "of its nodes); default: a local Ray.")] = None,
    resume: Annotated[bool, typer.Option(help="Skip inputs whose result is already in --out (same model).")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace results already in --out.")] = False,
) -> None:
    """Probabilities, findings, heart rate and intervals, and the digitizer's quality report (torch-free)."""
    import os

    from rich.progress import Progress

    from edgeecg import archive
    from edgeecg.models import NOTICE, default_model
    from edgeecg.prediction import PredictConfig
    from edgeecg.record import RecordError

    model = model or default_model("int8")
    notice = NOTICE if model.resolve().parent == default_model("int8").resolve().parent else ""
    items = archive.items_in(source, exclude=out)
    if not items:
        raise RecordError(f"{source}: no image, PDF, .hea or .csv files inside")
    if engine not in ("local", "ray"):
        raise RecordError(f"--engine {engine}: use local or ray")
    if ray_address and engine != "ray":
        raise RecordError("--ray-address needs --engine ray")
    ray = None
    if engine == "ray":
        ray = archive.RayConfig(ray_address, workers or (0 if ray_address else os.cpu_count() or 1))
    cfg = PredictConfig(threshold, layout, speed, gain, csv_fs, orientation=orientation, tracer=tracer,
                        min_confidence=min_confidence)
    skipped = 0
    progress = Progress(disable=len(items) < 2, console=console)
    task = progress.add_task("predicting", total=len(items))

    def done(_item, _prediction, was_kept: bool) -> None:
        nonlocal skipped
        if not progress.live.is_started:
            progress.start()             # only once work runs: a refusal to start draws no empty bar
        skipped += was_kept
        progress.advance(task)

    try:
        results = archive.run(items, model, cfg, out, notice, workers or 1, resume, overwrite, on_done=done, ray=ray)
    finally:
        if progress.live.is_started:
            progress.stop()
    if notice:
        console.print(f"[yellow]{model.resolve().parent.name}: {notice}[/]")
    for r in results:
        if not r.ok:
            console.print(f"[red]{escape(r.source)}{f' page {r.page}' if r.page else ''}:[/] {escape(r.error)}",
                          soft_wrap=True)
    if len(results) == 1 and results[0].ok:
        _show(results[0])
    else:
        ok = sum(r.ok for r in results)
        console.print(f"{ok} of {len(results)} inputs scored, {len(results) - ok} refused"
                      + (f" ({skipped} kept from the earlier run)" if skipped else ""))
    if out is not None:
        tables = archive.SUMMARY + (" and summary.parquet" if ray else "")
        console.print(f"wrote {tables} and one JSON per input in {out}")
    if not any(r.ok for r in results):
        sys.exit(2)


def _show(r) -> None:
    from edgeecg.measure import Measurements

    table = Table(title=f"{r.source} (model {r.model.name}, sha256 {r.model.sha256[:12]})")
    for col in ("label", "meaning", "probability", "threshold", "finding"):
        table.add_column(col, justify="right" if col in ("probability", "threshold") else "left")
    for s in sorted(r.labels, key=lambda s: -s.probability):
        table.add_row(s.label, s.description, f"{s.probability:.3f}", f"{s.threshold:.2f}", "yes" if s.finding else "")
    console.print(table)
    console.print(f"thresholds: {r.thresholds_from}")
    if r.af_probability is not None:
        console.print(f"AF probability: {r.af_probability:.3f}")
    if r.measurements:
        m = Measurements.from_dict(r.measurements)
        console.print(f"measurements: {m.summary()}", soft_wrap=True)
        for name in ("heart_rate", "pr", "qrs", "qt"):
            value = getattr(m, name)
            if not value.available:
                console.print(f"  {name.replace('_', ' ')} unavailable: {value.reason}", soft_wrap=True)
    if r.quality:
        q = r.quality
        console.print(f"digitizer: layout {q['layout']}, confidence {q['confidence']:.2f}, "
                      f"{q['input_px_per_mm_x']:.2f} px/mm in the image ({q['input_dpi']:.0f} dpi), "
                      f"{q['gain_mm_per_mv']:g} mm/mV" + "".join(f"; {escape(note)}" for note in q["notes"]),
                      soft_wrap=True)
    if r.annotated:
        console.print(f"annotated page: {r.annotated}")
