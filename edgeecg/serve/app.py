"""The HTTP API and the phone page: `create_app(ServeConfig(...))`, run by `edgeecg serve`.

Routes: `GET /` (the capture page), `GET /v1/health`, `GET /v1/model`, `POST /v1/predict` (an image, PDF, CSV or
WFDB upload -> the JSON `edgeecg predict` writes, plus `id` and `annotated_url`), `GET /v1/results/{id}` and
`GET /v1/results/{id}/annotated.png`. Bounds: request size (413), content type (415), a per-request time
limit (504), a bounded queue (503); a refused input is 422 with its reason. Everything written goes under
`data_dir`, named by ids the service draws; only the newest `keep` results are kept.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import shutil
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from edgeecg import __version__

STATIC = Path(__file__).parent / "static"
PAGE_FILES = {"app.js": "text/javascript", "precheck.js": "text/javascript", "style.css": "text/css"}
RESULT_ID = re.compile(r"^[0-9a-f]{32}$")
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ServeConfig:
    model: Path
    data_dir: Path = Path("serve-data")
    workers: int = 2
    token: str | None = None
    max_upload_mb: float = 20.0
    timeout_s: float = 60.0
    queue_per_worker: int = 4
    keep: int = 500
    notice: str = ""


def create_app(cfg: ServeConfig):
    from edgeecg.archive import Item, _init_worker, _work
    from edgeecg.labels import describe
    from edgeecg.prediction import PredictConfig
    from edgeecg.runtime import Runtime
    from edgeecg.serve.uploads import UploadError, save

    runtime = Runtime(cfg.model)                 # identity and labels; the workers hold their own sessions
    state = {"in_flight": 0}

    @asynccontextmanager
    async def lifespan(app):
        ctx = get_context("spawn")
        pool = ProcessPoolExecutor(cfg.workers, mp_context=ctx, initializer=_init_worker,
                                   initargs=(str(cfg.model), 1))
        list(pool.map(_warm, range(cfg.workers)))  # load the model in every worker before the first request
        state["pool"] = pool
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(title="edgeecg", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"ok": False, "error": message}, status_code=status)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if cfg.token and request.url.path.startswith("/v1/") and request.url.path != "/v1/health":
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), cfg.token.encode()):
                return error(401, "this service needs its token: Authorization: Bearer <token> (the page takes it "
                                  "from the address the service printed, #token=...)")
        return await call_next(request)

    @app.get("/")
    async def page():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/static/{name}")
    async def static(name: str):
        if name not in PAGE_FILES:                      # a fixed list: the name never reaches the file system
            return error(404, "no such file")
        return FileResponse(STATIC / name, media_type=PAGE_FILES[name])

    @app.get("/v1/health")
    async def health():
        return {"status": "ok", "version": __version__, "workers": cfg.workers, "in_flight": state["in_flight"]}

    @app.get("/v1/model")
    async def model():
        thresholds = runtime.info.thresholds or (None,) * len(runtime.label_names)
        return {"name": runtime.name, "file": runtime.path.name, "sha256": runtime.sha256,
                "precision": runtime.info.precision, "edgeecg_version": __version__, "notice": cfg.notice,
                "thresholds_from": runtime.info.thresholds_from,
                "labels": [{"label": n, "description": describe(n), "threshold": t}
                           for n, t in zip(runtime.label_names, thresholds, strict=True)]}

    @app.post("/v1/predict")
    async def predict(request: Request):
        limit = int(cfg.max_upload_mb * 1e6)
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return error(413, f"upload of {int(declared) / 1e6:.1f} MB is over the limit of {cfg.max_upload_mb:g} MB; "
                              "send a photo of 2-12 megapixels as JPEG")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return error(413, f"upload is over the limit of {cfg.max_upload_mb:g} MB")
        if state["in_flight"] >= cfg.workers * cfg.queue_per_worker:
            return error(503, "the service is busy; try again in a few seconds")
        rid = uuid.uuid4().hex
        upload = cfg.data_dir / "uploads" / rid
        try:
            saved = save(bytes(body), request.headers.get("content-type", ""), upload,
                         request.headers.get("x-filename"))
        except UploadError as err:
            shutil.rmtree(upload, ignore_errors=True)
            return error(err.status, str(err))
        folder = cfg.data_dir / "results" / rid
        folder.mkdir(parents=True, exist_ok=True)
        job = (Item(saved.path, saved.name), PredictConfig(), cfg.notice, folder / "annotated.png")
        state["in_flight"] += 1
        try:
            loop = asyncio.get_running_loop()
            result = await asyncio.wait_for(loop.run_in_executor(state["pool"], _work, job), cfg.timeout_s)
        except asyncio.TimeoutError:
            return error(504, f"reading this input took longer than {cfg.timeout_s:g} s; try a smaller or "
                              "sharper photo")
        finally:
            state["in_flight"] -= 1
            shutil.rmtree(upload, ignore_errors=True)
        out = result.to_dict()
        out["id"] = rid
        out["annotated"] = ""                          # the service's own path is nobody's business
        out["annotated_url"] = f"/v1/results/{rid}/annotated.png" if (folder / "annotated.png").is_file() else ""
        (folder / "result.json").write_text(json.dumps(out, indent=2))
        _prune(cfg.data_dir / "results", cfg.keep)
        return JSONResponse(out, status_code=200 if result.ok else 422)

    @app.get("/v1/results/{rid}")
    async def result(rid: str):
        path = cfg.data_dir / "results" / rid / "result.json"
        if not RESULT_ID.match(rid) or not path.is_file():
            return error(404, "no such result")
        return JSONResponse(json.loads(path.read_text()))

    @app.get("/v1/results/{rid}/annotated.png")
    async def annotated(rid: str):
        path = cfg.data_dir / "results" / rid / "annotated.png"
        if not RESULT_ID.match(rid) or not path.is_file():
            return error(404, "no annotated page for this result")
        return Response(path.read_bytes(), media_type="image/png")

    return app


def _warm(_: int) -> float:
    return time.time()


def _prune(folder: Path, keep: int) -> None:
    """Only the newest `keep` results stay: an edge box's disk is small and a ward's photos are not its to hoard."""
    entries = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in entries[:max(0, len(entries) - keep)]:
        shutil.rmtree(old, ignore_errors=True)


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")
