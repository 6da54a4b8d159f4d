"""CLI commands for paper ECGs: `render`, `digitize` and `bench digitize` (registered in cli.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from edgeecg.data.sources import sample_records

if TYPE_CHECKING:   # the command modules import the digitizer lazily, for a fast CLI start
    from edgeecg.imaging.digitize import DigitizeConfig

console = Console()


def render(
    source: Annotated[str, typer.Argument(help="synth, ptbxl:DIR, wfdb:DIR, or a .hea/.csv record.")] = "synth",
    layout: Annotated[str, typer.Option(help="Printed layout name or .toml file.")] = "3x4+II",
    n: Annotated[int, typer.Option(min=1, help="How many records to print (synth and folders).")] = 1,
    severity: Annotated[str, typer.Option(help="none, scan, photo or poor-photo.")] = "none",
    grid: Annotated[str, typer.Option(help="red, pink, orange, green, grey or none.")] = "red",
    dpi: Annotated[float, typer.Option(help="Print resolution.")] = 200.0,
    paper: Annotated[str, typer.Option(help="a4 or letter (landscape).")] = "a4",
    gain: Annotated[float, typer.Option(help="mm/mV: 5, 10 or 20.")] = 10.0,
    speed: Annotated[float, typer.Option(help="mm/s: 25 or 50.")] = 25.0,
    out: Annotated[Path, typer.Option(help="Folder for images and their ground truth.")] = Path("runs/render"),
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Print records as paper ECGs (and photograph them): PNG/JPEG plus ground truth (.truth.npz)."""
    import cv2

    from edgeecg.imaging.capture import capture
    from edgeecg.imaging.render import RenderConfig
    from edgeecg.imaging.render import render as draw

    cfg = RenderConfig(paper=paper, dpi=dpi, grid=grid, gain=gain, speed=speed)
    out.mkdir(parents=True, exist_ok=True)
    for i, rec in enumerate(sample_records(source, n, seed)):
        shot = draw(rec.fit(10.0), layout, cfg)
        if severity != "none":
            shot = capture(shot, severity, seed=seed * 1000 + i)
        stem = f"{rec.record_id or 'record'}-{shot.truth.layout}-{severity}"
        suffix = ".png" if severity in ("none", "scan") else ".jpg"
        cv2.imwrite(str(out / f"{stem}{suffix}"), cv2.cvtColor(shot.image, cv2.COLOR_RGB2BGR))
        t = shot.truth
        np.savez_compressed(out / f"{stem}.truth.npz", signal=t.signal, fs=np.float32(t.fs), layout=t.layout,
                            px_per_mm=t.px_per_mm, homography=t.homography,
                            cells=np.array([[c.start, c.end, c.x0, c.x1, c.baseline, c.row] for c in t.cells]),
                            cell_leads=np.array([c.lead for c in t.cells]))
        console.print(f"wrote {out / (stem + suffix)} ({shot.image.shape[1]}x{shot.image.shape[0]})")


def digitize(
    image: Annotated[Path, typer.Argument(help="Photo or scan of a printed 12-lead ECG.")],
    layout: Annotated[str, typer.Option(help="auto, or a layout name / .toml file.")] = "auto",
    out: Annotated[Path | None, typer.Option(help="Folder for signals, quality report and overlay.")] = None,
    formats: Annotated[str, typer.Option("--format", help="Comma list of csv, npz, wfdb, dicom, edf, fhir (the "
                                                           "last three: DICOM ECG waveform, EDF+, FHIR "
                                                           "Observation; dicom and edf need the hospital extra)."
                                         )] = "csv",
    out_fs: Annotated[float, typer.Option(min=50.0, help="Sampling rate of the signals written, Hz.")] = 500.0,
    speed: Annotated[float, typer.Option(min=1.0, help="Paper speed, mm/s.")] = 25.0,
    gain: Annotated[float | None, typer.Option(min=0.1, help="mm/mV; default: read from the calibration pulse."
                                               )] = None,
    page: Annotated[int, typer.Option(min=1, help="Page of a PDF.")] = 1,
    orientation: Annotated[str, typer.Option(help="auto: find which way up the page lies in the image (mirrored, "
                                                  "upside down, a quarter turn) and read it upright; as-given: "
                                                  "trust the image.")] = "auto",
    tracer: Annotated[str, typer.Option(help="classical: every pixel above the ink threshold; net: only the ink "
                                             "the shipped segmenter network marks as trace (opt-in: on the bench "
                                             "it does not yet beat classical).")] = "classical",
    min_confidence: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="Refuse reads whose calibrated confidence (the probability that the read is "
                               "right) is below this; default: the bar the shipped model was fitted to.")] = None,
) -> None:
    """Signals from a photo, scan or PDF page: CSV/NPZ/WFDB/DICOM/EDF+/FHIR, a quality report and an overlay PNG."""
    from edgeecg.imaging.digitize import DigitizeConfig
    from edgeecg.imaging.digitize import digitize as run
    from edgeecg.imaging.outputs import FORMATS, provenance, save
    from edgeecg.imaging.page import load_image
    from edgeecg.measure import measure

    wanted = tuple(f.strip() for f in formats.split(",") if f.strip())
    unknown = sorted(set(wanted) - set(FORMATS))
    if unknown:  # before the work, not after it
        raise typer.BadParameter(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}",
                                 param_hint="--format")
    if {"dicom", "edf"} & set(wanted):
        from edgeecg.extras import require

        require("hospital", "--format dicom/edf")
    cfg = DigitizeConfig(layout=layout, fs=out_fs, speed=speed, gain=gain, orientation=orientation, tracer=tracer,
                         min_confidence=min_confidence)
    result = run(load_image(image, page), cfg)
    q = result.quality
    table = Table(title=f"{image.name}: layout {q.layout}, confidence {q.confidence:.2f}")
    for col in ("lead", "traced", "confidence"):
        table.add_column(col, justify="right")
    for lq in q.leads:
        table.add_row(lq.lead, f"{lq.coverage:.0%}", f"{lq.confidence:.2f}")
    console.print(table)
    console.print(f"scale {q.input_px_per_mm_x:.2f} x {q.input_px_per_mm_y:.2f} px/mm in the image ({q.input_dpi:.0f} "
                  f"dpi; {'grid' if q.grid_found else 'no grid'}), "
                  f"{q.gain_mm_per_mv:g} mm/mV ({'pulse' if q.pulse_found else 'assumed'}), page "
                  f"{'found' if q.page_found else 'not found'}, rotation {q.rotation_deg:+.2f} deg")
    for note in q.notes:
        console.print(f"[yellow]note:[/] {note}")
    measured = measure(result.record.signal, result.record.fs)
    console.print(f"measurements: {measured.summary()}")
    target = out or image.parent / f"{image.stem}-digitized"
    stem = image.stem if image.suffix.lower() != ".pdf" else f"{image.stem}.p{page}"
    for path in save(result, target, stem, wanted, source=provenance(result, image.name, cfg),
                     measurements=measured.as_dict()):
        console.print(f"wrote {path}")


def bench_digitize(
    data: Annotated[list[str] | None, typer.Option(help="synth, ptbxl:DIR, wfdb:DIR (repeatable).")] = None,
    n: Annotated[int, typer.Option(min=1, help="Records per source.")] = 16,
    severity: Annotated[str, typer.Option(help="Comma list of none (the page as rendered), scan, photo, "
                                                "poor-photo.")] = "scan,photo,poor-photo",
    out: Annotated[Path, typer.Option(help="Folder for bench-digitize.json.")] = Path("runs/bench-digitize"),
    seed: Annotated[int, typer.Option()] = 0,
    style: Annotated[str, typer.Option(help="own: print styles drawn from the families the digitizer was built "
                                            "on; wide: those plus every grid weight and width, 100-400 dpi, "
                                            "header text, handwriting, stamps and redactions; foreign: families "
                                            "it never saw (dotted or no 1 mm grid, pulses after the traces or "
                                            "none, labels on the trace, a blank top third); web: own at 60-110 "
                                            "dpi (screenshots, web images).")
                     ] = "own",
    turned: Annotated[int, typer.Option(min=0, help="Also read every N-th page mirrored, upside down, turned 180 "
                                                    "degrees and a quarter turn each way (0: not).")] = 0,
    tracer: Annotated[str, typer.Option(help="classical (thresholds) or net (the shipped trace segmenter too).")
                      ] = "classical",
    layouts: Annotated[str, typer.Option(help="bench: PatchECG's printed layouts; vendor: 3x4 with a V1 or V5 "
                                              "strip, 6x2 and 12x1 in Cabrera order; all: both.")] = "bench",
    jpeg: Annotated[str, typer.Option(help="Also re-save every read scan and rendered page as JPEG at these "
                                           "qualities (comma list, e.g. 90,50,30) and read it again.")] = "",
    labels: Annotated[bool, typer.Option(help="Read the printed lead labels to tell layouts apart.")] = True,
    min_confidence: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="Refuse reads below this calibrated confidence (default: the model's bar; 0 keeps "
                               "every read, as edgeecg fit-confidence wants).")] = None,
) -> None:
    """Render -> capture -> digitize -> SNR per source, layout and severity; layout detection; time; memory;
    with --turned, the same pages lying other ways: read upright, refused, or read wrongly; with --jpeg, the
    same pages re-saved at lower JPEG qualities."""
    from edgeecg.imaging import bench
    from edgeecg.imaging.digitize import DigitizeConfig
    from edgeecg.imaging.page import TRACERS

    sources = {spec.split(":")[0]: sample_records(spec, n, seed) for spec in (data or ["synth"])}
    severities = tuple(s.strip() for s in severity.split(","))
    unknown = [s for s in severities if s not in bench.BENCH_SEVERITIES]
    if unknown:
        raise typer.BadParameter(f"unknown severity {', '.join(unknown)}; choose from "
                                 f"{', '.join(bench.BENCH_SEVERITIES)}", param_hint="--severity")
    if style not in bench.STYLES:
        raise typer.BadParameter(f"unknown style {style}; choose from {', '.join(bench.STYLES)}", param_hint="--style")
    if tracer not in TRACERS:
        raise typer.BadParameter(f"unknown tracer {tracer}; choose from {', '.join(TRACERS)}", param_hint="--tracer")
    if layouts not in bench.LAYOUT_SETS:
        raise typer.BadParameter(f"unknown layout set {layouts}; choose from {', '.join(bench.LAYOUT_SETS)}",
                                 param_hint="--layouts")
    qualities = _qualities(jpeg)
    base = DigitizeConfig(tracer=tracer, labels=labels, min_confidence=min_confidence)
    results = bench.run(sources, bench.LAYOUT_SETS[layouts], severities=severities, seed=seed, style=style,
                        base=base)
    memory = _peak_memory(sources, seed, base)
    render_ms = bench.render_ms(next(iter(sources.values())))
    again = {"seed": seed, "style": style, "base": base}
    rereads = {"turned": bench.reread(results, sources, bench.LYING, turned, **again) if turned else [],
               "jpeg": bench.reread(results, sources, bench.jpeg_ways(qualities), severities=("none", "scan"),
                                    **again) if qualities else []}
    path = bench.write(results, out, {"peak_memory_mb": memory, "render_ms_200dpi": render_ms, "style": style,
                                      "seed": seed,
                                      "tracer": tracer, "layouts": layouts, "labels": labels,
                                      "min_confidence": min_confidence}, rereads)
    for by in ("source", "layout"):
        table = Table(title=f"digitizer by {by} (SNR: median over leads, offset removed; CinC 2024: that "
                            "Challenge's mean SNR, refusals 0 dB)")
        for col in (by, "severity", "images", "failed", "SNR dB", "CinC 2024 dB", "r", "recovered", "layout ok"):
            table.add_column(col, justify="right")
        for s in bench.summarize(results, by):
            table.add_row(s.group, s.severity, str(s.images), str(s.failed), f"{s.median_snr_db:.1f}",
                          f"{s.mean_cinc2024_snr_db:.1f}", f"{s.median_r:.3f}", f"{s.recovered:.0%}",
                          f"{s.layout_accuracy:.0%}")
        console.print(table)
    overall = json.loads(path.read_text())["overall"]
    verdict = Table(title="targets")
    for col in ("figure", "measured", "target", "met"):
        verdict.add_column(col)
    for sev, snr in overall["median_snr_db"].items():
        target = bench.TARGETS.get(sev)
        if target is None:  # the page as rendered: no target of its own
            verdict.add_row(f"median SNR {sev}", f"{snr:.2f} dB", "-", "")
            continue
        verdict.add_row(f"median SNR {sev}", f"{snr:.2f} dB", f">= {target} dB", "yes" if snr >= target else "NO")
    for sev, snr in overall["mean_cinc2024_snr_db"].items():
        verdict.add_row(f"CinC 2024 mean SNR {sev}", f"{snr:.2f} dB", "-", "")
    verdict.add_row("layout detection", f"{overall['layout_accuracy']:.1%}", ">= 98 %",
                    "yes" if overall["layout_accuracy"] >= 0.98 else "NO")
    ms = overall["median_ms_photo_2200x1700"]
    if ms is None:  # the target is for 2200 x 1700 photos; pages and scans are larger
        verdict.add_row("median time per image (no photos in this run)", f"{overall['median_ms']:.0f} ms", "-", "")
    else:
        verdict.add_row("median time per photo (1 core, best of 2 runs)", f"{ms:.0f} ms", f"<= {bench.PHOTO_MS:.0f} ms",
                        "yes" if ms <= bench.PHOTO_MS else "NO")
    poor = overall["read_below_5db"]
    verdict.add_row("reads above the bar under 5 dB", f"{poor['share']:.1%}", "< 2 %",
                    "yes" if poor["share"] < 0.02 else "NO")
    verdict.add_row("reads above the bar, layout wrong", str(poor["wrong_layout"]), "-", "")
    verdict.add_row("peak array memory (one photo)", f"{memory:.0f} MB", "-", "")
    verdict.add_row("renders per second, 200 dpi A4 (1 core)", f"{1000 / render_ms:.0f}", ">= 20",
                    "yes" if 1000 / render_ms >= 20 else "NO")
    console.print(verdict)
    if rereads["turned"]:
        table = Table(title="the same pages lying other ways (upright: within 1 dB of the upright page's SNR; "
                            "every read clears the confidence bar)")
        for col in ("lying", "pages", "read upright", "refused", "read wrongly"):
            table.add_column(col, justify="right")
        for lie, row in overall["turned"].items():
            table.add_row(lie, str(row["pages"]), f"{row['same']:.1%}", f"{row['refused']:.1%}",
                          f"{row['wrong']:.1%}")
        console.print(table)
    if rereads["jpeg"]:
        table = Table(title="rendered pages and scans re-saved as JPEG (drop: from the page as benched)")
        for col in ("JPEG", "pages", "median SNR dB", "median drop dB", "within 1 dB", "refused"):
            table.add_column(col, justify="right")
        for way, row in overall["jpeg"].items():
            snr, drop = row["median_snr_db"], row["median_drop_db"]
            table.add_row(way, str(row["pages"]), "-" if snr is None else f"{snr:.1f}",
                          "-" if drop is None else f"{drop:.1f}", f"{row['same']:.1%}", f"{row['refused']:.1%}")
        console.print(table)
    console.print(f"wrote {path}")


def _qualities(text: str) -> tuple[int, ...]:
    """--jpeg's comma list, each a JPEG quality 1-100."""
    try:
        qualities = tuple(int(q) for q in text.split(",") if q.strip())
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a comma list of JPEG qualities (e.g. 90,50,30)",
                                 param_hint="--jpeg") from None
    if any(not 1 <= q <= 100 for q in qualities):
        raise typer.BadParameter(f"JPEG qualities run 1-100, got {text}", param_hint="--jpeg")
    return qualities


def _run_label(name: str, run: dict) -> str:
    """A bench run's folder name with its print style, and its layout set where it is not the bench's own."""
    layouts = run.get("layouts", "bench")
    return f"{name} ({run.get('style', '?')} style{'' if layouts == 'bench' else f', {layouts} layouts'})"


def _peak_memory(sources, seed: int, config: DigitizeConfig) -> float:
    """Peak array memory while digitizing one 2200 x 1700 bench photo as the bench does (`config`: its tracer)."""
    from edgeecg.imaging.bench import peak_memory_mb
    from edgeecg.imaging.capture import capture
    from edgeecg.imaging.render import render as draw

    record = next(iter(sources.values()))[0]
    return peak_memory_mb(capture(draw(record.fit(10.0), "3x4+II"), "photo", seed=seed).image, config)


def train_segmenter(
    out: Annotated[Path, typer.Option(help="Folder for the network, its ONNX FP32/INT8 exports and its card.")
                   ] = Path("runs/segmenter"),
    pages: Annotated[int, typer.Option(min=4, help="Training pages drawn (about a second each).")] = 400,
    val_pages: Annotated[int, typer.Option(min=2, help="Held-out pages the exports are scored on.")] = 24,
    steps: Annotated[int, typer.Option(min=1)] = 3000,
    batch: Annotated[int, typer.Option(min=1)] = 16,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Train the trace segmenter on rendered, captured pages; export it to ONNX FP32 and INT8 (needs torch).

    Copy the folder's trace.onnx, trace.int8.onnx and segmenter.json into edgeecg/models/segmenter to ship it."""
    from edgeecg.extras import require

    require("train", "train-segmenter")
    from edgeecg.imaging.segment_train import SegmentTrainConfig, train

    card = train(SegmentTrainConfig(pages=pages, val_pages=val_pages, steps=steps, batch=batch, seed=seed), out)
    loss = ("loss, first 20 steps -> last 50", f"{card['first_loss']:.3f} -> {card['final_loss']:.3f}")
    console.print(_segmenter_table(f"trace segmenter ({card['parameters']} parameters, {card['train_seconds']:.0f} s)",
                                   card, [loss]))
    console.print(f"wrote {out}")


def _segmenter_table(title: str, card: dict, rows: list[tuple[str, str]]) -> Table:
    """`rows`, then the exports' held-out figures from a segmenter card."""
    table = Table(title=title)
    for col in ("figure", "value"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    for key, value in card["validation"].items():
        table.add_row(f"held-out {key}", f"{value:.4f}" if isinstance(value, float) else str(value))
    return table


def export_segmenter(
    src: Annotated[Path, typer.Argument(help="A trace segmenter's FP32 ONNX (trace.onnx; its segmenter.json beside "
                                             "it, if any, gives the run's held-out pages).")],
    out: Annotated[Path, typer.Option(help="Folder for the new exports and card.")] = Path("runs/segmenter-export"),
    overwrite: Annotated[bool, typer.Option(help="Replace exports already in --out.")] = False,
) -> None:
    """Export a trained segmenter's weights again through the current export path, without training (needs
    torch): after a change to the exported graph or to INT8's choices.

    Copy the folder's trace.onnx, trace.int8.onnx and segmenter.json into edgeecg/models/segmenter to ship it."""
    from edgeecg.extras import require

    require("train", "export-segmenter")
    from edgeecg.imaging.segment import PRECISIONS
    from edgeecg.imaging.segment_train import reexport

    if not src.is_file():
        raise FileNotFoundError(f"{src}: no such model; pass a trace.onnx that edgeecg train-segmenter wrote")
    if out.exists() and not out.is_dir():
        raise typer.BadParameter(f"{out} is a file; pass a folder", param_hint="--out")
    there = [name for name in (*PRECISIONS.values(), "segmenter.json") if (out / name).exists()]
    if there and not overwrite:
        raise typer.BadParameter(f"{out} already holds {', '.join(there)}; pass --overwrite to replace them, or "
                                 "another --out", param_hint="--out")
    try:
        card = reexport(src, out)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="SRC") from None
    console.print(_segmenter_table(f"trace segmenter re-exported ({card['parameters']} parameters)", card, []))
    console.print(f"wrote {out}")


def train_label_reader(
    out: Annotated[Path, typer.Option(help="Folder for the network, its ONNX export and its card.")
                   ] = Path("runs/label-reader"),
    pages: Annotated[int, typer.Option(min=4, help="Training pages drawn (one to two seconds each).")] = 1200,
    val_pages: Annotated[int, typer.Option(min=2, help="Pages in the training faces it is scored on.")] = 100,
    held_out_pages: Annotated[int, typer.Option(min=2, help="Pages in the held-out faces it is scored on.")] = 100,
    epochs: Annotated[int, typer.Option(min=1)] = 8,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Train the lead label reader on rendered, labelled, captured pages; export it to ONNX (needs torch).

    Copy the folder's labels.onnx and labels.json into edgeecg/models/labels to ship it."""
    from edgeecg.extras import require

    require("train", "train-label-reader")
    from edgeecg.imaging.labels_train import LabelTrainConfig, train

    card = train(LabelTrainConfig(pages=pages, val_pages=val_pages, held_out_pages=held_out_pages, epochs=epochs,
                                  seed=seed), out)
    table = Table(title=f"lead label reader ({card['parameters']} parameters, {card['train_seconds']:.0f} s)")
    for col in ("figure", "training faces, unseen pages", "held-out faces"):
        table.add_column(col)
    table.add_row("loss, first 20 steps -> last 50", f"{card['first_loss']:.3f} -> {card['final_loss']:.3f}", "")
    for key, value in card["validation"].items():
        held = card["held_out_faces"][key]
        table.add_row(key, *(str(v) if isinstance(v, int) else f"{v:.4f}" for v in (value, held)))
    console.print(table)
    console.print(f"wrote {out}")


def fit_confidence(
    benches: Annotated[list[Path], typer.Argument(help="bench-digitize.json files of runs with --min-confidence 0, "
                                                       "on seeds the reported bench does not draw.")],
    out: Annotated[Path, typer.Option(help="Where to write the model (copy it to edgeecg/models/confidence/ to ship "
                                           "it).")] = Path("runs/confidence.json"),
    l2: Annotated[float, typer.Option(min=0.0, help="L2 penalty on the standardised weights.")] = 1.0,
    overwrite: Annotated[bool, typer.Option(help="Replace a model already at --out.")] = False,
) -> None:
    """Fit the digitizer's calibrated confidence to bench truth: the probability a read is right (median SNR
    >= 5 dB, layout right), and the bar under which reads are refused."""
    from edgeecg.imaging import confidence

    if out.exists() and not overwrite:   # a fitted model may be the one about to ship: never replaced unasked
        raise typer.BadParameter(f"{out} already exists; pass --overwrite to replace it, or another --out",
                                 param_hint="--out")
    parts, runs = [], []
    for path in benches:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such bench result; run edgeecg bench digitize --min-confidence 0")
        try:
            payload = json.loads(path.read_text())
            parts.append(confidence.bench_reads(payload))
            runs.append(_run_label(path.parent.name, payload["overall"]))
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise typer.BadParameter(f"{path} is not a bench-digitize.json with per-image features ({err!r}); "
                                     "make one with edgeecg bench digitize ... --min-confidence 0",
                                     param_hint="BENCHES") from None
    x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    run_of = np.concatenate([np.full(len(p[1]), i) for i, p in enumerate(parts)])
    if len(y) < 50 or y.min() == y.max():
        raise typer.BadParameter(f"{len(y)} reads ({int(y.sum())} right): need at least 50, right and wrong ones",
                                 param_hint="BENCHES")
    shipped = confidence.load()   # before --out may replace it
    model, p = confidence.fit_scored(x, y, l2, fitted_on=", ".join(runs), runs=run_of)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)

    def kept(bar: float, p: np.ndarray, sel: np.ndarray | slice = slice(None)) -> tuple[str, str]:
        """What a bar keeps of these reads (or of `sel`), and the share of it wrong."""
        k = p[sel] >= bar
        return f"{k.mean():.1%}", f"{1 - y[sel][k].mean():.1%}" if k.any() else "none"

    def at_bar(bar: float, p: np.ndarray) -> str:
        share, wrong = kept(bar, p)
        return f"keeps {share}, of which {wrong} wrong"

    several = len(parts) >= confidence.HOLD_OUT_RUNS
    console.print("each run scored by a model fitted without it" if several else
                  f"scored in sample (the fitting reads themselves): give {confidence.HOLD_OUT_RUNS} runs or more to "
                  "hold each out in turn")
    table = Table(title=f"calibrated confidence: {len(y)} reads, {int(y.sum())} right; bar {model.bar:.3f} "
                        f"{at_bar(model.bar, p)}")
    for col in ("stated", "reads", "mean stated", "share right"):
        table.add_column(col, justify="right")
    for band in confidence.reliability(p, y):
        table.add_row(f"{band['from']:.2f}-{band['to']:.2f}", str(band["reads"]), f"{band['stated']:.3f}",
                      f"{band['right']:.3f}")
    console.print(table)
    if several:
        table = Table(title="each run held out: what the bar keeps of it")
        for col in ("run", "reads", "kept", "of them wrong"):
            table.add_column(col, justify="right")
        for i, run in enumerate(runs):
            table.add_row(run, str(int((run_of == i).sum())), *kept(model.bar, p, run_of == i))
        console.print(table)
    console.print(f"the fitted model on its own fitting reads: {at_bar(model.bar, model.probabilities(x))}")
    if shipped.names == confidence.FEATURES:  # whether the model in use still holds on these reads: refit or not
        console.print(f"the shipped model on these reads: bar {shipped.bar:.3f} "
                      f"{at_bar(shipped.bar, shipped.probabilities(x))}")
    weights = sorted(zip(model.names, model.weights, strict=True), key=lambda kv: -abs(kv[1]))
    console.print("weights (standardised): " + ", ".join(f"{k} {w:+.2f}" for k, w in weights))
    dropped = [k for k, w, sign in zip(model.names, model.weights, confidence.directions(model.names), strict=True)
               if sign and w == 0.0]
    if dropped:
        console.print("left out, fitted against their meaning: " + ", ".join(dropped))
    console.print(f"wrote {out}")
