"""The `edgeecg` command: one small function per command; the work happens in the modules they call."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from edgeecg import __version__, cli_deploy, cli_imaging, cli_predict, cli_serve
from edgeecg.extras import MissingExtra, require
from edgeecg.layouts import LayoutError
from edgeecg.record import LEADS, RecordError

HELP = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, context_settings=HELP,
                  help="edgeecg: read arrhythmias from ECG records and photos of paper ECGs, on the edge.")
data_app = typer.Typer(no_args_is_help=True, context_settings=HELP, help="Data sets: simulate, fetch, inspect.")


class _BenchGroup(TyperGroup):
    """`edgeecg bench --device PROFILE MODEL...` is `edgeecg bench device ...`; other benches are subcommands."""

    def parse_args(self, ctx, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["device", *args]
        return super().parse_args(ctx, args)


bench_app = typer.Typer(cls=_BenchGroup, no_args_is_help=True, context_settings=HELP,
                        help="Benchmarks that print measured figures; `bench --device PROFILE MODEL...` is the device "
                             "runner.")
app.add_typer(data_app, name="data")
app.add_typer(bench_app, name="bench")
console = Console()


def _show_version(value: bool) -> None:
    if value:
        console.print(f"edgeecg {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """edgeecg: read arrhythmias from ECG records and photos of paper ECGs, on the edge."""


@app.command()
def layouts(file: Annotated[Path | None, typer.Option(help="Also check and show a layout TOML file.")] = None
            ) -> None:
    """List the printed layouts and how much of the 12 x 10 s each one shows."""
    from edgeecg import layouts as lay

    items = list(lay.LAYOUTS.values()) + ([lay.load_toml(file)] if file else [])
    table = Table(title="printed layouts")
    for col in ("name", "rows", "rhythm strips", "shown", "description"):
        table.add_column(col)
    for layout in items:
        table.add_row(layout.name, str(len(layout.grid)), ", ".join(layout.rhythm) or "-",
                      f"{layout.observed_fraction():.0%}", layout.description)
    console.print(table)
    console.print(f"plus '{lay.RANDOM}': a printed layout drawn at random per record (training).")


@app.command()
def info(record: Annotated[Path, typer.Argument(help="WFDB/Challenge record (.hea, with or without extension).")]
         ) -> None:
    """Read one WFDB or Challenge record and show what edgeecg sees in it."""
    from edgeecg.data.wfdb_io import read_wfdb

    rec = read_wfdb(record)
    console.print(f"[bold]{rec.record_id}[/]: {rec.fs:g} Hz, {rec.duration:.2f} s, age {rec.age}, sex {rec.sex}")
    console.print(f"labels: {', '.join(rec.labels) or '-'}   source codes: {', '.join(rec.codes) or '-'}")
    if rec.meta.get("unmapped_codes"):
        console.print(f"[yellow]codes with no label mapping (kept):[/] {rec.meta['unmapped_codes']}")
    table = Table()
    for col in ("lead", "observed", "min mV", "max mV"):
        table.add_column(col, justify="right")
    for i, name in enumerate(LEADS):
        lead = rec.signal[i]
        seen = ~np.isnan(lead)
        lo, hi = (f"{np.nanmin(lead):.2f}", f"{np.nanmax(lead):.2f}") if seen.any() else ("-", "-")
        table.add_row(name, f"{seen.mean():.0%}", lo, hi)
    console.print(table)


@data_app.command("synth")
def data_synth(
    out: Annotated[Path, typer.Option(help="Folder for signals.npy, labels.csv, meta.json.")],
    n: Annotated[int, typer.Option(min=1, help="Number of 10 s records.")] = 5000,
    out_fs: Annotated[float, typer.Option(min=1.0, help="Sampling rate of the simulated records, Hz.")] = 100.0,
    seed: Annotated[int, typer.Option()] = 0,
    noise: Annotated[float, typer.Option(min=0.0, help="Noise scale; 0 for clean signals.")] = 1.0,
    preview: Annotated[bool, typer.Option(help="Also write preview.png (needs matplotlib).")] = False,
) -> None:
    """Simulate a labelled 12-lead data set that `edgeecg train --data synth:DIR` can read."""
    from edgeecg.data.synth import SynthConfig
    from edgeecg.data.synth_store import read_dataset, write_dataset

    write_dataset(out, n, SynthConfig(fs=out_fs, noise=noise), seed)
    ds = read_dataset(out)
    _label_table(ds.labels, ds.label_names, f"{n} records at {out_fs:g} Hz in {out}")
    if preview:
        from edgeecg.data.preview import preview_png

        shown = min(n, 2000)
        path = preview_png(np.asarray(ds.signals[:shown]), ds.labels[:shown], ds.label_names, out_fs,
                           out / "preview.png")
        console.print(f"preview: {path}")


def _label_table(labels: np.ndarray, names: tuple[str, ...], title: str) -> None:
    table = Table(title=title)
    table.add_column("label")
    table.add_column("records", justify="right")
    table.add_column("share", justify="right")
    for name, count in zip(names, labels.sum(0), strict=True):
        table.add_row(name, str(int(count)), f"{count / len(labels):.1%}")
    console.print(table)


@data_app.command("fetch")
def data_fetch(
    dataset: Annotated[str, typer.Argument(help="Data set name: ptbxl.")],
    dest: Annotated[Path, typer.Argument(help="Destination folder.")],
    url: Annotated[str | None, typer.Option(help="Base URL (a mirror); defaults to the official one.")] = None,
    workers: Annotated[int, typer.Option(min=1)] = 4,
) -> None:
    """Download a data set (resumable; every file checked against the published SHA-256 sums)."""
    from rich.progress import Progress

    from edgeecg.data.fetch import DATASETS, fetch

    if dataset not in DATASETS:
        raise typer.BadParameter(f"unknown data set {dataset!r}; known: {', '.join(DATASETS)}")
    with Progress(console=console) as progress:
        task = progress.add_task(f"fetching {dataset}", total=None)
        report = fetch(url or DATASETS[dataset], dest, workers, on_file=lambda rel, how: progress.advance(task))
    console.print(f"{dest}: {len(report.downloaded)} downloaded, {len(report.resumed)} resumed, "
                  f"{len(report.verified_existing)} already present and verified")


@data_app.command("ptbxl")
def data_ptbxl(
    root: Annotated[Path, typer.Argument(help="PTB-XL root (holds ptbxl_database.csv).")],
    records: Annotated[int, typer.Option(help="Which of PTB-XL's signals to read: 100 (records100/) or 500 "
                                              "(records500/), Hz.")] = 100,
    task: Annotated[str, typer.Option(help="subclass (23) or superclass (5).")] = "subclass",
    cache_dir: Annotated[Path | None, typer.Option(help="Where the decoded array goes.")] = None,
) -> None:
    """Open a PTB-XL tree (decoding it once into a cache) and summarise labels and folds."""
    from edgeecg.data.ptbxl import load_ptbxl

    if task not in ("subclass", "superclass"):
        raise typer.BadParameter("task must be subclass or superclass")
    if records not in (100, 500):
        raise typer.BadParameter("PTB-XL has records100 and records500", param_hint="--records")
    data = load_ptbxl(root, records, task, cache_dir)  # type: ignore[arg-type]
    if data.missing_ids:
        console.print(f"[yellow]{len(data.missing_ids)} records have no files at {records} Hz and were skipped[/]")
    console.print(f"{len(data.ecg_ids)} records at {records} Hz, signals {tuple(data.signals.shape)}; "
                  + ", ".join(f"{s}: {len(data.split(s))}" for s in ("train", "val", "test"))
                  + f"; AFIB: {int(data.af.sum())}")
    _label_table(data.labels, data.label_names, f"PTB-XL diagnostic {task}es")


@bench_app.command("synth")
def bench_synth(
    n: Annotated[int, typer.Option(min=100)] = 5000,
    out_fs: Annotated[float, typer.Option(min=1.0, help="Sampling rate of the simulated records, Hz.")] = 100.0,
    repeats: Annotated[int, typer.Option(min=1)] = 3,
) -> None:
    """Simulator throughput on one core (target: >= 1,000 ten-second records per second at 100 Hz)."""
    from edgeecg.data.synth_bench import measure

    fs = out_fs
    speed = measure(n, fs, repeats)
    table = Table(title="simulator throughput, one core")
    for col in ("records", "fs", "runs (s)", "records/s (median)", "target"):
        table.add_column(col, justify="right")
    table.add_row(str(n), f"{fs:g}", ", ".join(f"{s:.2f}" for s in speed.seconds),
                  f"{speed.records_per_s:,.0f}", ">= 1,000 at 100 Hz")
    console.print(table)


@bench_app.command("measure")
def bench_measure(
    data: Annotated[list[str] | None, typer.Option(help="Real records to check the heart rate on: ptbxl:DIR, "
                                                        "wfdb:DIR (repeatable).")] = None,
    n: Annotated[int, typer.Option(min=10, help="Simulated records per rate; real records per source.")] = 200,
    photos: Annotated[int, typer.Option(min=0, help="Simulated records printed and photographed.")] = 48,
    seed: Annotated[int, typer.Option(help="Simulator seed; 0 and 1 are the ones the shares were chosen on.")] = 100,
    out: Annotated[Path, typer.Option(help="Folder for bench-measure.json.")] = Path("runs/bench-measure"),
) -> None:
    """Heart rate, rhythm and PR/QRS/QT against the simulator's fiducials (records and photos) and real records."""
    from rich.progress import track

    from edgeecg import measure_bench as mb

    steps = [lambda: mb.simulator(n, seed)] + ([lambda: mb.photos(photos, seed + 1)] if photos else [])
    steps += [lambda spec=spec: mb.real(spec, n) for spec in data or []]
    rows = [row for step in track(steps, description="measuring", console=console) for row in step()]
    table = Table(title="measurements against each section's truth (nk2: neurokit2's R peaks on lead II)")
    for col in ("section", "condition", "n", "HR given", "HR MAE", "HR in 5 %",
                *(f"{k.upper()} ms" for k in mb.INTERVALS)):
        table.add_column(col, justify="left" if col in ("section", "condition") else "right")
    for r in rows:
        table.add_row(r.section, r.condition, str(r.records), f"{r.hr_available:.0%}", f"{r.hr_mae_bpm:.1f}",
                      f"{r.hr_within_5pct:.0%}", *(f"{r.errors_ms[k]:.0f} ({r.available[k]:.0%})"
                                                   if r.available.get(k) else "-" for k in mb.INTERVALS))
    console.print(table)
    console.print("HR MAE in bpm; intervals: median |error| (share measured where the truth has one)")
    for r in rows:
        if r.notes:
            console.print(f"{r.section} {r.condition}: {r.notes}", soft_wrap=True)
    console.print(f"wrote {mb.write(rows, out)}")


@app.command()
def train(
    data: Annotated[str, typer.Option(help="synth | synth:DIR | ptbxl:DIR | wfdb:DIR")] = "synth",
    model: Annotated[str, typer.Option(help="patchecg or baseline (full-signal ResNet-1D).")] = "patchecg",
    preset: Annotated[str, typer.Option(help="edge (default) or paper (PTB-XL protocol, focal loss).")] = "edge",
    out: Annotated[Path, typer.Option(help="Checkpoint folder.")] = Path("runs/patchecg"),
    epochs: Annotated[int | None, typer.Option(min=1)] = None,
    batch_size: Annotated[int | None, typer.Option(min=1)] = None,
    lr: Annotated[float | None, typer.Option(min=0.0)] = None,
    loss: Annotated[str | None, typer.Option(help="bce or focal.")] = None,
    task: Annotated[str | None, typer.Option(help="PTB-XL labels: subclass (23) or superclass (5).")] = None,
    seed: Annotated[int, typer.Option()] = 0,
    n_train: Annotated[int, typer.Option(min=16, help="Simulated training records (data synth).")] = 8000,
    n_eval: Annotated[int, typer.Option(min=16, help="Simulated validation and test records each.")] = 2000,
    patience: Annotated[int, typer.Option(min=1, help="Epochs without validation gain before stopping.")] = 3,
    augment: Annotated[bool, typer.Option(help="Amplitude, baseline and noise augmentation.")] = True,
    resume: Annotated[bool, typer.Option(help="Continue from OUT/last.")] = False,
    max_minutes: Annotated[float | None, typer.Option(help="Stop after this many minutes.")] = None,
    mask_mix: Annotated[str | None, typer.Option(help="Shares of printed layouts, random blackouts, both "
                                                      "combined and shared time windows (default "
                                                      "0.4,0.25,0.15,0.1); the rest trains on full signals."
                                                 )] = None,
    distill: Annotated[float | None, typer.Option(min=0.0, help="Weight of self-distillation: the masked view "
                                                                "learns the model's own answer on the whole "
                                                                "record (default 1 for PatchECG, 0 with --preset "
                                                                "paper; 0 = off).")] = None,
    distill_share: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Share of each batch that gets "
                                                                               "the whole-record teacher pass.")
                             ] = None,
) -> None:
    """Masked training of PatchECG (or the baseline); writes safetensors + JSON checkpoints to OUT."""
    require("train", "`edgeecg train`")
    from edgeecg.layouts import MaskMix
    from edgeecg.train import TrainConfig
    from edgeecg.train import train as run

    for value, allowed, flag in ((model, ("patchecg", "baseline"), "--model"), (loss, ("bce", "focal", None), "--loss"),
                                 (task, ("subclass", "superclass", None), "--task")):
        if value not in allowed:
            raise typer.BadParameter(f"{value!r}; use {' or '.join(a for a in allowed if a)}", param_hint=flag)
    try:
        defaults = TrainConfig.preset_defaults(preset)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="--preset") from None
    overrides = {k: v for k, v in {"epochs": epochs, "batch_size": batch_size, "lr": lr, "loss": loss,
                                   "task": task, "distill": distill, "distill_share": distill_share}.items()
                 if v is not None}
    cfg = TrainConfig(**{**defaults, "data": data, "model": model, "out": str(out),
                         "seed": seed, "n_train": n_train, "n_eval": n_eval, "patience": patience,
                         "augment": augment, "resume": resume, "max_minutes": max_minutes,
                         "mask_mix": MaskMix() if mask_mix is None else _mask_mix(mask_mix, MaskMix),
                         **overrides})
    result = run(cfg)
    console.print(f"[green]trained[/] {model} in {result.seconds:.0f} s ({result.epochs_run} epochs): best "
                  f"validation score (macro AUROC) {result.best_val_score:.4f}; checkpoint {result.out}")


def _mask_mix(text: str, cls):
    try:
        shares = [float(x) for x in text.split(",")]
        if len(shares) not in (3, 4):
            raise ValueError("three or four shares are needed")
        return cls(*shares, *[0.0] * (4 - len(shares)))
    except ValueError as err:
        raise typer.BadParameter(f"{text!r}: {err}; e.g. 0.4,0.25,0.15,0.1", param_hint="--mask-mix") from None


@app.command()
def evaluate(
    checkpoints: Annotated[list[Path], typer.Argument(help="One or more checkpoint folders.")],
    data: Annotated[str | None, typer.Option(help="Data spec; default: the first checkpoint's.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for evaluation.json and auroc_per_layout.png.")] = Path("runs/eval"),
    fill: Annotated[str, typer.Option(help="Baselines: zero, interp or both.")] = "both",
    n_boot: Annotated[int, typer.Option(min=10)] = 100,
    seed: Annotated[int | None, typer.Option(help="Data seed; default: the checkpoint's training seed.")] = None,
) -> None:
    """Macro AUROC [95 % CI], F1 and AF AUROC of each checkpoint on every layout; table, JSON and PNG."""
    require("train", "`edgeecg evaluate`", ("torch", "safetensors", "matplotlib"))
    from edgeecg.evaluate import plot_png, print_table, save_json
    from edgeecg.evaluation_run import evaluate_checkpoints

    evaluations = evaluate_checkpoints(checkpoints, data, fill, n_boot, seed)
    print_table(evaluations, console)
    console.print(f"wrote {save_json(evaluations, out / 'evaluation.json')} and "
                  f"{plot_png(evaluations, out / 'auroc_per_layout.png')}")


@app.command("model-info")
def model_info(
    preset: Annotated[list[str], typer.Option(help="Presets to compare.")] = ["edge", "paper"],  # noqa: B006
    n_labels: Annotated[int, typer.Option(min=1)] = 23,
) -> None:
    """Parameter count and FLOPs per record of PatchECG presets, at the token counts of real layouts."""
    require("train", "`edgeecg model-info`", ("torch",))
    from edgeecg.layouts import observed_mask
    from edgeecg.model import PatchECG, PatchECGConfig, count_parameters, patchecg_flops
    from edgeecg.tokens import TokenizerConfig, token_counts

    tok = TokenizerConfig()
    counts = {name: int(token_counts(np.where(observed_mask(name, tok.fs, tok.n_samples), 0.0, np.nan)[None], tok)[0])
              for name in ("12x1", "3x4+II", "3x4")}
    table = Table(title="PatchECG size: parameters, and MFLOPs per record at each layout's token count")
    for col in ("preset", "D x depth x heads", "encoder", "params", *(f"{k} ({v})" for k, v in counts.items())):
        table.add_column(col, justify="right")
    for name in preset:
        cfg = PatchECGConfig.preset(name, n_labels=n_labels, patch_len=tok.patch_len, n_slots=tok.n_slots)
        table.add_row(name, f"{cfg.dim} x {cfg.depth} x {cfg.heads}", cfg.encoder,
                      f"{count_parameters(PatchECG(cfg)):,}", *(f"{patchecg_flops(cfg, v) / 1e6:,.1f}"
                                                               for v in counts.values()))
    console.print(table)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for everything the demo writes.")] = Path("demo-out"),
    quick: Annotated[bool, typer.Option(help="About a minute: fewer records, epochs and photos.")] = False,
    data: Annotated[str, typer.Option(help="synth, or real data: ptbxl:DIR or wfdb:DIR.")] = "synth",
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """The main job: train, evaluate per layout, export INT8, photograph, digitize, predict, bench; one report."""
    require("train", "`edgeecg demo`", ("torch", "safetensors", "onnx", "matplotlib"))
    from edgeecg.demo import DemoConfig, run, summary_rows

    summary = run(DemoConfig.sized(quick, out=out, data=data, seed=seed))
    table = Table(title=f"edgeecg demo ({'quick' if quick else 'full'}, data {data})")
    table.add_column("what")
    table.add_column("figure", justify="right")
    for what, figure in summary_rows(summary):
        table.add_row(what, figure)
    console.print(table)
    console.print(f"[green]demo finished[/]: report {out / 'report.md'}, summary {out / 'summary.json'}")


# deployment commands live in cli_deploy; registered last so `--help` lists them after training
app.command()(cli_deploy.export)
app.command()(cli_deploy.calibrate)
app.command("build-engine")(cli_deploy.build_engine)
app.command()(cli_predict.predict)
app.command()(cli_serve.serve)
bench_app.command("device")(cli_deploy.bench_device)
app.command()(cli_imaging.render)
app.command()(cli_imaging.digitize)
bench_app.command("digitize")(cli_imaging.bench_digitize)
app.command("train-segmenter")(cli_imaging.train_segmenter)
app.command("export-segmenter")(cli_imaging.export_segmenter)
app.command("train-label-reader")(cli_imaging.train_label_reader)
app.command("fit-confidence")(cli_imaging.fit_confidence)
bench_app.command("serve")(cli_serve.bench_serve)


def main() -> None:
    """Console entry point: known input problems print one clear line and exit 2, no traceback."""
    from edgeecg.data.fetch import FetchError
    from edgeecg.imaging.capture import CaptureError
    from edgeecg.imaging.page import DigitizeError
    from edgeecg.imaging.render import RenderError
    from edgeecg.tokens import TokenizeError

    try:
        app()
    except (RecordError, LayoutError, FetchError, TokenizeError, DigitizeError, RenderError, CaptureError,
            FileNotFoundError, MissingExtra, RuntimeError) as err:
        console.print(f"[red]error:[/] {escape(str(err))}", soft_wrap=True)
        sys.exit(2)
