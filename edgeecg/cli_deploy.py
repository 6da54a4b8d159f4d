"""Deployment commands (`export`, `calibrate`, `bench --device`), registered on the app in `cli.py`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def export(
    checkpoint: Annotated[Path, typer.Argument(help="PatchECG checkpoint folder (from `edgeecg train`).")],
    int8: Annotated[bool, typer.Option("--int8", help="Also INT8 QDQ, calibrated.")] = False,
    fp16: Annotated[bool, typer.Option("--fp16", help="Also FP16 (float32 inputs and outputs).")] = False,
    trt: Annotated[bool, typer.Option("--trt", help="Also TensorRT engines from the FP16/INT8 ONNX (GPU).")] = False,
    target: Annotated[str, typer.Option(help="INT8 types: x86 (u8/s8), arm or tensorrt (s8/s8 symmetric).")] = "x86",
    calibration: Annotated[Path | None, typer.Option(help="Calibration set folder (default: built from "
                                                          "the shipped default recipe).")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default export/<checkpoint name>).")] = None,
    opset: Annotated[int, typer.Option(help="ONNX opset (>= 17).")] = 17,
) -> None:
    """Export a checkpoint to ONNX FP32 (always), INT8, FP16 and TensorRT, each checked for parity."""
    from edgeecg.extras import require

    require("train", "`edgeecg export`", ("torch", "safetensors", "onnx", "sympy"))
    from edgeecg.export import ExportConfig
    from edgeecg.export import export as run
    from edgeecg.runtime import MODEL_FILES

    manifest = run(ExportConfig(checkpoint, out, int8, fp16, trt, target, calibration, opset),  # type: ignore[arg-type]
                   progress=console.print)
    table = Table(title=f"export of {checkpoint} (sha256 {manifest['checkpoint_sha256'][:12]})")
    for col in ("format", "file", "MB", "max |logit diff| vs torch", "max |prob diff|"):
        table.add_column(col, justify="right")
    for name, entry in manifest["files"].items():
        parity = entry.get("parity_vs_torch", {})
        table.add_row(name, entry["file"], f"{entry['bytes'] / 1e6:.2f}",
                      f"{parity['max_abs_logit_diff']:.2e}" if parity else "-",
                      f"{parity['max_abs_prob_diff']:.4f}" if parity else "-")
    console.print(table)
    folder = out or Path("export") / checkpoint.name
    console.print(f"wrote {folder / 'export.json'}; run it with "
                  f"edgeecg.runtime.Runtime('{folder / MODEL_FILES['int8' if int8 else 'fp32']}')")


def build_engine(
    onnx_file: Annotated[Path, typer.Argument(help="model.fp16.onnx or a QDQ model.int8.onnx from `edgeecg export`.")],
    max_batch: Annotated[int, typer.Option(min=1, help="Largest batch in the optimization profile.")] = 16,
) -> None:
    """Build a TensorRT engine on this device from an exported ONNX file (no torch, no checkpoint needed)."""
    import json

    from edgeecg.record import RecordError
    from edgeecg.runtime import MODEL_FILES, ModelInfo, onnx_metadata
    from edgeecg.tensorrt_build import build_engine as build

    if not onnx_file.is_file():
        raise RecordError(f"{onnx_file} not found; export one with `edgeecg export CKPT --fp16`")
    meta = onnx_metadata(onnx_file)
    info = ModelInfo.from_metadata(meta, onnx_file)
    precision = "int8" if info.precision.startswith("int8") else "fp16"
    if precision == "int8" and info.precision != "int8-tensorrt":
        raise RecordError(f"{onnx_file} was quantized for {info.precision}; TensorRT needs --target tensorrt")
    engine = onnx_file.with_name(MODEL_FILES[f"trt-{precision}"])
    versions = build(onnx_file, engine, precision, info.tokenizer.max_tokens, max_batch)
    engine.with_suffix(".json").write_text(json.dumps({**meta, "edgeecg.precision": f"trt-{precision}"}, indent=2))
    console.print(f"wrote {engine} (TensorRT {versions['tensorrt']}, tokens {versions['profile_tokens']})")


def calibrate(
    recipe: Annotated[str, typer.Argument(help="A shipped recipe's name (default) or a recipe TOML's path.")
                      ] = "default",
    checkpoint: Annotated[Path | None, typer.Option(help="Take tokenizer settings from this checkpoint.")] = None,
    records: Annotated[int | None, typer.Option(min=1, help="Override the recipe's record count.")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder (default calibration/sets/<name>-<records>).")] = None,
) -> None:
    """Build an INT8 calibration set from a recipe, through the inference tokenizer; stored with its hash."""
    from dataclasses import replace

    from edgeecg import calibration as cal
    from edgeecg.tokens import TokenizerConfig

    rec = cal.Recipe.load(recipe)
    if records is not None:
        rec = replace(rec, records=records)
    tok = TokenizerConfig()
    if checkpoint is not None:
        import json

        from edgeecg.checkpoint import META

        tok = TokenizerConfig(**json.loads((checkpoint / META).read_text())["tokenizer"])
    folder = out or cal.SETS / f"{rec.name}-{rec.records}"
    built = cal.build(rec, tok, folder)
    counts = built.tokens.valid.sum(1)
    console.print(f"calibration set {folder}: {rec.records} records over {len(rec.conditions)} conditions, "
                  f"{counts.min()}-{counts.max()} tokens per record, sha256 {built.digest[:16]}")


def bench_device(
    models: Annotated[list[Path], typer.Argument(help="Exported model files (.onnx, .engine) or export folders.")],
    device: Annotated[str, typer.Option("--device", help="A shipped profile's name (x86-cpu, arm-cpu, "
                                                         "jetson-orin-nano, ...) or a profile TOML's path.")
                      ] = "x86-cpu",
    reference: Annotated[Path | None, typer.Option(help="FP32 torch checkpoint (default: from export.json).")] = None,
    data: Annotated[str, typer.Option(help="Held-out records: synth, or a data spec's test split.")] = "synth",
    n_test: Annotated[int, typer.Option(min=50, help="Held-out records for parity.")] = 1000,
    out: Annotated[Path, typer.Option(help="Folder for bench.json and bench.md.")] = Path("runs/bench"),
) -> None:
    """Device runner: latency percentiles and AUROC parity per layout against FP32; exits 1 when the gate fails."""
    from edgeecg import bench
    from edgeecg.devices import DeviceProfile

    profile = DeviceProfile.load(device)
    files, ref = _model_files(models, profile.precisions)
    reference = reference or ref
    if reference is not None and not _torch_available():
        console.print("torch is not installed: the FP32 ONNX model is the reference")
        reference = None
    reports, verdict = bench.run(profile, files, reference, n_test, data=data, progress=console.print)
    _print_bench(reports, verdict)
    js, md = bench.write_reports(reports, verdict, out)
    console.print(f"wrote {js} and {md}")
    if not verdict["passed"]:
        console.print("[red]gate failed:[/] " + "; ".join(verdict["failures"]))
        sys.exit(1)
    console.print("[green]gate passed[/]")


def _torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def _model_files(models: list[Path], precisions: tuple[str, ...]) -> tuple[list[Path], Path | None]:
    """Expands export folders into the files the profile benches; finds the source checkpoint."""
    import json

    from edgeecg.record import RecordError
    from edgeecg.runtime import MODEL_FILES as names
    files, reference = [], None
    for m in models:
        if m.is_dir():
            manifest = m / "export.json"
            if not manifest.is_file():
                raise RecordError(f"{m} has no export.json; pass model files or an `edgeecg export` folder")
            own = m if (m / "checkpoint.json").is_file() else None      # a shipped model carries its checkpoint
            reference = reference or own or Path(json.loads(manifest.read_text())["checkpoint"])
            files += [m / names[p] for p in precisions if (m / names[p]).is_file()]
        elif m.is_file():
            files.append(m)
        else:
            raise RecordError(f"model {m} not found")
    if not files:
        raise RecordError(f"none of {', '.join(map(str, models))} holds a model of precisions {', '.join(precisions)}")
    return files, reference if reference is not None and reference.is_dir() else None


def _print_bench(reports, verdict) -> None:
    lat = Table(title=f"latency on {verdict['profile']['name']} (ms; end to end = tokenize + infer)")
    for col in ("model", "providers", "MB", "batch", "compute p50/p90/p99", "end-to-end p50", "rec/s", "peak RSS MB"):
        lat.add_column(col, justify="right")
    for r in reports:
        for x in r.latency:
            lat.add_row(r.name, ",".join(p.replace("ExecutionProvider", "") for p in r.providers),
                        f"{r.bytes / 1e6:.2f}", str(x.batch),
                        f"{x.compute_p50_ms:.2f}/{x.compute_p90_ms:.2f}/{x.compute_p99_ms:.2f}",
                        f"{x.end_to_end_p50_ms:.2f}", f"{x.records_per_s:.0f}", f"{r.peak_rss_mb:.0f}")
    console.print(lat)
    par = Table(title=f"macro AUROC per layout (delta vs {verdict['reference']})")
    par.add_column("layout")
    for r in reports:
        par.add_column(r.name, justify="right")
    for cond in reports[0].auroc:
        par.add_row(cond, *(f"{r.auroc[cond]:.4f} ({-r.delta_auroc[cond]:+.4f})" for r in reports))
    par.add_row("max |dprob|", *(f"{r.max_abs_prob_diff:.4f}" for r in reports))
    console.print(par)
