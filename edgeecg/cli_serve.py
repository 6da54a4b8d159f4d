"""`edgeecg serve`: the edge service a ward's phones send photos to (registered in cli.py)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on: 127.0.0.1 (this machine only) or 0.0.0.0 (the "
                                           "ward network; a token is then required).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    model: Annotated[Path | None, typer.Option(help="Exported .onnx/.engine (default: the shipped INT8 "
                                                    "demonstration model).")] = None,
    data_dir: Annotated[Path, typer.Option(help="The only folder the service writes to (uploads while they are "
                                                "read, the newest results).")] = Path("serve-data"),
    workers: Annotated[int, typer.Option(min=1, help="Processes reading photos in parallel.")] = 2,
    token: Annotated[str | None, typer.Option(help="Clients must send it (Authorization: Bearer). Off by default "
                                                   "on 127.0.0.1; drawn at random and printed elsewhere.")] = None,
    max_upload_mb: Annotated[float, typer.Option(min=0.1, help="Largest upload accepted.")] = 20.0,
    timeout_s: Annotated[float, typer.Option(min=1.0, help="Time limit per request.")] = 60.0,
    keep: Annotated[int, typer.Option(min=1, help="Results kept in --data-dir (the oldest go first).")] = 500,
) -> None:
    """Serve the phone capture page and the HTTP API (POST /v1/predict, GET /v1/health, GET /v1/model)."""
    from edgeecg.extras import require

    require("serve", "`edgeecg serve`", ("fastapi", "uvicorn"))
    import uvicorn

    from edgeecg.models import NOTICE, default_model
    from edgeecg.serve.app import ServeConfig, create_app, is_loopback

    chosen = model or default_model("int8")
    if token is None and not is_loopback(host):
        token = secrets.token_urlsafe(16)
    cfg = ServeConfig(chosen, data_dir, workers, token, max_upload_mb, timeout_s, keep=keep,
                      notice=NOTICE if model is None else "")
    shown = "localhost" if is_loopback(host) else host
    console.print(f"edgeecg serve: open http://{shown}:{port}/" + (f"#token={token}" if token else "")
                  + f" (model {chosen.resolve().parent.name}, {workers} workers, data in {data_dir})", soft_wrap=True)
    uvicorn.run(create_app(cfg), host=host, port=port, log_level="warning", timeout_keep_alive=5,
                limit_concurrency=max(8, workers * cfg.queue_per_worker * 2))


def bench_serve(
    requests: Annotated[int, typer.Option(min=4, help="Requests per input kind.")] = 40,
    clients: Annotated[int, typer.Option(min=1, help="Requests in flight at once.")] = 4,
    workers: Annotated[int, typer.Option(min=1, help="The service's worker processes.")] = 2,
    model: Annotated[Path | None, typer.Option(help="Exported model (default: the shipped INT8 one).")] = None,
) -> None:
    """Requests per second and p50/p99 latency of `edgeecg serve` on loopback, photo and record uploads."""
    import tempfile

    import cv2
    from rich.table import Table

    from edgeecg.extras import require

    require("serve", "`edgeecg bench serve`", ("fastapi", "uvicorn", "httpx"))
    from edgeecg.data.csv_io import write_csv
    from edgeecg.data.synth import SynthConfig, simulate
    from edgeecg.imaging.capture import capture
    from edgeecg.imaging.render import render
    from edgeecg.models import default_model
    from edgeecg.serve.app import ServeConfig
    from edgeecg.serve.local import load, running

    rec = simulate(1, SynthConfig(fs=500.0), seed=7).records()[0]
    photo = cv2.imencode(".jpg", cv2.cvtColor(capture(render(rec, "3x4+II"), "photo", seed=3).image,
                                              cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    with tempfile.TemporaryDirectory() as tmp:
        write_csv(rec, Path(tmp) / "r.csv")
        record = (Path(tmp) / "r.csv").read_bytes()
        cfg = ServeConfig(model or default_model("int8"), Path(tmp) / "data", workers=workers)
        with running(cfg) as url:
            load(url, "warm-up", record, "text/csv", workers * 2, workers)
            runs = [load(url, f"photo (2200 x 1700 JPEG, {len(photo) / 1e6:.1f} MB)", photo, "image/jpeg",
                         requests, clients),
                    load(url, f"record (12-lead CSV, 500 Hz, {len(record) / 1e6:.1f} MB)", record, "text/csv",
                         requests, clients)]
    table = Table(title=f"edgeecg serve on loopback: {workers} workers, {clients} clients in flight")
    for col in ("input", "requests", "errors", "requests/s", "p50 ms", "p99 ms"):
        table.add_column(col, justify="left" if col == "input" else "right")
    for r in runs:
        table.add_row(r.name, str(r.requests), str(r.errors), f"{r.per_second:.1f}", f"{r.p50_ms:.0f}",
                      f"{r.p99_ms:.0f}")
    console.print(table)
