"""Finding the printed rows and following each trace through its row, column by column.

Input is the binary ink mask of the flattened, deskewed page (True = trace ink). A row's trace is read as
one vertical run of ink per pixel column; where a column holds several runs (a neighbouring lead's spike, a
label, a crease), the run closest to the previous column's value wins, so the path stays continuous.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from edgeecg.imaging.page import area_shrink
from edgeecg.imaging.peaks import peak_position


@dataclass
class RowTrace:
    """One printed row: baseline y, ink extent and the traced y per column (NaN where no ink)."""

    baseline: float
    top: int
    bottom: int
    x_start: int
    x_end: int
    y: np.ndarray          # float [W]: traced y per page column (NaN = none)
    ambiguous: float       # share of columns where several runs competed
    px: np.ndarray         # the traced path as a polyline (x, y), several points per steep column
    py: np.ndarray
    lo: np.ndarray = field(default_factory=lambda: np.zeros(0))  # the chosen run's top and bottom pixel row
    hi: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per column (NaN = none)

    def clipped(self, top: bool, bottom: bool) -> np.ndarray:
        """bool per column: the trace ran into its band's top (bottom) edge there, where `top` (`bottom`) says
        that edge could be passed: a wave taller than the band, cut off."""
        none = np.zeros(len(self.lo), bool)
        with np.errstate(invalid="ignore"):
            return ((self.lo <= self.top) if top else none) | ((self.hi >= self.bottom - 1) if bottom else none)

    def spliced(self, other: RowTrace, where: np.ndarray) -> RowTrace:
        """This trace with `other`'s reading in the columns `where` (both traces of the same row)."""
        keep = ~where[np.clip(np.round(self.px).astype(int), 0, len(where) - 1)]
        take = where[np.clip(np.round(other.px).astype(int), 0, len(where) - 1)]
        px = np.concatenate([self.px[keep], other.px[take]])
        order = np.argsort(px, kind="stable")
        return RowTrace(self.baseline, other.top, other.bottom, self.x_start, self.x_end,
                        np.where(where, other.y, self.y), self.ambiguous, px[order],
                        np.concatenate([self.py[keep], other.py[take]])[order],
                        np.where(where, other.lo, self.lo), np.where(where, other.hi, self.hi))


def remove_rules(mask: np.ndarray, px_per_mm: float) -> np.ndarray:
    """The mask without straight lines longer than 100 mm (grid lines that passed the ink threshold)."""
    h, w = mask.shape
    small = area_shrink(mask, 2)  # at half size: 4x cheaper
    # 100 mm at full size: a grid line spans the chart, a trace's level stretches end at every QRS (a 1 px
    # trace at 72 dpi can run level for 40 mm); any ink in a half-size pixel counts
    half = max(4, int(25 * px_per_mm))
    inked = (small > 0).view(np.uint8)
    rules = _open_line(inked, half, axis=1) | _open_line(inked, half, axis=0)
    if not rules.any():
        return mask
    rules = cv2.resize(rules * np.uint8(255), (w, h), interpolation=cv2.INTER_NEAREST)
    return cv2.bitwise_and(mask, cv2.bitwise_not(cv2.dilate(rules, np.ones((3, 3), np.uint8))))


def _open_line(binary: np.ndarray, half: int, axis: int) -> np.ndarray:
    """Morphological opening of a 0/1 image with a straight line of 2 half + 1 px along `axis` (1: rows),
    from running sums: OpenCV's opening with so long a kernel costs three times as much. As in cv2.erode,
    beyond the edge counts as set."""
    h, w = binary.shape
    size = (2 * half + 1, 1) if axis == 1 else (1, 2 * half + 1)
    pad = (0, 0, half, half) if axis == 1 else (half, half, 0, 0)
    sums = cv2.boxFilter(cv2.copyMakeBorder(binary, *pad, cv2.BORDER_CONSTANT, value=1), cv2.CV_16U, size,
                         normalize=False, borderType=cv2.BORDER_CONSTANT)
    core = (sums[pad[0]: pad[0] + h, pad[2]: pad[2] + w] == 2 * half + 1).view(np.uint8)  # eroded
    grown = cv2.boxFilter(core, cv2.CV_16U, size, normalize=False, borderType=cv2.BORDER_CONSTANT)  # dilated
    return (grown > 0).view(np.uint8)


def remove_specks(mask: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Drops blobs that fit in a 3.5 x 3.5 mm box: text, dust, JPEG noise. Blobs are judged after bridging
    one-pixel gaps, so a thin trace that the threshold left dotted (72 dpi screenshots) counts as one line."""
    bridged = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    try:  # 16-bit labels take a third of the time; a page of noise can hold more than 65,535 blobs
        n, labels, stats, _ = cv2.connectedComponentsWithStats(bridged, connectivity=8, ltype=cv2.CV_16U)
    except cv2.error:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(bridged, connectivity=8, ltype=cv2.CV_32S)
    small = 3.5 * px_per_mm
    keep = ~((stats[:, cv2.CC_STAT_WIDTH] < small) & (stats[:, cv2.CC_STAT_HEIGHT] < small))
    keep[0] = False
    return cv2.bitwise_and(mask, np.take(keep.astype(np.uint8) * 255, labels))


def row_profile(mask: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Ink pixels per image row, smoothed over 0.8 mm: a trace row's band is a peak (zeros without ink)."""
    cols = np.flatnonzero(mask.any(axis=0))
    if cols.size == 0:
        return np.zeros(mask.shape[0], np.float32)
    counts = (mask[:, cols[0]:cols[-1] + 1] > 0).sum(axis=1).astype(np.float32).reshape(-1, 1)
    return cv2.GaussianBlur(counts, (1, 0), sigmaX=0, sigmaY=0.8 * px_per_mm).ravel()


MIN_ROW_MM = 100.0
"""The least length of a printed row of traces: 4 s of a 10 s strip at 25 mm/s."""


def find_rows(mask: np.ndarray, px_per_mm: float, min_coverage: float = 0.4, min_mm: float = MIN_ROW_MM
              ) -> list[float]:
    """Baseline y of every printed row: dense horizontal bands of ink that span most of the page width, at least
    `min_mm`."""
    if not mask.any():
        return []
    prof = row_profile(mask, px_per_mm)
    min_gap = int(8 * px_per_mm)
    order = np.argsort(prof)[::-1]
    peaks: list[int] = []
    floor = 0.2 * prof.max()
    for y in order:
        if prof[y] < floor:
            break
        if all(abs(int(y) - p) >= min_gap for p in peaks):
            peaks.append(int(y))
    rows = []
    for y in sorted(peaks):
        cols_here, extent, fill = _row_band(mask, y, px_per_mm)
        # a trace row is a thin line along most of its own length, and that length is most of a 10 s strip;
        # a dark desk showing past the page's edge is ink too, but solid
        if cols_here >= min_coverage * extent and extent > min_mm * px_per_mm and fill < 0.5:
            rows.append(float(y))
    return rows


def row_extent(mask: np.ndarray, y: float, px_per_mm: float) -> int:
    """Columns from the first to the last inked one in the band of a row at `y`."""
    return _row_band(mask, int(y), px_per_mm)[1]


def _row_band(mask: np.ndarray, y: int, px_per_mm: float) -> tuple[int, int, float]:
    """(inked columns, their extent, the inked share of the band over it) within 2.5 mm of row `y`."""
    band = int(2.5 * px_per_mm)
    strip = mask[max(0, y - band): y + band + 1] > 0
    cols = np.flatnonzero(strip.any(axis=0))
    if cols.size == 0:
        return 0, 0, 0.0
    extent = int(cols[-1] - cols[0] + 1)
    return int(cols.size), extent, float(strip[:, cols[0]: cols[-1] + 1].mean())


def _runs(band: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(column, first row, last row) of every vertical run of ink in a band, ordered by column then row."""
    n = band.shape[0] + 2
    cols = np.zeros((band.shape[1], n), np.uint8)  # one padded column per row: runs are contiguous memory,
    cols[:, 1:-1] = cv2.transpose((band > 0).view(np.uint8))  # and the padding closes every run
    flat = cols.ravel()
    edges = np.flatnonzero(flat[1:] != flat[:-1])  # before each run's first pixel, at its last: start, end, ...
    starts, ends = edges[::2], edges[1::2]
    col = starts // n
    return col, starts - col * n, ends - col * n - 1


def trace_row(mask: np.ndarray, ink: np.ndarray, baseline: float, top: int, bottom: int, line_px: float,
              px_per_mm: float, pen_px: float | None = None) -> RowTrace:
    """Follows the trace of the row whose baseline is `baseline`, within rows [top, bottom); `line_px` is the
    mask's trace thickness, `pen_px` the half-darkness one (`pen_width`; `line_px` where not measured)."""
    h, w = mask.shape
    top, bottom = max(0, top), min(h, bottom)
    band = mask[top:bottom] > 0
    col, first, last = _runs(band)
    y = np.full(w, np.nan)
    if col.size == 0:
        return RowTrace(baseline, top, bottom, 0, 0, y, 0.0, np.zeros(0), np.zeros(0))
    counts = np.bincount(col, minlength=w)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    lo = np.full(w, np.nan)
    hi = np.full(w, np.nan)
    single = counts == 1
    idx = starts[single]
    lo[single], hi[single] = first[idx], last[idx]
    multi = np.flatnonzero(counts > 1)
    p_lo = p_hi = baseline - top
    known = np.flatnonzero(counts > 0)
    j = np.searchsorted(known, multi) - 1  # each column's previous inked column (-1: the baseline at the start)
    before = np.where(j >= 0, known[np.maximum(j, 0)], -1)
    # plain Python from here: a column holds two or three runs, too few for numpy's per-call cost
    lo_l, hi_l, first_l, last_l = lo.tolist(), hi.tolist(), first.tolist(), last.tolist()
    start_l, count_l = starts.tolist(), counts.tolist()
    for c, p in zip(multi.tolist(), before.tolist(), strict=True):
        if p >= 0 and lo_l[p] == lo_l[p]:  # (not NaN)
            p_lo, p_hi = lo_l[p], hi_l[p]
        p_mid = (p_lo + p_hi) / 2.0
        # The run that touches the previous column's, then the one that shares most rows with it, then the one
        # nearest its middle: a steep stroke that continues the path beats a label or a neighbour's spike that
        # merely sits closer to its middle, and near an R wave's apex the stroke beats a speck of grid line
        # caught between the up and down strokes (it touches the wide run before it too, but in one row).
        _, _, _, k = min((max(0.0, first_l[k] - p_hi - 1, p_lo - last_l[k] - 1),
                          -(min(last_l[k], p_hi) - max(first_l[k], p_lo)),
                          abs((first_l[k] + last_l[k]) / 2.0 - p_mid), k)
                         for k in range(start_l[c], start_l[c] + count_l[c]))
        lo_l[c], hi_l[c] = first_l[k], last_l[k]
    lo, hi = np.array(lo_l), np.array(hi_l)
    _drop_strays(lo, hi, baseline - top, px_per_mm, ink[top:bottom])
    mid = _ink_centre(ink[top:bottom], lo, hi)
    y = mid + top
    xs = np.flatnonzero(np.isfinite(y))
    px, py = _path(ink[top:bottom], lo, hi, mid, line_px, line_px if pen_px is None else pen_px)
    py = py + top
    return RowTrace(baseline, top, bottom, int(xs[0]), int(xs[-1]), y, float(len(multi) / max(1, len(xs))), px, py,
                    lo + top, hi + top)


def without_rows(mask: np.ndarray, rows: list[RowTrace]) -> np.ndarray:
    """A copy of `mask` without the runs these rows' traces were read from (grown by a pixel): their ink
    out of the way when a neighbour's tall wave is followed into their bands."""
    out = mask.copy()
    for r in rows:
        if r.lo.size == 0:
            continue
        ys = np.arange(r.top, r.bottom)[:, None]
        with np.errstate(invalid="ignore"):
            mine = (ys >= r.lo[None, :] - 1) & (ys <= r.hi[None, :] + 1)
        out[r.top:r.bottom][mine] = 0
    return out


def _drop_strays(lo: np.ndarray, hi: np.ndarray, baseline: float, px_per_mm: float, ink: np.ndarray) -> None:
    """Blanks short islands of ink far from the baseline: a neighbouring row's spike or a label reached
    into the band where this row's own trace has a gap. The row's own waves stay joined to its baseline. An
    island ends at a column without ink, or where the path leaps across blank paper (`_leaps`)."""
    ok = np.isfinite(lo)
    if not ok.any():
        return
    leaps = _leaps(lo, hi, ink, px_per_mm)   # each ends one island and starts the next
    edges = np.sort(np.concatenate([np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))),
                                    leaps, leaps]))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        centre = (lo[a:b] + hi[a:b]) / 2.0
        near = np.abs(centre - baseline).min()
        if b - a < 8 * px_per_mm and near > 2.5 * px_per_mm:
            lo[a:b] = np.nan
            hi[a:b] = np.nan


LEAP_MM = 1.5
"""Blank paper between the runs a path takes in neighbouring columns that splits it into islands: a thin trace that
the threshold left dotted (a 64 dpi image) had its gap bridged by the label printed 5 mm below it."""


def _leaps(lo: np.ndarray, hi: np.ndarray, ink: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Columns where the path resumes `LEAP_MM` or more above or below where it was, over paper that neither
    column inks at a third of the trace's darkness or more; a steep stroke the threshold broke still inks it."""
    with np.errstate(invalid="ignore"):
        up, down = lo[1:] - hi[:-1] - 1, lo[:-1] - hi[1:] - 1   # blank rows between neighbouring columns' runs
    cols = np.flatnonzero(np.fmax(up, down) >= LEAP_MM * px_per_mm) + 1
    if cols.size == 0:
        return cols
    shown = np.flatnonzero(np.isfinite(lo))
    level = float(np.median(ink[((lo[shown] + hi[shown]) // 2).astype(int), shown])) / 3.0
    out = []
    for c in cols.tolist():
        a, b = (int(hi[c - 1]) + 1, int(lo[c])) if lo[c] > hi[c - 1] else (int(hi[c]) + 1, int(lo[c - 1]))
        if np.mean(ink[a:b, c - 1: c + 1].max(axis=1) >= level) < 0.5:
            out.append(c)
    return np.array(out, np.int64)


def _ink_centre(ink: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Ink-weighted centre of each column's chosen run (one pixel of anti-aliased edge included): sub-pixel
    heights, which matter for low-voltage leads where one pixel is 5-10 % of the amplitude."""
    h = ink.shape[0]
    out = np.full(len(lo), np.nan)
    cols = np.flatnonzero(np.isfinite(lo))
    if cols.size == 0:
        return out
    a = np.clip(lo[cols].astype(int) - 1, 0, h)
    length = np.clip(hi[cols].astype(int) + 2, 0, h) - a
    # runs gathered as padded windows: short (level) runs in one narrow block, the few steep ones apart
    for group in (length <= 8, length > 8):
        if not group.any():
            continue
        c, start, n = cols[group], a[group], length[group]
        offs = np.arange(int(n.max()))
        idx = start[:, None] + offs[None, :]
        # gathered by flat index: about 0.6 of the time of a two-axis fancy index
        vals = ink.take(np.minimum(idx, h - 1) * ink.shape[1] + c[:, None]).astype(np.float32)
        vals *= offs[None, :] < n[:, None]
        mass = vals.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            centre = (vals * idx).sum(axis=1) / mass
        out[c] = np.where(mass > 0, centre, (lo[c] + hi[c]) / 2.0)
    return out


def _path(ink: np.ndarray, lo: np.ndarray, hi: np.ndarray, mid: np.ndarray, line_px: float, pen_px: float
          ) -> tuple[np.ndarray, np.ndarray]:
    """The pen's path through per-column runs: level stretches, wave tips and steep strokes, at sub-pixel x.

    A run's middle is unbiased where the line is level or gently sloped, but a steep stroke (a QRS climbs
    10-40 px per column) fills a column from the height where the pen entered to where it left, and one
    point per column puts the samples in between a pixel's worth of slope off: at 100 Hz an R wave's tip
    is two samples 2 px apart, and the middle of the next column's run is 20 px below them. So steep strokes
    are read across instead, at each pixel row of the run (see _across). At an apex the tip lies between
    columns: it is put where the strokes on either side meet, half the pen's width in from the run's outer
    edge at half the column's darkness.
    """
    h = (line_px - 1) / 2.0
    m = np.pad(mid, 2, constant_values=np.nan)
    l2, l1, r1, r2 = m[:-4], m[1:-3], m[3:-1], m[4:]
    up = (l1 > mid) & (r1 > mid)
    down = (l1 < mid) & (r1 < mid)
    tip = np.where(up, lo + h, np.where(down, hi - h, mid))
    _tips_at_half_darkness(ink, lo, hi, up, down, pen_px, tip)
    sl, sr = l1 - l2, r2 - r1
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = (r1 - l1 - sl - sr) / (sl - sr)
    shift = np.clip(np.where(np.isfinite(shift), shift, 0.0), -0.5, 0.5)
    xs = np.arange(len(mid), dtype=np.float64) + np.where(up | down, shift, 0.0)
    steep = np.isfinite(mid) & ~(up | down) & (hi - lo + 1 > line_px + 3)
    ok = np.isfinite(tip) & ~steep
    cols = np.flatnonzero(steep)
    sx, sy = _across(ink, lo, hi, cols, (r1 < l1)[cols], h, line_px, pen_px)
    x_all = np.concatenate([xs[ok], sx])
    y_all = np.concatenate([tip[ok], sy])
    order = np.argsort(x_all, kind="stable")
    return x_all[order], y_all[order]


def _tips_at_half_darkness(ink: np.ndarray, lo: np.ndarray, hi: np.ndarray, up: np.ndarray, down: np.ndarray,
                           pen_px: float, tip: np.ndarray) -> None:
    """Moves each apex in `tip` to the run's outer edge at half the column's darkness, less half the pen's
    width: the mask's first inked row is a whole pixel, and blur and the threshold move it."""
    h_img = ink.shape[0]
    for flag, edge, sign in ((up, lo, 1.0), (down, hi, -1.0)):
        cols = np.flatnonzero(flag & np.isfinite(edge))
        if cols.size == 0:
            continue
        e = edge[cols].astype(int)
        rows = np.clip(e[:, None] + sign * np.arange(-3, 4)[None, :], 0, h_img - 1).astype(int)
        prof = ink[rows, cols[:, None]].astype(np.float32)  # from 3 px outside the mask's edge inwards
        half = prof[:, 3:].max(axis=1) / 2
        inside = prof >= half[:, None]
        k = np.argmax(inside, axis=1)  # first row at or above half, going inwards
        ok = k > 0
        cross = _crossing(prof[ok], half[ok], k[ok] - 1)  # from 3 px outside the edge: 3 is the edge's centre
        tip[cols[ok]] = edge[cols[ok]] + sign * (cross - 3 + pen_px / 2)


def _across(ink: np.ndarray, lo: np.ndarray, hi: np.ndarray, cols: np.ndarray, rising: np.ndarray,
            h: float, line_px: float, pen_px: float) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of steep strokes read along pixel rows (caps left out): per row of each steep column's run, the
    middle between the stroke's two edges at half the ink's darkness where the ink there is no wider than
    the pen (`pen_px`, with 30 % for blur and slant); where it is wider, the up and down strokes of a narrow
    R wave merged into one blob, whose left edge is still the rising stroke and whose right edge the falling
    one: there the leading edge, moved in by half the pen's width."""
    if cols.size == 0:
        return np.zeros(0), np.zeros(0)
    cap = int(np.ceil(h))
    a = lo[cols].astype(int) + cap
    n = np.maximum(hi[cols].astype(int) - cap - a + 1, 0)
    ys = np.repeat(a, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    cs = np.repeat(cols, n)
    up = np.repeat(rising, n)
    if ys.size == 0:
        return np.zeros(0), np.zeros(0)
    r = int(np.ceil(line_px)) + 3
    off = np.arange(-r, r + 1)
    xx = np.clip(cs[:, None] + off[None, :], 0, ink.shape[1] - 1)
    win = ink.take(ys[:, None] * ink.shape[1] + xx).astype(np.float32)
    half = 0.5 * win.max(axis=1, keepdims=True)
    above = win >= half
    # rising stroke: the ink's left edge (dark begins); falling stroke: its right edge (dark ends)
    edge = (above[:, 1:] != above[:, :-1]) & (above[:, 1:] == up[:, None])
    want = r + np.where(up, -pen_px / 2, pen_px / 2) - 0.5
    dist = np.where(edge, np.abs(np.arange(2 * r)[None, :] - want[:, None]), np.inf)
    i = np.argmin(dist, axis=1)
    found = np.isfinite(dist[np.arange(len(i)), i])
    i, rows = i[found], np.flatnonzero(found)
    win, half, above, u = win[rows], half[rows, 0], above[rows], up[rows]
    lead = cs[rows] - r + _crossing(win, half, i)
    # the stroke's other edge: the first opposite crossing after (rising) or before (falling) the leading one
    k = np.arange(2 * r)[None, :]
    opposite = (above[:, 1:] != above[:, :-1]) & (above[:, 1:] != u[:, None])
    after = np.where(opposite & (k > i[:, None]), k, 2 * r).min(axis=1)
    before = np.where(opposite & (k < i[:, None]), k, -1).max(axis=1)
    t = np.where(u, after, before)
    has = (t >= 0) & (t < 2 * r)
    trail = cs[rows] - r + _crossing(win, half, np.clip(t, 0, 2 * r - 1))
    width = np.abs(trail - lead)
    # a lone stroke: halfway between its edges (a grid line against one edge moves that edge, not the middle);
    # where the up and down strokes' ink merges, wider than the pen, the leading edge moved in by half the pen
    alone = has & (width < 1.3 * pen_px)
    x = np.where(alone, (lead + trail) / 2, lead + np.where(u, pen_px / 2, -pen_px / 2))
    # the stroke crosses this row in its column's run, within the pen's half width and a pixel or two of blur:
    # a centre further off is another stroke's edge (a row where the stroke meets the level line is inked
    # right across the window; a tighter bound, 1 px, dropped good rows: the bench read worse)
    near = np.abs(x - cs[rows]) <= 2.0 + pen_px / 2
    return _smooth_strokes(x[near], ys[rows][near].astype(np.float64), cs[rows][near], u[near])


def _crossing(win: np.ndarray, half: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Sub-pixel position in each window row where the ink crosses `half` between columns i and i + 1."""
    n = np.arange(len(i))
    w0, w1 = win[n, i], win[n, i + 1]
    return i + np.clip((half - w0) / np.where(w1 != w0, w1 - w0, 1.0), 0.0, 1.0)


def _smooth_strokes(x: np.ndarray, y: np.ndarray, col: np.ndarray, up: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """One x per pixel row of each stroke, median-filtered over 5 rows along it.

    A QRS stroke climbs 10-40 rows per column, so the value read at a sample time comes from the few rows
    nearest that column: a single row whose edge a grid line or a JPEG block moved by half a pixel is a
    spike of 10-20 rows there. Rows read from two overlapping columns are one point.
    """
    if x.size == 0:
        return x, y
    # strokes: runs of adjacent steep columns that climb the same way
    cu, first = np.unique(col, return_index=True)
    cu_up = up[first]
    new = np.concatenate([[True], (np.diff(cu) > 1) | (cu_up[1:] != cu_up[:-1])])
    stroke = np.cumsum(new)[np.searchsorted(cu, col)]
    span = int(y.max()) + 1
    uk, inv = np.unique(stroke * span + y.astype(np.int64), return_inverse=True)  # (stroke, row), in that order
    xm = np.bincount(inv, weights=x) / np.bincount(inv)
    sid, yu = uk // span, (uk % span).astype(np.float64)
    n = len(uk)
    idx = np.arange(n)[:, None] + np.arange(-2, 3)[None, :]
    inside = (idx >= 0) & (idx < n)
    idx = np.clip(idx, 0, n - 1)
    win = np.where(inside & (sid[idx] == sid[:, None]), xm[idx], np.nan)
    return _row_nanmedian(win), yu


def _row_nanmedian(win: np.ndarray) -> np.ndarray:
    """Each row's median over its numbers (every row holds one): numpy's nanmedian takes a masked-array path
    for rows this short, about 3 times slower; the same arithmetic (the mean of the two middle values)."""
    ordered = np.sort(win, axis=1)            # NaN sorts last
    k = np.count_nonzero(~np.isnan(win), axis=1)
    high = k // 2
    low = np.where(k % 2 == 1, high, high - 1)
    rows = np.arange(len(win))
    return (ordered[rows, low] + ordered[rows, high]) / 2.0


def line_width(mask: np.ndarray, rows: list[float], px_per_mm: float) -> float:
    """Typical trace thickness in px: the median run length near the baselines (flat stretches dominate)."""
    lengths = []
    band = int(1.5 * px_per_mm)
    for r in rows:
        sub = mask[max(0, int(r) - band): int(r) + band + 1] > 0
        _, first, last = _runs(sub)
        lengths.append(last - first + 1)
    if not lengths:
        return 2.0
    return float(max(1.0, np.median(np.concatenate(lengths))))


def pen_width(ink: np.ndarray, mask: np.ndarray, rows: list[float], px_per_mm: float) -> float | None:
    """Sub-pixel trace thickness between the half-darkness points of level stretches' vertical profiles.

    Tells a lone steep stroke (as wide as this) from the merged up and down strokes of a narrow R wave, and
    places an edge's pen centre. The mask's run length (`line_width`) is whole pixels and grows with blur and
    a low ink threshold; the half-darkness width does not depend on the threshold. A column's vertical width
    is the pen's plus the trace's travel within the column, and a noisy 500 Hz record is level almost
    nowhere: the median read 1.3-2x the pen there, so the narrowest columns (5th percentile) are taken.
    """
    band = int(1.5 * px_per_mm)
    widths = []
    for r in rows:
        top = max(0, int(r) - band)
        col, first, last = _runs(mask[top: int(r) + band + 1] > 0)
        n = last - first + 1
        if n.size == 0:
            continue
        level = np.flatnonzero(n <= np.median(n) + 1)[:: max(1, n.size // 300)]  # flat stretches, evenly picked
        reach = int(np.ceil(np.median(n))) + 2
        centre = np.round((first[level] + last[level]) / 2.0).astype(int) + top
        ys = np.clip(centre[:, None] + np.arange(-reach, reach + 1)[None, :], 0, ink.shape[0] - 1)
        prof = ink[ys, col[level][:, None]].astype(np.float32)
        half = prof.max(axis=1) / 2
        above = prof >= half[:, None]
        i0 = np.argmax(above, axis=1)
        i1 = 2 * reach - np.argmax(above[:, ::-1], axis=1)
        ok = (i0 > 0) & (i1 < 2 * reach)
        prof, half = prof[ok], half[ok]
        widths.append(_crossing(prof, half, i1[ok]) - _crossing(prof, half, i0[ok] - 1))
    if not widths or sum(w.size for w in widths) < 20:
        return None
    return float(np.quantile(np.concatenate(widths), 0.05))


def pen_end(ink: np.ndarray, row: RowTrace, pen_px: float, px_per_mm: float) -> float:
    """Sub-pixel x where the pen stopped: the ink's right edge at half its own darkness, less the pen radius.

    Blur and the ink threshold move the last inked column by a pixel or two (a thin, soft line crosses the
    threshold before its end); the half-darkness point of an edge does not move with blur. Each pixel row
    through the end is read along x and the furthest edge is kept, among the rows at least 80 % as dark as
    the darkest (those through the pen's centre): a row that grazes the cap has a faint, noisy edge, and the
    furthest of those lay a pixel or two past the end in blurred, noisy photos.
    """
    x_last = row.x_end
    fallback = x_last - (pen_px - 1) / 2
    seg = row.y[max(0, x_last - 2): x_last + 1]
    seg = seg[np.isfinite(seg)]
    if seg.size == 0:
        return fallback
    yc = int(round(float(seg[-1])))
    reach = int(np.ceil(pen_px)) + 2
    a, b = max(0, x_last - 2 * reach), min(ink.shape[1], x_last + 2 * reach + 1)
    patch = ink[max(0, yc - reach): yc + reach + 1, a:b].astype(np.float64)
    if patch.size == 0:
        return fallback
    peaks = patch[:, : x_last - a + 1].max(axis=1)
    through = peaks >= 0.8 * peaks.max()  # not the rows that graze the cap, or carry grid
    lines, half = patch[through], peaks[through] / 2
    above = lines >= half[:, None]
    # each line's edge ends its own run of dark columns through the traced end: the last dark column anywhere in
    # the patch was a dark grid line a millimetre on in every row it crossed (most scales put one within reach)
    i0 = x_last - a
    after = ~above[:, i0:]
    light_at = i0 + np.argmax(after, axis=1)             # the first light column from the traced end on
    before = i0 - np.argmax(above[:, i0::-1], axis=1)    # the last dark column up to the traced end
    last = np.where(light_at > i0, light_at - 1, before)
    ok = after.any(axis=1) & above[:, : i0 + 1].any(axis=1)   # a line dark to the patch's end carries grid
    if not ok.any():
        return fallback
    edge = a + float(_crossing(lines[ok], half[ok], last[ok]).max())
    return edge + 0.5 - pen_px / 2  # the edge of pixel i lies half a pixel right of its centre


def fill_gaps(values: np.ndarray, max_gap: int) -> np.ndarray:
    """Linear interpolation across runs of NaN no longer than `max_gap` samples; longer gaps stay NaN."""
    v = values.copy()
    ok = np.isfinite(v)
    if ok.sum() < 2:
        return v
    idx = np.arange(len(v))
    filled = np.interp(idx, idx[ok], v[ok])
    gap_id = np.cumsum(ok)
    if ok.all():
        return v
    gap_len = np.bincount(gap_id[~ok], minlength=gap_id.max() + 1)
    inner = (~ok) & (idx > idx[ok][0]) & (idx < idx[ok][-1])
    short = inner & (gap_len[gap_id] <= max_gap)
    v[short] = filled[short]
    return v


def _mirrored(row: RowTrace, width: int) -> RowTrace:
    """The row as it lies on the page mirrored left to right, so that right-end readers reuse left-end ones."""
    return RowTrace(row.baseline, row.top, row.bottom, width - 1 - row.x_end, width - 1 - row.x_start,
                    np.ascontiguousarray(row.y[::-1]), row.ambiguous, np.zeros(0), np.zeros(0))


def pen_start(ink: np.ndarray, row: RowTrace, pen_px: float, px_per_mm: float) -> float:
    """Sub-pixel x where the pen started: `pen_end` on the page mirrored. Where the pulses come after the traces,
    time zero is read here, as the gap between a trace's end and its pulse's rise differs between machines."""
    w = ink.shape[1]
    return float(w - 1 - pen_end(np.ascontiguousarray(ink[:, ::-1]), _mirrored(row, w), pen_px, px_per_mm))


def end_pulse(mask: np.ndarray, row: RowTrace, px_per_mm: float) -> tuple[float, float, float] | None:
    """(height, width, x where it rises) of a calibration pulse printed after the trace, at the row's right end.

    Some machines print the pulse after the 10 s instead of before them; the trace then runs into it, and
    the signal ends where the pulse rises. Read as the left-end pulse of the page mirrored.
    """
    w = mask.shape[1]
    found = _pulse(np.ascontiguousarray(mask[:, ::-1]), _mirrored(row, w), px_per_mm)
    if found is None:
        return None
    height, width, inner = found
    return height, width, float(w - 1 - inner)


def pulse_shape(mask: np.ndarray, row: RowTrace, px_per_mm: float) -> tuple[float, float] | None:
    """(height, width) in px of the calibration pulse at the row's left end (a flat-topped step), if any.

    Its height is 1 mV and its width 200 ms on every ECG printer: a scale when the paper has no grid. The
    search reaches 25 mm above the baseline, past the row's own band: a 10 mm pulse is taller than half the
    row pitch of a 12x1 print.
    """
    found = _pulse(mask, row, px_per_mm)
    return None if found is None else found[:2]


def _pulse(mask: np.ndarray, row: RowTrace, px_per_mm: float) -> tuple[float, float, float] | None:
    """(height, width, x of the second riser) of a pulse at the row's left end.

    The pulse stands on the row's zero: where the pen rests level before it rises, else where the trace rests
    just after it, else the row's baseline, the first of these that shows a pulse. A record whose first samples
    sit off zero leaves the trace after the pulse millimetres from its foot: read from there, a scan's pulses
    went unfound, or one read 7.1 mm tall for 10 (every amplitude 1.4x, at confidence 0.99)."""
    x0 = row.x_start
    span = int(12 * px_per_mm)
    foot = row.y[x0: x0 + int(px_per_mm)]
    foot = foot[np.isfinite(foot)]
    rest = row.y[x0 + span: x0 + span + int(4 * px_per_mm)]
    rest = rest[np.isfinite(rest)]
    bases = []
    if foot.size >= 3 and np.ptp(foot) <= 0.3 * px_per_mm:   # level: the foot, not a riser's middle
        bases.append(float(np.median(foot)))
    if rest.size >= 3:   # the trace just after the pulse is usually at rest; where a QRS comes that early, it is not
        bases.append(float(np.median(rest)))
    for base in [b for b in bases if abs(b - row.baseline) <= 1.5 * px_per_mm] + [row.baseline]:
        found = _pulse_on(mask, row, base, span, px_per_mm)
        if found is not None:
            return found
    return None


def _pulse_on(mask: np.ndarray, row: RowTrace, base: float, span: int, px_per_mm: float
              ) -> tuple[float, float, float] | None:
    """`_pulse` standing on the image row `base`."""
    x0 = row.x_start
    ya = max(0, int(base - 25 * px_per_mm))
    yb = int(base + 1.5 * px_per_mm)
    # widened by a pixel each side: a riser the pen drew slanted (or a photo's perspective left leaning) steps
    # sideways as it climbs, and is contiguous only across neighbouring columns
    sub = cv2.dilate(mask[ya:yb, max(0, x0 - 2): x0 + span], np.ones((1, 3), np.uint8)) > 0
    if sub.shape[1] < span // 2:
        return None
    bi = int(base) - ya
    # contiguous ink going up from the baseline: the risers are as tall as the pulse, the trace is not. Start
    # from every row within half a millimetre of it: the estimate of the base can sit on the line's edge.
    reach = np.zeros(sub.shape[1], np.int64)
    for start in range(max(0, bi - int(0.5 * px_per_mm)), min(sub.shape[0], bi + int(0.5 * px_per_mm) + 1)):
        up = sub[: start + 1][::-1]
        reach = np.maximum(reach, np.where(up.all(axis=0), up.shape[0], np.argmin(up, axis=0)))
    near_base = sub[max(0, bi - int(1.5 * px_per_mm)): bi + int(1.5 * px_per_mm)].any(axis=0)
    tall = np.flatnonzero((reach > 3.5 * px_per_mm) & near_base)
    if tall.size < 2:
        return None
    breaks = np.flatnonzero(np.diff(tall) > 1)
    if breaks.size == 0:
        return None
    # the pulse's two risers are the first two groups; a QRS soon after the pulse can make a third
    left, right = tall[:breaks[0] + 1], tall[breaks[0] + 1: breaks[1] + 1 if breaks.size > 1 else None]
    # riser to riser, centre to centre: the line's own thickness must not count as time
    width = float(right.mean() - left.mean())
    if not 3.0 <= width / px_per_mm <= 11.0:
        return None
    inner = np.arange(int(left.max()) + 2, int(right.min()) - 1)
    if inner.size < 2:
        return None
    # the top: a line of ink across the span between the risers, 3 mm above the baseline or more. A dark grid's
    # line can cross the pulse below its top (read 7.1 mm for 10: every amplitude 1.4x); the top is the line
    # the risers climb to, so of several lines the one nearest the risers' height is taken
    above = sub[: bi - int(3 * px_per_mm)][::-1][:, inner]   # rows going up from 3 mm above the baseline
    across = np.flatnonzero(above.mean(axis=1) >= 0.6)
    if across.size == 0:
        return None
    starts = across[np.r_[True, np.diff(across) > 1]]         # each line's lowest row
    risers = min(float(reach[left].max()), float(reach[right].max())) - 3 * px_per_mm
    height = float(starts[np.argmin(np.abs(starts - risers))]) + 3 * px_per_mm
    return height, width, float(max(0, x0 - 2) + right.mean())


def tick_x(ink: np.ndarray, row: RowTrace, x_guess: float, px_per_mm: float, ink_level: float,
           reach_mm: float = 2.0) -> float | None:
    """Sub-pixel x of a separator tick within `reach_mm` of x_guess: the column with ink both 1.5-2.8 mm
    above and below the baseline (a tick crosses the trace; a QRS stroke rarely reaches both sides).

    Ink counts against the image's own level (`ink_level`, its ink threshold) and is summed over three columns:
    a poor photo's ticks are as faint as its traces and blurred across a few pixels, and read against a fixed
    level and one column they went unfound, leaving time zero to the pens' ends, which blur moves. A crossing
    with another as heavy a millimetre to each side is a dark grid's line, not a tick.
    """
    half = int(reach_mm * px_per_mm)
    xi = int(round(x_guess))
    a, b = max(0, xi - half), min(ink.shape[1], xi + half + 1)
    if b - a < 3:   # the guess lies off the page (an origin fitted from a few ticks can put a boundary there)
        return None
    # read 1.2 mm further each way, for the grid lines a millimetre either side of a candidate
    side = int(round(1.2 * px_per_mm))
    wa, wb = max(0, a - side), min(ink.shape[1], b + side)
    centre = row.baseline  # ticks are centred on the baseline, wherever the trace is
    # paper and grid stay under the floor, a pen's core reaches floor + span (40 and 190 at a clean scan's 110)
    floor, span = 0.36 * ink_level, 1.36 * ink_level
    per_column = []
    for sign in (-1, 1):
        y0 = int(centre + sign * 1.5 * px_per_mm)
        y1 = int(centre + sign * 2.8 * px_per_mm)
        y0, y1 = min(y0, y1), max(y0, y1)
        per_column.append(np.clip((ink[max(0, y0):y1, wa:wb].astype(np.float32) - floor) / span, 0, 1).sum(axis=0))

    def crossing(cols: slice) -> np.ndarray:  # a tick crosses the trace; a QRS stroke rarely reaches both sides
        return np.minimum(*(np.convolve(c[cols], np.ones(3, np.float32), "same") for c in per_column))

    both = crossing(slice(a - wa, b - wa))   # summed within the search window only: ink beyond it cannot win
    if both.max() < 0.6 * px_per_mm:
        return None
    # a tick stands alone; a dark grid's lines cross the baseline as it does, a millimetre to each side
    peak, pitch, near = a - wa + int(np.argmax(both)), int(round(px_per_mm)), int(round(0.2 * px_per_mm))
    around = crossing(slice(None))
    sides = [around[max(0, c - near): c + near + 1] for c in (peak - pitch, peak + pitch)]
    if all(s.size and s.max() >= 0.5 * both.max() for s in sides):
        return None
    return a + peak_position(both)
