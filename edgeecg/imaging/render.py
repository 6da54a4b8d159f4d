"""Printed-ECG renderer: a record and a layout become the page a hospital printer would produce.

Every image comes with its ground truth (the plotted signal, each trace's box and baseline in pixels, the
px/mm scale), so that a digitizer can be scored sample by sample. numpy + OpenCV only, fast enough to make
thousands of training or test images on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from edgeecg.imaging import marks as page_marks
from edgeecg.layouts import Layout, apply, get_layout, paper_starts, sample_bounds
from edgeecg.record import LEADS, Record, lead_index

PAPERS: dict[str, tuple[float, float]] = {"a4": (297.0, 210.0), "letter": (279.4, 215.9)}
"""Landscape page sizes in mm."""

GRID_COLOURS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]] | None] = {
    # (minor, major) in RGB
    "red": ((250, 190, 190), (235, 110, 110)),
    "pink": ((252, 215, 225), (240, 160, 190)),
    "orange": ((252, 215, 175), (240, 160, 90)),
    "green": ((200, 235, 200), (110, 190, 110)),
    "grey": ((215, 215, 215), (160, 160, 160)),
    "none": None,
}
FONTS: dict[str, int] = {
    "simplex": cv2.FONT_HERSHEY_SIMPLEX, "duplex": cv2.FONT_HERSHEY_DUPLEX, "complex": cv2.FONT_HERSHEY_COMPLEX,
    "triplex": cv2.FONT_HERSHEY_TRIPLEX, "plain": cv2.FONT_HERSHEY_PLAIN,
}
LABEL_OFFSETS_MM = {"above": -4.0, "below": 7.0, "inside": 1.2}
"""Where a lead label's text baseline sits, in mm below the trace's baseline, for each `label_position`."""
PULSE_MM = 10.0
"""Width of the calibration-pulse block that precedes every row (the trace starts right after it)."""


class RenderError(ValueError):
    """A render setting or record that cannot be drawn."""


@dataclass(frozen=True)
class RenderConfig:
    """How the page is printed. Defaults are the common hospital print: A4, 25 mm/s, 10 mm/mV, red grid."""

    paper: str = "a4"
    dpi: float = 200.0
    speed: float = 25.0            # mm/s
    gain: float = 10.0             # mm/mV
    grid: str = "red"
    line_width: float = 0.3        # mm
    trace_colour: tuple[int, int, int] = (0, 0, 0)   # RGB
    font: str = "simplex"
    label_position: str = "above"  # above or below the baseline, inside (on it), at each cell's start; or none
    margin_left: float = 13.5      # mm, left edge to the calibration pulse
    margin_top: float = 22.0       # mm, space for the header
    margin_bottom: float = 8.0     # mm
    rhythm_position: str = "bottom"  # rhythm strips below (usual) or above the grid rows
    pulse: str = "start"           # calibration pulse at each row's start, at its end (after the traces) or none
    pulse_flush: bool = False      # a start pulse falls where the trace begins (as some vendors print), not 3 mm before
    minor_grid: str = "lines"      # the 1 mm grid as lines, as dots at its crossings, or none (5 mm lines only)
    separators: bool = True
    header: str = ""
    grid_px: int = 0               # minor grid line width in px (0: 0.1 mm); major lines twice that
    grid_emphasis: str = "major"   # which lines print darker: major (usual), minor (the reverse) or even
    marks: tuple[str, ...] = ()    # non-trace marks drawn under the pen (marks.MARKS)
    marks_seed: int = 0

    def __post_init__(self) -> None:
        if self.paper not in PAPERS:
            raise RenderError(f"unknown paper {self.paper!r}; choose one of {', '.join(PAPERS)}")
        if self.grid not in GRID_COLOURS:
            raise RenderError(f"unknown grid colour {self.grid!r}; choose one of {', '.join(GRID_COLOURS)}")
        if self.font not in FONTS:
            raise RenderError(f"unknown font {self.font!r}; choose one of {', '.join(FONTS)}")
        if self.speed not in (25.0, 50.0) or self.gain not in (5.0, 10.0, 20.0):
            raise RenderError(f"speed must be 25 or 50 mm/s and gain 5, 10 or 20 mm/mV, got {self.speed}, "
                              f"{self.gain}")
        if not 50 <= self.dpi <= 1200:
            raise RenderError(f"dpi must be between 50 and 1200, got {self.dpi}")
        if self.label_position not in LABEL_OFFSETS_MM and self.label_position != "none" \
                or self.rhythm_position not in ("bottom", "top"):
            raise RenderError("label_position is above|below|inside|none and rhythm_position bottom|top")
        if self.pulse not in ("start", "end", "none") or self.minor_grid not in ("lines", "dots", "none"):
            raise RenderError("pulse is start|end|none and minor_grid lines|dots|none")
        if not 0 <= self.grid_px <= 8 or self.grid_emphasis not in ("major", "minor", "even"):
            raise RenderError("grid_px is 0-8 and grid_emphasis major|minor|even")
        unknown = set(self.marks) - set(page_marks.MARKS)
        if unknown:
            raise RenderError(f"unknown marks {sorted(unknown)}; choose from {', '.join(page_marks.MARKS)}")

    @property
    def px_per_mm(self) -> float:
        return self.dpi / 25.4


@dataclass(frozen=True)
class CellBox:
    """Where one printed trace sits: lead, its time span, x range (paper position) and baseline in page px."""

    lead: str
    start: float
    end: float
    x0: float
    x1: float
    baseline: float
    row: int
    inverted: bool = False   # printed upside down (Cabrera's -aVR)


@dataclass
class RenderTruth:
    """What the page shows, to score a digitizer: signal [12, T] in mV with NaN where not printed."""

    signal: np.ndarray
    fs: float
    layout: str
    px_per_mm: float
    speed: float
    gain: float
    cells: tuple[CellBox, ...]
    homography: np.ndarray = field(default_factory=lambda: np.eye(3))  # page px -> image px (capture sets it)


@dataclass
class Rendering:
    """An RGB page image [H, W, 3] uint8 and its ground truth; `trace` is the pen's coverage [H, W] uint8 (traces,
    calibration pulses and separator ticks, 255 = fully inked): the per-pixel truth a trace segmenter learns."""

    image: np.ndarray
    truth: RenderTruth
    trace: np.ndarray | None = None


def _rgb(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(int(c) for c in colour)  # images are RGB throughout edgeecg.imaging


def _draw_grid(page: np.ndarray, cfg: RenderConfig, x_origin: float, y0: int, y1: int, x_end: int) -> None:
    """1 mm minor and 5 mm major lines, aligned so that the trace origin falls on a major line."""
    colours = GRID_COLOURS[cfg.grid]
    if colours is None:
        return
    ppm = cfg.px_per_mm
    height, width = page.shape[:2]
    left_mm = -np.floor(x_origin / ppm / 5.0) * 5.0
    xs_mm = np.arange(left_mm, (width - x_origin) / ppm + 1e-6, 1.0)
    ys_mm = np.arange(0.0, (y1 - y0) / ppm + 1e-6, 1.0)
    thick = cfg.grid_px or max(1, int(round(0.1 * ppm)))
    if cfg.grid_emphasis != "major":
        colours = (colours[1], colours[0] if cfg.grid_emphasis == "minor" else colours[1])
    for major in (False, True):
        if not major and cfg.minor_grid == "none":
            continue
        colour = np.array(colours[1 if major else 0], dtype=np.uint8)
        w = thick * (2 if major and cfg.grid_emphasis == "major" else 1)
        half = (w - 1) / 2   # a line w px wide is centred on its millimetre, as a printer strokes it
        sel_x = xs_mm[(np.round(xs_mm) % 5 == 0) == major]
        sel_y = ys_mm[(np.round(ys_mm) % 5 == 0) == major]
        cols = (np.round(x_origin + sel_x * ppm - half).astype(int)[:, None] + np.arange(w)).ravel()
        rows = (np.round(y0 + sel_y * ppm - half).astype(int)[:, None] + np.arange(w)).ravel()
        cols = cols[(cols >= 0) & (cols < min(width, x_end))]
        rows = rows[(rows >= y0) & (rows < min(height, y1))]
        if not major and cfg.minor_grid == "dots":   # every 1 mm crossing, major lines included
            all_x = (np.round(x_origin + xs_mm * ppm - half).astype(int)[:, None] + np.arange(w)).ravel()
            all_y = (np.round(y0 + ys_mm * ppm - half).astype(int)[:, None] + np.arange(w)).ravel()
            all_x = all_x[(all_x >= 0) & (all_x < min(width, x_end))]
            all_y = all_y[(all_y >= y0) & (all_y < min(height, y1))]
            page[np.ix_(all_y, all_x)] = colour
            continue
        page[y0:y1, cols] = colour
        page[rows, max(0, int(x_origin + left_mm * ppm)):x_end] = colour


class _Pen:
    """Draws the traces at twice the page resolution and lays them on the page with their true width.

    OpenCV's thick lines only come in odd pixel widths (thickness 2 draws 3 px, 3 and 4 draw 5 px), so a
    0.25 mm pen at 200 dpi would print 1.7x too wide at page resolution. At 2x the width steps are half a
    page pixel; the downsampled coverage is the anti-aliased alpha.
    """

    SCALE = 2

    def __init__(self, height: int, width: int, line_px: float) -> None:
        self.alpha = np.zeros((height * self.SCALE, width * self.SCALE), np.uint8)
        wide = self.SCALE * line_px                  # wanted width at 2x
        k = int(round((wide - 1.44) / 2))
        self.thickness = 1 if k < 1 else 2 * k       # draws 2k + 1 px (+0.44 of anti-aliased edge) at 2x

    def line(self, xs: np.ndarray, ys: np.ndarray) -> None:
        ok = np.isfinite(ys)
        if ok.sum() < 2:
            return
        # page pixel centres sit at integer coordinates: at 2x they sit at 2x + 0.5
        pts = np.stack([xs[ok], ys[ok]], axis=1) * self.SCALE + (self.SCALE - 1) / 2
        cv2.polylines(self.alpha, [np.round(pts * 16).astype(np.int32)], False, 255, self.thickness, cv2.LINE_AA,
                      shift=4)

    def lay_on(self, page: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
        """Inks the page; returns the coverage at page resolution."""
        h, w = page.shape[:2]
        alpha = cv2.resize(self.alpha, (w, h), interpolation=cv2.INTER_AREA)
        where = cv2.findNonZero(alpha)
        if where is None:
            return alpha
        xs, ys = where.reshape(-1, 2).T
        a = alpha[ys, xs].astype(np.float32)[:, None] / 255.0
        page[ys, xs] = np.round(page[ys, xs] * (1 - a) + np.asarray(colour, np.float32) * a).astype(np.uint8)
        return alpha


def render(record: Record, layout: Layout | str, config: RenderConfig | None = None) -> Rendering:
    """Draws `record` as printed with `layout`; the returned truth is what the page really shows."""
    cfg = config or RenderConfig()
    lay = get_layout(layout)
    if record.duration + 1e-6 < lay.duration:
        raise RenderError(f"record {record.record_id or '?'} lasts {record.duration:.2f} s; layout {lay.name} "
                          f"prints {lay.duration:.2f} s (pad it with Record.fit)")
    ppm = cfg.px_per_mm
    page_w_mm, page_h_mm = PAPERS[cfg.paper]
    width, height = int(round(page_w_mm * ppm)), int(round(page_h_mm * ppm))
    page = np.full((height, width, 3), 255, dtype=np.uint8)

    fs = record.fs
    n = int(round(lay.duration * fs))
    shown = apply(record.signal[:, :n], lay, fs)
    x_origin = (cfg.margin_left + PULSE_MM) * ppm
    x_end_mm = cfg.margin_left + PULSE_MM + lay.duration * cfg.speed
    if x_end_mm + (PULSE_MM if cfg.pulse == "end" else 0.0) > page_w_mm - 2:
        raise RenderError(f"{lay.duration:.1f} s at {cfg.speed} mm/s does not fit on {cfg.paper} landscape")
    y0 = int(round(cfg.margin_top * ppm))
    y1 = int(round((page_h_mm - cfg.margin_bottom) * ppm))
    grid_end_mm = x_end_mm + (PULSE_MM if cfg.pulse == "end" else 5.0)
    _draw_grid(page, cfg, x_origin, y0, y1, int(round(grid_end_mm * ppm)))

    rows = list(lay.rows)
    if cfg.rhythm_position == "top":
        rows = list(lay.rows[len(lay.grid):]) + list(lay.grid)
    pitch = (y1 - y0) / len(rows)
    colour = _rgb(cfg.trace_colour)
    line_px = cfg.line_width * ppm
    pen = _Pen(height, width, line_px)
    font = FONTS[cfg.font]
    font_scale = 0.12 * ppm  # Hershey glyphs are about 22 px tall at scale 1: about 3 mm
    boxes: list[CellBox] = []
    mv = cfg.gain * ppm
    for r, row in enumerate(rows):
        base = y0 + (r + 0.6) * pitch
        if cfg.pulse != "none":
            px0 = x_origin - PULSE_MM * ppm if cfg.pulse == "start" else x_end_mm * ppm
            w = 0.2 * cfg.speed * ppm
            flush = cfg.pulse == "start" and cfg.pulse_flush
            if flush:   # it falls at the trace's first column, with no baseline after it to ink over the trace
                px0 = x_origin - 2 * ppm - w
            xs = np.array([px0, px0 + 2 * ppm, px0 + 2 * ppm, px0 + 2 * ppm + w, px0 + 2 * ppm + w,
                           px0 + PULSE_MM * ppm])
            ys = np.array([base, base, base - mv, base - mv, base, base])
            drawn = 5 if flush else 6
            pen.line(xs[:drawn], ys[:drawn])
        for cell, pos in zip(row, paper_starts(row), strict=True):
            lead = lead_index(cell.lead)
            a, b = sample_bounds(cell.start, cell.end, fs)
            # The pen runs to the cell's end time, holding the last sample, as a paper recorder does.
            t = np.append(np.arange(a, min(b, n)) / fs, min(cell.end, n / fs))
            vals = cell.sign * record.signal[lead, a:min(b, n)].astype(np.float64)
            xs = x_origin + (t - cell.start + pos) * cfg.speed * ppm
            ys = base - np.append(vals, vals[-1:]) * mv
            pen.line(xs, ys)
            cx0 = x_origin + pos * cfg.speed * ppm
            cx1 = cx0 + (cell.end - cell.start) * cfg.speed * ppm
            boxes.append(CellBox(LEADS[lead], cell.start, cell.end, cx0, cx1, base, r, cell.inverted))
            if cfg.label_position != "none":
                dy = LABEL_OFFSETS_MM[cfg.label_position] * ppm
                label = f"-{LEADS[lead]}" if cell.inverted else LEADS[lead]
                cv2.putText(page, label, (int(cx0 + 1.5 * ppm), int(base + dy)), font, font_scale, colour,
                            max(1, int(round(line_px)) - 1), cv2.LINE_AA)
            if cfg.separators and pos > 0:
                pen.line(np.array([cx0, cx0]), np.array([base - 3 * ppm, base + 3 * ppm]))
    page_marks.draw(page, cfg.marks, cfg.marks_seed, ppm, cfg.margin_top)
    coverage = pen.lay_on(page, colour)
    head = cfg.header or (f"{record.record_id or 'record'}   {lay.name}   {cfg.speed:g} mm/s   {cfg.gain:g} mm/mV"
                          f"   {fs:g} Hz")
    cv2.putText(page, head, (int(cfg.margin_left * ppm), int(10 * ppm)), font, font_scale, (0, 0, 0),
                max(1, int(round(line_px)) - 1), cv2.LINE_AA)
    truth = RenderTruth(shown, fs, lay.name, ppm, cfg.speed, cfg.gain, tuple(boxes))
    return Rendering(page, truth, coverage)

