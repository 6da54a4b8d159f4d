"""The shipped trace segmenter on one core: network time FP32 vs INT8 on bench photos (2200 x 1700, the page
flattened), the digitizer with --tracer net vs classical, and INT8-vs-FP32 mask IoU on held-out pages.

The digitizer is timed two ways: one reading of the photo as it lies (`read_as_given`, the page's outline found
first), and the whole of `digitize`, which reads a page once where it is sure which way up the page lies and in up
to four positions where it is not, so that its median over a few photos swings with how many of them are sure.

    python benchmarks/segmenter.py --n 12
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

from edgeecg.data.synth import SynthConfig, simulate
from edgeecg.imaging import segment
from edgeecg.imaging.bench import bench_shot
from edgeecg.imaging.digitize import DigitizeConfig, DigitizeError, digitize, read_as_given
from edgeecg.imaging.page import find_page, rectify
from edgeecg.imaging.segment_train import iou


def best_ms(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * min(times)


def refused_too(read: Callable[..., object], *args: object) -> None:
    """`read(*args)`, a refusal timed as far as it got: refused photos cost time too."""
    try:
        read(*args)
    except DigitizeError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6, help="bench photos (held-out simulator seeds)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    records = simulate(args.n, SynthConfig(fs=100.0), seed=4242).records()
    nets = {p: segment.load(p) for p in segment.PRECISIONS}
    rows: dict[str, list[float]] = {"net fp32 ms": [], "net int8 ms": [], "one reading classical ms": [],
                                    "one reading net (int8) ms": [], "digitize classical ms": [],
                                    "digitize net (int8) ms": [], "int8 vs fp32 IoU": []}
    with threadpool_limits(limits=1):
        for i, rec in enumerate(records):
            shot = bench_shot(rec, "3x4+II", "photo", (4242, i), "wide")
            page = rectify(shot.image, find_page(shot.image)).rgb
            x, (h, w) = segment.net_input(page)
            for p, net in nets.items():
                rows[f"net {p} ms"].append(best_ms(lambda net=net, page=page: net.probability(page)))
            m32, m8 = (nets[p].logits(x)[0, 0, : h // 2, : w // 2] >= 0 for p in ("fp32", "int8"))
            rows["int8 vs fp32 IoU"].append(iou(m8, m32))
            for tracer, name in (("classical", "classical"), ("net", "net (int8)")):
                cfg = DigitizeConfig(fs=rec.fs, tracer=tracer)
                rows[f"one reading {name} ms"].append(best_ms(
                    lambda cfg=cfg, image=shot.image: refused_too(read_as_given, image, find_page(image), cfg)))
                rows[f"digitize {name} ms"].append(best_ms(
                    lambda cfg=cfg, image=shot.image: refused_too(digitize, image, cfg)))
    # the rest: each photo's one INT8-path reading less its network time (page scaling and the network run)
    rows["rest of int8 reading ms"] = list(np.subtract(rows["one reading net (int8) ms"], rows["net int8 ms"]))
    print(f"{args.n} photos 2200 x 1700 (flattened page {page.shape[1]} x {page.shape[0]}), one core, best of 3 runs")
    for key, vals in rows.items():
        print(f"  {key:26s} median {np.median(vals):8.3f}")
    print(f"  int8 / fp32 network time   {np.median(rows['net int8 ms']) / np.median(rows['net fp32 ms']):.2f}")
    print(f"  int8 reading / classical   "
          f"{np.median(rows['one reading net (int8) ms']) / np.median(rows['one reading classical ms']):.2f}")


if __name__ == "__main__":
    main()
