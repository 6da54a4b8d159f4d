"""What tells an upright page from a turned one: every bench page read in all four landscape positions (as given,
mirrored, flipped, turned 180), and for each position the evidence `orientation.upright` weighs. Prints, per print
style, how far the printed labels' agreement of turned readings stays from `orientation.LABELS_SURE`, whether any
turned reading passes `orientation.sure`, and how many upright readings do (each sure page is read once instead of
four times): of them, how many without a pulse found (their labels carried them) and how many with the heart's
evidence short (a rising pulse and upright labels carried them). Simulator seeds no report bench draws (500 and up).

    python benchmarks/orientation_evidence.py --n 40
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table
from threadpoolctl import threadpool_limits

from edgeecg.data.synth import SynthConfig, simulate
from edgeecg.imaging import orientation
from edgeecg.imaging.bench import BENCH_LAYOUTS, bench_shot
from edgeecg.imaging.capture import SEVERITIES
from edgeecg.imaging.digitize import DigitizeConfig, DigitizeError, read_as_given, read_summary
from edgeecg.imaging.page import find_page
from edgeecg.layouts import VENDOR

STYLE_SEEDS = {"own": 500, "foreign": 501, "wide": 502}


def readings(style: str, seed: int, n: int) -> list[tuple[str, orientation.Evidence]]:
    """(position, evidence) of each position of each page that gives a reading at all."""
    layouts, severities = BENCH_LAYOUTS + VENDOR, list(SEVERITIES)
    out = []
    for i, rec in enumerate(track(simulate(n, SynthConfig(fs=100.0), seed=seed).records(), description=style,
                                  transient=True)):
        shot = bench_shot(rec.fit(10.0), layouts[i % len(layouts)], severities[i % len(severities)], (seed, i),
                          style)
        for turn in orientation.LANDSCAPE:
            image = np.ascontiguousarray(orientation.TURNS[turn](shot.image))
            try:   # each position read as `digitize` reads it before it weighs them (no laws check, no bar)
                read = read_as_given(image, find_page(image), DigitizeConfig(fs=rec.fs))
            except DigitizeError:
                continue
            out.append((turn, orientation.summary_evidence(read_summary(read))))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="pages per style")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    table = Table(title=f"every position of {args.n} pages per style: readings upright and turned; turned readings' "
                        f"labels (share of cells read as the reading says; sure from {orientation.LABELS_SURE}) and "
                        "how many pass as sure; upright readings sure, of them with no pulse found or the heart's "
                        "evidence short")
    for col in ("style", "upright", "turned", "turned labels max", "turned sure", "upright sure", "no pulse",
                "heart short"):
        table.add_column(col, justify="right")
    with threadpool_limits(limits=1):
        for style, seed in STYLE_SEEDS.items():
            got = readings(style, seed, args.n)
            up = [e for turn, e in got if turn == "as given"]
            turned = [e for turn, e in got if turn != "as given"]
            sure = [e for e in up if orientation.sure(e)]
            heart_short = [e for e in sure if not orientation.heart_upright(e)]
            table.add_row(style, str(len(up)), str(len(turned)),
                          f"{max((e.labels_read for e in turned), default=0.0):.2f}",
                          str(sum(orientation.sure(e) for e in turned)), str(len(sure)),
                          str(sum(not e.pulse_up for e in sure)), str(len(heart_short)))
    Console().print(table)


if __name__ == "__main__":
    main()
