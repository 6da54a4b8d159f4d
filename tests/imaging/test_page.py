"""Finding the sheet in a photo: an object lying against it must not pull its corners out."""

import cv2
import numpy as np
import pytest

from edgeecg.imaging.page import find_page

SHEET = np.array([[300, 200], [1350, 260], [1300, 1000], [250, 950]], np.float32)


def _sheet_on_desk(pen_at: int | None = None) -> np.ndarray:
    """A dark desk with a plain white sheet (grid-less paper) and, maybe, a pale pen against one corner."""
    img = np.full((1200, 1600, 3), (70, 40, 60), np.uint8)
    cv2.fillConvexPoly(img, SHEET.astype(np.int32), (245, 240, 235))
    if pen_at is not None:
        corner = SHEET[pen_at]
        out = (corner - SHEET.mean(axis=0)) / np.linalg.norm(corner - SHEET.mean(axis=0))
        cv2.line(img, tuple(int(v) for v in corner - 5 * out), tuple(int(v) for v in corner + 140 * out),
                 (235, 235, 225), 16)
    return img


def _grid_on(img: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """`img` with an 8 px grid of grey lines inside `quad`: the texture a printed chart has."""
    region = np.zeros(img.shape[:2], np.uint8)
    cv2.fillConvexPoly(region, quad.astype(np.int32), 1)
    lines = np.zeros_like(region)
    lines[::8, :] = 1
    lines[:, ::8] = 1
    img[(region > 0) & (lines > 0)] = (150, 150, 150)
    return img


@pytest.mark.parametrize("corner", [0, 1, 2, 3])
def test_a_pen_touching_the_sheet_does_not_pull_its_corner(corner):
    alone = find_page(_sheet_on_desk())
    with_pen = find_page(_sheet_on_desk(corner))
    assert alone is not None and with_pen is not None
    assert np.abs(alone - SHEET).max() < 6.0
    assert np.abs(with_pen - alone).max() < 6.0   # px; the pen's tip lies 140 px out


def test_a_chart_cut_into_a_wedge_gives_way_to_the_sheet():
    """A deep shadow can leave only a wedge of the chart's texture (one side half its opposite); no camera
    tilt of 30 degrees or less makes a sheet look like that, so the sheet's own outline is used instead."""
    img = _grid_on(_sheet_on_desk(), np.array([[340, 240], [1310, 650], [1270, 960], [290, 910]], np.float32))
    found = find_page(img)
    assert found is not None and np.abs(found - SHEET).max() < 10.0


def test_a_shadow_across_a_corner_of_the_sheet_does_not_cut_it_off():
    """A shadow darkens sheet and desk alike, and can take the sheet's corner below the brightness threshold;
    on a coloured desk the sheet's low saturation still tells it apart, so its corner stays where it is."""
    img = _sheet_on_desk().astype(np.float32)
    shade = np.zeros(img.shape[:2], np.float32)
    cv2.fillConvexPoly(shade, np.array([[0, 0], [1000, 0], [0, 800]], np.int32), 1.0)
    img *= 1.0 - 0.55 * cv2.GaussianBlur(shade, (0, 0), 25)[..., None]
    found = find_page(np.clip(img, 0, 255).astype(np.uint8))
    assert found is not None and np.abs(found - SHEET).max() < 8.0


def test_the_sheet_outline_wins_over_a_chart_texture_that_fades_short_of_it():
    """Shadow and blur can erase the grid's texture near a corner, which bends the textured chart's outline;
    the sheet's own edges are straight and sharp there, and the chart lies within them."""
    centre = SHEET.mean(axis=0)
    chart = centre + 0.88 * (SHEET - centre)
    chart[0] += 0.25 * (centre - chart[0])  # the texture stops well short of the top-left corner
    found = find_page(_grid_on(_sheet_on_desk(), chart))
    assert found is not None and np.abs(found - SHEET).max() < 8.0


def test_an_intact_chart_is_flattened_without_the_sheet_margins():
    """A chart whose texture runs parallel to the sheet's edges is whole: flattening it, not the sheet, keeps
    the margins (and whatever lies on them) out of the page the digitizer reads."""
    centre = SHEET.mean(axis=0)
    chart = centre + 0.85 * (SHEET - centre)
    found = find_page(_grid_on(_sheet_on_desk(), chart))
    assert found is not None and np.abs(found - chart).max() < 8.0


def test_every_simulated_poor_photo_of_a_sheet_passes_as_a_sheet():
    """The wedge check's bounds (corners within 25 degrees of square, opposite sides within 1.7x) leave room
    over the steepest views the capture simulator makes (camera tilt up to 30 degrees, A4 and Letter)."""
    from edgeecg.imaging.capture import _camera_quad, get_severity
    from edgeecg.imaging.page import _squarish

    rng = np.random.default_rng(0)
    for page in ((3508, 2480), (3300, 2550)):
        for _ in range(500):
            assert _squarish(_camera_quad(rng, get_severity("poor-photo"), page, (2200, 1700)))


def _page_of(pen: int, labels: int, rng: np.random.Generator) -> np.ndarray:
    """An ink image (0 paper) with `pen` pixels of a trace at levels 125-145 (a dark blue pen seen in the
    brightest channel), `labels` black label pixels (a fifth of them anti-aliased edges) and a thin spread
    of the pen's anti-aliased edges."""
    ink = np.zeros((400, 600), np.uint8)
    flat = ink.reshape(-1)
    spots = rng.choice(flat.size, pen + labels + 2000, replace=False)
    flat[spots[:pen]] = rng.integers(125, 146, pen)
    flat[spots[pen: pen + labels]] = np.where(rng.random(labels) < 0.2, rng.integers(146, 255, labels), 255)
    flat[spots[pen + labels:]] = rng.integers(31, 135, 2000)
    return ink


def test_a_paler_pen_than_the_labels_stays_above_the_ink_level():
    """Otsu splits the black labels from a blue trace when little else is on the page (a clean, gridless
    export); the trace's sharp mode below that level, holding most of the ink, is split from the paper."""
    from edgeecg.imaging.page import ink_threshold

    rng = np.random.default_rng(0)
    assert ink_threshold(_page_of(pen=24000, labels=3000, rng=rng)) < 125
    # where the labels are not the minority, the first split stands (capped at 60 % darkness)
    assert ink_threshold(_page_of(pen=6000, labels=9000, rng=rng)) == 153


def test_grid_lines_that_pass_the_threshold_set_a_floor_under_it():
    """Unbroken lines down and across the page (a crisp grey grid at ink 100) under a trace at 220: the floor
    sits between them. Columns where a 12x1 print's QRS complexes line up are inked over half the page but
    with gaps between the rows, and set none; nor does a grid as dark as the trace."""
    from edgeecg.imaging.page import grid_floor

    ink = np.zeros((300, 400), np.uint8)
    ink[:, ::20] = 100
    ink[::20, :] = 100
    for x in range(0, 400, 40):  # a trace row's level stretches on a grid line, between QRS complexes
        ink[139:142, x: x + 30] = 220
        ink[100:142, x + 30: x + 32] = 220
    mask = (ink > 64).astype(np.uint8) * 255
    assert 100 < grid_floor(ink, mask) < 220
    ink[:, ::20] = 220
    ink[::20, :] = 220
    assert grid_floor(ink, (ink > 64).astype(np.uint8) * 255) == 0.0
    qrs = np.zeros((300, 400), np.uint8)
    for top in range(5, 300, 25):  # 12 rows, each QRS 20 px tall in the same columns
        qrs[top: top + 20, 100:103] = 255
    assert grid_floor(qrs, qrs) == 0.0


def _traced_sheet_on(desk: np.ndarray) -> np.ndarray:
    """`desk` (float32 [H, W, 3]) with the white sheet and six rows of trace on it: grid-less paper."""
    cv2.fillConvexPoly(desk, SHEET.astype(np.int32), (242, 242, 242))
    x = np.arange(330, 1280)
    for base in np.linspace(330, 860, 6):
        y = base + 0.02 * (x - 330) + 12 * np.sin(x / 9.0) * (np.sin(x / 60.0) > 0.9)
        cv2.polylines(desk, [np.stack([x, y], axis=1).astype(np.int32)], False, (40, 40, 40), 2)
    return desk


def test_a_lit_desk_as_bright_as_paper_does_not_merge_into_the_sheet():
    """A lamp can light one side of a grey desk past the brightness threshold that parts paper from desk;
    the sheet's edge is still a step there, where the light's fall-off is smooth, so the sheet keeps its own
    outline (before: the outline ran out along the frame)."""
    ramp = np.linspace(60, 205, 1600, dtype=np.float32)[None, :, None]
    img = _traced_sheet_on(np.repeat(np.repeat(ramp, 1200, axis=0), 3, axis=2))
    found = find_page(img.astype(np.uint8))
    assert found is not None and np.abs(found - SHEET).max() < 8.0


def test_a_shadow_over_the_sheet_on_a_grey_desk_does_not_cut_it_off():
    """On a grey desk saturation cannot tell shaded sheet from desk, and a soft shadow that halves the light
    on the sheet's lower part takes it below the brightness threshold; the shade's edge is smooth and the
    rows of trace still show under it, so the sheet is found whole."""
    img = _traced_sheet_on(np.full((1200, 1600, 3), 70, np.float32))
    shade = np.zeros(img.shape[:2], np.float32)
    shade[700:] = 1.0
    img *= 1.0 - 0.5 * cv2.GaussianBlur(shade, (0, 0), 40)[..., None]
    found = find_page(np.clip(img, 0, 255).astype(np.uint8))
    assert found is not None and np.abs(found - SHEET).max() < 8.0


def test_area_shrink_averages_whole_blocks_and_leaves_out_the_ragged_edge():
    from edgeecg.imaging.page import area_shrink

    img = np.arange(9 * 7, dtype=np.float32).reshape(7, 9)   # odd sizes: the fractional path in OpenCV
    small = area_shrink(img, 2)
    blocks = img[:6, :8].reshape(3, 2, 4, 2).mean(axis=(1, 3))
    assert small.shape == (3, 4) and np.allclose(small, blocks)


def test_a_dark_grid_passing_the_threshold_in_dashes_sets_a_floor_only_when_asked():
    """Vertical lines every 5 mm at ink 110 that pass a threshold of 100 only in dashes (a photo's dark red grid)
    under a trace at 240: with broken_lines the floor sits between them; without, none (the digitizer asks
    only where the page read as it is gave nothing). QRS strokes touching from row to row in two strips of the
    page (a 12x1 print's chest leads) set none."""
    from edgeecg.imaging.page import grid_floor

    rng = np.random.default_rng(0)
    ink = np.zeros((400, 800), np.uint8)
    for x in range(0, 800, 20):
        ink[:, x: x + 2] = np.where(rng.random((400, 1)) < 0.7, 110, 60).astype(np.uint8)
    for y in (100, 200, 300):
        ink[y - 1: y + 2, 10:790] = 240
    mask = (ink > 100).astype(np.uint8) * 255
    assert grid_floor(ink, mask) == 0.0
    assert 110 < grid_floor(ink, mask, broken_lines=True) < 240
    qrs = np.zeros((400, 800), np.uint8)
    qrs[250:350, 100:700:5] = 200   # enough columns to count as lines, but only in two strips
    qrs[300, :] = 250
    assert grid_floor(qrs, (qrs > 100).astype(np.uint8) * 255, broken_lines=True) == 0.0


def test_a_sheet_filling_the_frame_half_in_shadow_is_read_whole():
    """A close-up whose chart fills the frame, its lower part in a phone's soft shadow: the shade took that part
    below the brightness threshold, and the lit part's outline (three sides on the frame's border, the fourth
    the shadow's edge) had been flattened as the sheet, cutting a row of traces off. The paper's light floods
    the whole frame through the shadow's soft edge, so the frame is read as it is."""
    img = np.full((900, 1200, 3), 236, np.float32)
    img[::8, :] = img[:, ::8] = (205, 190, 215)   # a pale red grid all over: no desk in view
    x = np.arange(0, 1200)
    for base in (250, 650):
        y = base + 40 * np.exp(-(((x % 180) - 90) / 6.0) ** 2)
        cv2.polylines(img, [np.stack([x, y], axis=1).astype(np.int32)], False, (40, 40, 40), 2)
    shade = np.zeros(img.shape[:2], np.float32)
    cv2.fillConvexPoly(shade, np.array([[0, 560], [1200, 380], [1200, 900], [0, 900]], np.int32), 1.0)
    img *= 1.0 - 0.45 * cv2.GaussianBlur(shade, (0, 0), 45)[..., None]
    assert find_page(np.clip(img, 0, 255).astype(np.uint8)) is None


def _blurred_sheet(corners: np.ndarray, sigma: float) -> np.ndarray:
    """A white sheet with sub-pixel `corners` (pixel centres at whole numbers) on a dark desk, drawn 4x larger
    and area-averaged down, so each pixel holds the share of sheet it covers, then blurred as a phone's defocus
    blurs it."""
    big = np.full((4800, 6400, 3), (70, 40, 60), np.uint8)
    cv2.fillConvexPoly(big, np.round((corners + 0.5) * 64).astype(np.int32), (245, 240, 235), shift=4)
    return cv2.GaussianBlur(cv2.resize(big, (1600, 1200), interpolation=cv2.INTER_AREA), (0, 0), sigma)


@pytest.mark.parametrize("sigma", [0.8, 1.8])
def test_a_blurred_sheets_corners_are_found_to_a_fraction_of_a_pixel(sigma):
    """The outline is found on an 800 px copy of the photo (2 px of this one); a sheet without a grid takes
    its scale and its time axis from those corners alone, so its edges are found again at full resolution."""
    true = SHEET + np.array([[0.3, 0.7], [-0.4, 0.2], [0.6, -0.5], [-0.2, 0.45]], np.float32)
    found = find_page(_blurred_sheet(true, sigma))
    assert found is not None and np.abs(found - true).max() < 0.4   # the 800 px copy's are over a pixel off


def test_a_sheet_flattened_from_its_exact_edges_has_no_dark_rim_and_keeps_a_trace_that_reaches_the_edge():
    """Half the desk is blurred into the first pixel of a sheet flattened from its exact edges; a dark line
    along a whole side would read as ink. It takes the paper's brightness, while a trace that runs into the
    edge (a few pixels of that line) is kept."""
    from edgeecg.imaging.page import RIM_PX, rectify

    img = _blurred_sheet(SHEET, 1.2)
    cv2.line(img, (800, 600), (1323, 630), (30, 30, 30), 3)   # runs out over the right edge
    flat = rectify(img, find_page(img)).rgb.max(axis=2).astype(float)
    paper = np.median(flat)
    for side in (flat[0], flat[-1], flat[:, 0], flat[:, -1]):
        assert np.median(side) > paper - 10
    right = flat[:, -RIM_PX:]
    assert (right < 120).any(axis=1).sum() >= 2   # the trace's end, still there
