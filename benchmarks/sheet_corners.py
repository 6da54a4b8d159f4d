"""How precisely a photo's sheet is found: the corners `page.find_page` returns, mapped back onto the printed page
by the capture's true homography, against the sheet's own corners, in page millimetres; with the edges found again
at full resolution (as the digitizer reads) and as the outline on the 800 px copy of the photo gave them.

A sheet without a grid takes its scale and its time axis from those corners alone: a corner a millimetre off
leans the whole flattening, tens of milliseconds at a strip's end. Pages are the bench's own (`bench_shot`, its
photos and poor photos); outlines that lie inside the sheet by more than SHEET_MM are the chart's (its grid's
texture, where the grid measures the scale) and are counted apart. Seed 0 is the report seed; the edge finder was
written against seed 0's own-style photos, so its other seeds and styles are the held-out figures.

    python benchmarks/sheet_corners.py --n 16 --seed 1 --style wide
"""

from __future__ import annotations

import argparse
from unittest import mock

import cv2
import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table
from threadpoolctl import threadpool_limits

from edgeecg.data.sources import sample_records
from edgeecg.imaging import page
from edgeecg.imaging.bench import STYLES, bench_jobs, bench_shot
from edgeecg.record import RecordError

SHEET_MM = 5.0
"""An outline whose corners all lie within this of the sheet's is the sheet's; the chart's lies 10 mm or more in."""
SEVERITIES = ("photo", "poor-photo")


def corner_errors(rgb: np.ndarray, homography: np.ndarray, page_wh: tuple[int, int],
                  px_per_mm: float) -> np.ndarray | None:
    """Each found corner's distance (mm, on the page) from the sheet's; None where no outline is found. The page's
    pixel centres lie at whole numbers, so its edges lie half a pixel beyond the outermost ones."""
    found = page.find_page(rgb)
    if found is None:
        return None
    w, h = page_wh
    sheet = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    back = cv2.perspectiveTransform(found[None].astype(np.float64), np.linalg.inv(homography))[0]
    return np.linalg.norm(back - sheet, axis=1) / px_per_mm


def measure(sources: list[str], n: int, seed: int, style: str) -> dict[str, dict[str, list[np.ndarray]]]:
    """{severity: {"edges": [...], "copy": [...], "chart": [...]}}: per outline its four corner errors, with the
    full-resolution edges and as the 800 px copy gave them; "chart" holds the chart outlines (no edge refinement)."""
    # every severity, scans too: job j is the bench's page (seed, j)
    jobs = bench_jobs({data: sample_records(data, n, seed) for data in sources})
    out: dict[str, dict[str, list[np.ndarray]]] = {s: {"edges": [], "copy": [], "chart": []} for s in SEVERITIES}
    for j, (rec, _, layout, severity) in enumerate(track(jobs, description="render, capture, find the sheet",
                                                         transient=True)):
        if severity not in SEVERITIES:  # a scan: no desk, no outline
            continue
        printed = bench_shot(rec, layout, "none", (seed, j), style)  # the same page before its capture: its size
        shot = bench_shot(rec, layout, severity, (seed, j), style)
        args = (shot.truth.homography, printed.image.shape[1::-1], shot.truth.px_per_mm)
        edges = corner_errors(shot.image, *args)
        if edges is None:
            continue
        if edges.max() > SHEET_MM:
            out[severity]["chart"].append(edges)
            continue
        with mock.patch.object(page, "_sheet_edges", lambda rgb, corners, reach: corners):
            copy = corner_errors(shot.image, *args)
        out[severity]["edges"].append(edges)
        out[severity]["copy"].append(copy)
    return out


def table(found: dict[str, dict[str, list[np.ndarray]]], title: str) -> Table:
    t = Table(title=title)
    for col in ("severity", "sheet outlines", "chart outlines", "corners from", "median mm", "p90 mm", "max mm"):
        t.add_column(col, justify="right")
    for severity, by in found.items():
        for key, name in (("edges", "full-resolution edges"), ("copy", "800 px copy")):
            if not by[key]:
                continue
            errs = np.concatenate(by[key])
            t.add_row(severity, str(len(by[key])), str(len(by["chart"])), name, f"{np.median(errs):.2f}",
                      f"{np.percentile(errs, 90):.2f}", f"{errs.max():.2f}")
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", help="record sources, as `edgeecg bench digitize` takes them "
                        "(default: synth)")
    parser.add_argument("--n", type=int, default=16, help="records per source (each photographed and poorly)")
    parser.add_argument("--seed", type=int, default=0, help="the bench seed (0 and 1 are the report seeds)")
    parser.add_argument("--style", default="own", choices=sorted(STYLES), help="the bench's print style")
    args = parser.parse_args()
    sources = args.data or ["synth"]
    cv2.setNumThreads(1)
    with threadpool_limits(limits=1):
        try:
            found = measure(sources, args.n, args.seed, args.style)
        except RecordError as err:   # a --data folder that is not there or holds no records
            parser.error(str(err))
    title = f"sheet corners, page mm ({', '.join(sources)}, n {args.n}, seed {args.seed}, style {args.style})"
    Console(width=120).print(table(found, title))


if __name__ == "__main__":
    main()
