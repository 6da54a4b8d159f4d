"""`edgeecg predict --engine ray`: the archive path of archive.py on Ray Data, for archives that outgrow one box.

Ray (not Dask or Spark) because its actors hold state: each worker loads the torch-free runtime once and keeps it,
as the process pool does, and Ray Data streams a file list through them with backpressure, so millions of inputs
never sit in memory at once. The driver keeps what the local path does: it names, writes and resumes results, so
the folder a Ray run leaves is the one a local run leaves (plus `summary.parquet`).

On a cluster every node must see the inputs, the model and `--out` at the same paths (a shared file system), and
have edgeecg installed. Ray moves work between its processes with pickle: run it only on a cluster you trust.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np

from edgeecg.archive import Item, RayConfig
from edgeecg.extras import require
from edgeecg.prediction import PredictConfig, Prediction

BATCH = 4        # inputs per task: small, so a failed task loses few results and progress streams


class _Scorer:
    """A Ray actor: one runtime for its lifetime, one JSON result per input of each batch."""

    settings: tuple[str, dict, str, str | None]       # model, PredictConfig fields, notice, out

    def __init__(self) -> None:
        from edgeecg.runtime import Runtime

        model, cfg, notice, out = self.settings
        self.runtime = Runtime(model, threads=1)
        self.cfg, self.notice = PredictConfig(**cfg), notice
        self.out = None if out is None else Path(out)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = [json.dumps(self._one(Item(Path(p), str(n), int(k) or None)).to_dict())
                   for p, n, k in zip(batch["path"], batch["name"], batch["page"], strict=True)]
        return {"stem": batch["stem"], "result": np.array(results, dtype=object)}

    def _one(self, item: Item) -> Prediction:
        from edgeecg.prediction import model_ref, predict_file

        annotate = None if self.out is None else self.out / f"{item.stem}.annotated.png"
        try:
            return predict_file(self.runtime, item.path, self.cfg, item.name, item.page, self.notice, annotate)
        except Exception as err:  # noqa: BLE001 - one input's unforeseen failure is its row, never the batch's
            return Prediction(item.name, False, error=f"internal error while reading this input "
                              f"({type(err).__name__}: {err}); please report it", page=item.page,
                              model=model_ref(self.runtime, self.notice))


def lost(item: Item, reason: str) -> Prediction:
    """The row of an input whose task Ray gave up on (a worker died, a node left): named, so --resume retries it."""
    return Prediction(item.name, False, page=item.page,
                      error=f"lost on the cluster ({reason}); run again with --resume to retry it")


def predict_on_ray(items: list[Item], model: Path, cfg: PredictConfig, notice: str = "", out: Path | None = None,
                   ray_cfg: RayConfig | None = None) -> Iterator[tuple[Item, Prediction]]:
    """(item, result) as Ray finishes them, in any order; every item comes back, lost ones as refusals."""
    require("ray", "predict --engine ray")
    import ray

    ray_cfg = ray_cfg or RayConfig()
    started = not ray.is_initialized()
    if started:
        # the driver's C++ log warns, on every run, about how Ray Data itself starts its actors; what matters
        # surfaces as Python errors, handled below. RAY_BACKEND_LOG_LEVEL=info shows it all again.
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
        kwargs = ({"address": ray_cfg.address} if ray_cfg.address else
                  {"num_cpus": max(ray_cfg.workers, 1), "include_dashboard": False})
        ray.init(**kwargs, logging_level="ERROR", log_to_driver=False)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False             # the command draws its own
        ctx.max_errored_blocks = -1                  # a task that fails after its retries loses its rows, not the run
        tasks = -(-len(items) // BATCH)
        actors = min(ray_cfg.workers or max(int(ray.cluster_resources().get("CPU", 1)), 1), tasks)
        by_stem = {it.stem: it for it in items}
        rows = [{"path": str(it.path.resolve()), "name": it.name, "page": it.page or 0, "stem": it.stem}
                for it in items]
        ds = ray.data.from_items(rows, override_num_blocks=min(tasks, 10_000))
        settings = (str(Path(model).resolve()), asdict(cfg), notice, None if out is None else str(out.resolve()))
        scorer = type("Scorer", (_Scorer,), {"settings": settings})   # travels with the class, not the store
        ds = ds.map_batches(scorer, batch_size=BATCH, compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=1)
        for handler in logging.getLogger("ray.data").handlers:   # Ray Data's notes stay in its log file
            if not isinstance(handler, logging.FileHandler):
                handler.setLevel(logging.ERROR)
        seen: set[str] = set()
        try:
            for row in ds.iter_rows():
                stem = str(row["stem"])
                seen.add(stem)
                yield by_stem[stem], Prediction.from_dict(json.loads(row["result"]))
            reason = "its task failed after Ray's retries"
        except ray.exceptions.RayError as err:
            cause = next((ln.strip() for ln in reversed(str(err).splitlines()) if ln.strip()), "")
            reason = f"the run stopped: {type(err).__name__}: {cause[:300]}"
        for stem, it in by_stem.items():
            if stem not in seen:
                yield it, lost(it, reason)
    finally:
        if started:
            ray.shutdown()
