"""Photo or scan of a paper ECG -> the project's record type, with a quality report and an overlay.

Steps: refuse unreadable images; find and flatten the page; ink and grid evidence corrected for light;
deskew from the trace rows; px/mm along x and y from the grid's periodicity; find the printed rows; match
the layout (or take the one given); trace every row; read the calibration pulse for mV; place each lead's
samples at their true time, NaN elsewhere. numpy + OpenCV only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from itertools import combinations

import cv2
import numpy as np

from edgeecg.imaging import confidence, labels, layout_match, orientation, segment, thin_strokes
from edgeecg.imaging import grid as gridscale
from edgeecg.imaging.grid_removal import marks_level, without_grid_lines
from edgeecg.imaging.layout_match import Order
from edgeecg.imaging.page import (
    CrowdedPageError,
    DigitizeError,
    Page,
    UnsureReadError,
    check_orientation,
    check_readable,
    darkness,
    find_page,
    grid_floor,
    ink_threshold,
    rectify,
    rotate,
    sharpness,
    skew_angle,
)
from edgeecg.imaging.render import PAPERS
from edgeecg.imaging.trace import (
    MIN_ROW_MM,
    RowTrace,
    end_pulse,
    fill_gaps,
    find_rows,
    line_width,
    pen_end,
    pen_start,
    pen_width,
    pulse_shape,
    remove_rules,
    remove_specks,
    row_extent,
    row_profile,
    tick_x,
    trace_row,
    without_rows,
)
from edgeecg.layouts import LAYOUTS, VENDOR, Cell, Layout, get_layout, observed_mask, paper_starts, sample_bounds
from edgeecg.record import LEADS, Record, lead_index

MIN_PX_PER_MM = 2.0
"""The least resolution a print is read at, in the image as given: below 2 px a 1 mm grid is past Nyquist and
cannot have been measured (a 72 dpi screenshot is 2.8 px/mm). Reads near it are coarse (0.1 mV at 10 mm/mV is a
fifth of a pixel); the calibrated confidence weighs the resolution."""
MIN_SHARPNESS = 0.3
"""Below this focus measure (page.sharpness) 1 mm detail is gone: a 200 dpi render blurred with sigma 4 px
scores 0.20, the worst simulated poor-photo about 0.5, the real images 0.6-1.8."""
MIN_COMPLETENESS = 0.6
"""Below this share of the printed traces followed (times the scale, pulse and ambiguity factors) a read is refused
before anything else is weighed; the calibrated confidence (confidence.py) then has the last word."""
FAINT_LEVELS = (0.8, 0.65)
"""Fractions of an image's own ink level tried in turn where nothing readable comes out at that level: a faint,
motion-blurred trace falls apart at the level that bold labels and the grid pull Otsu's threshold to."""
END_SPREAD_MM = 1.0
"""How far (median, mm) the rows' pen ends may lie from their median before a read says that its time zero is in
doubt; the confidence weighs the spread up to this much (a read 10-20 ms off scores below 5 dB)."""
SECOND_TRY_COMPLETENESS = 0.75
"""The completeness a second try (a lower ink level, a floor over a dark grid) must reach: more of the paper's noise
passes at a lower level, and a read that only just reaches MIN_COMPLETENESS at such a level is often one whose
amplitudes are wrong."""


@dataclass(frozen=True)
class DigitizeConfig:
    """What the digitizer may assume. `gain=None` reads the calibration pulse (10 mm/mV if there is none)."""

    layout: str = "auto"
    fs: float = 500.0
    speed: float = 25.0
    gain: float | None = None
    duration: float = 10.0
    orientation: str = "auto"      # auto: find which way up the page lies (orientation.py); as-given: trust it
    tracer: str = "classical"      # classical: thresholds; net: ink only where the trace segmenter sees trace
    labels: bool = True            # read the printed lead labels to tell layouts that print alike apart
    min_confidence: float | None = None   # refuse reads below this calibrated confidence; None: the model's bar

    def __post_init__(self) -> None:
        check_orientation(self.orientation, self.tracer)
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            raise DigitizeError(f"min_confidence {self.min_confidence}: use a probability between 0 and 1")


@dataclass
class LeadQuality:
    lead: str
    coverage: float      # share of the samples the layout shows (and the image, where it cut them) that were traced
    confidence: float


@dataclass
class Quality:
    """What the digitizer found and how sure it is; `confidence` in [0, 1]."""

    confidence: float
    layout: str
    layout_detected: bool
    layout_margin: float
    page_found: bool
    rotation_deg: float
    px_per_mm_x: float           # in the flattened working page the traces were read in
    px_per_mm_y: float
    grid_found: bool
    gain_mm_per_mv: float
    pulse_found: bool
    sharpness: float
    rows: int
    leads: list[LeadQuality] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    input_px_per_mm_x: float = 0.0   # in the image as given (a photo's perspective makes it a mean over the page)
    input_px_per_mm_y: float = 0.0
    orientation: str = "as given"    # how the page lay in the image (it was read turned upright)
    tracer: str = "classical"
    completeness: float = 0.0        # share of the printed traces followed, times scale, pulse and ambiguity factors
    ambiguous: float = 0.0           # share of columns where several runs of ink competed
    second_try: bool = False         # read at a lower ink level or over a dark grid
    band_crossing: float = 0.0       # share of traced columns where a wave left its row's band for a neighbour's
    pulse_gain_gap: float = 0.0      # |log| of the standard gain taken over the gain the pulse measured
    end_spread_mm: float = 0.0       # the rows' pen ends' median distance from their median: time zero's doubt
    copy_exactness: float | None = None   # how exactly leads printed twice (a strip and its cell) read alike
    labels_read: labels.LabelEvidence = labels.LabelEvidence(0, 0, 0)   # the chosen layout's printed labels
    features: dict[str, float] = field(default_factory=dict)            # what the confidence was computed from

    @property
    def input_dpi(self) -> float:
        return 25.4 * (self.input_px_per_mm_x + self.input_px_per_mm_y) / 2

    def as_dict(self) -> dict:
        return {**asdict(self), "input_dpi": round(self.input_dpi, 1)}


@dataclass
class PlacedCell:
    """A layout cell placed on the flattened page (for the overlay and for scoring)."""

    lead: str
    start: float
    end: float
    row: int
    x0: float
    x1: float
    baseline: float
    inverted: bool = False


@dataclass
class Digitized:
    record: Record
    quality: Quality
    flat: np.ndarray                 # the flattened page (RGB), before deskew and pitch evening
    rows: list[RowTrace]
    cells: list[PlacedCell]
    rotation: np.ndarray | None = None                      # 2x3 deskew map
    remaps: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # pitch evening, row alignment

    @property
    def page(self) -> np.ndarray:
        """The page in the coordinates the traces were read in (RGB); built on demand, only overlays need it."""
        img = self.flat
        if self.rotation is not None:
            img = cv2.warpAffine(img, self.rotation, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
        for maps in self.remaps:
            img = _remap_all(maps, img)[0]
        return img


def _ink_mask(ink: np.ndarray, level: float = 1.0, floor: float = 0.0, split_strokes: bool = False,
              base: float | None = None) -> np.ndarray:
    """uint8 mask (255 = trace ink) at the image's own Otsu level (or `base`) times `level`, or above the grid's
    `floor`; redone after every resampling of `ink`. With `split_strokes`, so do the pixel pairs that
    anti-aliasing split a thin stroke into (thin_strokes)."""
    threshold = max(level * (ink_threshold(ink) if base is None else base), floor)
    mask = ink > threshold
    if split_strokes:
        mask = thin_strokes.with_split_pixels(mask, ink, threshold)
    return mask.astype(np.uint8) * 255


def _within(mask: np.ndarray, trace_area: np.ndarray | None) -> np.ndarray:
    """The ink mask where the segmenter sees trace (all of it without one); `trace_area` is 0 or 255."""
    return mask if trace_area is None else cv2.bitwise_and(mask, trace_area)


def _above_grid(ink: np.ndarray, mask: np.ndarray, level: float, floor: float, dark_grid: bool = False,
                split_strokes: bool = False) -> tuple[float, np.ndarray]:
    """(floor, mask) raised above the printed grid's ink level where its lines passed the threshold (with
    `dark_grid`, where they passed it in dashes too)."""
    raised = grid_floor(ink, mask, broken_lines=dark_grid)
    return (floor, mask) if raised <= floor else (raised, _ink_mask(ink, level, raised, split_strokes))


def _near_ink(mask: np.ndarray) -> np.ndarray:
    """bool: ink and its 1-pixel fringe, blanked before reading the grid (anti-aliased trace edges are not grid)."""
    return cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0


def _remap_all(maps: tuple[np.ndarray, np.ndarray], *images: np.ndarray) -> list[np.ndarray]:
    return [cv2.remap(im, *maps, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) for im in images]


def _printed_labels(ink: np.ndarray, rows: list[RowTrace], ranked: list[tuple[float, Layout, Order]], x0: float,
                    sec_px: float, ppm_x: float, ppm_y: float, cfg: DigitizeConfig, notes: list[str]
                    ) -> list[labels.LabelEvidence] | None:
    """How the lead labels printed at each candidate's cell starts agree with it, read once per position; None
    where labels are not read (`cfg.labels`, or the reader cannot be loaded: noted once)."""
    if not cfg.labels:
        return None
    cells = [[((r, round(x0 + pos * sec_px, 1)), c.lead, c.inverted)
              for r, row in enumerate(order) for c, pos in zip(row, paper_starts(row), strict=True)]
             for _, _, order in ranked]
    try:
        read_at = labels.read(ink, [r.baseline for r in rows], (p for cs in cells for p, _, _ in cs), ppm_x, ppm_y)
    except labels.LabelReaderError as err:
        note = f"lead labels not read: {err}"
        if note not in notes:
            notes.append(note)
        return None
    return [labels.evidence(read_at, cs) for cs in cells]


def _refine_origin(ink: np.ndarray, rows: list[RowTrace], order: tuple[tuple[Cell, ...], ...], x0: float,
                   sec_px: float, ppm: float, fit_scale: bool, clipped: bool) -> tuple[float, float]:
    """(time-zero column, px per second): separator ticks at cell boundaries where the print
    has them, else the trace ends. Ticks at times 4 s or more apart (or any two, without a grid) also fit the
    px/s scale: over 1000 px they beat a grid pitch measured through a photo's residual perspective."""
    pos_x = []
    # Where the traces' ends are in view, the first guess is within a millimetre, and a narrow search keeps
    # out an R-S stroke that crosses the baseline like a tick (in simultaneous layouts, in every row at once);
    # where the chart's outline clipped them, it can be millimetres off.
    reach = 5.0 if clipped else 1.2
    level = ink_threshold(ink)
    searched = 0
    for row, cells in zip(rows, order, strict=True):
        for pos in paper_starts(cells)[1:]:
            searched += 1
            x = tick_x(ink, row, x0 + pos * sec_px, ppm, level, reach_mm=reach)
            if x is not None:
                pos_x.append((pos, x))
    if len(pos_x) < 2:
        return x0, sec_px
    pos, xs = np.array(pos_x).T
    offsets = xs - pos * sec_px
    agree = np.abs(offsets - np.median(offsets)) < 0.5 * ppm  # ticks agree; a QRS mistaken for one does not
    if agree.sum() < 2:
        return x0, sec_px
    # ...unless all of them sit at one boundary time: in a simultaneous layout (2x6, 6x2) every row's 5 s boundary
    # falls on the same beat, whose R-S strokes cross the baseline like ticks in some rows at once. Printed ticks
    # show in every row, in one column.
    one_time = len(set(pos[agree].tolist())) == 1
    if one_time and (agree.sum() < searched or np.ptp(offsets[agree]) > 0.25 * ppm):
        return x0, sec_px
    pos, xs = pos[agree], xs[agree]
    scaled = (fit_scale or np.ptp(pos) >= 4.0) and np.ptp(pos) > 0  # ticks 4 s apart pin the scale to 0.1 %
    return _agreeing_ticks(pos, xs, sec_px, 0.25 * ppm, scaled, x0) or (x0, sec_px)


def _agreeing_ticks(pos: np.ndarray, xs: np.ndarray, sec_px: float, tol: float, scaled: bool, guess: float
                    ) -> tuple[float, float] | None:
    """(time-zero column, px per second) from the most ticks (at times `pos`, columns `xs`) within `tol` px of one
    line: of slope `sec_px`, or with `scaled`, any slope within 5 % of it; None if fewer than two agree. Of lines
    that hold as many ticks, the one whose time zero lies nearest `guess` (the pens' ends) wins: a photo's ticks
    fell into two pairs a millimetre and a quarter apart, and the first pair found had won, wherever it lay.

    Printed ticks agree to a tenth of a millimetre or so; a QRS or grid line taken for one lies up to a
    millimetre off. Averaged in, two such ticks had met halfway (time zero half a millimetre from either), and one
    in a line fit had tilted a 3x4's last column; a tolerance tight enough to leave them out of a mean at the
    measured scale also left out every tick of a photo whose scale was half a per cent off, hence lines of their
    own slope.
    """
    lines = [(sec_px, x - p * sec_px) for p, x in zip(pos, xs, strict=True)]
    if scaled:
        lines += [((xb - xa) / (pb - pa), xa - pa * (xb - xa) / (pb - pa))
                  for (pa, xa), (pb, xb) in combinations(zip(pos, xs, strict=True), 2) if pb != pa]
    best, inliers = (0, 0.0), None
    for slope, icpt in lines:
        off = np.abs(xs - icpt - slope * pos)
        near = off < tol
        rank = (int(near.sum()), -abs(icpt - guess))
        if abs(slope / sec_px - 1) < 0.05 and rank > best:
            best, inliers = rank, near
    if inliers is None or best[0] < 2:
        return None
    pos, xs = pos[inliers], xs[inliers]
    if scaled and np.ptp(pos) > 0:
        slope, icpt = np.polyfit(pos, xs, 1)
        return float(icpt), float(slope)
    return float(np.median(xs - pos * sec_px)), sec_px


def _align_rows(shifts: np.ndarray | None, baselines: list[float], shape: tuple[int, int]
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """Remap maps that line every row's vertical grid lines up with the middle row's (`shifts`: row_alignment)."""
    h, w = shape
    if shifts is None or gridscale.rows_apart(shifts, w) < 0.1:  # a tenth of a pixel is 0.7 ms at 150 dpi: a
        return None                                                # third of a 500 Hz sample
    x = np.arange(w, dtype=np.float32)
    ys = np.arange(h, dtype=np.float32)
    a = np.interp(ys, baselines, shifts[:, 0]).astype(np.float32)
    b = np.interp(ys, baselines, shifts[:, 1]).astype(np.float32)
    map_x = x[None, :] + a[:, None] + b[:, None] * x[None, :]
    map_y = np.broadcast_to(ys[:, None], (h, w)).astype(np.float32)
    return map_x.astype(np.float32), np.ascontiguousarray(map_y)


def _even_rows(clean: np.ndarray, baselines: list[float], counts: set[int], ppm: float) -> list[float]:
    """Evenly spaced baselines where one row's band of ink was split in two.

    Printers space rows evenly; baseline wander or a tall neighbour can split one row's band into two peaks,
    which gives one row too many. Then an even comb of the next printable count between the outer rows found
    replaces them, if its spacing is the spacing most rows were found at and it lands on ink as well as they
    did. Anything else is left for the layout match to refuse.
    """
    fewer = [n for n in counts if 2 <= n < len(baselines)]
    if not fewer:
        return baselines
    n = max(fewer)
    spacing = (baselines[-1] - baselines[0]) / (n - 1)
    if abs(spacing / float(np.median(np.diff(baselines))) - 1) > 0.15:
        return baselines
    prof = row_profile(clean, ppm)
    comb = np.linspace(baselines[0], baselines[-1], n)
    if prof[np.round(comb).astype(int)].mean() < 0.5 * prof[np.round(baselines).astype(int)].mean():
        return baselines
    return [float(p) for p in comb]


def _trace_rows(clean: np.ndarray, ink: np.ndarray, baselines: list[float], pitch: float, lw: float, ppm: float,
                pen: float) -> list[RowTrace]:
    """Every row traced within the band halfway to its neighbours; a row whose waves ran into that band's
    edge towards a neighbour (12x1 prints: rows 15 mm apart, a 2 mV S wave is 20 mm) again, out to the
    neighbours' baselines, with the neighbours' own traced ink taken out of its way."""
    first = []
    for i, base in enumerate(baselines):
        top = (baselines[i - 1] + base) / 2 if i else base - 0.65 * pitch
        bottom = (base + baselines[i + 1]) / 2 if i + 1 < len(baselines) else base + 0.65 * pitch
        first.append(trace_row(clean, ink, base, int(top), int(bottom), lw, ppm, pen))
    rows = list(first)
    reach = np.ones(2 * int(2.0 * ppm) + 1, np.uint8)  # a QRS's strokes lie within 2 mm of its cut-off tip
    for i, (base, row) in enumerate(zip(baselines, first, strict=True)):
        cut = row.clipped(top=i > 0, bottom=i + 1 < len(baselines))
        if cut.sum() < 2:
            continue
        # towards a neighbour only: beyond the outer rows lie the header and footer, whose text nobody removes
        top = baselines[i - 1] if i else row.top
        bottom = baselines[i + 1] if i + 1 < len(baselines) else row.bottom
        own = without_rows(clean, [first[j] for j in (i - 1, i + 1) if 0 <= j < len(first)])
        wide = trace_row(own, ink, base, int(top), int(bottom), lw, ppm, pen)
        # only around the cut-off waves: elsewhere the wide band adds nothing but the neighbours' leftovers
        near = cv2.dilate(cut.astype(np.uint8).reshape(1, -1), reach.reshape(1, -1)).ravel() > 0
        rows[i] = row.spliced(wide, near)
    return rows


def _printable_rows(rows: list[RowTrace], counts: set[int], ppm: float) -> list[RowTrace]:
    """The rows less those that are not traces of their own, then less outer ones that are not traces, until
    their number is one a layout prints.

    Printers space rows evenly and print every row across the whole strip: of two rows much closer than the
    rest (a crease or a shadow split one band in two) the weaker goes, and so does an outer row much shorter
    than the others (a line of header text). A header line or the shadowed edge of the sheet can also pass
    for a full row; they sit above or below the traces, and they are gappy (text) or dead level (an edge),
    where a trace is continuous and moves.
    """
    def trace_like(row: RowTrace) -> float:
        y = row.y[row.x_start: row.x_end + 1]
        ok = np.isfinite(y)
        moves = float(np.std(y[ok])) / ppm if ok.sum() > 2 else 0.0
        return float(ok.mean()) * min(1.0, moves / 0.5)

    rows = list(rows)
    while len(rows) > max(2, min(counts)):
        gaps = np.diff([r.baseline for r in rows])
        i = int(np.argmin(gaps))
        if gaps[i] >= 0.5 * float(np.median(gaps)):
            break
        rows.pop(i if trace_like(rows[i]) < trace_like(rows[i + 1]) else i + 1)
    extent = float(np.median([r.x_end - r.x_start for r in rows]))
    while len(rows) > min(counts):
        end = 0 if rows[0].x_end - rows[0].x_start < rows[-1].x_end - rows[-1].x_start else -1
        if rows[end].x_end - rows[end].x_start >= 0.6 * extent:
            break
        rows.pop(end)
    while len(rows) not in counts and len(rows) > min(counts):
        end = 0 if trace_like(rows[0]) < trace_like(rows[-1]) else -1
        if trace_like(rows[end]) >= 0.5:  # both ends are traces: the count is the print's (or --layout is wrong)
            break
        rows.pop(end)
    return rows


CUT_S = 1.5
"""How much of the printed time an image may cut off at its edge and still be read, the rest NaN: a screenshot or
a web image cropped a few millimetres into the traces."""
SHORT_S = 0.3
"""Traces that run into the image's right edge and span this much less than the printed time were cut there (a
photo's outline that clips their ends takes a few millimetres, and is widened and read again)."""


def _common_edge(edges: np.ndarray, ppm: float, last: bool) -> float:
    """Where every row's pen stopped (`last`; else started), from each row's own reading of it: their median,
    unless a gap of over a millimetre splits the rows and at least half of them lie beyond it, whose median it
    is then. A row whose tracer lost the trace's last millimetres (a faint or thin stroke, one along a grid
    line) stops short, never past; where half of the rows did (three of a 75 dpi 2x6's six), the median fell
    between the two groups, millimetres off. A poor photo's ends scatter by a millimetre or two without a split, and
    the median of them all serves best there."""
    far = np.sort(edges)[::-1] if last else np.sort(edges)
    gaps = np.abs(np.diff(far))
    split = int(np.argmax(gaps)) + 1 if gaps.size else 0
    if split and gaps[split - 1] > ppm and 2 * split >= len(far):
        return float(np.median(far[:split]))
    return float(np.median(edges))


LEAN_FIT_MM = 0.1
"""How closely (median, mm) the rows' pen ends must lie on one straight line for its lean to be taken as the page's."""
MIN_LEAN_DEG = 0.1
"""A lean of the rows' ends smaller than this is left as read: 0.1 degree moves rows 40 mm apart by 0.07 mm."""


def _ends_lean(ends: np.ndarray, baselines: np.ndarray, ppm: float) -> float | None:
    """The tilt in degrees still left in a page (to add to the one it was turned by) where its rows' pen ends,
    which a printer lines up down the page, lie on one leaning line; None where they lie straight, too few rows
    say so, or they scatter (a row's tracer lost its last millimetres).

    On a page without a grid the tilt is read off the traces' baselines, which are not level on a page printed
    square: each cell rests at its own lead's level, and a signal whose baseline drifts over the 10 s tilts every
    row alike (a rendered grid-less 3x4 read tilted by a few tenths of a degree, its rows ever later down the page:
    3.3 dB, stated 0.97). The ends are where the page's time runs out, which no signal moves."""
    if len(ends) < 3:
        return None
    i, j = np.triu_indices(len(ends), 1)
    apart = baselines[j] - baselines[i]
    keep = np.abs(apart) > 2 * ppm
    if not keep.any():
        return None
    slope = float(np.median((ends[j] - ends[i])[keep] / apart[keep]))   # Theil-Sen: a stray row is outvoted
    residual = ends - slope * baselines
    if np.median(np.abs(residual - np.median(residual))) > LEAN_FIT_MM * ppm:
        return None
    lean = -float(np.degrees(np.arctan(slope)))   # the further turn that stands the ends' line upright
    return lean if MIN_LEAN_DEG <= abs(lean) <= 5.0 else None


def _cut_origin(ink: np.ndarray, clean: np.ndarray, rows: list[RowTrace], pen: float, lw: float, x_end: float,
                span: float, sec_px: float, ppm: float, cfg: DigitizeConfig, pulse: bool, notes: list[str]) -> float:
    """Time zero's column where the traces span less than the printed time because the image cuts them: from
    where the pen stopped if the image cut their start, from where it started (no pulse before them) if it cut
    their end, and where it cut both, whichever the printed labels (then the cell boundaries) fit better. A
    DigitizeError where the traces end inside the image at both ends (a wrong paper speed) or too much is cut."""
    start_cut = np.median([r.x_start for r in rows]) <= 2 + lw
    end_cut = x_end >= ink.shape[1] - 3 - lw
    if span < cfg.duration - CUT_S or not (start_cut or end_cut):
        raise DigitizeError(f"the traces span {span:.1f} s at {cfg.speed:g} mm/s, less than the {cfg.duration:g} s "
                            "a printed ECG shows: wrong paper speed (--speed) or a page cropped into its traces")
    if end_cut and pulse and not start_cut:
        raise DigitizeError(f"the image cuts off the traces' end ({cfg.duration - span:.1f} s) and each row starts "
                            "with a calibration pulse, so time zero cannot be placed; photograph the whole page")
    origins = []
    if start_cut:
        origins.append((x_end - cfg.duration * sec_px, "start"))
    if end_cut and not pulse:
        origins.append((float(np.median([pen_start(ink, r, pen, ppm) for r in rows])), "end"))
    if len(origins) > 1:
        # the printed labels sit at the cells' starts, where the boundaries between cells (gaps, ticks) are too
        # faint to tell at a web image's resolution
        fits = []
        for x, _ in origins:
            ranked = layout_match.match_layout(clean, rows, x, sec_px, ppm) if cfg.layout == "auto" else \
                [(0.0, *_given_layout(cfg.layout, len(rows)))]
            printed = _printed_labels(ink, rows, ranked, x, sec_px, ppm, ppm, cfg, notes) or []
            fits.append((max((e.score for e in printed), default=0), ranked[0][0]))
        origins = [origins[max(range(len(fits)), key=fits.__getitem__)]]
    x0, cut = origins[0]
    notes.append(f"the image cuts off the traces' {cut}: {cfg.duration - span:.1f} s of them are not in it (NaN)")
    return x0


def _in_view(placed: list[PlacedCell], sec_px: float, fs: float, n: int, width: int) -> np.ndarray:
    """bool [12, n]: True at the samples that some placed cell prints on a column of the image."""
    seen = np.zeros((len(LEADS), n), bool)
    for pc in placed:
        k, x = _sample_columns(pc.start, pc.end, pc.x0, sec_px, fs)
        keep = (k >= 0) & (k < n)
        seen[lead_index(pc.lead), k[keep]] |= (x[keep] >= 0) & (x[keep] <= width - 1)
    return seen


def _sample_columns(start: float, end: float, x0: float, sec_px: float, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """(sample indices, page columns) of a cell showing `start`-`end` s, printed from column `x0`."""
    k = np.arange(*sample_bounds(start, end, fs))
    return k, x0 + (k / fs - start) * sec_px


def _given_layout(name: str, n_rows: int) -> tuple[Layout, tuple[tuple[Cell, ...], ...]]:
    layout = get_layout(name)
    for order in layout_match.row_orders(layout):
        if len(order) == n_rows:
            return layout, order
    raise DigitizeError(f"layout {layout.name} prints {len(layout.rows)} rows but the image shows {n_rows}; check "
                        f"--layout (or use --layout auto)")


def _scale(width: int, grid_img: np.ndarray, mask: np.ndarray, found_page: bool,
           near: tuple[float, float] | None = None) -> tuple[float, float, bool, list[str]]:
    prior = width / 297.0
    sx, sy = gridscale.measure(grid_img, _near_ink(mask), prior, near)
    notes = []
    # a sheet flattened from its outline keeps the outline's proportions, which a 30-degree camera tilt
    # foreshortens by up to a quarter; a scan's millimetres are square
    stretch = 1.3 if found_page else 1.15
    if sx and sy and 1 / stretch < sx.px_per_mm / sy.px_per_mm < stretch:
        return sx.px_per_mm, sy.px_per_mm, True, notes
    one = sx if sx and (not sy or sx.strength >= sy.strength) else sy
    if one and one.major_found and one.strength > 0.3 and 0.5 < one.px_per_mm / prior < 2.0:
        notes.append("grid measured along one axis only")
        return one.px_per_mm, one.px_per_mm, True, notes
    notes.append("no ECG grid found: scale taken from the page width (assumes a full A4 page in view)"
                 if not found_page else "no ECG grid found: scale taken from the page outline")
    return prior, prior, False, notes


SHEET_SHAPE_TOL = 0.02
"""How closely (|log| of the ratio) an image's width over height must match a paper's for the image to be taken as
that sheet's frame. A4 and Letter lie 0.089 apart in it, so 0.02 leaves no doubt which one matches."""
PULSE_SCALE_TOL = 0.10
"""How far (|log|) a calibration pulse's scale may lie from the one the sheet's shape gives: a pulse's width reads to
a pixel, 5 % at 20 px; a sheet's shape with a pulse a tenth off is not the sheet's frame."""


def _sheet_scale(shape: tuple[int, int], estimate: float, frame_is_sheet: bool) -> tuple[float, float, str] | None:
    """(px/mm along x, along y, paper) from the sheet's size: a flattened sheet's outline, or a scan's frame.

    A pulse is 5 mm wide, 20-40 px: a pixel's error there is 3-5 % of the scale and 8-12 mm at the end of a 10 s
    strip; the sheet's width pins it to the outline's precision. Where the image is the sheet as scanned or
    exported (`frame_is_sheet`: no outline was flattened, whose proportions a camera's tilt changes), its shape
    tells A4 from Letter (9 % apart), and the pulse only has to agree to PULSE_SCALE_TOL: at 100 dpi a pulse read
    a pixel narrow had taken a Letter page for A4, its signals 6 % too slow, at confidence 0.99. Else the paper
    is the one whose width agrees with the pulse's `estimate` to 3 % (A4 and Letter are 6 % apart). The height
    gives the vertical scale where it agrees too (a cropped photo's frame does not)."""
    h, w = shape

    def pulse_off(w_mm: float) -> float:   # how far the pulse's scale lies from this paper's width's
        return abs(float(np.log(w / w_mm / estimate)))

    if frame_is_sheet:
        for name, (w_mm, h_mm) in PAPERS.items():
            if abs(np.log(w / h * h_mm / w_mm)) < SHEET_SHAPE_TOL and pulse_off(w_mm) < PULSE_SCALE_TOL:
                return w / w_mm, h / h_mm, name
    name, (w_mm, h_mm) = min(PAPERS.items(), key=lambda kv: pulse_off(kv[1][0]))
    if pulse_off(w_mm) > 0.03:
        return None
    ppm_y = h / h_mm if abs(np.log(h / h_mm / estimate)) < 0.03 else w / w_mm
    return w / w_mm, ppm_y, name


def _cell_values(row: RowTrace, cell: Cell, xa: float, sec_px: float, mv_px: float, fs: float,
                 baseline: float, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """(sample indices, mV values) of the cell printed from column xa, read at the sample times."""
    k, x = _sample_columns(cell.start, cell.end, xa, sec_px, fs)
    y = row.y
    if row.px.size < 2:
        return k, np.full(len(k), np.nan)
    # Only this cell's own columns: at a boundary the previous lead's pen ends where this one starts.
    xb = xa + (cell.end - cell.start) * sec_px
    inside = (row.px > xa + margin) & (row.px < xb - margin)
    if inside.sum() < 2:
        return k, np.full(len(k), np.nan)
    px, py = row.px[inside], row.py[inside]
    vals = np.interp(x, px, py)
    if sec_px / fs >= 1.0:  # samples a pixel or more apart: a wave's tip can fall between two of them
        _snap_apexes(vals, x, px, py, sec_px / fs)
    nearest = np.clip(np.round(x).astype(int), 0, len(y) - 1)
    vals[~np.isfinite(y[nearest])] = np.nan
    vals[(x < 0) | (x > len(y) - 1)] = np.nan
    return k, (baseline - vals) / mv_px


def _snap_apexes(vals: np.ndarray, x: np.ndarray, px: np.ndarray, py: np.ndarray, step: float) -> None:
    """Each sample read as a sharp apex (2 px beyond both neighbours) takes the path's extreme within half a
    sample of it.

    A printed trace is a polyline through the samples, so its tips lie at sample times; a path read a
    fraction of a pixel off in x puts a QRS tip between two samples, and interpolation reads both on the
    steep flanks. On the bench scans the path reached the tips within 0.005 mV (median) and the samples
    read them 0.018 mV short. The extreme must be backed by a second path point within 2 px of it: a lone
    stray read (a speck, a label's stroke) is not a tip.
    """
    if len(vals) < 3:
        return
    mid = vals[1:-1]
    up = (mid < vals[:-2] - 2.0) & (mid < vals[2:] - 2.0)  # image rows grow downwards: a tip up is a minimum
    down = (mid > vals[:-2] + 2.0) & (mid > vals[2:] + 2.0)
    for k in np.flatnonzero(up | down) + 1:
        a, b = np.searchsorted(px, [x[k] - step / 2, x[k] + step / 2])
        if b <= a:
            continue
        ext = py[a:b].min() if up[k - 1] else py[a:b].max()
        if np.count_nonzero(np.abs(py[max(0, a - 3): b + 3] - ext) <= 2.0) < 2:
            continue
        vals[k] = min(vals[k], ext) if up[k - 1] else max(vals[k], ext)


def _fill_row_gaps(rows: list[RowTrace], ppm: float) -> None:
    """Bridges short breaks in every row's trace (under 2 mm: a label or tick crossing it), once, before reading."""
    for row in rows:
        row.y = fill_gaps(row.y, int(2.0 * ppm))


def _assemble(rows: list[RowTrace], order: Order, x0: float, sec_px: float, mv_px: float, fs: float, n: int,
              lw: float, ppm_y: float) -> tuple[np.ndarray, list[PlacedCell]]:
    """The [12, n] signal (NaN where not printed) the rows give when they print `order`, and its placed cells."""
    signal = np.full((len(LEADS), n), np.nan, np.float32)
    placed: list[PlacedCell] = []
    for r_idx, (row, cells) in enumerate(zip(rows, order, strict=True)):
        for cell, pos in zip(cells, paper_starts(cells), strict=True):
            xa, xb = x0 + pos * sec_px, x0 + (pos + cell.end - cell.start) * sec_px
            placed.append(PlacedCell(LEADS[lead_index(cell.lead)], cell.start, cell.end, r_idx, xa, xb,
                                     _cell_baseline(row, xa, xb, ppm_y), cell.inverted))
    # A rhythm strip and a grid cell can show the same lead at the same time: the longest trace is written
    # first and the others only fill what it lacks, so a lead is one piece with one isoelectric level.
    for pc in sorted(placed, key=lambda c: c.start - c.end):
        cell = Cell(pc.lead, pc.start, pc.end, pc.inverted)
        k, vals = _cell_values(rows[pc.row], cell, pc.x0, sec_px, mv_px, fs, pc.baseline, max(1.5, lw))
        keep = (k >= 0) & (k < n)
        lead = lead_index(pc.lead)
        current = signal[lead, k[keep]]
        signal[lead, k[keep]] = np.where(np.isnan(current), cell.sign * vals[keep], current)
    return signal, placed


def _cell_baseline(row: RowTrace, x_a: float, x_b: float, ppm: float) -> float:
    """The isoelectric line of one cell: the most common traced height (ECGs rest there between waves)."""
    seg = row.y[max(0, int(x_a)): max(0, int(x_b))]
    seg = seg[np.isfinite(seg)]
    if seg.size < 5:
        return row.baseline
    bins = max(1.0, 0.25 * ppm)
    hist, edges = np.histogram(seg, bins=np.arange(seg.min(), seg.max() + 2 * bins, bins))
    i = int(np.argmax(hist))
    near = seg[(seg >= edges[i] - bins) & (seg < edges[i + 1] + bins)]
    return float(np.median(near))


def digitize(image: np.ndarray, config: DigitizeConfig | None = None) -> Digitized:
    """Signals from an RGB photo or scan of a printed 12-lead ECG; DigitizeError when it cannot be read.

    The page may lie in the image any way round (mirrored, upside down, a quarter turn): it is read upright, or
    refused where the signals cannot tell which way up it is (orientation.py)."""
    cfg = config or DigitizeConfig()
    img = check_readable(image)
    corners = find_page(img)
    if cfg.orientation == "as-given":
        result = read_as_given(img, corners, cfg)
        e = orientation.evidence(result.record.signal, result.record.fs)
        _check_limb_laws(e.limb_laws)
        return _calibrated(result, e, orientation.sure(e), cfg)

    def read(turn: str, turned: np.ndarray) -> Digitized:   # the page's outline, found once for the image as given
        return read_as_given(turned, corners if turn == "as given" else find_page(turned), cfg)

    reading = orientation.upright(img, corners, read, read_summary, DigitizeError, UnsureReadError)
    if reading.turn != "as given":
        reading.result.quality.orientation = reading.turn
        reading.result.quality.notes.append(f"the page lay {reading.turn} in the image: read turned upright")
    if not reading.sure:
        e = reading.evidence
        how = "as given" if reading.turn == "as given" else "as the limb-lead laws say"
        reading.result.quality.notes.append(f"which way up the page lies is not certain (time direction "
                                            f"{e.direction:+.2f}, QRS polarity {e.polarity:+.2f}): read {how}")
    _check_limb_laws(reading.evidence.limb_laws)
    return _calibrated(reading.result, reading.evidence, reading.sure, cfg)


def read_summary(d: Digitized) -> orientation.ReadSummary:
    """What `orientation.upright` weighs of one reading of the page."""
    printed = d.quality.labels_read
    return orientation.ReadSummary(d.record.signal, d.record.fs, d.quality.pulse_found, d.quality.layout in VENDOR,
                                   printed.score / max(printed.cells, 1))


def read_features(result: Digitized, e: orientation.Evidence, sure: bool) -> confidence.ReadFeatures:
    """The numbers the calibrated confidence weighs, from a read and the evidence of which way up it lay."""
    q, signal = result.quality, result.record.signal
    cells = max(q.labels_read.cells, 1)
    return confidence.ReadFeatures(
        coverage=float(np.mean([lq.coverage for lq in q.leads])) if q.leads else 0.0,
        min_coverage=min((lq.coverage for lq in q.leads), default=0.0),
        grid_found=float(q.grid_found), pulse_found=float(q.pulse_found), ambiguous=q.ambiguous,
        layout_margin=float(np.clip(np.nan_to_num(q.layout_margin), 0.0, 10.0)),
        labels_matched=q.labels_read.matches / cells, labels_against=q.labels_read.contradictions / cells,
        limb_laws_trimmed=orientation.limb_agreement(signal, result.record.fs, confidence.LAWS_TRIM) or 0.0,
        laws_checked=float(e.limb_laws is not None),
        orientation_sure=float(sure), direction=float(np.clip(e.direction, -1.5, 1.5)), polarity=e.polarity,
        log_sharpness=float(np.log(max(q.sharpness, 1e-3))), second_try=float(q.second_try),
        page_found=float(q.page_found), log_px_per_mm=float(np.log(max(q.input_px_per_mm_x, 1e-3))),
        band_crossing=q.band_crossing, pulse_gain_gap=q.pulse_gain_gap,
        copy_exactness=0.0 if q.copy_exactness is None else q.copy_exactness,
        copies_checked=float(q.copy_exactness is not None),
        roughness=confidence.roughness(signal), log_amplitude=confidence.log_amplitude(signal),
        end_spread=float(np.clip(q.end_spread_mm, 0.0, END_SPREAD_MM)))


def _calibrated(result: Digitized, e: orientation.Evidence, sure: bool, cfg: DigitizeConfig) -> Digitized:
    """The read with its calibrated confidence (and each lead's: its coverage times it), or an UnsureReadError
    below the bar."""
    q = result.quality
    features = read_features(result, e, sure)
    model = confidence.load()
    p = model.probability(features)
    q.features, q.confidence = features.as_dict(), round(p, 3)
    q.leads = [replace(lq, confidence=round(lq.coverage * p, 3)) for lq in q.leads]
    bar = model.bar if cfg.min_confidence is None else cfg.min_confidence
    if p < bar:
        raise UnsureReadError(f"this read is likely wrong (calibrated confidence {p:.3f} < {bar:.3f}; "
                              f"{'; '.join(q.notes) or 'nothing else noted'}); retake it flat, in focus and whole, "
                              "pass --layout, or --min-confidence 0 to keep it as read")
    return result


MIN_LIMB_LAWS = 0.3
"""Agreement with Einthoven's and Goldberger's laws below which a read is refused, where its layout prints limb
leads at the same time. On the bench the worst misread agreed -0.11, and correct reads 0.52 and up; a real 3x4+3
photo read right by eye agrees 0.49, so the bar sits well below the reads' noise: it catches reads that are
plainly broken, not poor ones."""


def _check_limb_laws(agreement: float | None) -> None:
    if agreement is not None and agreement < MIN_LIMB_LAWS:
        raise UnsureReadError(f"the limb leads read do not obey Einthoven's and Goldberger's laws (agreement "
                              f"{agreement:.2f} < {MIN_LIMB_LAWS}): leads misplaced or traces misread; retake the "
                              "photo flat, in focus and whole, or pass --layout")


OUTLINE_GROWTH = (1.04, 1.10)
"""How much larger than the chart's outline the page is flattened again where the traces reach its edge, until
they do not. The grid's texture can stop short of the traces' ends by more than 4 % of the page: a photo's traces
still reached the edge of the first larger area, and their pens' ends, on which time zero hangs, read 1 mm early
(-2.1 dB). Where both still cut them, the 4 % read is kept."""


def read_as_given(img: np.ndarray, corners: np.ndarray | None, cfg: DigitizeConfig) -> Digitized:
    """One reading of the image as it lies (the page outline `corners`, or None): no other position tried,
    no limb-law check, no confidence bar. What `digitize` weighs for each position it tries."""
    result = _read_faint_too(img, corners, cfg)
    if corners is None or not _clipped(result, max):
        return result
    # the chart's outline cut a row's end, which time zero hangs on: flatten larger areas until most rows' ends
    # are inside (a row's ink can run on to the edge of a wider area: a desk's, an object's)
    centre, widened = corners.mean(axis=0), []
    for grow in OUTLINE_GROWTH:
        try:
            wider = _read_faint_too(img, centre + grow * (corners - centre), cfg)
        except DigitizeError:
            break
        if not _clipped(wider, np.median):
            return wider
        widened.append(wider)
    # still cut: the least widened read (the most widened one takes in more of what lies beyond the page)
    result = widened[0] if widened else result
    result.quality.notes.append("the traces reach the edge of the flattened chart: timing may be off")
    return result


def _clipped(result: Digitized, over: Callable[[list[int]], float]) -> bool:
    """True where the rows' traced ends, taken `over` the rows (max: any; median: most), reach the page's edge."""
    return over([r.x_end for r in result.rows]) >= result.flat.shape[1] - 3


def _no_rows(clean: np.ndarray, ppm_x: float, ppm_y: float, speed: float) -> DigitizeError:
    """Why no row of traces was found: rows too short for a printed ECG (a close-up of part of a page), or none."""
    short = find_rows(clean, ppm_y, min_mm=SHORT_ROW_MM)
    if short:
        mm = max(row_extent(clean, y, ppm_y) for y in short) / ppm_x
        return DigitizeError(f"found {len(short)} row(s) of trace spanning at most {mm:.0f} mm ({mm / speed:.1f} s at "
                             f"{speed:g} mm/s), less than the {MIN_ROW_MM:.0f} mm a printed row spans: a close-up of "
                             "part of the page; photograph the whole page")
    return DigitizeError("no ECG trace rows found: the image does not look like a printed ECG (or the traces "
                         "are too faint); photograph the whole page, flat and well lit")


SHORT_ROW_MM = 20.0
"""Rows of trace this long (under a second at 25 mm/s) are looked for where no row spans a printed one's 100 mm:
to say that an image is a close-up of part of a page rather than no ECG at all."""


def _read_faint_too(img: np.ndarray, corners: np.ndarray | None, cfg: DigitizeConfig) -> Digitized:
    """The page flattened and its ink and grid evidence read once, then `_read` at the image's own ink level,
    above a dark grid's dashes, and at the FAINT_LEVELS; where the first try found the page crowded with dark
    marks, at those levels again with the grid's lines taken out (grid_removal); the first try's refusal if none
    reads. Blur does not
    depend on the level: a blurred page is refused before any of them, and neither does whether the image is
    free of a sensor's noise (thin_strokes)."""
    page = rectify(img, corners)
    ink, grid_img = darkness(page.rgb)
    noise_free = thin_strokes.noise_free(ink, ink_threshold(ink))
    trace_area = None
    if cfg.tracer == "net":   # reach: 0.4 mm on a page the width of A4
        reach = max(1, int(round(0.4 * max(ink.shape) / 297.0)))
        trace_area = segment.near_trace(segment.load().probability(page.rgb), reach)
    sharp = sharpness(cv2.cvtColor(page.rgb, cv2.COLOR_RGB2GRAY))
    if sharp < MIN_SHARPNESS:
        raise DigitizeError(f"image is too blurred to read 1 mm detail (focus measure {sharp:.3f} < "
                            f"{MIN_SHARPNESS}); retake the photo in focus and without motion")
    try:
        return _read(page, ink, grid_img, sharp, cfg, trace_area, noise_free=noise_free)
    except DigitizeError as first:
        for level, dark_grid in ((1.0, True), *((lv, False) for lv in FAINT_LEVELS)):
            try:
                return _read(page, ink, grid_img, sharp, cfg, trace_area, level, dark_grid, noise_free)
            except DigitizeError:
                continue
        if isinstance(first, CrowdedPageError):
            for level in (1.0, *FAINT_LEVELS):
                try:
                    return _read(page, ink, grid_img, sharp, cfg, trace_area, level, noise_free=noise_free,
                                 grid_removed=True)
                except DigitizeError:
                    continue
        raise first from None


def _not_crowded(mask: np.ndarray) -> None:
    """ECG traces and labels cover a few per cent of a page (uniform noise: 14 %)."""
    dark = float(np.count_nonzero(mask)) / mask.size
    if dark > 0.13:
        raise CrowdedPageError(f"the image does not look like a printed ECG: dark marks cover {dark:.0%} of it (a "
                               f"page of traces has a few per cent); photograph the ECG page itself")


def _read(page: Page, ink: np.ndarray, grid_img: np.ndarray, sharp: float, cfg: DigitizeConfig,
          trace_area: np.ndarray | None, level: float = 1.0, dark_grid: bool = False, noise_free: bool = False,
          grid_removed: bool = False, angle: float | None = None) -> Digitized:
    """One reading at `level` of the image's ink threshold (with `dark_grid`, raised over a grid whose lines pass
    it in dashes); with `trace_area` (where the segmenter sees trace), the ink mask is cut to it after the
    thresholds and the grid's level are found on the whole page, as without it. A `noise_free` image whose pen
    is a pixel wide has the pixel pairs that anti-aliasing split its strokes into read as ink too (thin_strokes);
    the pen's width is judged above the grid's level, where the grid's lines no longer pass for strokes. With
    `grid_removed`, the grid's lines are taken out of the deskewed ink and the rest read at `level` of what then
    parts paper from marks (`grid_removal.marks_level`). `angle`: the page's tilt as already known (`_ends_lean`), not
    estimated again."""
    given_ink, given_grid, given_area = ink, grid_img, trace_area   # as passed in: a re-read turns them afresh
    notes: list[str] = [] if level == 1.0 else [f"faint traces: read at {level:.0%} of the image's own ink level"]
    if grid_removed:
        notes.append("a grid as dark as the trace: read with its lines taken out")
    mask = _ink_mask(ink, level)
    # a crisp grid that passed the threshold (clean exports: square to the image, so its lines can be found
    # before any deskewing) is read above, else it would crowd the page
    floor, mask = _above_grid(ink, mask, level, 0.0, dark_grid)
    split_strokes = noise_free and thin_strokes.one_pixel_pen(mask > 0)
    if split_strokes:
        mask = _ink_mask(ink, level, floor, split_strokes)
    if dark_grid and floor > 0:
        notes.append("a dark grid passed the ink level in dashes: read above it")
    if not grid_removed:
        _not_crowded(mask)
    mask = _within(mask, trace_area)
    # a page flattened from its outline is square to within a degree or so; a wide search there only finds
    # the grid's own diagonals (lattice points line up at atan(1/11) = 5.2 degrees too)
    tilt = skew_angle(cv2.add(grid_img // 2, mask // 2), max_deg=1.5 if page.found_page else 5.0) \
        if angle is None else angle
    rotation, remaps = None, []
    if abs(tilt) >= 0.02:
        ink, rotation = rotate(ink, tilt)
        grid_img, _ = rotate(grid_img, tilt)
        if trace_area is not None:   # rotation interpolates: back to 0 or 255
            trace_area = cv2.threshold(rotate(trace_area, tilt)[0], 127, 255, cv2.THRESH_BINARY)[1]
    base = None
    if grid_removed:   # after deskewing: the grid's lines run along pixel rows and columns
        ink, floor = without_grid_lines(ink), 0.0
        base = marks_level(ink)
        mask = _ink_mask(ink, level, floor, split_strokes, base)
        _not_crowded(mask)
        mask = _within(mask, trace_area)
    elif rotation is not None:
        mask = _ink_mask(ink, level, floor, split_strokes)
        # squared now: lines run along pixel rows
        floor, mask = _above_grid(ink, mask, level, floor, dark_grid, split_strokes)
        mask = _within(mask, trace_area)
    near = None
    if page.found_page:  # a flattened photo keeps some perspective: even out the grid pitch before measuring it
        even_pitch = gridscale.uniform_maps(grid_img, _near_ink(mask), ink.shape[1] / 297.0)
        if even_pitch is not None:
            maps, near = even_pitch
            if maps is not None:
                ink, grid_img = _remap_all(maps, ink, grid_img)
                remaps.append(maps)
                trace_area = None if trace_area is None else cv2.remap(trace_area, *maps, cv2.INTER_NEAREST)
                mask = _within(_ink_mask(ink, level, floor, split_strokes, base), trace_area)
    ppm_x, ppm_y, grid_found, scale_notes = _scale(ink.shape[1], grid_img, mask, page.found_page, near)
    notes += scale_notes
    resolution = min(ppm_x * page.input_px[0], ppm_y * page.input_px[1])   # in the image as given
    if grid_found and resolution < MIN_PX_PER_MM:
        raise DigitizeError(f"the print is at {resolution:.1f} px/mm in the image: at least {MIN_PX_PER_MM} px/mm "
                            f"(about {25.4 * MIN_PX_PER_MM:.0f} dpi) is needed to read 1 mm grid squares; photograph "
                            "the page closer or scan at >= 100 dpi")
    ppm = (ppm_x + ppm_y) / 2
    clean = remove_specks(remove_rules(mask, ppm), ppm)
    baselines = find_rows(clean, ppm_y)
    grid_mask = mask
    if baselines and grid_found:
        # a flattened photo keeps some perspective: put every row's millimetres at even spacing; so does one that
        # fills the frame at a slant, band by band where its lines lean; a deskewed scan keeps a few hundredths of
        # a degree, 0.3 px from top row to bottom at 150 dpi: line the rows up
        near = _near_ink(mask)
        even = gridscale.even_column_maps(grid_img, near, baselines, ppm_x) if page.found_page else None
        shifts = None if even is not None else gridscale.row_alignment(grid_img, near, baselines, ppm_x)
        if not page.found_page and shifts is not None and \
                gridscale.rows_apart(shifts, grid_img.shape[1]) >= gridscale.LEAN_ROWS_MM * ppm_x:
            even = gridscale.leaning_column_maps(grid_img, near, baselines, ppm_x)
        if even is not None:
            maps, ppm_x = even
        else:
            maps = _align_rows(shifts, baselines, grid_img.shape)
        if maps is not None:  # the masks move with the page: no need to threshold and clean them again
            # columns move along x only: grid_img and grid_mask stay as they were, for the row check below
            ink = _remap_all(maps, ink)[0]
            mask, clean = (cv2.remap(m, *maps, cv2.INTER_NEAREST) for m in (mask, clean))
            remaps.append(maps)
            baselines = find_rows(clean, ppm_y)
    if grid_found and len(baselines) > 1:  # a line of header text is long and dark too, but not on the grid
        band = int(3 * ppm_y)
        paper = [float(grid_img[max(0, int(b) - band): int(b) + band][grid_mask[max(0, int(b) - band):
                                                                                int(b) + band] == 0].mean())
                 for b in baselines]
        baselines = [b for b, g in zip(baselines, paper, strict=True) if g >= 0.3 * float(np.median(paper))]
    if not baselines:
        raise _no_rows(clean, ppm_x, ppm_y, cfg.speed)
    counts = {len(order) for layout in ([get_layout(cfg.layout)] if cfg.layout != "auto" else LAYOUTS.values())
              for order in layout_match.row_orders(layout)}
    if len(baselines) not in counts:
        baselines = _even_rows(clean, baselines, counts, ppm_y)
    lw = line_width(clean, baselines, ppm_y)
    pen = pen_width(ink, clean, baselines, ppm_y) or lw  # too few level stretches to measure: the mask's width
    pitch = float(np.median(np.diff(baselines))) if len(baselines) > 1 else 40 * ppm_y
    rows = _trace_rows(clean, ink, baselines, pitch, lw, ppm_y, pen)
    kept = _printable_rows(rows, counts, ppm_y)
    if len(kept) < len(rows):
        notes.append(f"{len(rows) - len(kept)} band(s) of ink that are not trace rows left out (header, page edge, a "
                     f"row split in two)")
        rows = _trace_rows(clean, ink, [r.baseline for r in kept], pitch, lw, ppm_y, pen)

    pulses = [p for p in (pulse_shape(clean, r, ppm_y) for r in rows) if p]
    # no pulse before the traces: look for one after them (a step 10 mm x 5 mm at a row's very end is
    # nothing else; the mirrored reader misses some that a label or tick touches, so one row suffices)
    after = [] if pulses else [p for p in (end_pulse(clean, r, ppm_y) for r in rows) if p]
    if after:
        notes.append("calibration pulses printed after the traces: the signal ends where they rise")
        pulses = [(h, w) for h, w, _ in after]
    scale_conf = 1.0 if grid_found else 0.6  # from the page width: a guess
    if pulses and not grid_found:
        scale_conf = 0.85
        ppm_x = ppm_y = float(np.median([w for _, w in pulses])) / (0.2 * cfg.speed)
        note = "no ECG grid found: scale taken from the calibration pulse (200 ms wide)"
        sheet = _sheet_scale(ink.shape, ppm_x, not page.found_page)
        if sheet is not None:
            ppm_x, ppm_y, paper = sheet
            note = f"no ECG grid found: scale taken from the sheet's size ({paper}, as the calibration pulse says)"
        # replaces the page-width note `_scale` left (other notes may have come after it)
        notes[notes.index(scale_notes[-1])] = note
    sec_px = cfg.speed * ppm_x
    # every row's pen stops (or, before pulses printed after the traces, starts) at the same time: how far the
    # rows disagree is how far time zero can be off (blur moves a pen's end by a pixel or two)
    ends = np.array([(pen_start if after else pen_end)(ink, r, pen, ppm_x) for r in rows])
    x_end = _common_edge(ends, ppm_x, last=not after) + (cfg.duration * sec_px if after else 0.0)
    end_spread = float(np.median(np.abs(ends - np.median(ends)))) / ppm_x
    if angle is None and not grid_found:
        # no grid: the tilt was read off the traces' baselines, which a signal's own drift tilts too
        lean = _ends_lean(ends, np.array([r.baseline for r in rows]), ppm_x)
        if lean is not None:
            try:
                again = _read(page, given_ink, given_grid, sharp, cfg, given_area, level, dark_grid, noise_free,
                              grid_removed, tilt + lean)
            except DigitizeError:
                again = None
            if again is not None and again.quality.end_spread_mm < end_spread:   # the ends do line up now
                again.quality.notes.append(f"no grid: the page's tilt taken from where its rows' traces "
                                           f"{'start' if after else 'end'} ({tilt + lean:+.2f} degrees, not "
                                           f"{tilt:+.2f} as the baselines lean)")
                return again
    if end_spread > END_SPREAD_MM:
        notes.append(f"the rows' traces {'start' if after else 'end'} up to {np.ptp(ends) / ppm_x:.1f} mm apart: "
                     "where the page's time begins is in doubt (a row cut by the image's edge, a mark beside a trace)")
    x0 = x_end - cfg.duration * sec_px
    span = (x_end - float(np.median([r.x_start for r in rows]))) / sec_px
    end_cut = not after and x_end >= ink.shape[1] - 3 - lw
    cut = x0 < -0.02 * ink.shape[1] or (end_cut and span < cfg.duration - SHORT_S)
    if cut:
        x0 = _cut_origin(ink, clean, rows, pen, lw, x_end, span, sec_px, ppm_x, cfg, bool(pulses), notes)
    gain, pulse_gap = cfg.gain, 0.0
    if gain is None:
        if pulses:
            measured = float(np.median([h for h, _ in pulses])) / ppm_y
            snapped = min((5.0, 10.0, 20.0), key=lambda g: abs(np.log(g / measured)))
            gain = snapped if abs(np.log(snapped / measured)) < 0.25 else measured
            pulse_gap = abs(float(np.log(gain / measured)))   # a photo's vertical scale a little off shows here
            if gain == measured:
                notes.append(f"calibration pulse reads {measured:.1f} mm/mV, not a standard gain: used as read")
        else:
            gain = 10.0
            notes.append("no calibration pulse found: assumed 10 mm/mV")
    mv_px = gain * ppm_y

    clipped = x_end >= ink.shape[1] - 3 - lw or bool(after)
    n = int(round(cfg.duration * cfg.fs))
    reads: dict[Order, tuple[np.ndarray, list[PlacedCell]]] = {}

    def assembled(order: Order) -> tuple[np.ndarray, list[PlacedCell]]:
        # the rivals' reads weigh the layout choice, and the chosen one is among them: each is assembled once
        if order not in reads:
            reads[order] = _assemble(rows, order, x0, sec_px, mv_px, cfg.fs, n, lw, ppm_y)
        return reads[order]

    def assemble(order: Order) -> np.ndarray:
        return assembled(order)[0]

    def exactness(order: Order) -> float | None:
        return layout_match.copy_exactness(rows, order, x0, sec_px, ppm_x)

    if cfg.layout == "auto":
        ranked = layout_match.match_layout(clean, rows, x0, sec_px, ppm_x)
    else:
        ranked = [(float("nan"), *_given_layout(cfg.layout, len(rows)))]
    # the origin the best-scoring order implies serves its rivals too: exact for its twins (the same cells' times),
    # an approximation for rivals whose strips sit in other rows
    x0, sec_px = _refine_origin(ink, rows, ranked[0][2], x0, sec_px, ppm_x, fit_scale=not grid_found, clipped=clipped)
    _fill_row_gaps(rows, ppm_x)
    printed = _printed_labels(ink, rows, ranked, x0, sec_px, ppm_x, ppm_y, cfg, notes)
    if cfg.layout == "auto":
        kept, label_notes = layout_match.by_labels(ranked, printed) if printed else (ranked, [])
        layout, order, margin, layout_notes = layout_match.choose_layout(kept, exactness, assemble, cfg.fs)
        notes += label_notes + layout_notes
    else:
        _, layout, order = ranked[0]
        margin = float("nan")
    label_read = printed[next(i for i, (_, _, o) in enumerate(ranked) if o == order)] if printed else None
    copies = exactness(order)   # two tracings of the same samples: how well the read agrees with itself
    signal, placed = assembled(order)

    shown = observed_mask(layout, cfg.fs, n)
    if cut:   # what the image cut off is known to be missing: coverage is of the traces in it
        shown &= _in_view(placed, sec_px, cfg.fs, n, ink.shape[1])
    ambiguous = float(np.mean([r.ambiguous for r in rows]))
    # waves that left their row's band for a neighbour's: where traces cross, the tracer can follow the wrong one
    crossing = float(np.mean([r.clipped(top=i > 0, bottom=i + 1 < len(rows))[r.x_start: r.x_end + 1].mean()
                              for i, r in enumerate(rows)]))
    image_conf = scale_conf * (1.0 if pulses or cfg.gain else 0.85) * (1.0 - min(0.5, ambiguous))
    leads = []
    for i, name in enumerate(LEADS):
        if not shown[i].any():
            continue
        cov = float(np.isfinite(signal[i, shown[i]]).mean())
        leads.append(LeadQuality(name, round(cov, 3), round(cov * image_conf, 3)))
    coverage = float(np.mean([q.coverage for q in leads])) if leads else 0.0
    if coverage < 0.5:
        raise DigitizeError(f"only {coverage:.0%} of the printed traces could be followed; the image is too faint, "
                            f"cluttered or not a printed 12-lead ECG")
    # the grid's lines took with them the trace that ran along them: less is followed, but no paper noise is added
    lowered = level < 1.0 or dark_grid
    second_try = lowered or grid_removed
    bar = SECOND_TRY_COMPLETENESS if lowered else MIN_COMPLETENESS
    if coverage * image_conf < bar:
        found = "; ".join(notes) or "rows, scale or layout uncertain"
        raise UnsureReadError(f"could not read this print reliably (traces followed {coverage * image_conf:.2f} < "
                              f"{bar}: {found}); retake it flat, in focus and whole, or pass --layout")
    quality = Quality(
        confidence=round(coverage * image_conf, 3), layout=layout.name, layout_detected=cfg.layout == "auto",
        layout_margin=round(margin, 2), page_found=page.found_page, rotation_deg=round(tilt, 2),
        px_per_mm_x=round(ppm_x, 3), px_per_mm_y=round(ppm_y, 3), grid_found=grid_found, gain_mm_per_mv=gain,
        tracer=cfg.tracer,
        pulse_found=bool(pulses), sharpness=round(sharp, 3), rows=len(rows), leads=leads, notes=notes,
        input_px_per_mm_x=round(ppm_x * page.input_px[0], 3), input_px_per_mm_y=round(ppm_y * page.input_px[1], 3),
        completeness=round(coverage * image_conf, 3), ambiguous=round(ambiguous, 3), second_try=second_try,
        band_crossing=round(crossing, 4), pulse_gain_gap=round(pulse_gap, 4), end_spread_mm=round(end_spread, 4),
        copy_exactness=None if copies is None else round(copies, 4),
        labels_read=label_read or labels.LabelEvidence(0, 0, 0))
    record = Record(signal, cfg.fs, record_id="", meta={"source": "digitized", "layout": layout.name})
    return Digitized(record, quality, page.rgb, rows, placed, rotation, remaps)
