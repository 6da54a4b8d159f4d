"""Writing what the digitizer found: signals as CSV, NPZ, WFDB, DICOM, EDF+ or FHIR, the quality report, and a
debug overlay.

The overlay is the page as the digitizer saw it (flattened and deskewed) with every traced lead drawn on
top in colour, each cell's box and baseline, and, in a band above the page so that it covers no trace, the
scale and layout it settled on: the picture a person checks before trusting the numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from edgeecg import interop
from edgeecg.imaging.digitize import DigitizeConfig, Digitized
from edgeecg.interop import Provenance
from edgeecg.record import LEADS

FORMATS = ("csv", "npz", "wfdb", *interop.FORMATS)
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
               f"{q.input_px_per_mm_x:.2f} px/mm in the image ({q.input_dpi:.0f} dpi)   {q.gain_mm_per_mv:g} mm/mV   "
               f"confidence {q.confidence:.2f}", *q.notes, *(lines or [])]
    return np.concatenate([_caption_band(caption, img.shape[1]), img], axis=0)


def _caption_band(lines: list[str], width: int, scale: float = 0.8) -> np.ndarray:
    """White band with the lines, wrapped to the page's width, to stack above the page."""
    font, thick = cv2.FONT_HERSHEY_SIMPLEX, 2
    wrapped: list[str] = []
    for text in lines:
        words, line = text.split(), ""
        for word in words:
            trial = f"{line} {word}".strip()
            if line and cv2.getTextSize(trial, font, scale, thick)[0][0] > width - 20:
                wrapped.append(line)
                line = word
            else:
                line = trial
        wrapped.append(line)
    step = cv2.getTextSize("Ag", font, scale, thick)[0][1] + 16
    band = np.full((step * len(wrapped) + 12, width, 3), 255, np.uint8)
    for k, text in enumerate(wrapped):
        cv2.putText(band, text, (10, step * (k + 1)), font, scale, (0, 0, 0), thick, cv2.LINE_AA)
    return band


def write_png(path: Path, rgb: np.ndarray) -> Path:
    if not cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise OSError(f"could not write {path}")
    return path


def provenance(result: Digitized, source: str, cfg: DigitizeConfig) -> Provenance:
    """How a digitized record was read, for the headers of the signal files."""
    q = result.quality
    return Provenance(source=source, method="digitized", paper_speed_mm_s=cfg.speed, gain_mm_mv=q.gain_mm_per_mv,
                      layout=q.layout, lead_confidence={lq.lead: lq.confidence for lq in q.leads})


def save(result: Digitized, out_dir: Path, stem: str, formats: tuple[str, ...] = FORMATS,
         debug: bool = True, source: Provenance | None = None, measurements: dict | None = None) -> list[Path]:
    """The signals in each format, `<stem>.quality.json`, and `<stem>.overlay.png` when `debug`."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown output format(s) {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    rec = result.record
    source = source or provenance(result, "", DigitizeConfig())
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
        from edgeecg.data.wfdb_format import write_record

        written.append(write_record(out_dir / stem, rec.signal, rec.fs, list(LEADS), source.comments()))
    if "dicom" in formats:
        from edgeecg.interop.dicom import write_dicom

        written.append(write_dicom(rec, out_dir / f"{stem}.dcm", source))
    if "edf" in formats:
        from edgeecg.interop.edf import write_edf

        written.append(write_edf(rec, out_dir / f"{stem}.edf", source))
    if "fhir" in formats:
        from edgeecg.interop.fhir import write_fhir

        written.append(write_fhir(rec, out_dir / f"{stem}.fhir.json", source, measurements))
    quality = out_dir / f"{stem}.quality.json"
    quality.write_text(json.dumps(result.quality.as_dict(), indent=2))
    written.append(quality)
    if debug:
        written.append(write_png(out_dir / f"{stem}.overlay.png", overlay(result)))
    return written
