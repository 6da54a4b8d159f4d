"""Images per second of `edgeecg predict ARCHIVE` on Ray against the process pool, same machine, one run.

Writes a generated archive (edgeecg/archive_sample.py: a quarter of it unreadable), then predicts it with the
process pool and with a local Ray of the same number of workers, alternating `--repeats` times so that the
machine's drift falls on both; the ratio is the figure, and Ray's start-up is timed apart from its steady work.

    python benchmarks/archive_engines.py --n 240 --workers 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from edgeecg import archive
from edgeecg.archive_sample import write_sample_archive
from edgeecg.models import default_model
from edgeecg.prediction import PredictConfig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=240, help="inputs in the generated archive")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", type=Path, default=Path("runs/bench-archive-engines.json"))
    args = ap.parse_args()
    import ray

    model, cfg = default_model("int8"), PredictConfig()
    with tempfile.TemporaryDirectory() as tmp:
        sample = write_sample_archive(Path(tmp) / "archive", n=args.n, seed=7)
        items = archive.items_in(sample.folder)
        t0 = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
        ray_start = time.perf_counter() - t0
        times: dict[str, list[float]] = {"process pool": [], "ray": []}
        for k in range(args.repeats):
            for engine in times:
                out = Path(tmp) / f"out-{engine.replace(' ', '-')}-{k}"
                ray_cfg = archive.RayConfig(workers=args.workers) if engine == "ray" else None
                t = time.perf_counter()
                results = archive.run(items, model, cfg, out, workers=args.workers, ray=ray_cfg)
                times[engine].append(time.perf_counter() - t)
                assert len(results) == len(items)
        ray.shutdown()
    rates = {e: len(items) / statistics.median(ts) for e, ts in times.items()}
    ratio = rates["ray"] / rates["process pool"]
    table = Table(title=f"{len(items)} inputs ({sum(sample.readable.values())} readable), {args.workers} workers, "
                        f"median of {args.repeats}")
    for col in ("engine", "inputs/s", "median s", "runs s"):
        table.add_column(col, justify="left" if col == "engine" else "right")
    for engine, ts in times.items():
        table.add_row(engine, f"{rates[engine]:.1f}", f"{statistics.median(ts):.1f}",
                      " ".join(f"{t:.1f}" for t in ts))
    console = Console()
    console.print(table)
    console.print(f"Ray / process pool throughput: {ratio:.2f}; starting the local Ray took {ray_start:.1f} s "
                  "(once per run, not in the figures above)")
    console.print("command: python " + " ".join(sys.argv))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"inputs": len(items), "workers": args.workers, "seconds": times,
                                     "inputs_per_s": rates, "ray_over_pool": ratio, "ray_start_s": ray_start},
                                    indent=2))


if __name__ == "__main__":
    main()
