"""The README's picture: a simulated phone photo of a printed ECG beside what the digitizer read from it.

Renders one simulator record as a 3x4+II print, photographs it with the `photo` capture recipe, digitizes
it, and writes the photo and the digitizer's overlay side by side, with the SNR against the truth.

    python benchmarks/digitize_picture.py --out docs/digitize-photo.jpg
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from edgeecg.data.synth import SynthConfig, simulate
from edgeecg.imaging.capture import capture
from edgeecg.imaging.digitize import DigitizeConfig, digitize
from edgeecg.imaging.outputs import overlay, write_png
from edgeecg.imaging.render import render
from edgeecg.imaging.score import score


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/digitize-photo.jpg"))
    ap.add_argument("--layout", default="3x4+II")
    ap.add_argument("--record-seed", type=int, default=3)
    ap.add_argument("--capture-seed", type=int, default=1)
    ap.add_argument("--width", type=int, default=1400, help="Width of the whole picture in px.")
    args = ap.parse_args()

    record = simulate(2, SynthConfig(fs=100.0), seed=args.record_seed).records()[1]
    shot = capture(render(record, args.layout), "photo", seed=args.capture_seed)
    result = digitize(shot.image, DigitizeConfig(fs=100.0))
    snr = np.median([s.snr_db for s in score(shot.truth.signal, 100.0, result.record.signal, 100.0)])
    read = overlay(result, [f"median SNR vs truth {snr:.1f} dB"])
    half = args.width // 2
    left = cv2.resize(shot.image, (half, int(shot.image.shape[0] * half / shot.image.shape[1])),
                      interpolation=cv2.INTER_AREA)
    right = cv2.resize(read, (half, int(read.shape[0] * half / read.shape[1])), interpolation=cv2.INTER_AREA)
    height = max(left.shape[0], right.shape[0])
    pad = [np.pad(im, ((0, height - im.shape[0]), (0, 0), (0, 0)), constant_values=255) for im in (left, right)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    print(f"wrote {write_png(args.out, np.hstack(pad))}: layout {result.quality.layout}, median SNR {snr:.1f} dB")


if __name__ == "__main__":
    main()
