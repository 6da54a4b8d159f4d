"""A printed grid as dark as the trace, taken out of a deskewed ink image by its lines' own level.

At web resolutions (60-110 dpi) a grey grid's 1 mm lines lie 2-4 px apart and, anti-aliased, are as dark as a
pixel-wide trace: no ink level keeps one and drops the other, and the page is refused as covered in dark marks.
But a grid line is dark all along its length, and a trace holds any one pixel column only at its strokes and any
one pixel row only where its baseline runs flat: a low percentile of each column's and each row's ink, taken
within strips of the page, is the grid line's level there, and what stands above both is trace and text.
"""

from __future__ import annotations

import cv2
import numpy as np

COLUMN_STRIPS = 8
"""Strips down the page for the vertical lines' levels (26 mm on A4 landscape): short enough that a line on a
flattened photo, a little bent, still holds one pixel column within a strip."""
ROW_STRIPS = 4
"""Strips across the page for the horizontal lines' levels (74 mm): a flat baseline holds a pixel row over long
stretches at web resolutions, but not over three quarters of a strip this long."""
LINE_SHARE = 25
"""Percentile of a column's or row's ink within its strip taken as its line's level: a line inks all of it, a
trace at most the three quarters a QRS stroke 19 mm tall (1.9 mV at 10 mm/mV) holds of a column strip."""


def without_grid_lines(ink: np.ndarray) -> np.ndarray:
    """`ink` (uint8, 255 = black, its grid square to the pixels) with, at every pixel, the higher of its
    column's and its row's `LINE_SHARE` percentile within the strip it lies in divided out, each taken over the
    grid's extent only: blank margins would pull a line's level to the paper's where the grid ends inside a
    strip, and the tracer then runs on along the line beyond the trace's end."""
    h, w = ink.shape
    level = ink.astype(np.int16)
    in_rows, in_cols = _on_grid(level, 1), _on_grid(level, 0)
    columns = np.zeros_like(level)
    for a, b in _edges(h, COLUMN_STRIPS):
        on = np.flatnonzero(in_rows[a:b]) + a
        if on.size:
            columns[a:b] = np.percentile(level[on], LINE_SHARE, axis=0).astype(np.int16)[None]
    rows = np.zeros_like(level)
    for a, b in _edges(w, ROW_STRIPS):
        on = np.flatnonzero(in_cols[a:b]) + a
        if on.size:
            rows[:, a:b] = np.percentile(level[:, on], LINE_SHARE, axis=1).astype(np.int16)[:, None]
    line = np.maximum(columns, rows).astype(np.float32)
    # darkness multiplies (a trace over a line lets through what each lets through): divide the line's share out
    return np.clip(255.0 * (level - line) / np.maximum(255.0 - line, 1.0), 0, 255).astype(np.uint8)


def _on_grid(level: np.ndarray, axis: int) -> np.ndarray:
    """bool per column (axis 0) or row (axis 1): within the grid, whose lines ink every column and row of it at
    least as much as half the page's median one (the chart spans most of the page; margins carry a little text)."""
    mean = level.mean(axis=axis)
    return mean >= 0.5 * float(np.median(mean))


def marks_level(ink: np.ndarray) -> float:
    """The ink level between paper and marks once the grid is out: Otsu over every pixel. A pixel-wide trace is
    faint at these resolutions, and the page's own level (Otsu over the inked pixels only, at least 64) splits
    it from the bolder text instead."""
    level, _ = cv2.threshold(ink.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(level)


def _edges(n: int, strips: int) -> list[tuple[int, int]]:
    cuts = np.linspace(0, n, strips + 1).astype(int)
    return list(zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True))
