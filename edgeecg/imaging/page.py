"""Getting a readable page out of a photo: load, refuse what cannot be read, find and flatten the page.

Works in RGB uint8 throughout. Everything here is OpenCV/numpy and sized for about 100 ms per phone photo
on one CPU core.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgeecg.imaging.peaks import peak_position, row_peaks

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pdf")
MIN_SIDE = 250
"""Smallest short side in pixels: a three-row chart cropped tight at about 2 px/mm (a web image). Whether 1 mm is
resolved is checked once the grid's pitch is measured (digitize.MIN_PX_PER_MM)."""
WORK_WIDTH = 2400
"""Pages are rectified to at most this width (about 8 px/mm on A4): more only costs time."""


class DigitizeError(ValueError):
    """An image that cannot be digitized, with the reason and what to try instead."""


ORIENTATIONS = ("auto", "as-given")
"""auto: find which way up the page lies in the image (orientation.py); as-given: trust the image."""


TRACERS = ("classical", "net")
"""classical: every pixel above the ink threshold; net: only where the trace segmenter (segment.py) sees trace
too. Classical is the default because it measures as well or better on the bench (README, "Trace segmenter")."""


def check_orientation(value: str, tracer: str = "classical") -> None:
    """Before any work: a wrong value is one error, not a refusal repeated for every input of an archive."""
    if value not in ORIENTATIONS:
        raise DigitizeError(f"orientation {value!r}: use {' or '.join(ORIENTATIONS)}")
    if tracer not in TRACERS:
        raise DigitizeError(f"tracer {tracer!r}: use {' or '.join(TRACERS)}")


class CrowdedPageError(DigitizeError):
    """Dark marks cover far more of the image than a page of traces: not an ECG, or a grid as dark as its trace
    (which the digitizer then reads once more with the grid's lines taken out: grid_removal)."""


class UnsureReadError(DigitizeError):
    """The rows and traces were found but the read is not trusted: below the confidence bar (the same page turned
    another way may clear it: a flipped page's calibration pulses point down and go unrecognised), or its limb
    leads break the laws that bind them."""


@dataclass
class Page:
    """The flattened page in RGB and how it was obtained (for the quality report and the overlay)."""

    rgb: np.ndarray
    found_page: bool
    input_px: tuple[float, float] = (1.0, 1.0)   # input image pixels per working pixel, x and y (mean over the page)


def load_image(path: str | Path, page: int = 1) -> np.ndarray:
    """An RGB uint8 image from a file (`page` of a PDF, 1-based); refuses formats and files that are not images,
    with the reason."""
    path = Path(path)
    if not path.is_file():
        raise DigitizeError(f"{path}: no such file")
    if path.suffix.lower() == ".pdf":
        return _pdf_page(path, page)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise DigitizeError(f"{path}: not an image file ({path.suffix or 'no suffix'}); give a "
                            f"{', '.join(IMAGE_SUFFIXES)} photo or scan")
    data = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise DigitizeError(f"{path}: the file could not be decoded as an image (damaged or not an image)")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _pdf(path: Path):
    try:
        import pypdfium2
    except ImportError:
        raise DigitizeError(f"{path}: reading PDF needs the pdf extra (pip install 'edgeecg[pdf]'), or export the "
                            f"page as PNG at 200-300 dpi (for example `pdftoppm -png -r 200 {path.name} page`)"
                            ) from None
    try:
        doc = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as err:
        raise DigitizeError(f"{path}: not a readable PDF ({err})") from None
    if len(doc) == 0:
        raise DigitizeError(f"{path}: the PDF has no pages")
    return doc


def pdf_pages(path: str | Path) -> int:
    """How many pages a PDF has (ECG machines and archives put one record per page)."""
    return len(_pdf(Path(path)))


def _pdf_page(path: Path, number: int, dpi: float = 200.0) -> np.ndarray:
    """Page `number` (1-based) of a PDF as RGB at `dpi` (pypdfium2, the `pdf` extra)."""
    doc = _pdf(path)
    if not 1 <= number <= len(doc):
        raise DigitizeError(f"{path}: has {len(doc)} page(s), not a page {number}")
    page = doc[number - 1].render(scale=dpi / 72.0).to_numpy()
    return np.ascontiguousarray(page[..., :3][..., ::-1] if page.shape[2] >= 3 else np.repeat(page, 3, axis=2))


def check_readable(rgb: np.ndarray) -> np.ndarray:
    """The image as RGB uint8 [H, W, 3], or a DigitizeError saying why it cannot hold a readable ECG."""
    img = np.asarray(rgb)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise DigitizeError(f"expected an RGB image [H, W, 3], got an array of shape {img.shape}")
    img = img[..., :3]
    if img.dtype != np.uint8:
        raise DigitizeError(f"expected 8-bit pixels (uint8), got {img.dtype}")
    h, w = img.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise DigitizeError(f"image is {w}x{h} px; at least {MIN_SIDE} px on the short side is needed to read "
                            f"1 mm grid squares (photograph the whole page closer or scan at >= 100 dpi)")
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    small = area_shrink(gray, 4)
    if float(small.std()) < 4.0:
        raise DigitizeError("image is blank (almost uniform); nothing to digitize")
    return img


def sharpness(gray: np.ndarray) -> float:
    """Focus measure: the 99th percentile of the Laplacian magnitude over the 99.5th of the gradient scale.

    Sharp thin lines give a strong second derivative for their contrast; a defocused page does not, whatever
    its brightness.
    """
    lap = cv2.convertScaleAbs(cv2.Laplacian(gray, cv2.CV_16S, ksize=3))
    hist_g = np.cumsum(cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel())
    hist_l = np.cumsum(cv2.calcHist([lap], [0], None, [256], [0, 256]).ravel())
    n = float(gray.size)
    contrast = float(np.searchsorted(hist_g, 0.95 * n) - np.searchsorted(hist_g, 0.01 * n)) + 1e-3
    return float(np.searchsorted(hist_l, 0.995 * n)) / contrast


def _order_corners(pts: np.ndarray) -> np.ndarray:
    """Corners as top-left, top-right, bottom-right, bottom-left."""
    pts = pts.reshape(4, 2).astype(np.float32)
    s, d = pts.sum(1), np.diff(pts, axis=1)[:, 0]
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]], np.float32)


def _quad(mask: np.ndarray, min_area: float) -> tuple[np.ndarray, np.ndarray] | None:
    """(four corners, outline points) of the largest blob of `mask`, if it is a convex quadrilateral of
    sensible size; the corners are the hull's (see _straight_sides for where its edges meet)."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    best = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(best) / float(mask.shape[0] * mask.shape[1])
    if not min_area < area < 0.93:
        return None
    hull = cv2.convexHull(best)
    for eps in (0.01, 0.02, 0.03, 0.05):
        approx = cv2.approxPolyDP(hull, eps * cv2.arcLength(hull, True), True)
        if len(approx) == 4:
            corners = _order_corners(approx)
            if cv2.contourArea(corners) >= 0.85 * cv2.contourArea(hull.astype(np.float32)):
                return corners, best.reshape(-1, 2).astype(np.float32)
            return None
    return None


def _chart_bent(sheet: np.ndarray, chart: np.ndarray) -> bool:
    """True when the textured chart lies within the sheet (3 px slack, at least half its area) but one of its
    sides runs more than 1.5 degrees off the sheet's: shadow or blur wore the texture away there, and the
    sheet's straight, sharp edges flatten the page better. A chart whose sides run with the sheet's is
    intact, and better than the sheet: it leaves the margins, and anything lying on them, out."""
    inside = all(cv2.pointPolygonTest(sheet, (float(x), float(y)), True) > -3 for x, y in chart)
    if not inside or cv2.contourArea(chart) < 0.5 * cv2.contourArea(sheet):
        return False
    sides = [np.roll(q, -1, axis=0) - q for q in (sheet, chart)]
    turn = np.degrees(np.arctan2(sides[0][:, 1], sides[0][:, 0]) - np.arctan2(sides[1][:, 1], sides[1][:, 0]))
    return bool(np.abs((turn + 180) % 360 - 180).max() > 1.5)


def _squarish(corners: np.ndarray) -> bool:
    """True for a sheet as a camera tilted up to 30 degrees sees it: every corner within 25 degrees of square
    and opposite sides within a factor 1.7 (every simulated poor photo passes: tests/imaging/test_page.py).
    A chart's texture cut across by a shadow makes a wedge instead."""
    return _quad_within(corners, side_ratio=1.7, corner_deg=25.0)


def _quad_within(corners: np.ndarray, side_ratio: float, corner_deg: float) -> bool:
    """True when opposite sides differ by at most `side_ratio` and every corner is within `corner_deg` of square."""
    sides = np.linalg.norm(np.roll(corners, -1, axis=0) - corners, axis=1)
    if max(sides[0] / sides[2], sides[2] / sides[0], sides[1] / sides[3], sides[3] / sides[1]) > side_ratio:
        return False
    for a, b, c in zip(np.roll(corners, 1, axis=0), corners, np.roll(corners, -1, axis=0), strict=True):
        u, v = a - b, c - b
        cos = float(np.dot(u, v) / max(np.linalg.norm(u) * np.linalg.norm(v), 1e-6))
        if abs(cos) > np.sin(np.radians(corner_deg)):
            return False
    return True


def _straight_sides(outline: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Corners where the sheet's four straight edges meet, each edge fitted to the outline points along it.

    The hull's corners come from the blob's extreme points: a pen or a phone touching the sheet pulls a
    corner out to its tip, and the whole flattening leans with it. Along each side, the line that most
    outline points lie on (within 1.5 px, a RANSAC search in a corridor around the side) is the sheet's
    edge; the object's few points are not on it. Only corners that move far are replaced: elsewhere the
    hull's corner is as good, and a ragged texture edge makes a fit wander.
    """
    lines = []
    for a, b in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        length = float(np.linalg.norm(b - a))
        direction = (b - a) / max(length, 1e-6)
        normal = np.array([-direction[1], direction[0]], np.float32)
        rel = outline - a
        along = rel @ direction
        line = _ransac_line(outline[(np.abs(rel @ normal) < 0.08 * length) & (along > 0.0) & (along < length)],
                            0.2 * length, 1.5)
        if line is None:
            return corners
        lines.append(line)
    refined = _where_sides_meet(lines)
    if refined is None:
        return corners
    moved = np.linalg.norm(refined - corners, axis=1) > 0.025 * np.sqrt(cv2.contourArea(corners))
    refined = np.where(moved[:, None], refined, corners).astype(np.float32)
    if not cv2.isContourConvex(refined) or cv2.contourArea(refined) < 0.8 * cv2.contourArea(corners) \
            or not _squarish(refined):
        return corners
    return refined


def _ransac_line(pts: np.ndarray, min_span: float, tol: float) -> tuple[np.ndarray, np.ndarray] | None:
    """(a point, the direction) of the line that most of `pts` lie on within `tol` px, fitted to those points;
    candidate lines join two points at least `min_span` apart. None where there are too few points."""
    if len(pts) < 20:
        return None
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, len(pts), (200, 2))
    d = pts[pairs[:, 1]] - pts[pairs[:, 0]]
    norm = np.linalg.norm(d, axis=1)
    ok = norm > min_span
    if not ok.any():
        return None
    n = np.stack([-d[ok, 1], d[ok, 0]], axis=1) / norm[ok, None]
    # every point's distance to every candidate line, as one matrix product: [points, candidates]
    dist = np.abs(pts @ n.T - (pts[pairs[ok, 0]] * n).sum(axis=1)[None, :])
    inliers = dist[:, int(np.argmax((dist < tol).sum(axis=0)))] < tol
    vx, vy, x, y = cv2.fitLine(pts[inliers].astype(np.float32), cv2.DIST_L2, 0, 0.01, 0.01).ravel()
    return np.array([x, y], np.float32), np.array([vx, vy], np.float32)


def _where_sides_meet(lines: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray | None:
    """The four corners where consecutive sides (top, right, bottom, left) meet, ordered; None where two are
    parallel."""
    corners = []
    for (p1, d1), (p2, d2) in zip([lines[-1]] + lines[:-1], lines, strict=True):
        den = d1[0] * d2[1] - d1[1] * d2[0]
        if abs(den) < 1e-3:
            return None
        t = ((p2[0] - p1[0]) * d2[1] - (p2[1] - p1[1]) * d2[0]) / den
        corners.append(p1 + t * d1)
    return _order_corners(np.array(corners, np.float32))


EDGE_SAMPLES = 80
"""Places along each side of the sheet where its edge is found at full resolution."""
EDGE_REACH = 6.0
"""How far (px of the 800 px copy the outline is found on) the sheet's full-resolution edge is looked for."""
EDGE_MIN_STEP = 25.0
"""Grey levels the paper must stand above the desk across a place's profile for its edge to count there."""


def _sheet_edges(rgb: np.ndarray, corners: np.ndarray, reach: float) -> np.ndarray:
    """The sheet's corners where its four edges, found to a fraction of a pixel in the full-resolution photo,
    meet; `corners` where that fails.

    The outline comes from an 800 px copy of the photo: its corners are most of a millimetre off (0.6 / 0.8 mm
    median on the bench's photos / poor photos, benchmarks/sheet_corners.py), and a sheet without a grid takes
    its scale and its time axis from them alone, so a millimetre's lean is tens of milliseconds at a strip's end.
    Across each side, at EDGE_SAMPLES places, the edge is where the brightness falls fastest from paper to desk
    within `reach` px of the outline (the half-way point of a blurred step, to a parabola's fraction of a pixel);
    a straight line through most of those places (RANSAC, 1 px) is the edge, so a pen or a shadow across a
    stretch of it is outvoted.
    """
    offsets = np.arange(-reach, reach + 0.25, 0.5, dtype=np.float32)
    lines = []
    for a, b in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        length = float(np.linalg.norm(b - a))
        along = (b - a) / max(length, 1e-6)
        outward = np.array([along[1], -along[0]], np.float32)  # corners run clockwise on the image
        base = a + np.linspace(0.05, 0.95, EDGE_SAMPLES, dtype=np.float32)[:, None] * (b - a)
        pts = base[:, None, :] + offsets[None, :, None] * outward
        profile = cv2.remap(rgb, pts[..., 0], pts[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        bright = cv2.GaussianBlur(profile.max(axis=2).astype(np.float32), (3, 1), 0)  # along each profile
        fall = bright[:, :-2] - bright[:, 2:]           # per px, outward, at offsets[1:-1]
        at = row_peaks(fall)
        edge = base + (offsets[0] + 0.5 * (1.0 + at))[:, None] * outward
        quarter = len(offsets) // 4
        step = bright[:, :quarter].mean(axis=1) - bright[:, -quarter:].mean(axis=1)
        keep = (step > EDGE_MIN_STEP) & (at > 1) & (at < fall.shape[1] - 2)
        if keep.sum() < EDGE_SAMPLES // 3:
            return corners
        line = _ransac_line(edge[keep], 0.3 * length, 1.0)
        if line is None:
            return corners
        lines.append(line)
    refined = _where_sides_meet(lines)
    if refined is None or np.linalg.norm(refined - corners, axis=1).max() > reach \
            or not cv2.isContourConvex(refined) or not _squarish(refined):
        return corners
    return refined


def area_shrink(img: np.ndarray, factor: int) -> np.ndarray:
    """`img` averaged over blocks of factor x factor pixels; the last rows and columns that do not fill a
    block are left out. OpenCV's area resampling at a whole factor is about three times as fast as at a
    fractional one, which a size not divisible by `factor` would take."""
    h, w = img.shape[:2]
    hh, ww = max(1, h // factor), max(1, w // factor)
    return cv2.resize(img[: hh * factor, : ww * factor], (ww, hh), interpolation=cv2.INTER_AREA)


def _shrink(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-averaged halvings (area_shrink) down to within 2x of `size`, then linear: one area resampling
    at the fractional factor left would cost several times as much."""
    while img.shape[1] >= 2 * size[0] and img.shape[0] >= 2 * size[1]:
        img = area_shrink(img, 2)
    return cv2.resize(img, size, interpolation=cv2.INTER_LINEAR)


def find_page(rgb: np.ndarray) -> np.ndarray | None:
    """Four corners of the printed chart in a photo, or None (scans, crops, screenshots fill the frame).

    Two outlines: the paper that carries fine dark lines (the ECG grid and traces: a texture no desk has),
    and the bright low-saturation sheet against a darker background. The textured chart's (a sheet's outline
    can take in a bright object beside it), unless shadow or blur bent it within the sheet (_chart_bent),
    else the sheet's (grid-less paper), which is then flooded from between its traces as well, in case a lit
    desk passed for paper or a shadow cut a stretch off (_paper_flood); None too where that flood fills the
    frame and the sheet's outline is a shadow's soft edge (_shadow_cut). A sheet's outline is found again at full
    resolution (_sheet_edges).
    """
    h, w = rgb.shape[:2]
    scale = 800.0 / max(h, w)
    small = _shrink(rgb, (int(w * scale), int(h * scale)))
    r, g, b = cv2.split(small)
    darkest = cv2.min(cv2.min(r, g), b)  # OpenCV: numpy's reduction over a 3-wide axis is ten times slower
    value = cv2.max(cv2.max(r, g), b)
    spread = value.astype(np.int16) - darkest
    thr, bright = cv2.threshold(value, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if thr < 90:
        return None
    paper = ((bright > 0) & (spread < 70)).astype(np.uint8) * 255
    paper = cv2.morphologyEx(_with_shaded_paper(paper, value, darkest, thr), cv2.MORPH_CLOSE,
                             np.ones((9, 9), np.uint8))
    lines = cv2.morphologyEx(darkest, cv2.MORPH_BLACKHAT, np.ones((5, 5), np.uint8))
    _, textured = cv2.threshold(cv2.blur(lines, (15, 15)), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    chart = cv2.morphologyEx(cv2.bitwise_and(textured, paper), cv2.MORPH_OPEN, np.ones((15, 15), np.uint8))
    textured_q = _quad(chart, 0.15)
    sheet_q = _quad(cv2.morphologyEx(paper, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)), 0.12)
    if textured_q is None or not _squarish(textured_q[0]):  # the sheet's outline will flatten the page
        plateau = cv2.morphologyEx(value, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
        flood = _paper_flood(plateau, cv2.bitwise_and(textured, paper))
        if flood is not None and sheet_q is not None and _shadow_cut(flood, plateau, sheet_q[0]):
            return None
        flooded = None if flood is None else _quad(flood, 0.12)
        if flooded is not None and _holds_the_sheet_better(flooded[0], sheet_q, textured):
            sheet_q = flooded
    found = [q for q in (textured_q, sheet_q) if q is not None]
    if not found:
        return None
    if textured_q and sheet_q and _squarish(sheet_q[0]) and _chart_bent(sheet_q[0], textured_q[0]):
        found.reverse()  # the sheet first
    # a quad no camera could make of a sheet (a shadow cut the chart into a wedge) only where nothing better
    chosen = next((q for q in found if _squarish(q[0])), found[0])
    corners = _straight_sides(chosen[1], chosen[0])
    outside = np.ones(paper.shape, np.uint8)
    cv2.fillConvexPoly(outside, corners.astype(np.int32), 0)
    if outside.any() and (paper[outside > 0] > 0).mean() > 0.6:
        return None  # white paper all around the chart: a scan with margins, not a sheet on a desk
    if _is_flat_rectangle(corners) and cv2.contourArea(corners) > 0.8 * paper.size:
        return None  # a scan or screenshot: nothing to flatten, and deskewing handles rotation exactly
    if chosen is sheet_q:  # a paper-to-desk step; a chart's outline is where its texture fades, no sharp edge
        return _sheet_edges(rgb, corners / scale, reach=EDGE_REACH / scale)
    return corners / scale


def _paper_flood(plateau: np.ndarray, texture: np.ndarray) -> np.ndarray | None:
    """The plateau of light that floods out from the paper between its traces, as a mask (None: no traces).

    `plateau`, a grey closing, has wiped out what is printed on the sheet (lines, text, moire from a screen),
    leaving its paper: light and shade change that smoothly, while the sheet's edge is a step. A flood that
    follows small steps only (4 levels a pixel) crosses the light but stops at the edge, even where a lit desk
    is as bright as the sheet's own shade and a threshold takes both. A shadow that darkens the sheet and the
    desk alike can let it leak: the caller checks the outline.
    """
    rows = cv2.morphologyEx(texture, cv2.MORPH_CLOSE, np.ones((61, 1), np.uint8))  # bands of trace: one block
    if not rows.any():
        return None
    seed = cv2.minMaxLoc(plateau, mask=rows)[3]  # the brightest paper among the traces
    mask = np.zeros((plateau.shape[0] + 2, plateau.shape[1] + 2), np.uint8)
    cv2.floodFill(plateau, mask, seed, 0, 4, 4, 4 | cv2.FLOODFILL_MASK_ONLY | (255 << 8))  # mask only: image kept
    return cv2.morphologyEx(mask[1:-1, 1:-1], cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))


SOFT_STEP = 30
"""Change of the paper's light (0-255, 8 px either side at the 800 px working size) below which a side of the
sheet's outline is a shadow's soft edge. In a one-off scan of the fitting seeds' simulated photos and poor photos
(not a script here), a sheet's edge against a desk stepped far more, blurred poor photos' sides less, and none had
every inner side below it with the paper's light flooding the frame; a real close-up's shadow across its chart
(ecg00008) is far under it."""


def _shadow_cut(flood: np.ndarray, plateau: np.ndarray, corners: np.ndarray) -> bool:
    """True when the sheet's outline `corners` is a shadow's edge, not the sheet's: the paper's light floods
    the whole frame (no step anywhere closes it) and every side of the outline that runs inside the frame is
    soft. A close-up whose sheet fills the frame, half of it in a phone's shadow, had been flattened to its lit
    half, which cut its second row of traces off; where the flood fills the frame through a shadow that leaked
    it onto the desk, the sheet's sides elsewhere still step."""
    if np.count_nonzero(flood) < 0.97 * flood.size:
        return False
    h, w = plateau.shape
    soft = []
    for a, b in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        length = max(float(np.linalg.norm(b - a)), 1e-6)
        normal = np.array([a[1] - b[1], b[0] - a[0]]) / length
        pts = a + np.linspace(0.1, 0.9, 40)[:, None] * (b - a)
        if np.all((pts.min(axis=1) < 4) | (pts[:, 0] > w - 5) | (pts[:, 1] > h - 5)):
            continue  # the outline runs along the frame's border here
        sides = [np.rint(pts + k * 8 * normal).astype(int) for k in (1, -1)]
        ok = np.all([(s[:, 0] >= 0) & (s[:, 0] < w) & (s[:, 1] >= 0) & (s[:, 1] < h) for s in sides], axis=0)
        if ok.sum() < 10:
            continue
        lit = [plateau[s[ok, 1], s[ok, 0]].astype(np.float32) for s in sides]
        soft.append(float(np.median(np.abs(lit[0] - lit[1]))) < SOFT_STEP)
    return bool(soft) and all(soft)


def _holds_the_sheet_better(flooded: np.ndarray, sheet: tuple[np.ndarray, np.ndarray] | None,
                            texture: np.ndarray) -> bool:
    """True when the flooded outline is a sheet and the thresholded one is not: it keeps (nearly) all of the
    latter's fine dark lines in a clearly smaller area within it (a lit desk had passed for paper), or it
    holds clearly more of them (a shadow had taken a stretch of sheet below the threshold)."""
    if not _squarish(flooded):
        return False
    if sheet is None:
        return True
    areas = []
    for quad in (flooded, sheet[0]):
        inside = np.zeros(texture.shape, np.uint8)
        cv2.fillConvexPoly(inside, quad.astype(np.int32), 255)
        areas.append(inside)
    ink = [float(np.count_nonzero(cv2.bitwise_and(texture, a))) for a in areas]
    outside = np.count_nonzero(cv2.bitwise_and(areas[0], cv2.bitwise_not(areas[1])))
    smaller = cv2.contourArea(flooded) < 0.95 * cv2.contourArea(sheet[0]) and outside < 0.1 * np.count_nonzero(areas[0])
    return (smaller and ink[0] >= 0.9 * ink[1]) or ink[0] > 1.1 * ink[1]


def _with_shaded_paper(paper: np.ndarray, value: np.ndarray, darkest: np.ndarray, bright: float) -> np.ndarray:
    """`paper` plus the stretch of sheet a shadow darkened below the brightness threshold `bright`, on a
    coloured desk.

    Light and shadow scale a pixel's channels together, so its saturation (spread over value) survives
    them: the sheet's is low, a coloured desk's high. On a grey desk saturation tells nothing, and a deep
    shadow (below 0.4 of the threshold) leaves too little light to judge it: `paper` as it was.
    """
    sat = cv2.divide(cv2.subtract(value, darkest), cv2.max(value, 1), scale=255)  # uint8, 255 = pure colour
    on = float(np.count_nonzero(paper)) / paper.size
    if not 0.05 < on < 0.95:
        return paper
    sheet, desk = (_median_u8(sat, m) / 255 for m in (paper, cv2.bitwise_not(paper)))
    if desk < sheet + 0.2:
        return paper
    _, low = cv2.threshold(sat, 255 * (sheet + desk) / 2, 255, cv2.THRESH_BINARY_INV)
    _, lit = cv2.threshold(value, 0.4 * bright, 255, cv2.THRESH_BINARY)
    shaded = cv2.bitwise_and(cv2.bitwise_and(low, lit), cv2.bitwise_not(paper))
    # a shadow's stretch of sheet is solid; the blurred rim of the sheet and desk noise are not
    return cv2.bitwise_or(paper, cv2.morphologyEx(shaded, cv2.MORPH_OPEN, np.ones((9, 9), np.uint8)))


def _median_u8(img: np.ndarray, mask: np.ndarray) -> float:
    """Median of a uint8 image under a mask, from its histogram (numpy's median sorts)."""
    counts = np.cumsum(cv2.calcHist([img], [0], mask, [256], [0, 256]).ravel())
    return float(np.searchsorted(counts, 0.5 * counts[-1]))


def _is_flat_rectangle(corners: np.ndarray) -> bool:
    """True when opposite sides match within 1.5 % and every corner is within 1.5 degrees of square."""
    return _quad_within(corners, side_ratio=1 / 0.985, corner_deg=1.5)


def rectify(rgb: np.ndarray, corners: np.ndarray | None) -> Page:
    """The chart flattened to a rectangle with the quad's mean proportions, or the image itself if none.

    Perspective makes those proportions approximate; that is harmless, because the grid pitch is measured
    separately along x and y afterwards.
    """
    if corners is None:
        h, w = rgb.shape[:2]
        if w > WORK_WIDTH:
            f = WORK_WIDTH / w
            out = cv2.resize(rgb, (WORK_WIDTH, int(round(h * f))), interpolation=cv2.INTER_AREA)
            return Page(out, False, (w / out.shape[1], h / out.shape[0]))
        return Page(rgb, False)
    tl, tr, br, bl = corners
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    out_w = int(min(WORK_WIDTH, round(width)))
    out_h = int(round(out_w * height / width))
    dst = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], np.float32)
    hom = cv2.getPerspectiveTransform(corners.astype(np.float32), dst)
    # through RGBA: OpenCV's 4-channel warp is vectorised, and twice as fast as the 3-channel one
    flat = cv2.warpPerspective(cv2.cvtColor(rgb, cv2.COLOR_RGB2RGBA), hom, (out_w, out_h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
    across = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2 / out_w
    down = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2 / out_h
    return Page(_without_desk_rim(cv2.cvtColor(flat, cv2.COLOR_RGBA2RGB)), True, (float(across), float(down)))


RIM_PX = 4
"""Pixels at each edge of a flattened sheet where the photo's blur can have smeared the desk in."""
RIM_DARKER = 10
"""Grey levels by which an edge line's median must fall below the line RIM_PX in to count as the desk's."""


def _without_desk_rim(flat: np.ndarray) -> np.ndarray:
    """`flat` with each of its outermost RIM_PX lines that is darker along most of its length than the line
    RIM_PX in replaced by that line. A sheet flattened from its exact edges has half the desk in its first
    pixel, and a dark line all along a page's edge reads as ink: a row, a trace reaching the edge. A trace's
    end or a label there covers a few pixels of the line, not most of it."""
    n = RIM_PX + 1
    # each side's outermost lines, outermost first, as rows; only they are looked at (a channel max over the
    # whole page had made every flattening markedly slower)
    for side in (flat[:n], flat[::-1][:n], flat[:, :n].transpose(1, 0, 2), flat[:, ::-1][:, :n].transpose(1, 0, 2)):
        level = np.median(side.max(axis=2), axis=1)
        for i in np.flatnonzero(level[:RIM_PX] < level[RIM_PX] - RIM_DARKER):
            side[i] = side[RIM_PX]
    return flat


def darkness(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ink and grid evidence as uint8 (0 = paper, 255 = black), both corrected for uneven light.

    Ink uses the brightest channel (a black or blue trace is dark in all channels, a coloured grid is bright
    in its own); grid uses the darkest channel (a red, green or grey grid is dark there). The paper's local
    brightness comes from a small, dilated copy, so shadows and gradients divide out.
    """
    r, g, b = (cv2.extractChannel(rgb, i) for i in range(3))
    vmax = cv2.max(cv2.max(r, g), b)
    vmin = cv2.min(cv2.min(r, g), b)
    h, w = vmax.shape
    kernel = np.ones((9, 9), np.uint8)
    out = []
    for channel in (vmax, vmin):
        small = area_shrink(channel, 4)
        paper = cv2.GaussianBlur(cv2.dilate(small, kernel), (0, 0), 6)
        paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
        out.append(cv2.subtract(255, cv2.divide(channel, cv2.max(paper, 1), scale=255)))
    return out[0], out[1]


def ink_threshold(ink: np.ndarray) -> int:
    """Ink level (uint8) that separates the trace from paper and grid: Otsu over the non-paper pixels."""
    vals = ink[::2, ::2]
    vals = vals[vals > 30]
    if vals.size < 100:
        return 128
    thr, _ = cv2.threshold(vals.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if thr > 153:
        # Otsu split ink from ink: on a clean page with little else, black labels from a paler (blue) trace,
        # which then shows as a sharp mode below the level, holding most of the pixels; split again under it
        low = vals[vals < thr]
        counts = np.convolve(np.bincount(low, minlength=256)[:int(thr)], np.ones(9), "same")[64:]
        if low.size > 3 * (vals.size - low.size) and counts.max() > 3 * max(float(np.median(counts)), 1.0):
            thr, _ = cv2.threshold(low.reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return int(np.clip(thr, 64, 153))


def grid_floor(ink: np.ndarray, mask: np.ndarray, broken_lines: bool = False) -> float:
    """An ink level above the printed grid's, where grid lines passed the threshold (0 where none did); with
    `broken_lines`, also where they passed it only in dashes (`_broken_lines_floor`).

    A crisp grey grid (a clean digital export) puts its major lines into Otsu's upper class, and the rule
    removal that follows erases whatever trace lies along them: a row's baseline printed on a major line
    vanishes. Such lines show as columns inked without a break over 40 % of the page's height, which traces
    never are (a 12x1 print's QRS complexes line up down the page, but with gaps between the rows). The floor
    sits a third of the way from those lines' ink level to the rest's (trace and text), kept only where the
    two differ clearly: a grid printed as dark as the trace cannot be thresholded away.
    """
    h, w = mask.shape
    cols = _unbroken(mask, axis=0)
    if cols.size < 3:
        return _broken_lines_floor(ink, mask) if broken_lines else 0.0
    lines = np.zeros((h, w), np.uint8)
    lines[:, cols] = 255
    lines[_unbroken(mask, axis=1), :] = 255
    on = mask > 0
    grid = ink[on & (lines > 0)]
    rest = ink[on & (cv2.dilate(lines, np.ones((3, 3), np.uint8)) == 0)]
    if rest.size < 100:
        return 0.0
    grid_level, rest_level = float(np.percentile(grid, 90)), float(np.median(rest))
    if rest_level - grid_level < 20:
        return 0.0
    return grid_level + (rest_level - grid_level) / 3


GRID_STRIPS = 8
"""Horizontal strips the page is cut into to find vertical grid lines by their median ink: a line photographed
a little bent or tilted still runs down one column within a strip (an eighth of the page, 15-25 mm)."""


def _broken_lines_floor(ink: np.ndarray, mask: np.ndarray) -> float:
    """The floor where a dark grid's lines passed the threshold only in part (0 where they did not).

    A photo's dark red or grey grid sits just around Otsu's level, so its major lines pass it in dashes that
    neither count as unbroken rules nor fall to rule removal, and every second major line then passes for a
    row of traces (a real 3x4+II photo read as 11 rows). Vertical lines show their own level as the median ink
    down a column within a strip, and they do so all over the page: a trace holds a column over half a strip's
    height only at tall QRS strokes, which in a 12x1 print's chest leads touch from row to row, but only in the
    strips those rows lie in. A screen's moire passes for such lines too, and a floor above it loses a pale
    trace: the digitizer asks for this floor only where the page read as it is gave nothing.
    """
    on = mask > 0
    if not on.any():
        return 0.0
    h, w = ink.shape
    edges = np.linspace(0, h, GRID_STRIPS + 1).astype(int)
    # a column's median passes the threshold where over half of it is in the mask
    lines = [(a, b, np.flatnonzero(_column_share(mask[a:b]) > 0.5)) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    spread = sum(cols.size >= 0.005 * w for _, _, cols in lines) >= 0.75 * GRID_STRIPS
    if not spread or sum(cols.size for _, _, cols in lines) < 0.01 * GRID_STRIPS * w:  # a line every 5 mm: 10 %
        return 0.0
    grid_level = float(np.median(np.concatenate([np.median(ink[a:b, cols], axis=0) for a, b, cols in lines])))
    trace_level = float(np.percentile(ink[on], 99))
    if trace_level - grid_level < 40:
        return 0.0
    return grid_level + (trace_level - grid_level) / 3


def _column_share(mask: np.ndarray) -> np.ndarray:
    """The inked share of every column of `mask`."""
    return cv2.reduce(mask, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() / (255.0 * mask.shape[0])


def _unbroken(mask: np.ndarray, axis: int) -> np.ndarray:
    """Indices of the columns (axis 0) or rows (axis 1) of `mask` inked without a break over 40 % of their
    length: printed rules. Only lines inked over half their length are looked at closely."""
    n = mask.shape[axis]
    share = cv2.reduce(mask, axis, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    cand = np.flatnonzero(share > 0.5 * 255 * n)
    if cand.size == 0:
        return cand
    lines = (mask[:, cand] if axis == 0 else mask[cand, :].T) > 0  # [n, candidates]
    at = np.arange(n)[:, None]
    run = at - np.maximum.accumulate(np.where(lines, -1, at), axis=0)  # length of the run ending at each pixel
    return cand[run.max(axis=0) >= 0.4 * n]


def skew_angle(evidence: np.ndarray, max_deg: float = 5.0) -> float:
    """Residual rotation in degrees: the angle that makes the row profile of `evidence` sharpest.

    Horizontal grid lines and trace baselines pile up into sharp peaks only when the projection follows
    them. Rotation by a small angle is a shear (each vertical strip shifted by x tan a), so candidate angles
    cost a few 1-D interpolations instead of image rotations.
    """
    h, w = evidence.shape
    n_strips = 24
    edges = np.linspace(0.05 * w, 0.95 * w, n_strips + 1).astype(int)
    profiles = np.stack([evidence[:, a:b].sum(axis=1, dtype=np.float64)
                         for a, b in zip(edges[:-1], edges[1:], strict=True)])
    centres = (edges[:-1] + edges[1:]) / 2.0 - w / 2.0
    reach = int(np.ceil(w / 2 * np.tan(np.radians(max_deg + 0.5)))) + 2  # beyond the largest shift tried
    padded = np.pad(profiles, ((0, 0), (reach, reach + 1)), mode="edge")  # ends held, as np.interp would

    def sharpness(angle: float) -> float:  # each strip shifted by linear interpolation between slices
        shift = centres * np.tan(np.radians(angle))
        whole = np.floor(shift)
        total = np.zeros(h)
        for p, i, f in zip(padded, (whole.astype(int) + reach).tolist(), (shift - whole).tolist(), strict=True):
            lo = p[i: i + h]
            total += lo + f * (p[i + 1: i + 1 + h] - lo)
        return float((total ** 2).sum())

    coarse = np.arange(-max_deg, max_deg + 1e-9, 0.25)
    best = float(coarse[int(np.argmax([sharpness(a) for a in coarse]))])
    fine = np.arange(-6, 7)  # 0.04-degree steps around the best; the peak between them found by a parabola
    return best + 0.04 * (peak_position(np.array([sharpness(best + 0.04 * k) for k in fine])) - 6)


def rotate(img: np.ndarray, angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """`img` rotated about its centre so that a line tilted by `angle_deg` becomes horizontal; the 2x3 map."""
    h, w = img.shape[:2]
    mat = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    return cv2.warpAffine(img, mat, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), mat
