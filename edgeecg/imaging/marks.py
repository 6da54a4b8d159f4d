"""What else lands on a printed ECG: a header block of patient and machine text, handwritten notes, ink stamps
and redaction boxes. None of it is trace, so a digitizer must read through it; the renderer draws it under the
pen, and the trace truth does not change.

Placement follows where such marks fall on real pages: header text and redactions above the chart, stamps and
handwriting anywhere (a note is often written across the traces)."""

from __future__ import annotations

import cv2
import numpy as np

MARKS = ("header", "handwriting", "stamp", "redaction")

_WORDS = ("Sinus rhythm", "Normal ECG", "Vent. rate", "PR int", "QRS dur", "QT/QTc", "P-R-T axes", "Confirmed by",
          "Age", "Sex", "ID", "Ward 4B", "Unconfirmed", "Borderline ECG", "Referred by", "Technician")


def _text_line(rng: np.random.Generator) -> str:
    words = [str(rng.choice(_WORDS)) for _ in range(int(rng.integers(2, 5)))]
    return "   ".join(f"{w} {int(rng.integers(10, 999))}" if rng.random() < 0.5 else w for w in words)


def header_block(page: np.ndarray, rng: np.random.Generator, ppm: float, top_mm: float) -> None:
    """Two to five lines of machine text in the band above the chart (`top_mm` deep)."""
    lines = int(rng.integers(2, 6))
    step = min(4.5, max(2.5, (top_mm - 14) / lines)) * ppm
    scale = 0.1 * ppm * step / (4.5 * ppm) + 0.02 * ppm
    for col in range(int(rng.integers(1, 3))):
        x = int((10 + col * rng.uniform(90, 140)) * ppm)
        for i in range(lines):
            y = int(13 * ppm + (i + 0.8) * step)
            if y > (top_mm - 1) * ppm:
                break
            cv2.putText(page, _text_line(rng), (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (20, 20, 20),
                        max(1, int(round(0.2 * ppm))), cv2.LINE_AA)


def handwriting(page: np.ndarray, rng: np.random.Generator, ppm: float) -> None:
    """One to three pen strokes: a scrawled word (a smooth wandering curve) or an arrow, in blue or black ink."""
    h, w = page.shape[:2]
    colour = [(20, 40, 150), (25, 25, 25), (40, 40, 110)][int(rng.integers(3))]
    for _ in range(int(rng.integers(1, 4))):
        x0, y0 = rng.uniform(0.05, 0.8) * w, rng.uniform(0.05, 0.9) * h
        n = int(rng.integers(40, 120))
        t = np.linspace(0, 1, n)
        length = rng.uniform(20, 60) * ppm
        xs = x0 + t * length + rng.uniform(0.5, 2) * ppm * np.sin(t * rng.uniform(15, 40))
        ys = y0 + rng.uniform(1.5, 4) * ppm * np.sin(t * rng.uniform(20, 50) + rng.uniform(0, 6)) \
            + rng.uniform(-5, 5) * ppm * t
        pts = np.stack([xs, ys], 1).round().astype(np.int32)
        cv2.polylines(page, [pts], False, colour, max(1, int(round(rng.uniform(0.25, 0.6) * ppm))), cv2.LINE_AA)


def stamp(page: np.ndarray, rng: np.random.Generator, ppm: float) -> None:
    """A round or rectangular rubber stamp, pale red or blue, partly transparent (ink on paper multiplies)."""
    h, w = page.shape[:2]
    layer = np.full_like(page, 255)
    colour = [(200, 40, 60), (40, 70, 190), (120, 40, 160)][int(rng.integers(3))]
    cx, cy = int(rng.uniform(0.1, 0.9) * w), int(rng.uniform(0.1, 0.9) * h)
    size = int(rng.uniform(12, 25) * ppm)
    thick = max(1, int(round(0.5 * ppm)))
    if rng.random() < 0.5:
        cv2.circle(layer, (cx, cy), size, colour, thick, cv2.LINE_AA)
        cv2.circle(layer, (cx, cy), int(size * 0.8), colour, max(1, thick // 2), cv2.LINE_AA)
    else:
        cv2.rectangle(layer, (cx - size, cy - size // 2), (cx + size, cy + size // 2), colour, thick, cv2.LINE_AA)
    cv2.putText(layer, str(rng.choice(["RECEIVED", "REVIEWED", "COPY", "CARDIOLOGY"])),
                (cx - int(0.8 * size), cy + int(0.1 * size)), cv2.FONT_HERSHEY_DUPLEX, 0.012 * size, colour,
                max(1, thick // 2), cv2.LINE_AA)
    opacity = rng.uniform(0.5, 0.9)
    mixed = page.astype(np.float32) * (1 - opacity * (1 - layer.astype(np.float32) / 255))
    page[:] = np.clip(mixed, 0, 255).astype(np.uint8)


def redaction(page: np.ndarray, rng: np.random.Generator, ppm: float, top_mm: float) -> None:
    """A solid black or white-out box over the patient's name and number, in the header band."""
    w = page.shape[1]
    x = int(rng.uniform(0.05, 0.6) * w)
    y = int(rng.uniform(2, max(2.5, top_mm - 8)) * ppm)
    box = (x + int(rng.uniform(30, 80) * ppm), y + int(rng.uniform(4, 7) * ppm))
    fill = (0, 0, 0) if rng.random() < 0.7 else (250, 250, 250)
    cv2.rectangle(page, (x, y), box, fill, -1)


def draw(page: np.ndarray, kinds: tuple[str, ...], seed: int, ppm: float, top_mm: float) -> None:
    """Draws each kind of mark in `kinds` on `page` (RGB, in place); `seed` fixes where and how."""
    rng = np.random.default_rng(seed)
    for kind in kinds:
        if kind == "header":
            header_block(page, rng, ppm, top_mm)
        elif kind == "handwriting":
            handwriting(page, rng, ppm)
        elif kind == "stamp":
            stamp(page, rng, ppm)
        elif kind == "redaction":
            redaction(page, rng, ppm, top_mm)
