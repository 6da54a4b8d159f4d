"""The phone page's pre-check (static/precheck.js) run by node on pictures with a known fault each."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeecg.serve.app import STATIC

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed (the pre-check runs in the browser)")
RUNNER = """
const P = require(process.argv[2]);
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const px = Uint8ClampedArray.from(Buffer.from(input.rgba, 'base64'));
console.log(JSON.stringify(P.check(px, input.w, input.h)));
"""


def _check(rgb: np.ndarray, tmp_path: Path) -> dict:
    h, w = rgb.shape[:2]
    scale = min(1.0, 640 / w)                                   # what the page checks: the photo at 640 px
    small = cv2.resize(rgb, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    rgba = np.concatenate([small, np.full(small.shape[:2] + (1,), 255, np.uint8)], axis=2)
    runner = tmp_path / "run.js"
    runner.write_text(RUNNER)
    data = {"w": small.shape[1], "h": small.shape[0], "rgba": base64.b64encode(rgba.tobytes()).decode()}
    done = subprocess.run([NODE, str(runner), str(STATIC / "precheck.js")], input=json.dumps(data),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def photos():
    from edgeecg.data.synth import SynthConfig, simulate
    from edgeecg.imaging.capture import capture
    from edgeecg.imaging.render import render

    recs = simulate(3, SynthConfig(fs=100.0), seed=8).records()
    return {"scan": capture(render(recs[0], "3x4+II"), "scan", seed=2).image,
            "photo": capture(render(recs[1], "3x4"), "photo", seed=5).image,
            "page": render(recs[2], "2x6").image}


def _problems(result: dict) -> set[str]:
    return {p["what"] for p in result["problems"]}


@pytest.mark.parametrize("name", ["scan", "photo", "page"])
def test_a_good_capture_passes(photos, tmp_path: Path, name: str) -> None:
    result = _check(photos[name], tmp_path)
    assert result["ok"], result


def test_blur_is_named(photos, tmp_path: Path) -> None:
    assert "blur" in _problems(_check(cv2.GaussianBlur(photos["scan"], (0, 0), 6), tmp_path))


def test_tilt_is_named(photos, tmp_path: Path) -> None:
    page = photos["page"]
    h, w = page.shape[:2]
    turned = cv2.warpAffine(page, cv2.getRotationMatrix2D((w / 2, h / 2), 12, 0.8), (w, h),
                            borderValue=(60, 50, 40))
    result = _check(turned, tmp_path)
    assert "tilt" in _problems(result) and abs(abs(result["metrics"]["tiltDeg"]) - 12) < 2


def test_a_page_too_small_in_the_frame_is_named(photos, tmp_path: Path) -> None:
    desk = np.full((1700, 2200, 3), (70, 55, 45), np.uint8)
    small = cv2.resize(photos["page"], (700, 495))
    desk[600:1095, 750:1450] = small
    assert "small" in _problems(_check(desk, tmp_path))


@pytest.mark.parametrize("part", [3, 4, 5])
def test_a_chart_cut_by_the_frame_is_named(photos, tmp_path: Path, part: int) -> None:
    """Wherever the frame cuts the chart: a grid line that happened to lie along the cut once counted as the traces
    crossing it, and with the grid moved by a pixel the same cut went unnamed."""
    page = photos["page"]
    cut = page[:, page.shape[1] // part:]                         # the chart's left part is not in view
    assert "cut" in _problems(_check(cut, tmp_path))


def test_glare_is_named(photos, tmp_path: Path) -> None:
    shot = (photos["page"].astype(np.float32) * 0.8).astype(np.uint8)   # paper in room light, not white
    cv2.circle(shot, (900, 700), 220, (255, 255, 255), -1)
    assert "glare" in _problems(_check(shot, tmp_path))
