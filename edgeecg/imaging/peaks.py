"""Sub-pixel peak position, shared by everything that reads a position off a sampled profile."""

from __future__ import annotations

import numpy as np


def peak_position(values: np.ndarray) -> float:
    """Index of the largest value, refined between samples by a parabola through it and its two neighbours
    (at an end, or on a flat top, the index itself): a profile's peak rarely falls on a sample."""
    i = int(np.argmax(values))
    if 0 < i < len(values) - 1:
        den = values[i - 1] - 2 * values[i] + values[i + 1]
        if den < 0:
            return i + float(np.clip(0.5 * (values[i - 1] - values[i + 1]) / den, -0.5, 0.5))
    return float(i)


def row_peaks(values: np.ndarray) -> np.ndarray:
    """peak_position of each row of a 2-D array, at once: hundreds of short profiles cost one call."""
    i = np.argmax(values, axis=1)
    rows = np.arange(len(values))
    j = np.clip(i, 1, values.shape[1] - 2)
    left, mid, right = values[rows, j - 1], values[rows, j], values[rows, j + 1]
    den = left - 2 * mid + right
    frac = np.clip(0.5 * (left - right) / np.where(den < 0, den, -1.0), -0.5, 0.5)
    return i + np.where((i == j) & (den < 0), frac, 0.0)
