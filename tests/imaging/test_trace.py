"""The mask operations under the tracer, against the plain versions they replace for speed."""

import cv2
import numpy as np
import pytest

from edgeecg.imaging.trace import _open_line, _runs, remove_rules, remove_specks


def _lines(seed: int) -> np.ndarray:
    """A 0/1 image of noise with straight lines of random length, some running off the edges."""
    rng = np.random.default_rng(seed)
    img = (rng.random((300, 420)) < 0.05).astype(np.uint8)
    for _ in range(12):
        y, x = int(rng.integers(0, 300)), int(rng.integers(-50, 420))
        img[y, max(0, x): x + int(rng.integers(20, 400))] = 1
        y, x = int(rng.integers(-50, 300)), int(rng.integers(0, 420))
        img[max(0, y): y + int(rng.integers(20, 300)), x] = 1
    return img


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("half", [4, 37, 90])
@pytest.mark.parametrize("axis", [0, 1])
def test_line_opening_matches_opencv(seed, half, axis):
    img = _lines(seed)
    kernel = np.ones((1, 2 * half + 1) if axis == 1 else (2 * half + 1, 1), np.uint8)
    assert np.array_equal(_open_line(img, half, axis), cv2.morphologyEx(img, cv2.MORPH_OPEN, kernel))


@pytest.mark.parametrize("seed", range(4))
def test_runs_are_every_vertical_run_in_column_order(seed):
    band = _lines(seed)[:60] > 0
    expected = []
    for c in range(band.shape[1]):
        col = np.concatenate([[False], band[:, c], [False]])
        starts = np.flatnonzero(col[1:] & ~col[:-1])
        ends = np.flatnonzero(col[:-1] & ~col[1:]) - 1
        expected += [(c, int(a), int(b)) for a, b in zip(starts, ends, strict=True)]
    col, first, last = _runs(band)
    assert list(zip(col.tolist(), first.tolist(), last.tolist(), strict=True)) == expected


def test_rules_go_and_traces_stay():
    mask = np.zeros((400, 1200), np.uint8)
    mask[100, 20:1180] = 255                                           # a grid line across the page
    mask[300, 20:400] = 255                                            # a level stretch of trace, 50 mm
    x = np.arange(20, 1180)
    mask[(200 + 30 * np.sin(x / 15)).astype(int), x] = 255             # a wavy trace
    out = remove_rules(mask, px_per_mm=4.0)
    assert not out[100].any()
    assert out[300].sum() == mask[300].sum() and out[150:260].sum() == mask[150:260].sum()


def test_specks_go_even_when_they_outnumber_16_bit_labels():
    """A page of noise holds more blobs than 16-bit labels can count: the speck filter falls back to 32 bits."""
    mask = np.zeros((1200, 1200), np.uint8)
    mask[::4, ::4] = 255                                              # 90,000 isolated dots
    mask[600, 100:1100] = 255                                         # and one long line
    out = remove_specks(mask, px_per_mm=4.0)
    assert out[600, 100:1100].all() and not out[:595].any() and not out[605:].any()
