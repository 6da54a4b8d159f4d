"""Sub-pixel peak position, shared by everything that reads a position off a sampled profile."""

from __future__ import annotations

import numpy as np


def peak_position(values: np.ndarray) -> float:
    """Index of the largest value, refined between samples by a parabola through it and its two neighbours
    (at an end, or on a flat top, the index itself): a profile's peak rarely falls on a sample."""
    return float(row_peaks(np.asarray(values)[None, :])[0])


def row_peaks(values: np.ndarray) -> np.ndarray:
    """peak_position of each row of a 2-D array, at once: hundreds of short profiles cost one call."""
    i = np.argmax(values, axis=1)
    if values.shape[1] < 3:   # no neighbours on both sides
        return i.astype(np.float64)
    rows = np.arange(len(values))
    j = np.clip(i, 1, values.shape[1] - 2)
    left, mid, right = values[rows, j - 1], values[rows, j], values[rows, j + 1]
    den = left - 2 * mid + right
    frac = np.clip(0.5 * (left - right) / np.where(den < 0, den, -1.0), -0.5, 0.5)
    return i + np.where((i == j) & (den < 0), frac, 0.0)
