import numpy as np
import pytest

from edgeecg.imaging import grid, page
from edgeecg.imaging.render import RenderConfig, render


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
    import cv2

    shot = render(ecgs[2], "3x4", RenderConfig(grid="red"))
    ink, grid_img = page.darkness(shot.image)
    for angle in (-1.5, 0.0, 0.8):
        rotated, _ = page.rotate(cv2.add(grid_img // 2, ((ink > 100) * 127).astype(np.uint8)), -angle)
        assert page.skew_angle(rotated) == pytest.approx(angle, abs=0.05)
