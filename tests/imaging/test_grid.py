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
    phases = [c.mm if (c := grid.column_phase(p, maps[1])) is not None else None for p in profiles]
    inner = slice(int(0.1 * image.shape[1]), int(0.9 * image.shape[1]))
    for m in phases:
        assert m is not None
        steps = np.diff(m[inner])
        assert steps == pytest.approx(np.full_like(steps, 1 / maps[1]), abs=0.02 / maps[1])   # even mm
    offsets = [float(np.mean((m - phases[0])[inner])) for m in phases]
    assert np.abs(np.array(offsets) - np.round(np.array(offsets) / 5) * 5).max() < 0.3  # lined up to 0.3 mm


def _comb(major_height: float, ppm: float = 6.3, w: int = 1800, first: float = 7.4) -> np.ndarray:
    """A band's column profile: a blurred line every mm from `first` px on, every 5th (mm 3, 8, ...) of
    `major_height` against 1 for the rest, and a little noise."""
    x = np.arange(w, dtype=np.float64)
    out = np.random.default_rng(0).normal(0.0, 0.05, w)
    for k in range(int((w - first) / ppm) + 1):
        out += (major_height if k % 5 == 3 else 1.0) * np.exp(-0.5 * ((x - first - k * ppm) / 0.8) ** 2)
    return out


@pytest.mark.parametrize("major_height, majors", [(2.0, "dark"), (0.5, "pale"), (1.0, None)])
def test_five_mm_lines_number_the_millimetres_only_where_they_stand_out(major_height, majors):
    """Dark or pale 5 mm lines put themselves at multiples of 5 mm; lines all alike leave the numbering alone
    (their 5 mm phase is noise, and numbering rows by it set whole rows a millimetre off)."""
    ppm, first = 6.3, 7.4
    c = grid.column_phase(_comb(major_height, ppm, first=first), ppm)
    assert c is not None and c.majors == majors
    lines = np.round(first + np.arange(3, 200, 5) * ppm).astype(int)
    lines = lines[(lines > 100) & (lines < 1700)]
    at = c.mm[lines]
    assert np.abs(at - np.round(at)).max() < 0.05                            # on the millimetre lines
    if majors is not None:
        assert np.abs(at / 5 - np.round(at / 5)).max() < 0.01                 # the 5 mm ones at multiples of 5


@pytest.mark.parametrize("emphasis", ["major", "minor", "even"])
def test_rows_of_a_flat_page_stay_lined_up_whatever_lines_print_darker(ecgs, emphasis):
    """A flat page's rows already share their grid lines: lining them up must not move any row by a millimetre,
    as numbering every row by its 5 mm lines did where they print paler than the rest (a little blur, as any
    camera gives, was enough)."""
    shot = render(ecgs[2], "3x4+II", RenderConfig(grid="red", dpi=150, grid_emphasis=emphasis, grid_px=2))
    ink, grid_img = page.darkness(cv2.GaussianBlur(shot.image, (0, 0), 1.0))
    mask = ink > page.ink_threshold(ink)
    ppm = shot.truth.px_per_mm
    baselines = find_rows(mask.astype(np.uint8) * 255, ppm)
    maps = grid.even_column_maps(grid_img, mask, baselines, ppm)
    if maps is not None:
        x = np.arange(shot.image.shape[1], dtype=np.float32)
        assert np.abs(maps[0][0] - x[None, :]).max() < 0.3 * ppm


def test_rows_whose_like_lines_drift_across_the_page_are_each_lined_up_on_their_neighbour():
    """On a grid printing every line alike, rows are numbered by the nearest millimetre line, and a flattened
    photo leaves rows up to a millimetre apart from top to bottom: each row is lined up on the row next to it
    (0.4 mm off here), not on the middle one, from which the outer rows lie 0.8 mm off (nearer another line)."""
    ppm, pitch, drift_mm = 6.0, 150, 0.4
    h, w = 5 * pitch, 1500
    baselines = [pitch / 2 + r * pitch for r in range(5)]
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    shift = drift_mm * ppm * (y - baselines[2]) / pitch          # px the lines lie right of the middle row's
    phase = (x - shift) / ppm
    grid_img = (200 * np.exp(-0.5 * ((phase - np.round(phase)) * ppm / 0.9) ** 2)).astype(np.uint8)
    maps = grid.even_column_maps(grid_img, np.zeros((h, w), bool), baselines, ppm)
    assert maps is not None
    inner = slice(150, w - 150)
    for b in baselines:   # each row samples its own lines where the middle row has its
        want = x[0, inner] + drift_mm * ppm * (b - baselines[2]) / pitch
        assert np.abs(maps[0][0][int(b), inner] - want).max() < 0.1 * ppm
