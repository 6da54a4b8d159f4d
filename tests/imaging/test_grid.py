import cv2
import numpy as np
import pytest

from edgeecg.imaging import grid, page
from edgeecg.imaging.render import RenderConfig, render
from edgeecg.imaging.trace import find_rows


@pytest.mark.parametrize("colour", ["red", "pink", "orange", "green", "grey"])
@pytest.mark.parametrize("dpi", [100, 150, 200, 300])
def test_scale_from_grid(ecgs, colour, dpi):
    shot = render(ecgs[2], "3x4+II", RenderConfig(grid=colour, dpi=dpi))
    ink, grid_img = page.darkness(shot.image)
    mask = ink > page.ink_threshold(ink)
    sx, sy = grid.measure(grid_img, mask, shot.image.shape[1] / 297)
    assert sx is not None and sy is not None
    assert sx.px_per_mm == pytest.approx(dpi / 25.4, rel=2e-3)
    assert sy.px_per_mm == pytest.approx(dpi / 25.4, rel=2e-3)


def test_no_grid_is_reported_as_none():
    rng = np.random.default_rng(0)
    assert grid.measure_axis(rng.normal(size=2000)) is None


def test_skew_angle_recovers_rotation(ecgs):
    shot = render(ecgs[2], "3x4", RenderConfig(grid="red"))
    ink, grid_img = page.darkness(shot.image)
    for angle in (-1.5, 0.0, 0.8):
        rotated, _ = page.rotate(cv2.add(grid_img // 2, ((ink > 100) * 127).astype(np.uint8)), -angle)
        assert page.skew_angle(rotated) == pytest.approx(angle, abs=0.05)


@pytest.mark.parametrize("lean", [0.0, 0.08])
def test_leaning_lines_are_followed_band_by_band_and_upright_ones_left_alone(ecgs, keystone, lean):
    """Where the vertical lines lean, every row's millimetres after the maps are even and lined up with the
    middle row's: a 5 mm line sits at the same column in every row. Upright lines give no maps at all."""
    shot = render(ecgs[2], "3x4+II", RenderConfig(grid="pink", dpi=120))
    image = keystone(shot.image, lean)
    ink, grid_img = page.darkness(image)
    mask = ink > page.ink_threshold(ink)
    ppm = shot.truth.px_per_mm
    baselines = find_rows(mask.astype(np.uint8) * 255, ppm)
    maps = grid.leaning_column_maps(grid_img, mask, baselines, ppm)
    if lean == 0.0:
        assert maps is None
        return
    assert maps is not None
    flat = cv2.remap(grid_img, *maps[0], cv2.INTER_LINEAR)
    profiles = grid._band_profiles(flat, cv2.remap(mask.astype(np.uint8), *maps[0], cv2.INTER_NEAREST) > 0,
                                   baselines, ppm)
    phases = [grid.column_phase(p, maps[1]) for p in profiles]
    inner = slice(int(0.1 * image.shape[1]), int(0.9 * image.shape[1]))
    for m in phases:
        assert m is not None
        steps = np.diff(m[inner])
        assert steps == pytest.approx(np.full_like(steps, 1 / maps[1]), abs=0.02 / maps[1])   # even mm
    offsets = [float(np.mean((m - phases[0])[inner])) for m in phases]
    assert np.abs(np.array(offsets) - np.round(np.array(offsets) / 5) * 5).max() < 0.3  # lined up to 0.3 mm
