"""The shipped lead label reader on one core: what it reads on bench pages it never trained on (simulator seeds
no training run draws, every print style family, the renderer's own Hershey labels) at each capture severity,
what it costs (the network on a page's windows, and the whole digitizer with and without it), and how often
the digitizer's layout changes with it.

    python benchmarks/label_reader.py --n 12
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
from segmenter import best_ms  # the sibling script in benchmarks/: its best-of-runs timer
from threadpoolctl import threadpool_limits

from edgeecg.data.synth import SynthConfig, simulate
from edgeecg.imaging import labels
from edgeecg.imaging.bench import BENCH_LAYOUTS, bench_shot
from edgeecg.imaging.capture import flattened
from edgeecg.imaging.digitize import DigitizeConfig, DigitizeError, digitize
from edgeecg.imaging.page import darkness
from edgeecg.layouts import VENDOR


def page_labels(shot, page_wh: tuple[int, int], severity: str) -> labels.LabelEvidence:
    """The shipped reader at the page's true cell starts (the capture undone by its true homography)."""
    image = shot.image if severity == "none" else flattened(shot, page_wh)
    truth = shot.truth
    base = sorted({c.baseline for c in truth.cells})
    positions = [(base.index(c.baseline), c.x0) for c in truth.cells]
    read_at = labels.read(darkness(image)[0], base, positions, truth.px_per_mm, truth.px_per_mm)
    return labels.evidence(read_at, [(p, c.lead, c.inverted) for p, c in zip(positions, truth.cells, strict=True)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12, help="records per style (held-out simulator seeds)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    records = simulate(args.n, SynthConfig(fs=100.0), seed=4343).records()
    layouts = BENCH_LAYOUTS + VENDOR
    read: dict[tuple[str, str], list[labels.LabelEvidence]] = {}
    cost = {"labels ms": [], "digitize with labels ms": [], "digitize without ms": []}
    changed = total = 0
    with threadpool_limits(limits=1):
        for style in ("own", "wide", "foreign"):
            for i, rec in enumerate(records):
                layout = layouts[i % len(layouts)]
                for severity in ("none", "scan", "photo", "poor-photo"):
                    seed = (4343, i, ("none", "scan", "photo", "poor-photo").index(severity))
                    page = bench_shot(rec, layout, "none", seed, style)
                    shot = bench_shot(rec, layout, severity, seed, style)
                    ev = page_labels(shot, (page.image.shape[1], page.image.shape[0]), severity)
                    read.setdefault((style, severity), []).append(ev)
                    if severity != "photo":
                        continue
                    outs: dict[bool, object] = {}
                    for on, key in ((True, "digitize with labels ms"), (False, "digitize without ms")):
                        def run(on=on, image=shot.image, fs=rec.fs, outs=outs) -> None:
                            try:
                                outs[on] = digitize(image, DigitizeConfig(fs=fs, labels=on, min_confidence=0.0))
                            except DigitizeError:
                                outs[on] = None
                        cost[key].append(best_ms(run))
                    if outs[True] is not None and outs[False] is not None:
                        total += 1
                        changed += outs[True].quality.layout != outs[False].quality.layout
                    image = darkness(flattened(shot, (page.image.shape[1], page.image.shape[0])))[0]
                    windows = np.stack([labels.window(image, c.x0, c.baseline, (c.baseline - 60, c.baseline + 60),
                                                      shot.truth.px_per_mm, shot.truth.px_per_mm)
                                        for c in shot.truth.cells])
                    cost["labels ms"].append(best_ms(lambda w=windows: labels.load().probabilities(w), 3))
    print(f"label reader on held-out pages ({args.n} simulator records per style, PatchECG's and vendor layouts)")
    print("  style    severity    cells  read as printed  read otherwise")
    for (style, severity), evs in read.items():
        cells = sum(e.cells for e in evs)
        print(f"  {style:8s} {severity:10s} {cells:6d}  {sum(e.matches for e in evs) / cells:14.1%}"
              f"  {sum(e.contradictions for e in evs) / cells:14.1%}")
    for key, vals in cost.items():
        print(f"  {key:26s} median {np.median(vals):8.1f}")
    print(f"  photos whose layout the labels changed: {changed} of {total}")


if __name__ == "__main__":
    main()
