"""Taking a grid as dark as the trace out of the ink image: the lines go, the trace stays whole where it runs flat
along a line, where it strokes down across the lines, and beside a margin the grid does not reach."""

import numpy as np

from edgeecg.imaging.grid_removal import COLUMN_STRIPS, ROW_STRIPS, marks_level, without_grid_lines


def _page(h: int = 400, w: int = 800, grid_w: int = 800) -> tuple[np.ndarray, np.ndarray]:
    """(ink, trace) as uint8 darkness: a grey grid (1 mm lines every 3 px at 60, 5 mm lines every 15 px at 100)
    up to column `grid_w`, blank beyond it, and a trace at 200 composed over it as ink composes (darkness
    multiplies through): a baseline flat along one pixel row for half a row strip, then a stroke down one column
    for 70 % of a column strip."""
    grid = np.zeros((h, w), np.float64)
    for pitch, level in ((3, 60.0), (15, 100.0)):
        grid[::pitch, :grid_w] = level
        grid[:, :grid_w:pitch] = level
    trace = np.zeros((h, w), np.float64)
    y0, x0 = 151, 101                       # between lines: neither the row nor the column is a grid line
    run = (w // ROW_STRIPS) // 2
    trace[y0, x0: x0 + run] = 200.0
    stroke = int(0.7 * h / COLUMN_STRIPS)
    trace[y0: y0 + stroke, x0 + run] = 200.0
    ink = 255.0 * (1 - (1 - grid / 255.0) * (1 - trace / 255.0))
    return ink.round().astype(np.uint8), trace > 0


def test_the_lines_go_and_the_trace_stays_whole():
    ink, trace = _page()
    out = without_grid_lines(ink)
    assert out[~trace].max() <= 2                       # every line, minor and major
    assert out[trace].min() >= 195                      # the trace at its own darkness, on lines or between them


def test_a_trace_crossing_a_line_keeps_its_own_darkness_not_what_is_left_over_the_line():
    """Subtracting the line's level would leave 200 over a 100 line at 100 + 200 - 100 * 200 / 255 - 100 = 122
    (the pen's end read a pixel short on 72 dpi scans): dividing the line's share out gives back 200."""
    ink, trace = _page()
    on_line = trace.copy()
    on_line[:, 1::15] = False
    on_line[1::15, :] = False
    crossing = trace & ~on_line
    assert crossing.any()
    assert without_grid_lines(ink)[crossing].min() >= 195


def test_a_grid_ending_inside_a_strip_is_taken_out_up_to_its_end():
    """The last strip across is half blank margin: a line's level there is its own, not the paper's (the strip's
    quartile), so no stub of the lines is left for the tracer to run on along beyond the trace's end."""
    ink, trace = _page(grid_w=700)
    out = without_grid_lines(ink)
    assert out[:, 600:][~trace[:, 600:]].max() <= 2


def test_the_marks_level_splits_the_trace_from_the_paper_once_the_lines_are_out():
    """The ink mask is what lies above the level."""
    ink, trace = _page()
    out = without_grid_lines(ink)
    level = marks_level(out)
    assert out[~trace].max() <= level < out[trace].min()
