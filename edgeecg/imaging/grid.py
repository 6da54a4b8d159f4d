"""ECG paper grid scale: pixels per millimetre along x and y, from the grid's periodicity.

The grid's projection onto one axis is a comb: a peak every minor (1 mm) line, stronger every major (5 mm)
line. The major period P is the one whose harmonics k/P carry power while the midpoints (k - 1/2)/P do not
(a harmonic sieve): half of P fails the midpoint test and twice P halves its mean, so P wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edgeecg.imaging.peaks import peak_position

MIN_PX_PER_MM = 1.6
MAX_PX_PER_MM = 30.0


@dataclass(frozen=True)
class GridScale:
    """Measured scale; `strength` is the comb contrast (about 0 without a grid, 0.3-0.9 with one)."""

    px_per_mm: float
    strength: float
    major_found: bool


def _spectrum(profile: np.ndarray, pad: int = 8) -> tuple[np.ndarray, int]:
    p = profile.astype(np.float64) - profile.mean()
    p *= np.hanning(len(p))
    n = int(2 ** np.ceil(np.log2(len(p) * pad)))
    return np.abs(np.fft.rfft(p, n)), n


def _amp(spec: np.ndarray, n: int, freqs: np.ndarray) -> np.ndarray:
    """Spectrum magnitude at (cycles/px) frequencies, linearly interpolated; 0 beyond Nyquist."""
    idx = freqs * n
    ok = idx < len(spec) - 1
    out = np.zeros_like(freqs)
    i0 = np.floor(idx[ok]).astype(int)
    frac = idx[ok] - i0
    out[ok] = spec[i0] * (1 - frac) + spec[i0 + 1] * frac
    return out


def _sieve(spec: np.ndarray, n: int, periods: np.ndarray) -> np.ndarray:
    """Comb contrast of each period: mean spectrum at its harmonics minus at the midpoints between them."""
    k = np.arange(1, int(periods.max() * 0.45) + 2)[None, :]
    use = k <= np.maximum(2, (periods * 0.45).astype(int))[:, None]  # harmonics below Nyquist
    teeth = _amp(spec, n, k / periods[:, None]) * use
    gaps = _amp(spec, n, (k - 0.5) / periods[:, None]) * use
    return (teeth.sum(1) - gaps.sum(1)) / use.sum(1)


def measure_axis(profile: np.ndarray, prior_px_per_mm: float | None = None,
                 search: tuple[float, float] = (MIN_PX_PER_MM, MAX_PX_PER_MM)) -> GridScale | None:
    """px/mm from one axis' grid profile, or None when the profile shows no grid.

    Each candidate scale q (px/mm) is scored by its 1 mm comb plus its 5 mm comb. Twice the true q loses
    half of both combs' teeth; half of it lands the 5 mm comb's midpoints on the true major harmonics.
    `search` narrows the candidates (same density) where the scale is already known roughly.
    """
    if len(profile) < 64 or profile.std() < 1e-6:
        return None
    spec, n = _spectrum(profile)
    floor = np.median(spec) + 1e-9
    per_octave = 900 / np.log2(MAX_PX_PER_MM / MIN_PX_PER_MM)
    count = max(2, int(round(per_octave * np.log2(search[1] / search[0]))))
    q = np.exp(np.linspace(np.log(search[0]), np.log(search[1]), count))
    q = q[5 * q < len(profile) / 4]
    if q.size == 0:
        return None
    minor = _sieve(spec, n, q) / floor
    major = _sieve(spec, n, 5 * q) / floor
    score = np.maximum(minor, 0) + np.maximum(major, 0)
    if prior_px_per_mm:  # the page's width: weak, but it breaks ties between a scale and its multiples
        score = score * np.where(np.abs(np.log(q / prior_px_per_mm)) < np.log(1.8), 1.0, 0.7)
    best = int(np.argmax(score))
    if score[best] < 3.0:
        return None
    has_major = bool(major[best] > 3.0)
    px_per_mm = _refine(spec, n, 5 * q[best]) / 5 if has_major else _refine(spec, n, q[best])
    strength = float(score[best] * floor / (spec.max() + 1e-9))
    return GridScale(float(px_per_mm), strength, has_major)


def _refine(spec: np.ndarray, n: int, period: float) -> float:
    """Sub-percent period: the highest strong harmonic pins the period best, so fit on all of them."""
    fine = period * np.linspace(0.985, 1.015, 121)[:, None]
    k = np.arange(1, max(2, int(period * 0.45)) + 1)[None, :]
    return float(fine[int(np.argmax(_amp(spec, n, k / fine).sum(1))), 0])


def _blanked(grid: np.ndarray, ink_mask: np.ndarray) -> np.ndarray:
    """The grid evidence (uint8) with the traces blanked out: trace ink is not grid."""
    return cv2.bitwise_and(grid, grid, mask=np.logical_not(ink_mask).view(np.uint8))  # a third of np.where's time


def _sums(img: np.ndarray, axis: int) -> np.ndarray:
    """Sum along `axis` (0: down columns, 1: along rows) as float64, via OpenCV's vectorised reduce."""
    return cv2.reduce(img, axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.float64)


def measure(grid: np.ndarray, ink_mask: np.ndarray, prior_px_per_mm: float | None = None,
            near: tuple[float, float] | None = None) -> tuple[GridScale | None, GridScale | None]:
    """(x scale, y scale) from the grid evidence image, with the traces blanked out first. `near`: (x, y)
    px/mm known to 20 % (a search over every scale costs ten times as much)."""
    g = _blanked(grid, ink_mask)
    h, w = g.shape
    band_y = g[h // 6: 5 * h // 6]
    band_x = g[:, w // 8: 7 * w // 8]
    search = [(MIN_PX_PER_MM, MAX_PX_PER_MM)] * 2 if near is None else [(p / 1.2, p * 1.2) for p in near]
    return (measure_axis(_sums(band_y, 0), prior_px_per_mm, search[0]),
            measure_axis(_sums(band_x, 1), prior_px_per_mm, search[1]))


def uniform_maps(grid: np.ndarray, ink_mask: np.ndarray, prior_px_per_mm: float, strips: int = 4
                 ) -> tuple[tuple[np.ndarray, np.ndarray] | None, tuple[float, float]] | None:
    """(cv2.remap maps that make the grid pitch the same everywhere, or None when it already is; the mean
    px/mm along x and y), or None when the pitch is unknown.

    A photo flattened from a slightly wrong outline keeps some perspective: the pitch then drifts across the
    page, and a 3 % drift moves the last second of a 10 s strip by 75 ms. The pitch is measured in strips
    along each axis, fitted as a straight line, and each axis is resampled so that millimetres are even.
    """
    g = _blanked(grid, ink_mask)
    h, w = g.shape
    maps, means = [], []
    for axis, length in ((1, w), (0, h)):
        profile = _sums(g, 0 if axis == 1 else 1)  # a strip's profile is a slice of the whole axis' profile
        # first where the prior counts in full (measure_axis weighs the rest down): 40 % of the search's cost
        whole = (measure_axis(profile, prior_px_per_mm, (prior_px_per_mm / 1.8, prior_px_per_mm * 1.8))
                 or measure_axis(profile, prior_px_per_mm))
        if whole is None:
            return None
        near = (whole.px_per_mm / 1.25, whole.px_per_mm * 1.25)  # a strip's pitch drifts by a few per cent
        edges = np.linspace(0, length, strips + 1).astype(int)
        centres, pitch = [], []
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            scale = measure_axis(profile[a:b], prior_px_per_mm, near)
            if scale is None:
                return None
            centres.append((a + b) / 2.0)
            pitch.append(scale.px_per_mm)
        slope, icpt = np.polyfit(centres, pitch, 1)
        x = np.arange(length, dtype=np.float64)
        local = icpt + slope * x
        means.append(float(local.mean()) if local.min() > 0 else whole.px_per_mm)
        if local.min() <= 0 or np.ptp(local) / local.mean() < 0.004:
            maps.append(x.astype(np.float32))
            continue
        u = np.concatenate([[0.0], np.cumsum(local.mean() / local[:-1])])  # even-mm coordinate of each x
        maps.append(np.interp(x, u, x).astype(np.float32))                 # source x for each even-mm x
    if all(np.allclose(m, np.arange(len(m))) for m in maps):
        return None, (means[0], means[1])
    map_x = np.broadcast_to(maps[0][None, :], (h, w)).copy()
    map_y = np.broadcast_to(maps[1][:, None], (h, w)).copy()
    return (map_x, map_y), (means[0], means[1])


def _band_profiles(grid: np.ndarray, ink_mask: np.ndarray, baselines: list[float], px_per_mm: float
                   ) -> list[np.ndarray]:
    """Grid evidence summed down each row's band (0.4 of the row pitch either side), traces blanked: the
    vertical grid lines as that row sees them."""
    g = _blanked(grid, ink_mask)
    half = 0.4 * float(np.median(np.diff(baselines))) if len(baselines) > 1 else 15 * px_per_mm
    return [_sums(g[max(0, int(b - half)): int(b + half)], 0) for b in baselines]


def row_alignment(grid: np.ndarray, ink_mask: np.ndarray, baselines: list[float], px_per_mm: float,
                  windows: int = 3) -> np.ndarray | None:
    """Horizontal shift of every row band's vertical grid lines against the middle band, as (a, b) per row
    with shift(x) = a + b x, or None without a usable grid.

    The vertical lines are straight on paper, so after a perfect flattening they line up in every row. A photo
    flattened from a slightly wrong outline leaves them shifted by an amount that varies down the page: read
    against the middle row, those shifts are exactly the timing errors each row would otherwise carry. The
    search spans +-2.4 mm, inside the 5 mm major period.
    """
    if len(baselines) < 2:
        return None
    w = grid.shape[1]
    profiles = _band_profiles(grid, ink_mask, baselines, px_per_mm)
    ref = profiles[len(profiles) // 2]
    reach = int(2.4 * px_per_mm)
    edges = np.linspace(0.08 * w, 0.92 * w, windows + 1).astype(int)
    out = np.zeros((len(baselines), 2))
    for r, prof in enumerate(profiles):
        xs, shifts = [], []
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            seg = prof[a:b] - prof[a:b].mean()
            base = ref[max(0, a - reach): b + reach]
            base = base - base.mean()
            if seg.std() == 0 or base.std() == 0 or len(base) < len(seg) + 2 * reach:
                return None
            corr = np.correlate(base, seg, mode="valid")  # corr[k]: seg placed at a - reach + k in ref
            shifts.append(-(peak_position(corr) - reach))  # this row's lines sit `shift` px right of the reference's
            xs.append((a + b) / 2.0)
        slope, icpt = np.polyfit(xs, shifts, 1)
        out[r] = icpt, slope
    return out


def rows_apart(shifts: np.ndarray, width: int) -> float:
    """How far (px) row_alignment's `shifts` move the farthest row at either end of a page `width` px wide."""
    return float(np.abs(shifts[:, 0:1] + shifts[:, 1:2] * np.array([[0.0, width]])).max())


MAJOR_SNR = 6.0
"""How far a band's 5 mm component must stand above its spectrum between the 5 mm comb's harmonics
(`OFF_COMB`) before its 5 mm lines number its millimetres: set between the two groups a scratch listing of the
widened style's fitting photos showed (not a script here): where every line prints alike the ratio stayed below
it and the rows disagreed on the 5 mm phase; where the 5 mm lines print darker or paler it lay above it, most
rows well above."""
OFF_COMB = (0.13, 0.17, 0.23, 0.27, 0.33, 0.47)
"""Frequencies (cycles/mm) between the 5 mm comb's harmonics (0.2, 0.4, ...), where a grid puts nothing."""
MAJOR_TOL = 0.2
"""How far (mm) the 5 mm component may put the 5 mm lines off a 1 mm line (dark ones) or off the middle between
two 5 mm lines' places (pale ones) before the band's 5 mm numbering is not trusted."""


@dataclass(frozen=True)
class ColumnPhase:
    """The millimetre coordinate of every column of one row band and how its lines were numbered."""
    mm: np.ndarray           # (w,) m(x); its 5 mm lines at multiples of 5 where `majors` says which stand out
    majors: str | None       # "dark" or "pale": how the 5 mm lines differ from the 1 mm ones; None: no numbering


def column_phase(profile: np.ndarray, px_per_mm: float) -> ColumnPhase | None:
    """The millimetre coordinate m(x) of every column of one row band, from its vertical grid lines.

    Complex demodulation at the 1 mm frequency: the lines are cos(2 pi m(x)), so the low-passed product with
    exp(-2 pi i x / pitch) has phase 2 pi (m(x) - x / pitch). Every line in a 5 mm window votes, which beats
    picking single blurred lines; the phase is fitted as a cubic in x (weighted by how much grid each window
    shows), so stretches hidden by labels or a shadow borrow from their neighbours. m is known up to an
    integer (which paper line is line 0), which the 5 mm lines fix where they print darker or paler than the
    1 mm ones; None when the band shows too little grid.
    """
    w = len(profile)
    if w < 64 * px_per_mm / 8 or px_per_mm < 2.5:
        return None
    x = np.arange(w, dtype=np.float64)
    k = max(3, int(2 * px_per_mm) | 1)
    p = profile.astype(np.float64) - np.convolve(profile, np.ones(k) / k, mode="same")
    carrier = 2 * np.pi * x / px_per_mm
    sigma = 2.5 * px_per_mm
    taps = np.exp(-0.5 * (np.arange(-int(3 * sigma), int(3 * sigma) + 1) / sigma) ** 2)
    re = np.convolve(p * np.cos(carrier), taps, mode="same")
    im = -np.convolve(p * np.sin(carrier), taps, mode="same")
    amp = np.hypot(re, im)
    good = amp > 0.25 * np.percentile(amp, 90)
    if good.mean() < 0.5:
        return None
    step = max(1, int(px_per_mm))  # unwrap on a coarse lattice of columns that show grid
    idx = np.flatnonzero(good)[::step]
    phase = np.unwrap(np.arctan2(im[idx], re[idx]))
    coef = np.polyfit(idx, phase, 3, w=amp[idx])
    resid = phase - np.polyval(coef, idx)
    if np.median(np.abs(resid)) > 0.5:  # a line slipped or no regular grid: not trustworthy
        return None
    m = x / px_per_mm + np.polyval(coef, x) / (2 * np.pi)
    # number the lines so that the 5 mm lines fall on multiples of 5: then rows can be matched to the nearest
    # 5 mm, not just the nearest millimetre. Pale 5 mm lines put the 5 mm component's peak midway between them.
    k5 = max(3, int(10 * px_per_mm) | 1)   # a 10 mm box: it passes the 5 mm and 1 mm combs whole
    p5 = profile - np.convolve(profile, np.ones(k5) / k5, mode="same")
    use = good.copy()
    use[: k5 // 2], use[w - k5 // 2:] = False, False
    major, *off = [np.sum(p5[use] * np.exp(-2j * np.pi * f * m[use])) for f in (0.2, *OFF_COMB)]
    if abs(major) >= MAJOR_SNR * np.median(np.abs(off)):
        turns = 5 * np.angle(major) / (2 * np.pi)      # minus where the peak lies, mod 5 mm
        for majors, peak in (("dark", 0.0), ("pale", 2.5)):
            if abs(turns - peak - np.round(turns - peak)) < MAJOR_TOL:
                return ColumnPhase(m + np.round(turns - peak), majors)
    return ColumnPhase(m, None)


def even_column_maps(grid: np.ndarray, ink_mask: np.ndarray, baselines: list[float], px_per_mm: float
                     ) -> tuple[tuple[np.ndarray, np.ndarray], float] | None:
    """cv2.remap maps that put every row's vertical grid lines at even spacing, lined up across rows.

    A photo flattened from an outline a few pixels off keeps a projective stretch: at 0.2 % across a 10 s
    strip the last beats move by 20 ms, which costs more SNR than any tracing error. The vertical lines are
    straight and 1 mm apart on paper, so their phase along each row band is the true time axis; this reads
    it (`column_phase`) and resamples each row onto an even millimetre scale. Rows are lined up on the
    middle one by their 5 mm lines (flattening leaves them well within 2.5 mm of each other) where most rows'
    5 mm lines stand out, all alike (dark or pale); the other rows each to the nearest millimetre line of their
    neighbour nearer the middle.
    Returns the maps and the px/mm along x after them; None where fewer than half of the rows show enough
    grid.
    """
    if not baselines:
        return None
    h, w = grid.shape
    rows = []
    for b, profile in zip(baselines, _band_profiles(grid, ink_mask, baselines, px_per_mm), strict=True):
        c = column_phase(profile, px_per_mm)
        if c is not None:
            rows.append((b, c))
    if len(rows) < max(1, (len(baselines) + 1) // 2):
        return None
    kinds = [c.majors for _, c in rows]
    by_majors = len({k for k in kinds if k is not None}) == 1 and 2 * kinds.count(None) < len(kinds)
    named = [by_majors and k is not None for k in kinds]
    middle = min((i for i in range(len(rows)) if named[i] or not by_majors), key=lambda i: abs(i - len(rows) // 2))
    inner = slice(int(0.1 * w), int(0.9 * w))
    mm: dict[int, np.ndarray] = {middle: rows[middle][1].mm}
    for i in sorted(range(len(rows)), key=lambda i: abs(i - middle))[1:]:   # outwards from the middle row
        if named[i]:    # the nearest row numbered by its 5 mm lines: lined up to the nearest 5 mm
            j = min((j for j in mm if named[j]), key=lambda j: abs(j - i))
        else:           # the row next to it, nearer the middle: the lines have moved least since
            j = i + 1 if i < middle else i - 1
        step = 5.0 if named[i] else 1.0
        mm[i] = rows[i][1].mm + step * np.round(np.mean(mm[j][inner] - rows[i][1].mm[inner]) / step)
    return _even_maps([(b, mm[i]) for i, (b, _) in enumerate(rows)], h, w)


def _even_maps(aligned: list[tuple[float, np.ndarray]], h: int, w: int
               ) -> tuple[tuple[np.ndarray, np.ndarray], float] | None:
    """even_column_maps' maps from the millimetre coordinate m(x) of bands at heights b, numbered alike; None
    where they would move no column by 0.3 px or a band's m does not rise."""
    ref = aligned[len(aligned) // 2][1]
    inner = slice(int(0.1 * w), int(0.9 * w))
    x = np.arange(w, dtype=np.float64)
    slope = (ref[inner][-1] - ref[inner][0]) / (x[inner][-1] - x[inner][0])   # mm per px, middle row
    offset = float(np.mean(ref[inner] - slope * x[inner]))
    mm = offset + slope * x                                    # the even-mm coordinate of each output column
    sources = []
    for _, m in aligned:
        if np.any(np.diff(m) <= 0):
            return None
        sources.append(np.interp(mm, m, x, left=np.nan, right=np.nan))
    src = np.array(sources)
    for row in src:  # beyond the ends: carry on at the scale of the nearest columns
        ok = np.flatnonzero(np.isfinite(row))
        if ok.size < 10:   # a band numbered whole centimetres off the middle one's: nothing to follow
            return None
        row[: ok[0]] = row[ok[0]] - (ok[0] - x[: ok[0]]) * (row[ok[0] + 5] - row[ok[0]]) / 5
        row[ok[-1] + 1:] = row[ok[-1]] + (x[ok[-1] + 1:] - ok[-1]) * (row[ok[-1]] - row[ok[-1] - 5]) / 5
    if np.abs(src - x[None, :]).max() < 0.3:
        return None
    ys = np.arange(h, dtype=np.float64)
    bs = np.array([b for b, _ in aligned])
    if len(bs) == 1:
        map_x = np.broadcast_to(src[0][None, :], (h, w))
    else:
        pos = np.clip(np.interp(ys, bs, np.arange(len(bs))), 0, len(bs) - 1)
        i0 = np.minimum(pos.astype(int), len(bs) - 2)
        t = (pos - i0)[:, None].astype(np.float32)
        s32 = src.astype(np.float32)
        map_x = np.empty((h, w), np.float32)
        bands = np.searchsorted(i0, np.arange(len(bs)))  # i0 rises with y: the page rows between two baselines
        for i, (a, b) in enumerate(zip(bands[:-1], bands[1:], strict=True)):   # in place: full-page float arrays
            np.multiply(s32[i + 1] - s32[i], t[a:b], out=map_x[a:b])
            map_x[a:b] += s32[i]
    map_y = np.broadcast_to(ys[:, None].astype(np.float32), (h, w))
    return (map_x.astype(np.float32, copy=False), np.ascontiguousarray(map_y)), 1.0 / slope


LEAN_BAND_MM = 3.0
"""Height of the thin bands whose vertical lines `leaning_column_maps` reads, and their spacing: a line leaning
10 degrees moves 0.5 mm across one, which keeps its 1 mm phase readable."""
LEAN_PITCHES = (1.0, 0.9, 1.1)
"""Line pitches, as shares of the page's, at which a band's lines are looked for: seen at a slant, the far edge's
millimetres are up to a tenth finer or coarser than the page's median, too far for one pitch to follow."""
TREND_BANDS = 4
"""Bands whose numbered lines set the lean's trend for the next: a line may lean several millimetres over a row of
bands hidden by traces, so the next band's lines are numbered where the trend says they should be, to the nearest
millimetre (not the nearest 5 mm line: some grids print every line alike, and their 5 mm numbering is noise)."""
LEAN_ROWS_MM = 1.5
"""How far (mm) row_alignment must find some row out of line with the middle one before the thin bands are read:
a deskewed scan's rows lie within a few hundredths of a millimetre, a page seen at a slant's several millimetres
apart (row_alignment's search stops at 2.4 mm). Below it the bands would cost every scan time for nothing, and
on a grid that prints every line alike they could be misnumbered into a lean."""
LEAN_MM = 2.0
"""How far (mm) some band's lines must lie from the middle band's, at the same column, before a page counts as
leaning: below it, lining the rows up (row_alignment) corrects what there is."""


def leaning_column_maps(grid: np.ndarray, ink_mask: np.ndarray, baselines: list[float], px_per_mm: float
                        ) -> tuple[tuple[np.ndarray, np.ndarray], float] | None:
    """even_column_maps for a page photographed at a slant with no outline in view to flatten it by.

    Seen from an angle, the vertical lines lean and fan out: on ecg00030 a row's 5 mm lines lay several
    millimetres right of the next row's at the left edge and in line at the right, so every row read its leads at
    its own times. Rows are too far apart to be lined up by the nearest 5 mm line; thin bands every LEAN_BAND_MM
    are not, so each band's lines are numbered from the bands above (following the lean's trend across gaps where
    traces hide the grid, TREND_BANDS) and the page is resampled band by band. None where the lines lean by less
    than LEAN_MM, show near too few rows, or cannot be followed.
    """
    if len(baselines) < 2:
        return None
    h, w = grid.shape
    pitch = float(np.median(np.diff(baselines)))
    half = 0.5 * LEAN_BAND_MM * px_per_mm
    g = _blanked(grid, ink_mask)
    bands: list[tuple[float, np.ndarray]] = []
    for y in np.arange(max(half, baselines[0] - pitch / 2), min(h - half, baselines[-1] + pitch / 2),
                       2 * half):
        profile = _sums(g[int(y - half): int(y + half)], 0)
        c = next((c for f in LEAN_PITCHES if (c := column_phase(profile, f * px_per_mm)) is not None), None)
        if c is not None:
            bands.append((float(y), c.mm))
    covered = [any(abs(b - y) < pitch / 2 for y, _ in bands) for b in baselines]
    if not all(covered):
        return None
    inner = slice(int(0.1 * w), int(0.9 * w))
    numbered = [bands[0]]
    for y, m in bands[1:]:
        near = numbered[-TREND_BANDS:]
        if len(near) > 1:   # each column's line position along y, extrapolated from the bands just numbered
            slope, icpt = np.polyfit([b for b, _ in near], np.array([n[inner] for _, n in near]), 1)
            expected = icpt + slope * y
        else:
            expected = near[0][1][inner]
        numbered.append((y, m + np.round(np.mean(expected - m[inner]))))
    ref = numbered[len(numbered) // 2][1]
    if max(float(np.abs(m[inner] - ref[inner]).max()) for _, m in numbered) < LEAN_MM:
        return None
    return _even_maps(numbered, h, w)
