"""A generated archive of readable and unreadable inputs, for trying the archive path at scale without real data.

Readable pages are a few distinct simulated records printed and captured (scan and photo), copied into several
ward folders so that hundreds of inputs cost a few renders; as every copy's result must equal its original's,
a run that mixes results up shows it. The unreadable ones are the faults archives hold: files that are not
images, cut-off files, blank and noise pages, CSVs of text and WFDB headers without their signal file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

BAD_KINDS = ("not_an_image", "cut_off", "blank", "noise", "text_csv", "header_only")


@dataclass(frozen=True)
class SampleArchive:
    """What was written: every input's name (relative to the folder), whether it is readable, and its original."""

    folder: Path
    readable: dict[str, bool]
    original: dict[str, str]        # name -> the name of the first copy of the same bytes


def _page(seed: int, severity: str, dpi: float) -> bytes:
    import cv2

    from edgeecg.data.synth import SynthConfig, simulate
    from edgeecg.imaging.capture import capture
    from edgeecg.imaging.render import RenderConfig, render

    rec = simulate(1, SynthConfig(fs=100.0), seed=seed).records()[0]
    image = cv2.cvtColor(capture(render(rec, "3x4+II", RenderConfig(dpi=dpi)), severity, seed=seed).image,
                         cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png" if severity == "scan" else ".jpg", image)
    return data.tobytes()


def _bad(kind: str, rng: np.random.Generator) -> tuple[str, bytes]:
    import cv2

    if kind == "not_an_image":
        return ".png", b"this is a note, not a picture\n"
    if kind == "cut_off":
        return ".png", cv2.imencode(".png", rng.integers(0, 255, (200, 300, 3), dtype=np.uint8))[1].tobytes()[:400]
    if kind == "blank":
        return ".png", cv2.imencode(".png", np.full((600, 800, 3), 250, np.uint8))[1].tobytes()
    if kind == "noise":
        return ".jpg", cv2.imencode(".jpg", rng.integers(0, 255, (600, 800, 3), dtype=np.uint8))[1].tobytes()
    if kind == "text_csv":
        return ".csv", b"patient,comment\nA,seen on the ward\n"
    return ".hea", b"missing 1 500 5000\nmissing.dat 16 1000 16 0 0 0 0 I\n"


def write_sample_archive(folder: Path, n: int = 240, bad_share: float = 0.25, distinct: int = 8,
                         dpi: float = 120.0, seed: int = 0) -> SampleArchive:
    """`n` inputs under `folder` (which must not exist yet): `distinct` printed records (half scans, half photos)
    copied across ward folders, and a `bad_share` of unreadable inputs of every kind in BAD_KINDS."""
    if folder.exists():
        raise FileExistsError(f"{folder} exists; the sample archive is written into a new folder")
    rng = np.random.default_rng(seed)
    n_bad = int(round(n * bad_share))
    n_good = n - n_bad
    pages = [(".png" if k % 2 == 0 else ".jpg", _page(seed * 1000 + k, "scan" if k % 2 == 0 else "photo", dpi))
             for k in range(min(distinct, n_good))]
    readable: dict[str, bool] = {}
    original: dict[str, str] = {}
    first: dict[int, str] = {}
    for k in range(n):
        ward = folder / f"ward{k % 7}"
        ward.mkdir(parents=True, exist_ok=True)
        if k < n_good:
            suffix, data = pages[k % len(pages)]
            name = f"ward{k % 7}/page{k:05d}{suffix}"
            first.setdefault(k % len(pages), name)
            original[name] = first[k % len(pages)]
        else:
            kind = BAD_KINDS[(k - n_good) % len(BAD_KINDS)]
            suffix, data = _bad(kind, rng)
            name = f"ward{k % 7}/{kind}{k:05d}{suffix}"
            original[name] = name
        (folder / name).write_bytes(data)
        readable[name] = k < n_good
    return SampleArchive(folder, readable, original)

