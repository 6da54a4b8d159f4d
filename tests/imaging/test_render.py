from dataclasses import replace

import numpy as np
import pytest

from edgeecg.imaging.render import GRID_COLOURS, PULSE_MM, RenderConfig, RenderError, render
from edgeecg.layouts import LAYOUTS, observed_mask


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_truth_is_the_layout_applied_at_true_times(ecgs, layout):
    shot = render(ecgs[0], layout)
    mask = observed_mask(layout, 100.0, 1000)
    assert np.array_equal(np.isfinite(shot.truth.signal), mask)
    assert np.allclose(shot.truth.signal[mask], ecgs[0].signal[mask])
    assert len(shot.truth.cells) == len(LAYOUTS[layout].cells)


def test_page_size_scale_and_geometry():
    from edgeecg.data.synth import SynthConfig, simulate

    rec = simulate(1, SynthConfig(fs=500.0), seed=1).records()[0]
    shot = render(rec, "3x4", RenderConfig(dpi=200, paper="a4"))
    assert shot.image.shape == (1654, 2339, 3) and shot.image.dtype == np.uint8
    assert shot.truth.px_per_mm == pytest.approx(200 / 25.4)
    first = shot.truth.cells[0]
    # the trace starts right after the calibration-pulse block, 10 s = 250 mm at 25 mm/s
    assert first.x0 == pytest.approx((13.5 + PULSE_MM) * 200 / 25.4)
    v4 = [c for c in shot.truth.cells if c.lead == "V4"][0]
    assert v4.x1 - first.x0 == pytest.approx(250 * 200 / 25.4)


def test_trace_ink_sits_on_the_drawn_baseline(ecgs):
    shot = render(ecgs[1], "12x1", RenderConfig(grid="none"))
    cell = shot.truth.cells[0]
    x = int(cell.x0 + 0.05 * 25 * shot.truth.px_per_mm)
    y = int(round(cell.baseline - ecgs[1].signal[0, 5] * 10 * shot.truth.px_per_mm))
    column = shot.image[y - 3: y + 4, x].min()
    assert column < 80  # dark ink where the truth says the pen was


@pytest.mark.parametrize(("width_mm", "dpi"), [(0.2, 200), (0.25, 200), (0.35, 300), (0.5, 150)])
def test_pen_prints_the_asked_line_width(width_mm, dpi):
    from edgeecg.record import Record

    flat = Record(np.zeros((12, 1000), np.float32), 100.0)
    shot = render(flat, "12x1", RenderConfig(dpi=dpi, grid="none", line_width=width_mm))
    cell = shot.truth.cells[0]
    base = int(round(cell.baseline))
    band = 255 - shot.image[base - 10: base + 11, int(cell.x0) + 50: int(cell.x1) - 50, 1].astype(float)
    printed = float(np.median(band.sum(axis=0))) / 255  # ink per column in px of full darkness
    assert printed == pytest.approx(width_mm * dpi / 25.4, abs=0.55)  # OpenCV alone: 1.7x at 0.25 mm


@pytest.mark.parametrize("grid", [g for g in GRID_COLOURS if g != "none"])
def test_grid_colour_is_drawn(ecgs, grid):
    img = render(ecgs[0], "3x4", RenderConfig(grid=grid)).image
    minor = np.array(GRID_COLOURS[grid][0], np.uint8)
    assert (img == minor).all(axis=2).sum() > 10_000


@pytest.mark.parametrize("bad", [dict(paper="a3"), dict(grid="blue"), dict(speed=30.0), dict(dpi=20.0),
                                 dict(font="arial"), dict(label_position="left"), dict(pulse="middle"),
                                 dict(minor_grid="dashed")])
def test_bad_settings_are_refused(bad):
    with pytest.raises(RenderError):
        RenderConfig(**bad)


def test_short_record_is_refused(ecgs):
    from edgeecg.record import Record

    short = Record(ecgs[0].signal[:, :500], 100.0)
    with pytest.raises(RenderError, match="pad it"):
        render(short, "3x4")


def test_render_speed_is_reasonable(ecgs):
    """Not a timing target (that lives in `edgeecg bench digitize`): a smoke check that rendering is not slow."""
    import time

    t0 = time.perf_counter()
    for i in range(5):
        render(ecgs[i % len(ecgs)], "3x4+II")
    assert (time.perf_counter() - t0) / 5 < 1.0


STYLE_OPTIONS = [dict(pulse="end"), dict(pulse="none"), dict(minor_grid="dots"), dict(minor_grid="none"),
                 dict(label_position="inside"), dict(label_position="none"), dict(margin_top=65.0), dict(grid_px=3),
                 dict(grid_emphasis="minor"),
                 dict(grid_emphasis="even", grid_px=1), dict(marks=("header", "redaction"), marks_seed=1),
                 dict(marks=("handwriting", "stamp"), marks_seed=2)]


@pytest.mark.parametrize("option", STYLE_OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_every_print_style_option_keeps_the_truth_exact(ecgs, option):
    """The page changes, the truth does not: same samples, and every cell where the default puts it (only the
    top margin moves the rows, by the same shift the truth reports)."""
    plain = render(ecgs[0], "3x4+II")
    styled = render(ecgs[0], "3x4+II", RenderConfig(**option))
    assert not np.array_equal(plain.image, styled.image)
    assert np.array_equal(np.isnan(plain.truth.signal), np.isnan(styled.truth.signal))
    assert np.allclose(plain.truth.signal, styled.truth.signal, equal_nan=True)
    for a, b in zip(plain.truth.cells, styled.truth.cells, strict=True):
        assert (a.lead, a.start, a.end, a.x0, a.x1) == (b.lead, b.start, b.end, b.x0, b.x1)
        if "margin_top" not in option:
            assert a.baseline == b.baseline
    # the traces' ink lies on the baselines the truth gives
    dark = styled.image.min(axis=2) < 100
    for cell in styled.truth.cells:
        col = int((cell.x0 + cell.x1) / 2)
        ys = np.flatnonzero(dark[:, col])
        assert np.min(np.abs(ys - cell.baseline)) < 40


def test_the_pulse_is_drawn_where_asked(ecgs):
    ppm = RenderConfig().px_per_mm
    for where, inside in (("start", True), ("end", False), ("none", None)):
        shot = render(ecgs[0], "3x4", RenderConfig(pulse=where, separators=False, grid="none"))
        first = shot.truth.cells[0]
        last_x = max(c.x1 for c in shot.truth.cells)
        dark = shot.image.min(axis=2) < 100
        band = slice(int(first.baseline - 9 * ppm), int(first.baseline - 2 * ppm))   # the pulse's top, not labels
        before = dark[band, int(first.x0 - PULSE_MM * ppm):int(first.x0 - 0.5 * ppm)].any()
        after = dark[band, int(last_x + 0.5 * ppm):int(last_x + PULSE_MM * ppm)].any()
        assert (before, after) == {True: (True, False), False: (False, True), None: (False, False)}[inside], where


def test_a_flush_pulse_falls_where_the_trace_begins_and_the_truth_is_unchanged(ecgs):
    cfg = RenderConfig(separators=False, grid="none", label_position="none")
    ppm = cfg.px_per_mm
    spaced, flush = render(ecgs[0], "3x4", cfg), render(ecgs[0], "3x4", replace(cfg, pulse_flush=True))
    assert flush.truth.cells == spaced.truth.cells
    assert np.array_equal(flush.truth.signal, spaced.truth.signal, equal_nan=True)
    for shot, fall_mm in ((spaced, 3.0), (flush, 0.0)):
        first = shot.truth.cells[0]
        top = (shot.image.min(axis=2) < 100)[int(first.baseline - 9.5 * ppm):int(first.baseline - 8.5 * ppm)]
        right_edge = np.flatnonzero(top[:, : int(first.x0 + 0.5 * ppm)].any(axis=0)).max()   # the pulse's top
        assert right_edge == pytest.approx(first.x0 - fall_mm * ppm, abs=0.4 * ppm), fall_mm


def test_a_dotted_minor_grid_marks_only_the_crossings(ecgs):
    minor = np.array(GRID_COLOURS["red"][0], np.uint8)
    lines = (render(ecgs[0], "3x4", RenderConfig()).image == minor).all(axis=2).sum()
    dots = (render(ecgs[0], "3x4", RenderConfig(minor_grid="dots")).image == minor).all(axis=2).sum()
    none = (render(ecgs[0], "3x4", RenderConfig(minor_grid="none")).image == minor).all(axis=2).sum()
    assert none == 0 and 0 < dots < lines / 5


def test_the_pen_coverage_is_the_trace_and_marks_do_not_change_it(ecgs):
    """The segmenter's truth: the same coverage with or without marks, dark wherever it is full, and covering
    none of the header text, labels or marks."""
    plain = render(ecgs[0], "3x4+II")
    marked = render(ecgs[0], "3x4+II", RenderConfig(marks=("header", "handwriting", "stamp", "redaction")))
    assert np.array_equal(plain.trace, marked.trace)
    full = plain.trace == 255
    assert full.mean() > 0.005 and (plain.image[full].max(axis=1) < 30).all()
    dark_elsewhere = (marked.image.max(axis=2) < 60) & (marked.trace == 0)
    assert dark_elsewhere.sum() > 0.2 * full.sum()   # text, labels and marks are dark and not trace


def test_grid_emphasis_swaps_which_lines_are_dark(ecgs):
    minor, major = (np.array(c, np.uint8) for c in GRID_COLOURS["red"])
    usual = render(ecgs[0], "3x4", RenderConfig()).image
    reverse = render(ecgs[0], "3x4", RenderConfig(grid_emphasis="minor")).image
    count = lambda img, c: int((img == c).all(axis=2).sum())  # noqa: E731
    assert count(usual, minor) > count(usual, major) > 0
    assert count(reverse, major) > count(reverse, minor) > 0   # the many 1 mm lines now print dark


@pytest.mark.parametrize("grid_px", [1, 2, 3])
def test_wide_grid_lines_are_centred_on_their_millimetre(ecgs, grid_px):
    # the trace's time zero and its end fall on major lines: a dark line drawn off its mark (from it rightwards)
    # moved where the pen's end seemed to stop, and with it time zero
    shot = render(ecgs[0], "3x4", RenderConfig(dpi=150, grid_px=grid_px, margin_left=10.3))
    major = np.array(GRID_COLOURS["red"][1], np.uint8)
    above_traces = shot.image[int(shot.truth.cells[0].baseline - 12 * shot.truth.px_per_mm)]
    cols = np.flatnonzero((above_traces == major).all(axis=1))
    for x_mark in (shot.truth.cells[0].x0, shot.truth.cells[0].x0 + 250 * shot.truth.px_per_mm):
        line = cols[np.abs(cols - x_mark) <= 2 * grid_px + 1]
        assert line.size == 2 * grid_px
        assert abs(line.mean() - x_mark) <= 0.5


def test_unknown_marks_are_refused():
    with pytest.raises(RenderError, match="unknown marks"):
        RenderConfig(marks=("coffee",))


def test_unlabelled_prints_have_no_label_ink_and_cabrera_marks_its_inverted_cell(ecgs):
    """Without labels the page differs from the labelled one only where the labels were drawn (beside each
    cell's start); the truth says which cell the paper shows upside down."""
    labelled, bare = render(ecgs[0], "6x2-cabrera"), render(ecgs[0], "6x2-cabrera", RenderConfig(label_position="none"))
    ppm = bare.truth.px_per_mm
    ys, xs = np.nonzero(np.any(labelled.image != bare.image, axis=2))
    near = [min(abs(x - c.x0) for c in bare.truth.cells) for x in xs[::50]]
    assert max(near) < 12 * ppm
    assert [c.lead for c in bare.truth.cells if c.inverted] == ["aVR"]
