"""Writing what the digitizer found: signals as CSV, NPZ or WFDB, the quality report, and a debug overlay.

The overlay is the page as the digitizer saw it (flattened and deskewed) with every traced lead drawn on
top in colour, each cell's box and baseline, and the scale and layout it settled on: the picture a person
checks before trusting the numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from edgeecg.imaging.digitize import Digitized
from edgeecg.record import LEADS

FORMATS = ("csv", "npz", "wfdb")
_COLOURS = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240),
            (240, 50, 230), (128, 128, 0), (0, 128, 128), (170, 110, 40), (128, 0, 0), (0, 0, 128)]


def overlay(result: Digitized, lines: list[str] | None = None) -> np.ndarray:
    """RGB image: the flattened page, traced paths, cell boxes and a caption (plus any extra `lines`)."""
    img = result.page.copy()
    q = result.quality
    for cell in result.cells:
        row = result.rows[cell.row]
        colour = _COLOURS[LEADS.index(cell.lead)]
        inside = (row.px >= cell.x0) & (row.px <= cell.x1) & np.isfinite(row.py)
        if inside.sum() > 1:
            pts = np.round(np.stack([row.px[inside], row.py[inside]], axis=1) * 4).astype(np.int32)
            cv2.polylines(img, [pts], False, colour, 2, cv2.LINE_AA, shift=2)
        cv2.rectangle(img, (int(cell.x0), row.top), (int(cell.x1), row.bottom), colour, 1)
        cv2.putText(img, cell.lead, (int(cell.x0) + 4, row.top + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, colour, 2)
        cv2.line(img, (int(cell.x0), int(cell.baseline)), (int(cell.x0) + 25, int(cell.baseline)), colour, 2)
    caption = [f"layout {q.layout}{' (detected)' if q.layout_detected else ''}   "
               f"{q.px_per_mm_x:.2f} px/mm   {q.gain_mm_per_mv:g} mm/mV   confidence {q.confidence:.2f}",
               *q.notes, *(lines or [])]
    y = 28
    for text in caption:
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.8, 2)
        cv2.rectangle(img, (6, y - h - 6), (14 + w, y + 8), (255, 255, 255), -1)
        cv2.putText(img, text, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 2, cv2.LINE_AA)
        y += h + 16
    return img


def write_png(path: Path, rgb: np.ndarray) -> Path:
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")
    return path


def save(result: Digitized, out_dir: Path, stem: str, formats: tuple[str, ...] = FORMATS,
         debug: bool = True) -> list[Path]:
    """The signals in each format, `<stem>.quality.json`, and `<stem>.overlay.png` when `debug`."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown output format(s) {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    rec = result.record
    written = []
    if "csv" in formats:
        from edgeecg.data.csv_io import write_csv

        written.append(write_csv(rec, out_dir / f"{stem}.csv"))
    if "npz" in formats:
        path = out_dir / f"{stem}.npz"
        np.savez_compressed(path, signal=rec.signal, fs=np.float32(rec.fs), leads=np.array(LEADS),
                            quality=np.array(json.dumps(result.quality.as_dict())))
        written.append(path)
    if "wfdb" in formats:
        import wfdb

        wfdb.wrsamp(stem, fs=rec.fs, units=["mV"] * len(LEADS), sig_name=list(LEADS),
                    p_signal=rec.signal.T.astype(np.float64), fmt=["16"] * len(LEADS), adc_gain=[1000.0] * 12,
                    baseline=[0] * 12, comments=[f"digitized by edgeecg; layout {result.quality.layout}"],
                    write_dir=str(out_dir))
        written.append(out_dir / f"{stem}.hea")
    quality = out_dir / f"{stem}.quality.json"
    quality.write_text(json.dumps(result.quality.as_dict(), indent=2))
    written.append(quality)
    if debug:
        written.append(write_png(out_dir / f"{stem}.overlay.png", overlay(result)))
    return written
