import numpy as np
import pytest

from edgeecg.imaging import thin_strokes
from edgeecg.imaging.bench import bench_shot
from edgeecg.imaging.page import darkness, ink_threshold, rectify


def _split_line(ink: np.ndarray, centres: np.ndarray, level: float, axis: int) -> None:
    """Draws a one-pixel line as anti-aliasing does: each row's (column's, axis=0) darkness shared between the
    two pixels its centre falls between, in proportion to how near it is to each."""
    for i, c in enumerate(centres):
        left, frac = int(np.floor(c)), float(c - np.floor(c))
        for j, share in ((left, 1 - frac), (left + 1, frac)):
            if axis == 1:
                ink[i, j] = max(ink[i, j], round(level * share))
            else:
                ink[j, i] = max(ink[j, i], round(level * share))


def test_a_steep_anti_aliased_stroke_reads_without_gaps():
    # a QRS stroke at 72 dpi: 80 px down over 5 px across, its darkness split between neighbours, above the
    # trace's solid baseline
    ink = np.zeros((100, 200), np.uint8)
    _split_line(ink[10:90], np.linspace(20.3, 25.6, 80), 220, axis=1)
    ink[95] = 255
    threshold = 150
    alone = ink > threshold
    assert len(np.flatnonzero(alone.any(axis=1))) < 60, "the fixture must be dashed at this threshold"
    read = thin_strokes.with_split_pixels(alone, ink, threshold)
    assert np.array_equal(np.flatnonzero(read[:90].any(axis=1)), np.arange(10, 90))   # every row of the stroke
    assert read[:90].sum(axis=1).max() <= 2                                             # still about a pixel wide


def test_a_grey_grid_whose_lines_pass_only_in_pairs_is_left_out():
    # 1 mm grid lines of a 72 dpi export at fractional positions: every line splits over two pixels
    ink = np.zeros((120, 120), np.uint8)
    for x in np.arange(1.5, 117, 2.83):
        _split_line(ink, np.full(120, x), 200, axis=1)
        _split_line(ink, np.full(120, x), 200, axis=0)
    ink[60, 10:110] = 255                                     # one solid trace
    threshold = 150
    mask = ink > threshold
    assert np.array_equal(thin_strokes.with_split_pixels(mask, ink, threshold), mask)


@pytest.mark.parametrize("width, thin", [(1, True), (3, False)])
def test_a_pen_a_pixel_wide_is_told_from_a_thicker_one(width, thin):
    mask = np.zeros((60, 300), bool)
    wave = (30 + 12 * np.sin(np.arange(300) / 40)).astype(int)     # a trace mostly running along its row
    for dy in range(width):
        mask[wave + dy, np.arange(300)] = True
    assert thin_strokes.one_pixel_pen(mask) is thin


@pytest.mark.parametrize("severity, digital", [("none", True), ("scan", False), ("photo", False)])
def test_only_a_digital_image_counts_as_noise_free(ecgs, severity, digital):
    shot = bench_shot(ecgs[0], "3x4+II", severity, (0, 5), "foreign")
    ink, _ = darkness(rectify(shot.image, None).rgb)
    assert thin_strokes.noise_free(ink, ink_threshold(ink)) is digital


def test_an_image_with_nothing_below_the_faint_level_is_not_called_noise_free():
    ink = np.full((20, 20), 200, np.uint8)
    assert not thin_strokes.noise_free(ink, 100)
