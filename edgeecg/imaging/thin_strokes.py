"""Thin strokes in digital images (exports, screenshots): an anti-aliased line a pixel wide shares its darkness
between two neighbouring pixels, and neither may pass the ink threshold alone. At 72 dpi every steep QRS stroke
then reads as dashes and the tracer loses the spike's apex. Sensor noise makes such pairs all over a photo or
a scan, so pairs count only in images that have none, and only where the pen is about a pixel wide.
"""

from __future__ import annotations

import numpy as np

NOISE_FREE = 0.9
"""Share of background pixels equal to the pixel beside or below them from which an image counts as digital.
Paper and grid lines are flat along the lines in an export or a screenshot, even where anti-aliasing shades a
line's edges; a sensor's noise breaks such runs. In a scratch survey the real exports and screenshots at hand and
most of the project's clean renders scored above it, the simulated scans and photos and the real photos at hand
below it. Renders at 85 dpi or less with a dense grid scored just under it: a grid line every two or three pixels
leaves little flat paper, so such pages are read without pairs."""

ONE_PIXEL_PEN = 0.5
"""Share of the ink's vertical runs that are a single pixel from which the pen counts as a pixel wide. Thicker
pens pass the threshold on their own; split pixels would only thicken their edges and glue labels to them."""


def one_pixel_pen(mask: np.ndarray) -> bool:
    """True where at least ONE_PIXEL_PEN of the bool `mask`'s vertical runs are a pixel long: most of a trace
    runs along its row, so its runs are as long as the pen is wide."""
    above = np.zeros_like(mask)
    above[1:] = mask[:-1]
    below = np.zeros_like(mask)
    below[:-1] = mask[1:]
    starts = np.count_nonzero(mask & ~above)
    return starts > 0 and bool(np.count_nonzero(mask & ~above & ~below) >= ONE_PIXEL_PEN * starts)


def noise_free(ink: np.ndarray, threshold: float) -> bool:
    """True where paper and grid are flat to the grey level, as only a digital image's are. Every fourth row
    says as much as all of them, at a quarter of the cost."""
    here, right, below = ink[0:-1:4, :-1], ink[0:-1:4, 1:], ink[1::4, :-1]
    faint = threshold / 4
    background = (here < faint) & (right < faint) & (below < faint)
    n = np.count_nonzero(background)
    return n > 0 and bool(np.count_nonzero(background & ((here == right) | (here == below))) >= NOISE_FREE * n)


def with_split_pixels(mask: np.ndarray, ink: np.ndarray, threshold: float) -> np.ndarray:
    """bool `mask` (ink above `threshold`) with the darker pixel of every pair of neighbours, side by side or one
    above the other, that passes `threshold` together but neither alone: one pixel per pair keeps a one-pixel
    line one pixel wide. Where such pixels outnumber the mask's own, they are a grey grid's anti-aliased lines,
    not strokes, and the mask is returned as it was."""
    dark = ink.astype(np.int16)
    split = np.zeros(ink.shape, bool)
    for a, b, split_a, split_b in ((dark[:, :-1], dark[:, 1:], split[:, :-1], split[:, 1:]),
                                   (dark[:-1], dark[1:], split[:-1], split[1:])):
        pair = (a + b > threshold) & (a <= threshold) & (b <= threshold)
        split_a |= pair & (a >= b)
        split_b |= pair & (b > a)
    return mask if np.count_nonzero(split) > np.count_nonzero(mask) else mask | split
