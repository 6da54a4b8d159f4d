"""Training and export of the lead label reader (`edgeecg train-label-reader`; torch, Pillow via matplotlib).

Pages come from the renderer (`bench.random_style` and `bench.wide_style`, PatchECG's and other vendors'
layouts, simulator records), a fifth with its own labels and the rest printed without; their labels are then
drawn as printers draw them:
in one of many fonts (TrueType faces that ship with matplotlib, and OpenCV's Hershey faces), 1.8-4.5 mm tall,
above, below or on the trace, at or before the cell's start, sometimes upper case ("AVR"), on some pages not
at all. The page is then captured (scan, photo, poor photo, or left as an export) and mapped back onto the
page by its true homography, where windows are cut as the digitizer cuts them: at every cell's start (its
label, or none on an unlabelled page) and far from any (none), each with the digitizer's errors in position
and scale. The STIX faces (a Times look-alike) are never drawn in training: `held_out` pages use only them.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from edgeecg.imaging.bench import BENCH_LAYOUTS, random_style, wide_style
from edgeecg.imaging.capture import capture, flattened
from edgeecg.imaging.labels import (
    CLASSES,
    MODEL_FILE,
    NONE,
    SURE,
    WINDOW_MM,
    LabelReader,
    class_index,
    net_input,
    window,
)
from edgeecg.imaging.labels_net import LabelNet, LabelNetConfig
from edgeecg.imaging.page import darkness
from edgeecg.imaging.render import FONTS, CellBox, RenderTruth, render
from edgeecg.imaging.segment_train import make_pages
from edgeecg.layouts import VENDOR

TRAIN_FACES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSansMono.ttf",
               "DejaVuSansMono-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf",
               "cmss10.ttf", "cmr10.ttf", "cmtt10.ttf", *(f"hershey:{name}" for name in FONTS))
HELD_OUT_FACES = ("STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf")
"""A Times look-alike, the face many ECG machines print their labels in: never drawn in training."""
SEVERITIES = ("none", "scan", "photo", "photo", "poor-photo")
LAYOUTS = BENCH_LAYOUTS + VENDOR
UNLABELLED = 0.12
"""Share of pages printed without labels: their cell starts teach the network that a trace's start, its
separator tick or its pulse is not a label."""
RENDERERS_OWN = 0.2
"""Share of pages that keep the renderer's own labels (Hershey faces, where its style puts them)."""
CUTS = 2
"""Windows cut around each labelled cell's start, each with its own error in position and scale: labels cost a
page's drawing and capture, windows almost nothing."""


@dataclass(frozen=True)
class LabelTrainConfig:
    """A label reader training run; stored in the model card."""

    pages: int = 1200
    val_pages: int = 100
    held_out_pages: int = 100
    epochs: int = 8
    batch: int = 128
    lr: float = 3e-3
    seed: int = 0
    net: LabelNetConfig = LabelNetConfig()


@lru_cache(maxsize=32)
def _truetype(face: str, size_px: int):
    from matplotlib import get_data_path
    from PIL import ImageFont

    return ImageFont.truetype(str(Path(get_data_path()) / "fonts" / "ttf" / face), size_px)


def draw_label(page: np.ndarray, text: str, x: float, y: float, cap_px: float, face: str,
               colour: tuple[int, int, int]) -> None:
    """`text` on the RGB `page` in place, its left end at column x and its baseline at row y, capitals `cap_px`
    tall."""
    if face.startswith("hershey:"):
        font = FONTS[face.split(":", 1)[1]]
        scale = cap_px / cv2.getTextSize("V", font, 1.0, 1)[0][1]
        thick = max(1, int(round(cap_px / 9)))
        cv2.putText(page, text, (int(round(x)), int(round(y))), font, scale, colour, thick, cv2.LINE_AA)
        return
    from PIL import Image, ImageDraw

    size = max(6, int(round(cap_px / 0.72)))   # the em is about 1.4 capital heights in these faces
    font = _truetype(face, size)
    left, top, right, bottom = font.getbbox(text, anchor="ls")
    xa, ya = int(x) + left - 2, int(y) + top - 2
    xb, yb = int(x) + right + 2, int(y) + bottom + 2
    h, w = page.shape[:2]
    if xa < 0 or ya < 0 or xb > w or yb > h:
        return
    patch = Image.fromarray(page[ya:yb, xa:xb])
    ImageDraw.Draw(patch).text((x - xa, y - ya), text, font=font, fill=colour, anchor="ls")
    page[ya:yb, xa:xb] = np.asarray(patch)


@dataclass(frozen=True)
class LabelPrint:
    """How one page prints its labels: face, capital height, offset from the cell's start (the first column's
    own), text baseline below the trace's, upper-case aV leads."""

    face: str
    cap_mm: float
    dx_mm: float
    first_dx_mm: float
    dy_mm: float
    upper: bool


def label_print(rng: np.random.Generator, faces: tuple[str, ...]) -> LabelPrint | None:
    """A drawn way of printing labels; None: the page has none."""
    if rng.random() < UNLABELLED:
        return None
    cap = float(rng.uniform(1.8, 4.5))
    where = str(rng.choice(["above", "above", "below", "below", "inside"]))
    dy = {"above": -float(rng.uniform(1.0, 6.0)), "below": float(rng.uniform(1.5, 6.0)) + cap,
          "inside": float(rng.uniform(-0.5, 1.5)) + cap / 2}[where]
    dx = float(rng.uniform(-1.0, 3.0))
    first = dx if rng.random() < 0.6 else float(rng.uniform(-7.0, 1.0))
    return LabelPrint(str(rng.choice(faces)), cap, dx, first, dy, bool(rng.random() < 0.15))


def _text(label: str, upper: bool) -> str:
    return label.replace("aV", "AV") if upper else label


def _bands(truth: RenderTruth) -> dict[int, tuple[float, float]]:
    """Each row's band on the page, halfway to its neighbours (as `labels.read` cuts it)."""
    base = {c.row: c.baseline for c in truth.cells}
    rows = sorted(base)
    ys = [base[r] for r in rows]
    gap = float(np.diff(ys).min()) if len(ys) > 1 else 40.0 * truth.px_per_mm
    return {r: ((ys[i - 1] + y) / 2 if i else y - gap / 2, (y + ys[i + 1]) / 2 if i + 1 < len(ys) else y + gap / 2)
            for i, (r, y) in enumerate(zip(rows, ys, strict=True))}


def label_page(seed: int, faces: tuple[str, ...] = TRAIN_FACES) -> tuple[np.ndarray, np.ndarray]:
    """(windows uint8 [N, H, W], classes int64 [N]) from one drawn, labelled and captured page."""
    from edgeecg.data.synth import SynthConfig, simulate

    rng = np.random.default_rng([seed, 23])
    record = simulate(1, SynthConfig(fs=100.0), seed=[seed, 23]).records()[0]
    style = (random_style if rng.random() < 0.5 else wide_style)(rng)
    own = faces == TRAIN_FACES and rng.random() < RENDERERS_OWN
    page = render(record, str(rng.choice(LAYOUTS)), style if own else replace(style, label_position="none"))
    ppm, truth = page.truth.px_per_mm, page.truth
    how = None if own else label_print(rng, faces)
    labelled = own or how is not None
    colour = style.trace_colour if rng.random() < 0.5 else (0, 0, 0)
    image = page.image.copy()
    if how is not None:
        for c in truth.cells:
            first = c.x0 == min(d.x0 for d in truth.cells if d.row == c.row)
            dx = (how.first_dx_mm if first else how.dx_mm) + float(rng.normal(0, 0.2))
            draw_label(image, _text(_label_of(c), how.upper), c.x0 + dx * ppm,
                       c.baseline + (how.dy_mm + float(rng.normal(0, 0.2))) * ppm, how.cap_mm * ppm, how.face, colour)
    severity = str(rng.choice(SEVERITIES))
    shot = replace(page, image=image)
    if severity != "none":
        shot = capture(shot, severity, seed=int(rng.integers(2**31)))
        image = flattened(shot, (image.shape[1], image.shape[0]))
    ink = darkness(image)[0]
    bands = _bands(truth)
    windows, classes = [], []

    def cut(x: float, row: int, baseline: float, cls: int) -> None:
        sx, sy = ppm * float(rng.uniform(0.95, 1.05)), ppm * float(rng.uniform(0.95, 1.05))
        windows.append(window(ink, x + float(rng.normal(0, 0.7)) * ppm, baseline + float(rng.normal(0, 0.7)) * ppm,
                              bands[row], sx, sy))
        classes.append(cls)

    for c in truth.cells:
        for _ in range(CUTS if labelled else 1):
            cut(c.x0, c.row, c.baseline, CLASSES.index(_label_of(c)) if labelled else NONE)
    clear = 2.0 * (WINDOW_MM[1] - WINDOW_MM[0])   # a window this far from every cell's start holds no label
    for row in bands:
        starts = np.array([c.x0 for c in truth.cells if c.row == row])
        ends = max(c.x1 for c in truth.cells if c.row == row)
        base = next(c.baseline for c in truth.cells if c.row == row)
        for x in rng.uniform(starts.min(), ends, 2 if len(starts) > 1 else 3):   # about one for every cell
            if np.abs(starts - x).min() > clear * ppm / 2:
                cut(float(x), row, base, NONE)
    return np.stack(windows), np.array(classes, np.int64)


def _label_of(c: CellBox) -> str:
    """The class a rendered cell's label falls in."""
    return CLASSES[class_index(c.lead, c.inverted)]


def held_out_page(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`label_page` in the held-out faces only."""
    return label_page(seed, HELD_OUT_FACES)


def _stack(pages: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([w for w, _ in pages]), np.concatenate([c for _, c in pages])


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Ink contrast, paper noise and a pixel of shift: what a camera's exposure and a JPEG do to a window."""
    b = x.shape[0]
    gain = 0.6 + 0.6 * torch.rand(b, 1, 1, 1, generator=gen)
    noise = 0.04 * torch.rand(b, 1, 1, 1, generator=gen) * torch.randn(x.shape, generator=gen)
    shift = torch.randint(-2, 3, (2,), generator=gen)
    return torch.roll(torch.clamp(x * gain + noise, 0, 1), (int(shift[0]), int(shift[1])), dims=(2, 3))


def scores(probs: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    """Accuracy of the arg max; of windows read surely (p >= SURE, not none), the share wrong; labelled windows
    read surely and right (recall), and unlabelled ones read surely as a label (false reads)."""
    best, p = probs.argmax(axis=1), probs.max(axis=1)
    sure = (best != NONE) & (p >= SURE)
    labelled = classes != NONE
    return {"accuracy": float((best == classes).mean()),
            "sure_wrong": float((sure & (best != classes)).sum() / max(sure.sum(), 1)),
            "labelled_read": float((sure & (best == classes))[labelled].mean()) if labelled.any() else 0.0,
            "unlabelled_read_as_label": float(sure[~labelled].mean()) if (~labelled).any() else 0.0,
            "windows": int(len(classes))}


def torch_probabilities(net: LabelNet, windows: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(net(torch.from_numpy(net_input(windows))), dim=1).numpy()


def train(cfg: LabelTrainConfig, out: Path, progress_enabled: bool = True) -> dict:
    """Trains, exports ONNX FP32 into `out`, scores it on held-out pages of the training faces and of the
    held-out faces; returns the model card."""
    from edgeecg.train import _progress

    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    base = 2_000_000 + 10_000 * cfg.seed    # simulator seeds no bench, test or segmenter run draws
    t0 = time.perf_counter()
    net = LabelNet(cfg.net)
    with _progress(progress_enabled) as progress:
        x, y = _stack(make_pages(range(base, base + cfg.pages), progress, draw=label_page))
        val = _stack(make_pages(range(base + cfg.pages, base + cfg.pages + cfg.val_pages), progress, draw=label_page))
        held = _stack(make_pages(range(base + 5_000, base + 5_000 + cfg.held_out_pages), progress,
                                 draw=held_out_page))
        steps = cfg.epochs * (len(y) // cfg.batch)
        opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=steps, pct_start=0.1)
        task = progress.add_task("training", total=steps, info="")
        losses: list[float] = []
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        net.train()
        for _ in range(cfg.epochs):
            order = torch.randperm(len(yt), generator=gen)
            for i in range(len(yt) // cfg.batch):
                idx = order[i * cfg.batch:(i + 1) * cfg.batch]
                xb = _augment(xt[idx][:, None].float() / 255.0, gen)
                loss = F.cross_entropy(net(xb), yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                losses.append(loss.item())
                progress.update(task, advance=1, info=f"loss {np.mean(losses[-50:]):.3f}")
    train_s = time.perf_counter() - t0
    net.eval()
    card = export(net, cfg, out, val, held)
    card.update(train_seconds=round(train_s, 1), train_windows=int(len(y)),
                first_loss=round(float(np.mean(losses[:20])), 4), final_loss=round(float(np.mean(losses[-50:])), 4))
    (out / "labels.json").write_text(json.dumps(card, indent=1))
    return card


def export(net: LabelNet, cfg: LabelTrainConfig, out: Path, val: tuple[np.ndarray, np.ndarray],
           held: tuple[np.ndarray, np.ndarray]) -> dict:
    """FP32 ONNX (dynamic batch); its scores on `val` (training faces, unseen pages) and `held` (held-out
    faces), and its largest difference from torch."""
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(out / "labels.safetensors"))
    path = out / MODEL_FILE
    torch.onnx.export(net, torch.from_numpy(net_input(val[0][:2])), str(path), input_names=["window"],
                      output_names=["logits"], opset_version=17, dynamic_axes={"window": {0: "n"}, "logits": {0: "n"}},
                      dynamo=False)
    reader = LabelReader(path)
    p_val = reader.probabilities(val[0])
    diff = float(np.abs(p_val[:256] - torch_probabilities(net, val[0][:256])).max())
    return {"name": "label-net", "classes": list(CLASSES), "net": asdict(cfg.net), "train": asdict(cfg),
            "parameters": sum(p.numel() for p in net.parameters()),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "trained_on": "edgeecg renderer (bench.random_style, bench.wide_style; PatchECG's and vendor layouts), "
                          f"capture simulator, simulator records; faces {', '.join(TRAIN_FACES)}",
            "held_out": f"faces {', '.join(HELD_OUT_FACES)}; all real records and images",
            "validation": scores(p_val, val[1]), "held_out_faces": scores(reader.probabilities(held[0]), held[1]),
            "max_abs_torch": diff}
