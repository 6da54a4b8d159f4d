"""Lead labels read from the print: which lead a trace is, as the machine printed it beside the trace.

Timing alone cannot tell a 3x4 print with a V1 rhythm strip from one with a II strip when the strip is read
poorly, nor a rhythm strip printed on top from one at the bottom, nor Cabrera's lead order from PTB-XL's;
the letters "V1", "II" or "-aVR" next to the trace can. A small network (`edgeecg train-label-reader`,
trained on rendered pages in many fonts, one font family held out) reads a window of the page around
each cell's start, wherever the printer put the text in it (above, below or on the trace, before or after
the cell's first millimetre), and gives the probability of each label or of none. The digitizer then weighs
every candidate layout by how many of its cells the print labels as it says. ONNX Runtime only: no torch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from edgeecg.imaging.onnx_session import cpu_session
from edgeecg.record import LEADS, lead_index

CLASSES: tuple[str, ...] = (*LEADS, "-aVR", "none")
"""What a window can show: a lead's label, Cabrera's inverted aVR, or no label."""
NONE = len(CLASSES) - 1
PX_PER_MM = 5.0
"""The scale windows are read at: a 2.5 mm tall label is 12 px."""
WINDOW_MM = (-8.0, 12.0, -13.0, 11.0)
"""A window's extent from a cell's start and its row's baseline: x from, x to, y from, y to (y down). Labels sit
up to 8 mm before the trace (between a row's pulse and its first cell) and up to 13 mm above it."""
WINDOW_PX = (round((WINDOW_MM[3] - WINDOW_MM[2]) * PX_PER_MM), round((WINDOW_MM[1] - WINDOW_MM[0]) * PX_PER_MM))
"""(height, width) of a window."""
SURE = 0.8
"""A window is read as a label when the network gives it this probability or more."""
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "models" / "labels"
MODEL_FILE = "labels.onnx"


class LabelReaderError(RuntimeError):
    """The label reader's model cannot be loaded or run."""


def window(ink: np.ndarray, x: float, baseline: float, band: tuple[float, float], ppm_x: float, ppm_y: float
           ) -> np.ndarray:
    """uint8 [WINDOW_PX]: `ink` (0 = paper) around the cell starting at column `x` of the row whose baseline is
    `baseline`, at PX_PER_MM; outside the row's own band (top, bottom) and the page it is paper, so that a
    neighbouring row's label is not read as this row's. Shared by training and the digitizer."""
    h, w = ink.shape
    x0, x1 = x + WINDOW_MM[0] * ppm_x, x + WINDOW_MM[1] * ppm_x
    y0, y1 = baseline + WINDOW_MM[2] * ppm_y, baseline + WINDOW_MM[3] * ppm_y
    xa, xb, ya, yb = int(np.floor(x0)), int(np.ceil(x1)), int(np.floor(y0)), int(np.ceil(y1))
    crop = np.zeros((yb - ya, xb - xa), np.uint8)
    top, bottom = max(ya, 0, int(np.ceil(band[0]))), min(yb, h, int(np.floor(band[1])))
    left, right = max(xa, 0), min(xb, w)
    if top < bottom and left < right:
        crop[top - ya: bottom - ya, left - xa: right - xa] = ink[top:bottom, left:right]
    out_h, out_w = WINDOW_PX
    shrink = crop.shape[1] > out_w
    return cv2.resize(crop, (out_w, out_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def net_input(windows: np.ndarray) -> np.ndarray:
    """float32 [N, 1, H, W] in [0, 1] from uint8 windows [N, H, W]."""
    return np.ascontiguousarray(windows[:, None].astype(np.float32) / 255.0)


class LabelReader:
    """One ONNX Runtime session over the label network."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        self.session = cpu_session(path, threads, LabelReaderError, "label reader",
                                   "reinstall edgeecg, or read without labels (DigitizeConfig(labels=False))")
        self.path = path

    def logits(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"window": x})[0]

    def probabilities(self, windows: np.ndarray) -> np.ndarray:
        """[N, len(CLASSES)] for uint8 windows [N, H, W]."""
        if len(windows) == 0:
            return np.zeros((0, len(CLASSES)), np.float32)
        z = self.logits(net_input(windows))
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)


@lru_cache(maxsize=2)
def load(folder: Path = DEFAULT_DIR) -> LabelReader:
    """The shipped label reader, loaded once per process."""
    return LabelReader(folder / MODEL_FILE)


Position = tuple[int, float]
"""A cell's start on the page: (row index, column)."""


def read(ink: np.ndarray, baselines: list[float], positions: Iterable[Position], ppm_x: float, ppm_y: float,
         reader: LabelReader | None = None) -> dict[Position, np.ndarray]:
    """Label probabilities at every position, each row's band reaching halfway to its neighbours (the outer rows
    as far out as inside)."""
    positions = sorted(set(positions))
    if not positions:
        return {}
    gaps = np.diff(baselines) if len(baselines) > 1 else np.array([40.0 * ppm_y])
    bands = [((baselines[i - 1] + b) / 2 if i else b - gaps[0] / 2,
              (b + baselines[i + 1]) / 2 if i + 1 < len(baselines) else b + gaps[-1] / 2)
             for i, b in enumerate(baselines)]
    windows = np.stack([window(ink, x, baselines[r], bands[r], ppm_x, ppm_y) for r, x in positions])
    probs = (reader or load()).probabilities(windows)
    return dict(zip(positions, probs, strict=True))


@dataclass(frozen=True)
class LabelEvidence:
    """How the labels printed at a candidate layout's cells agree with it: windows read surely as the cell's own
    label, surely as another lead's, and the cells weighed."""

    matches: int
    contradictions: int
    cells: int

    @property
    def score(self) -> int:
        return self.matches - self.contradictions


def class_index(lead: str, inverted: bool) -> int:
    """The class a cell's label falls in: its lead (in any spelling a layout file uses), or -aVR."""
    index = lead_index(lead)
    return CLASSES.index("-aVR") if inverted and LEADS[index] == "aVR" else index


def evidence(read_at: dict[Position, np.ndarray], cells: Iterable[tuple[Position, str, bool]]) -> LabelEvidence:
    """LabelEvidence of (position, lead, inverted) cells against the probabilities read there."""
    matches = contradictions = n = 0
    for pos, lead, inverted in cells:
        p = read_at[pos]
        n += 1
        best = int(np.argmax(p))
        if best == NONE or p[best] < SURE:
            continue
        if best == class_index(lead, inverted):
            matches += 1
        else:
            contradictions += 1
    return LabelEvidence(matches, contradictions, n)
