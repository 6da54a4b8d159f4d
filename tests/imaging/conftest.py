"""Shared for the imaging tests: a few simulated ECGs at 100 Hz, made once per session, and traced rows made by hand."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from edgeecg.data.synth import SynthConfig, simulate
from edgeecg.imaging.trace import RowTrace


@pytest.fixture(scope="session")
def ecgs():
    return simulate(6, SynthConfig(fs=100.0), seed=5).records()


@pytest.fixture
def traced_row() -> Callable[[float, np.ndarray], RowTrace]:
    """Makes a row traced as `y` per page column (NaN where none), in a band 50 px either side of `base`."""
    def make(base: float, y: np.ndarray) -> RowTrace:
        ok = np.flatnonzero(np.isfinite(y))
        return RowTrace(base, int(base) - 50, int(base) + 50, int(ok[0]), int(ok[-1]), y, 0.0,
                        ok.astype(np.float64), y[ok])
    return make


@pytest.fixture
def keystone() -> Callable[[np.ndarray, float], np.ndarray]:
    """Makes a page as photographed at a slant, filling the frame: its top edge `lean` of the width shorter, from
    the left, so that its vertical lines lean at the left and stand upright at the right (as on ecg00030)."""
    def make(image: np.ndarray, lean: float) -> np.ndarray:
        h, w = image.shape[:2]
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32([[lean * w, 0], [w, 0], [w, h], [0, h]])
        paper = tuple(int(v) for v in image[2, w // 2])
        return cv2.warpPerspective(image, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=paper)
    return make
