"""Trace segmentation by a small learned network: which pixels of a flattened page are the ECG pen's.

Thresholds cannot tell a black trace from black header text, a handwritten note, a dark grid or a stamp; a
network that has seen the page around a pixel can. The shipped network (`edgeecg train-segmenter`, trained on
the renderer and capture simulator, which give pixel-exact truth) reads the page at about 3 px/mm and gives a
trace probability at half that; the digitizer keeps the ink only where the network sees trace, and its
sub-pixel tracing then works on the page's own darkness as before. ONNX Runtime only: no torch.

Opt-in (`--tracer net`): on the bench this 12k-parameter network does not yet read better than thresholds
(README, "Trace segmenter"), so the classical tracer stays the default.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from edgeecg.imaging.onnx_session import cpu_session
from edgeecg.imaging.page import area_shrink

NET_SIDE = 896
"""The page's longer side as the network reads it (3 px/mm on A4 landscape)."""
STRIDE = 8
"""The network downsamples three times: input sides are padded to a multiple of this."""
OUTPUT_SCALE = 2
"""The network's output is this many times smaller than its input."""
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "models" / "segmenter"
PRECISIONS = {"int8": "trace.int8.onnx", "fp32": "trace.onnx"}


class SegmenterError(RuntimeError):
    """The segmenter model cannot be loaded or run."""


def net_input(rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """(x [1, 3, h, w] float32, (h, w) before padding): the page at NET_SIDE with the paper's light divided
    out per channel, so that a shadow or a yellowed sheet looks like white paper. Shared by training and
    inference, so the network is fed on the desk exactly as it was taught."""
    h, w = rgb.shape[:2]
    f = NET_SIDE / max(h, w)
    size = (max(STRIDE, int(round(w * f))), max(STRIDE, int(round(h * f))))
    channels = cv2.split(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))
    bright = cv2.max(cv2.max(channels[0], channels[1]), channels[2])
    paper = cv2.GaussianBlur(cv2.dilate(area_shrink(bright, 2), np.ones((7, 7), np.uint8)), (0, 0), 4)
    light = np.maximum(cv2.resize(paper, size, interpolation=cv2.INTER_LINEAR).astype(np.float32), 16.0)
    sh, sw = size[1], size[0]
    x = np.empty((1, 3, sh + -sh % STRIDE, sw + -sw % STRIDE), np.float32)
    for c, channel in enumerate(channels):   # written channel-first in place: no HWC copy to transpose
        inner = x[0, c, :sh, :sw]
        np.minimum(np.divide(channel, light, out=inner), 1.0, out=inner)
    x[0, :, sh:, :sw] = x[0, :, sh - 1: sh, :sw]   # padded with the edge pixels
    x[0, :, :, sw:] = x[0, :, :, sw - 1: sw]
    return x, (sh, sw)


class Segmenter:
    """One ONNX Runtime session over a trace network; `probability` maps a page to trace probability."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        self.session = cpu_session(path, threads, SegmenterError, "segmenter",
                                   "reinstall edgeecg or pass --tracer classical")
        self.path = path

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Raw network output [1, 1, h / 2, w / 2] for a `net_input` batch."""
        return self.session.run(None, {"image": x})[0]

    def probability(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 [H, W] at the page's own size: 255 = surely trace, 0 = surely not."""
        x, (h, w) = net_input(rgb)
        z = self.logits(x)[0, 0, : h // OUTPUT_SCALE, : w // OUTPUT_SCALE]
        p = (255.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).astype(np.uint8)
        return cv2.resize(p, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)


@lru_cache(maxsize=4)
def load(precision: str = "int8", folder: Path = DEFAULT_DIR) -> Segmenter:
    """The shipped segmenter, loaded once per process."""
    if precision not in PRECISIONS:
        raise SegmenterError(f"unknown segmenter precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    return Segmenter(folder / PRECISIONS[precision])


def near_trace(probability: np.ndarray, reach_px: int) -> np.ndarray:
    """uint8 mask (255 = within `reach_px` of a pixel the network calls trace, p >= 0.5): the digitizer's ink
    mask is cut to it. The reach keeps the stroke's soft edges, which the network's coarser scale blurs."""
    sure = (probability >= 128).astype(np.uint8) * 255
    return cv2.dilate(sure, np.ones((2 * reach_px + 1,) * 2, np.uint8))
