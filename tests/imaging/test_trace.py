"""The mask operations under the tracer, against the plain versions they replace for speed."""

import cv2
import numpy as np
import pytest

from edgeecg.imaging.trace import (
    _open_line,
    _row_nanmedian,
    _runs,
    pen_end,
    pen_start,
    remove_rules,
    remove_specks,
    tick_x,
    trace_row,
)


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


def _drawn(pts: np.ndarray, width_px: float, height: int, width: int) -> np.ndarray:
    """Ink (uint8) of a polyline through `pts` drawn anti-aliased at 4x with a pen `width_px` wide."""
    big = np.zeros((height * 4, width * 4), np.uint8)
    cv2.polylines(big, [np.round((pts * 4 + 1.5) * 16).astype(np.int32)], False, 255,
                  max(1, int(round(width_px * 4))), cv2.LINE_AA, shift=4)
    return cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA)


def _r_wave(width_px: float, grid_at: int | None = None, grid_ink: int = 60,
            speck: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Ink (uint8) of a level line with one R wave drawn anti-aliased at 4x, and its centre-line vertices
    (x, y); optionally a pale vertical grid line at column `grid_at` and a one-pixel speck of ink at (x, y)
    (what a threshold leaves of a grid line crossing the wave)."""
    pts = np.array([[5.0, 80.0], [40.3, 80.0], [46.1, 12.0], [52.0, 80.0], [95.0, 80.0]])
    ink = _drawn(pts, width_px, 100, 100)
    if grid_at is not None:
        ink[:, grid_at] = np.maximum(ink[:, grid_at], grid_ink)
    if speck is not None:
        ink[speck[1], speck[0]] = 255
    return ink, pts


def _stroke_x(pts: np.ndarray, y: np.ndarray, up: bool) -> np.ndarray:
    """x of the rising (up) or falling stroke's centre line at heights y."""
    (xa, ya), (xb, yb) = (pts[1], pts[2]) if up else (pts[3], pts[2])
    return xa + (y - ya) * (xb - xa) / (yb - ya)


@pytest.mark.parametrize("grid_ink", [60, 70])
def test_a_grid_line_against_a_steep_stroke_does_not_move_it(grid_ink):
    """A steep stroke is read halfway between its two half-darkness edges: a grid line against its left edge
    pulled the leading edge (and the read, moved in by a whole-pixel line width) 0.4 px early; a QRS climbs
    10-40 px per column there, so that is 0.05-0.2 mV at the sample."""
    from edgeecg.imaging.trace import pen_width, trace_row

    ink, pts = _r_wave(2.0, grid_at=39, grid_ink=grid_ink)
    mask = (ink > 128).astype(np.uint8) * 255
    row = trace_row(mask, ink, 80.0, 0, 100, 2.0, 4.0, pen_width(ink, mask, [80.0], 4.0))
    up = (row.py > 30) & (row.py < 70) & (row.px < 45)
    err = row.px[up] - _stroke_x(pts, row.py[up], up=True)
    assert up.sum() > 20 and np.abs(err).max() < 0.2


def test_a_speck_beside_a_steep_stroke_is_not_followed():
    """Of a column's runs, the one that shares most rows with the previous column's run continues the path:
    a speck of grid caught between an R wave's strokes, at the height of the previous (steep) column's
    middle, was nearer that middle than the stroke climbing on to the apex, and was taken instead."""
    from edgeecg.imaging.trace import trace_row

    mask = np.zeros((60, 20), np.uint8)
    mask[49:52, :10] = 255    # level line, baseline at row 50
    mask[20:52, 10] = 255     # steep column: rows 20-51, middle 35.5
    mask[8:24, 11] = 255      # the stroke climbing on (shares rows 20-23 with column 10)
    mask[35, 11] = 255        # a speck at the steep column's middle
    mask[5:12, 12] = 255      # the apex
    mask[8:20, 13] = 255
    mask[49:52, 14:] = 255
    mask[18:52, 14] = 255
    ink = mask.copy()
    row = trace_row(mask, ink, 50.0, 0, 60, 3.0, 4.0, 3.0)
    assert (row.lo[11], row.hi[11]) == (8, 23)


def test_pen_width_of_a_noisy_trace_is_the_pens():
    """A column's vertical width is the pen's plus the trace's travel within it: on a noisy 500 Hz record
    (2.5 samples per column, here half a pixel of noise) the median column read 1.3x the pen; the pen's
    width places every steep stroke's and tip's centre, so it is taken from the narrowest columns."""
    from edgeecg.imaging.trace import pen_width

    x = np.arange(5.0, 395.0, 0.4)
    noisy = np.stack([x, 50 + np.random.default_rng(0).normal(0, 0.5, x.size)], axis=1)
    level = np.array([[5.0, 50.0], [395.0, 50.0]])
    widths = []
    for pts in (noisy, level):
        ink = _drawn(pts, 3.0, 100, 400)
        widths.append(pen_width(ink, (ink > 100).astype(np.uint8) * 255, [50.0], 4.0))
    assert widths[0] / widths[1] < 1.2


def test_merged_strokes_are_read_a_pen_width_in():
    """Where a narrow R wave's up and down strokes merge into one blob, the rising stroke is its left edge
    moved in by half the pen: by half the mask's line width, which a noisy trace makes 1.5-2x the pen, the
    read sat 0.7 px late (0.1-0.3 mV at the sample on a QRS flank)."""
    from edgeecg.imaging.trace import pen_width, trace_row

    pts = np.array([[5.0, 80.0], [44.0, 80.0], [46.0, 12.0], [48.0, 80.0], [95.0, 80.0]])
    ink = _drawn(pts, 3.0, 100, 100)
    mask = (ink > 100).astype(np.uint8) * 255
    row = trace_row(mask, ink, 80.0, 0, 100, 5.0, 4.0, pen_width(ink, mask, [80.0], 4.0))
    up = (row.py > 25) & (row.py < 70) & (row.px < 46)
    err = row.px[up] - (44.0 + (row.py[up] - 80.0) * 2.0 / -68.0)
    assert up.sum() > 30 and np.abs(err).max() < 0.3


@pytest.mark.parametrize("lean_px", [0, 3, 6])
def test_a_calibration_pulse_is_found_with_its_risers_leaning(lean_px):
    """A pulse 10 mm tall and 5 mm wide at 4 px/mm, its risers drawn leaning by up to 6 px over their height (a
    real photo's pulses): height and width read within a pixel or two."""
    from edgeecg.imaging.trace import RowTrace, pulse_shape

    ppm, base, x0 = 4.0, 120, 40
    mask = np.zeros((200, 600), np.uint8)
    top = base - int(10 * ppm)

    def riser(x_foot: int) -> None:
        for y in range(top, base + 1):
            mask[y, x_foot + int(round(lean_px * (base - y) / (base - top)))] = 255

    mask[base, x0: x0 + 8] = 255
    riser(x0 + 8)
    mask[top, x0 + 8 + lean_px: x0 + 28 + lean_px] = 255
    riser(x0 + 28)
    mask[base, x0 + 28: 560] = 255
    y = np.full(600, np.nan)
    y[x0:560] = base
    row = RowTrace(float(base), base - 60, base + 30, x0, 559, y, 0.0, np.zeros(0), np.zeros(0))
    found = pulse_shape(mask, row, ppm)
    assert found is not None
    height, width = found
    assert abs(height - 10 * ppm) <= 2 and abs(width - 20) <= 2


@pytest.mark.parametrize("after_mm", [-3.0, 0.0, 2.0])
@pytest.mark.parametrize("grid_line_mm", [None, 7.0])
def test_a_pulse_is_read_from_its_own_foot(after_mm, grid_line_mm):
    """A record whose first samples sit off zero leaves the trace after the pulse millimetres from the pulse's
    foot: read from there, a scan's pulses went unfound, or one read 7.1 mm tall for 10. A dark grid line across
    the pulse below its top is not its top."""
    from edgeecg.imaging.trace import RowTrace, pulse_shape

    ppm, base, x0 = 6.0, 150, 40
    top, shift = base - int(10 * ppm), int(round(after_mm * ppm))
    mask = np.zeros((240, 600), np.uint8)
    mask[base, x0: x0 + 12] = 255                          # the pen at zero, 2 mm
    mask[top: base + 1, x0 + 12] = 255                     # up 1 mV
    mask[top, x0 + 12: x0 + 42] = 255                      # 200 ms
    mask[top: base + 1, x0 + 42] = 255                     # down
    mask[base, x0 + 42: x0 + 60] = 255
    mask[min(base, base - shift): max(base, base - shift) + 1, x0 + 60] = 255
    mask[base - shift, x0 + 60: 560] = 255                 # the record, off zero
    if grid_line_mm is not None:
        mask[base - int(grid_line_mm * ppm), :] = 255
    y = np.full(600, np.nan)
    y[x0: x0 + 60], y[x0 + 60: 560] = base, base - shift
    row = RowTrace(float(base - shift / 2), base - 80, base + 40, x0, 559, y, 0.0, np.zeros(0), np.zeros(0))
    found = pulse_shape(mask, row, ppm)
    assert found is not None and abs(found[0] - 10 * ppm) <= 1.5 and abs(found[1] - 30) <= 1.5


@pytest.mark.parametrize("guess", [-40.0, 250.0, 5000.0])
def test_a_tick_is_found_at_its_column_and_a_guess_off_the_page_finds_none(traced_row, guess):
    """An origin fitted from a few ticks can put a cell boundary off the page (a web image cut at its edge): no
    tick there, and no crash."""
    ink = np.zeros((200, 400), np.uint8)
    ink[70:131, 249:252] = (128, 255, 128)   # a tick 6 mm tall at x = 250, across the baseline at y = 100 (10 px/mm)
    row = traced_row(100.0, np.full(400, 100.0))
    found = tick_x(ink, row, guess, px_per_mm=10.0, ink_level=110.0)
    assert (found is None) if guess != 250.0 else abs(found - 250.0) < 0.5


def _faint_page(tick_at: float, ink: float, blur: float) -> np.ndarray:
    """A poor photo's row at 5 px/mm: a trace along y = 100 and a tick 6 mm tall at `tick_at`, both at
    darkness `ink`, 0.3 mm wide, before a Gaussian blur of `blur` px."""
    big = np.zeros((200 * 8, 300 * 8), np.float32)   # drawn at 8x, for a sub-pixel tick position
    cv2.line(big, (0, 100 * 8 + 4), (300 * 8, 100 * 8 + 4), ink, 12)
    x = int(round((tick_at + 0.5) * 8))
    cv2.line(big, (x, (100 - 15) * 8), (x, (100 + 15) * 8), ink, 12)
    page = cv2.resize(big, (300, 200), interpolation=cv2.INTER_AREA)
    return np.clip(cv2.GaussianBlur(page, (0, 0), blur), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("tick_at", [150.0, 150.4])
def test_a_faint_blurred_tick_is_found_against_the_images_own_ink_level(traced_row, tick_at):
    """A poor photo's tick is as faint as its trace and blurred over a few columns: against the image's ink level it
    is found, to a fraction of a pixel; read as if the ink were a clean scan's (level 150), it is not."""
    ink = _faint_page(tick_at, ink=200.0, blur=1.2)
    row = traced_row(100.0, np.full(300, 100.0))
    found = tick_x(ink, row, 152.0, px_per_mm=5.0, ink_level=70.0, reach_mm=1.2)
    assert found is not None and abs(found - tick_at) < 0.25
    assert tick_x(ink, row, 152.0, px_per_mm=5.0, ink_level=150.0, reach_mm=1.2) is None


def test_a_stroke_on_one_side_of_the_baseline_is_no_tick(traced_row):
    """An R wave climbs 3 mm above the baseline but not below it: however dark, it is not a separator."""
    ink = np.zeros((200, 300), np.uint8)
    ink[85:101, 150:152] = 255
    row = traced_row(100.0, np.full(300, 100.0))
    assert tick_x(ink, row, 151.0, px_per_mm=5.0, ink_level=70.0, reach_mm=1.2) is None


@pytest.mark.parametrize("page", ["dark grid", "tick on a pale grid", "tick beside a QRS"])
def test_a_dark_grid_crossing_the_baseline_is_no_tick(traced_row, page):
    """A dark 1 mm grid crosses the baseline above and below as a tick does, a millimetre to each side: taken for
    ticks at two boundaries, its lines moved a widened-style scan's time zero by several pixels, and the read,
    far below 5 dB, passed the confidence bar. A tick over a pale grid is found, and so is one with a QRS crossing
    the baseline a millimetre to one side of it (the same beat at a boundary in every row of a 3x4)."""
    ink = np.zeros((200, 300), np.uint8)
    ink[:, 100:300:8] = 120 if page == "dark grid" else 25   # 1 mm lines at 8 px/mm, dark enough to count or pale
    ink[98:101, :] = 255                                      # the trace along the baseline
    if page != "dark grid":
        ink[76:125, 151:153] = 255
    if page == "tick beside a QRS":
        ink[70:130, 159:161] = 255
    row = traced_row(100.0, np.full(300, 100.0))
    found = tick_x(ink, row, 150.0, px_per_mm=8.0, ink_level=110.0, reach_mm=1.2)
    assert (found is None) if page == "dark grid" else abs(found - 151.5) < 0.5


@pytest.mark.parametrize("grid", ["none", "pale", "dark"])
@pytest.mark.parametrize("gap_px", [3, 6])
def test_the_pen_ends_where_its_stroke_does_not_at_a_dark_grid_line_past_it(traced_row, grid, gap_px):
    """A widened-style page's dark grey 1 mm grid is over half as dark as its trace: the last column that dark
    near the trace's end was the next grid line, and every row's pen ended a millimetre late, moving the whole
    read 40 ms (-3 dB, kept above the confidence bar). Read either way along the row."""
    ink = np.zeros((200, 300), np.uint8)
    level = {"none": 0, "pale": 40, "dark": 160}[grid]
    ink[:, 8:300:8] = level                   # 1 mm lines at 8 px/mm; horizontal ones cross the pen too
    ink[4:200:8, :] = level
    end = 200 - gap_px                        # the stroke's last column; a grid line at 200 (and 208, ...)
    ink[99:102, 60: end + 1] = 255            # a pen 3 px wide along the baseline
    y = np.full(300, np.nan)
    y[60: end + 1] = 100.0
    row = traced_row(100.0, y)
    assert abs(pen_end(ink, row, 3.0, 8.0) - (end - 1)) < 0.75   # the edge less the pen's radius
    mirrored = traced_row(100.0, y[::-1].copy())
    assert abs(pen_start(np.ascontiguousarray(ink[:, ::-1]), mirrored, 3.0, 8.0) - (299 - end + 1)) < 0.75


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_row_medians_are_numpys_nanmedian_to_the_bit(seed):
    # stroke smoothing's median skips numpy's slow masked-array path; reads must not move by a bit
    rng = np.random.default_rng(seed)
    win = rng.normal(size=(500, 5)) * 50
    win[rng.random(win.shape) < 0.4] = np.nan
    win[:, 2] = rng.normal(size=500)         # every row holds a number, as a stroke's own point
    win[:100, 1] = win[:100, 3]              # ties
    assert np.array_equal(_row_nanmedian(win), np.nanmedian(win, axis=1))


@pytest.mark.parametrize("stroke_ink", [0, 120])
def test_a_label_under_a_dotted_trace_is_no_wave_and_a_broken_strokes_apex_is(stroke_ink):
    """At 64 dpi a thin trace passed the threshold in dots, and where it left a gap the path took the lead label
    printed 5 mm below it: a 0.6 mV dip in three leads of one page. The path leaps there over blank paper. A QRS
    apex the threshold cut from its strokes lies as far out, but over the faint ink of its stroke: it stays, and
    so does the label's row of columns where that paper is inked (`stroke_ink`, drawn under the label too)."""
    ppm, base = 2.5, 60                                  # 64 dpi
    ink = np.zeros((120, 400), np.uint8)
    ink[base, :] = 200                                   # the trace, flat
    ink[base, 101:111] = 0                               # its gap, 4 mm, where the label lies
    ink[base + 12: base + 17, 101:111] = 200             # the label's glyphs, 5 mm below it
    ink[base + 1: base + 12, 101:111] = stroke_ink       # paper between them (faint ink, or none)
    ink[base, 250:256] = 0                               # an R apex cut from its baseline: a stroke's rise
    ink[base - 16: base - 13, 250:256] = 200             # 6 mm above it
    ink[base - 13: base, 250:256] = 120                  # over its stroke's faint ink
    mask = np.where(ink >= 150, 255, 0).astype(np.uint8)
    row = trace_row(mask, ink, float(base), base - 25, base + 25, 1.0, ppm)
    label = row.y[101:111]
    if stroke_ink:
        assert np.nanmin(np.abs(label - base)) > 10     # inked paper joins it to the trace: followed as before
    else:
        assert np.isnan(label).all()
    assert np.nanmax(np.abs(row.y[250:256] - base)) > 13
