"""Phone-capture simulator: a rendered page as a scanner or a phone camera would deliver it.

Three graded severities, each a fixed recipe of random draws (see `SEVERITIES`): `scan` (flatbed: slight
skew, mild blur and noise), `photo` (a hand-held phone over a desk: perspective, background objects, uneven
light) and `poor-photo` (steep tilt, shadows, motion blur, heavy JPEG, creases, sometimes moire from
photographing a screen). The page -> image homography is kept in the ground truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

from edgeecg.imaging.render import Rendering


@dataclass(frozen=True)
class CaptureConfig:
    """Upper bounds of each distortion; every capture draws uniformly below them."""

    name: str
    out_size: tuple[int, int]          # (width, height) of the photo; (0, 0) keeps the page size
    tilt_deg: float                    # camera tilt out of the page plane
    rotation_deg: float                # in-plane rotation
    page_fill: tuple[float, float]     # share of the frame width the page covers
    background: bool                   # desk with objects around the page
    light_gradient: float              # max brightness ramp across the frame (fraction)
    shadow: float                      # max darkening inside a soft shadow polygon (fraction, 0 = none)
    vignetting: float                  # corner darkening (fraction)
    defocus_sigma: float               # Gaussian blur sigma in px
    motion_px: float                   # motion-blur length in px
    noise_sigma: float                 # sensor noise (grey levels)
    jpeg_quality: tuple[int, int]      # (low, high)
    tint: float                        # max paper yellowing (fraction)
    creases: int                       # max number of folds
    moire: float                       # probability of a screen moire pattern


SEVERITIES: dict[str, CaptureConfig] = {
    "scan": CaptureConfig("scan", (0, 0), 0.0, 2.0, (1.0, 1.0), False, 0.03, 0.0, 0.0, 0.6, 0.0, 2.0,
                          (85, 95), 0.04, 0, 0.0),
    "photo": CaptureConfig("photo", (2200, 1700), 15.0, 8.0, (0.72, 0.9), True, 0.25, 0.25, 0.2, 1.0, 2.0, 4.0,
                           (75, 90), 0.08, 1, 0.0),
    "poor-photo": CaptureConfig("poor-photo", (2200, 1700), 30.0, 15.0, (0.62, 0.85), True, 0.4, 0.45, 0.35, 1.8,
                                5.0, 8.0, (50, 75), 0.12, 3, 0.3),
}


class CaptureError(ValueError):
    """An unknown severity or a setting that cannot be simulated."""


def get_severity(name: str) -> CaptureConfig:
    if name not in SEVERITIES:
        raise CaptureError(f"unknown capture severity {name!r}; choose one of {', '.join(SEVERITIES)}")
    return SEVERITIES[name]


def _camera_quad(rng: np.random.Generator, cfg: CaptureConfig, page_wh: tuple[int, int],
                 out_wh: tuple[int, int]) -> np.ndarray:
    """Page corners as seen by a pinhole camera tilted and rolled over the page, fitted into the frame."""
    w, h = page_wh
    corners = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]], float)
    tilt = math.radians(rng.uniform(0, cfg.tilt_deg))
    direction = rng.uniform(0, 2 * math.pi)
    ax, ay = tilt * math.cos(direction), tilt * math.sin(direction)
    rz = math.radians(rng.uniform(-cfg.rotation_deg, cfg.rotation_deg))
    rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    rzm = np.array([[math.cos(rz), -math.sin(rz), 0], [math.sin(rz), math.cos(rz), 0], [0, 0, 1]])
    pts = corners @ (rzm @ ry @ rx).T
    focal = 1.2 * w  # a phone's wide lens: horizontal field of view about 45 degrees
    pts[:, 2] += focal
    proj = pts[:, :2] * (focal / pts[:, 2:3])
    ow, oh = out_wh
    fill = rng.uniform(*cfg.page_fill)
    span = proj.max(0) - proj.min(0)
    scale = min(fill * ow / span[0], 0.96 * oh / span[1])
    proj = (proj - proj.min(0)) * scale
    room = np.array([ow, oh]) - (proj.max(0) - proj.min(0))
    return (proj + rng.uniform(0.15, 0.85, 2) * room).astype(np.float32)


def _desk(rng: np.random.Generator, wh: tuple[int, int]) -> np.ndarray:
    """A desk: a dark-to-mid coloured surface with a few objects (folders, a phone, a pen, a mug)."""
    w, h = wh
    base = rng.uniform(40, 150, 3)
    ramp = np.linspace(0.8, 1.2, w)[None, :, None] * np.linspace(1.1, 0.9, h)[:, None, None]
    desk = np.clip(base * ramp + rng.normal(0, 6, (h, w, 1)), 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(2, 6))):
        colour = tuple(int(c) for c in rng.uniform(0, 255, 3))
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        kind = rng.integers(3)
        if kind == 0:
            cv2.rectangle(desk, (x, y), (x + int(rng.uniform(80, 500)), y + int(rng.uniform(60, 400))), colour, -1)
        elif kind == 1:
            cv2.circle(desk, (x, y), int(rng.uniform(40, 160)), colour, -1, cv2.LINE_AA)
        else:
            cv2.line(desk, (x, y), (x + int(rng.uniform(-400, 400)), y + int(rng.uniform(-400, 400))), colour,
                     int(rng.uniform(6, 20)), cv2.LINE_AA)
    return desk


def _creases(rng: np.random.Generator, page: np.ndarray, n: int) -> None:
    h, w = page.shape[:2]
    for _ in range(n):
        if rng.random() < 0.5:
            x = int(rng.uniform(0.2, 0.8) * w)
            p0, p1 = (x + int(rng.uniform(-40, 40)), 0), (x + int(rng.uniform(-40, 40)), h)
        else:
            y = int(rng.uniform(0.2, 0.8) * h)
            p0, p1 = (0, y + int(rng.uniform(-40, 40))), (w, y + int(rng.uniform(-40, 40)))
        fold = np.zeros((h, w), np.float32)
        cv2.line(fold, p0, p1, 1.0, max(3, w // 300), cv2.LINE_AA)
        fold = cv2.GaussianBlur(fold, (0, 0), max(2.0, w / 600))
        page[:] = np.clip(page.astype(np.float32) * (1 - 0.25 * fold[..., None] / max(fold.max(), 1e-6)),
                          0, 255).astype(np.uint8)


def _illumination(rng: np.random.Generator, cfg: CaptureConfig, wh: tuple[int, int]) -> np.ndarray:
    """Multiplicative light field: gradient, a soft shadow and vignetting."""
    w, h = wh
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = (math.cos(angle) * (xx / w - 0.5) + math.sin(angle) * (yy / h - 0.5))
    light = 1.0 + rng.uniform(0, cfg.light_gradient) * ramp
    if cfg.shadow > 0:
        mask = np.zeros((h, w), np.float32)
        pts = (rng.uniform(0, 1, (4, 2)) * [w, h]).astype(np.int32)
        pts[:2] = (rng.uniform(0, 1, (2, 2)) * [w, 0.1 * h]).astype(np.int32)  # a shadow falls from an edge
        cv2.fillConvexPoly(mask, cv2.convexHull(pts), 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), w / 40)
        light *= 1.0 - rng.uniform(0.3, 1.0) * cfg.shadow * mask
    if cfg.vignetting > 0:
        r2 = ((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2) / 0.5
        light *= 1.0 - rng.uniform(0.5, 1.0) * cfg.vignetting * r2
    return light


def capture(rendering: Rendering, severity: str | CaptureConfig = "photo",
            seed: int | np.random.SeedSequence = 0) -> Rendering:
    """The page photographed or scanned; the truth gains the page -> image homography."""
    cfg = get_severity(severity) if isinstance(severity, str) else severity
    rng = np.random.default_rng(seed)
    page = rendering.image.copy()
    ph, pw = page.shape[:2]
    tint = rng.uniform(0, cfg.tint)
    page = np.clip(page.astype(np.float32) * np.array([1.0, 1.0 - 0.4 * tint, 1.0 - tint], np.float32),
                   0, 255).astype(np.uint8)
    if cfg.creases:
        _creases(rng, page, int(rng.integers(0, cfg.creases + 1)))
    out_wh = cfg.out_size if cfg.out_size != (0, 0) else (pw, ph)
    if cfg.background:
        quad = _camera_quad(rng, cfg, (pw, ph), out_wh)
        canvas = _desk(rng, out_wh)
    else:  # a scanner: the page fills the frame, slightly rotated about its centre, white outside
        angle = rng.uniform(-cfg.rotation_deg, cfg.rotation_deg)
        rot = cv2.getRotationMatrix2D((pw / 2, ph / 2), angle, 1.0)
        quad = cv2.transform(np.array([[[0, 0], [pw, 0], [pw, ph], [0, ph]]], np.float32), rot)[0]
        canvas = np.full((out_wh[1], out_wh[0], 3), 250, np.uint8)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    hom = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    img = cv2.warpPerspective(page, hom, out_wh, dst=canvas, flags=cv2.INTER_AREA,
                              borderMode=cv2.BORDER_TRANSPARENT)
    img = img.astype(np.float32) * _illumination(rng, cfg, out_wh)[..., None]
    if cfg.moire and rng.random() < cfg.moire:
        yy, xx = np.mgrid[0:out_wh[1], 0:out_wh[0]].astype(np.float32)
        freq, ang = rng.uniform(0.15, 0.35), rng.uniform(0, math.pi)
        wave = np.sin(freq * (xx * math.cos(ang) + yy * math.sin(ang)) + 0.002 * xx * yy / out_wh[0])
        img += (12 * wave)[..., None] * np.array([1.0, -0.6, 0.4], np.float32)
    sigma = rng.uniform(0.3, 1.0) * cfg.defocus_sigma
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    length = int(round(rng.uniform(0, cfg.motion_px)))
    if length >= 2:
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (length, length))
        img = cv2.filter2D(img, -1, kernel / max(kernel.sum(), 1e-6))
    img += rng.normal(0, cfg.noise_sigma, img.shape[:2] + (1,)).astype(np.float32) * rng.uniform(0.5, 1.0)
    img = np.clip(img, 0, 255).astype(np.uint8)
    quality = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise CaptureError("JPEG encoding failed")
    img = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    trace = None if rendering.trace is None else cv2.warpPerspective(rendering.trace, hom, out_wh, flags=cv2.INTER_AREA)
    return Rendering(img, replace(rendering.truth, homography=hom), trace)


def flattened(shot: Rendering, page_wh: tuple[int, int]) -> np.ndarray:
    """The captured image mapped back onto the page (`page_wh`: width, height) by its true homography: what the
    digitizer's flattening from the page's outline aims at, for training on captured pages in page coordinates."""
    inv = np.linalg.inv(shot.truth.homography)
    return cv2.warpPerspective(shot.image, inv, page_wh, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
