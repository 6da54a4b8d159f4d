"""Training and export of the trace segmenter (`edgeecg train-segmenter`; torch).

Pages come from the renderer in the widened print domain (`bench.wide_style`) with the simulator's records,
captured as a scan, a phone photo or a poor photo, or left as a clean export; photos are flattened with their
true homography (what `page.rectify` does from the page's outline) or, at random, left on the desk as when no
outline is found; any of the 8 turns of the page. The target is the pen's coverage at the network's output
scale. `foreign_style`'s families (dotted or absent 1 mm grid, pulses after the traces, flush or none, labels on
the trace, deep blank bands) and all real records are held out, so the bench can test on what it never saw.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from edgeecg.imaging.bench import BENCH_LAYOUTS, wide_style
from edgeecg.imaging.capture import capture, flattened
from edgeecg.imaging.render import render
from edgeecg.imaging.segment import NET_SIDE, OUTPUT_SCALE, PRECISIONS, Segmenter, net_input
from edgeecg.imaging.segment_net import TraceNet, TraceNetConfig

SEVERITIES = ("none", "scan", "photo", "photo", "poor-photo")
T = TypeVar("T")
KEEP_FLOAT = ("/stem", "/e1", "/u1", "/head")
"""Left in float by INT8: the layers at half resolution. Quantizing the last decoder block alone took the INT8
mask's IoU with FP32's from 0.95 to 0.88 on held-out pages (each block's sensitivity measured in turn). The stem
and first block cost no accuracy in INT8 but time: ONNX Runtime's INT8 3x3 convolutions over 3 or 12 channels
ran slower than float on the 2-core VM, by far the slowest layers of the INT8 network."""
CALIBRATION_SIDE = 512
COVERED = 0.15
"""An output pixel is trace when the pen covers this share of it (a 0.2 mm line covers 0.3 of a 0.67 mm pixel)."""


@dataclass(frozen=True)
class SegmentTrainConfig:
    """A segmenter training run; stored in the model card."""

    pages: int = 320
    val_pages: int = 24
    steps: int = 1500
    batch: int = 12
    crop: int = 192
    lr: float = 3e-3
    seed: int = 0
    net: TraceNetConfig = TraceNetConfig()


def training_page(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(x [3, h, w] float32 network input, target [h / 2, w / 2] float32 in {0, 1}) for one drawn page."""
    from edgeecg.data.synth import SynthConfig, simulate

    rng = np.random.default_rng([seed, 19])
    record = simulate(1, SynthConfig(fs=100.0), seed=[seed, 19]).records()[0]
    page = render(record, str(rng.choice(BENCH_LAYOUTS)), wide_style(rng))
    severity = str(rng.choice(SEVERITIES))
    shot = page if severity == "none" else capture(page, severity, seed=int(rng.integers(2**31)))
    image, trace = shot.image, shot.trace
    if severity in ("photo", "poor-photo") and rng.random() < 0.8:   # flattened from its outline
        ph, pw = page.image.shape[:2]
        image, trace = flattened(shot, (pw, ph)), page.trace
    turn = int(rng.integers(8))
    image, trace = _turned(image, turn), _turned(trace, turn)
    x, hw = net_input(image)
    full = np.zeros((x.shape[2] // OUTPUT_SCALE, x.shape[3] // OUTPUT_SCALE), np.float32)
    covered = target(trace, hw)
    full[: covered.shape[0], : covered.shape[1]] = covered
    return x[0], full


def target(trace: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """bool [h / 2, w / 2]: the output pixels the pen covers by COVERED or more, for a page that `net_input`
    read at size `hw` (before padding)."""
    h, w = hw
    return cv2.resize(trace, (w // OUTPUT_SCALE, h // OUTPUT_SCALE), interpolation=cv2.INTER_AREA) >= COVERED * 255


def _turned(img: np.ndarray, k: int) -> np.ndarray:
    out = np.rot90(img, k % 4)
    return np.ascontiguousarray(out[:, ::-1] if k >= 4 else out)


def make_pages(seeds: range, progress, workers: int = 2, draw: Callable[[int], T] = training_page) -> list[T]:
    """`draw(seed)` for every seed, in `workers` processes: a page takes about a second to render, capture and
    flatten."""
    from concurrent.futures import ProcessPoolExecutor

    task = progress.add_task("drawing pages", total=len(seeds), info="")
    pages = []
    with ProcessPoolExecutor(workers) as pool:
        for page in pool.map(draw, seeds, chunksize=4):
            pages.append(page)
            progress.update(task, advance=1)
    return pages


def _crops(pages: list[tuple[np.ndarray, np.ndarray]], n: int, size: int, rng: np.random.Generator
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """n random size x size crops (half of them centred on trace), with their targets."""
    xs, ys = [], []
    half = size // OUTPUT_SCALE
    for _ in range(n):
        x, y = pages[int(rng.integers(len(pages)))]
        h, w = y.shape
        if rng.random() < 0.5 and y.any():
            r, c = np.argwhere(y)[int(rng.integers(int(y.sum())))]
            r0, c0 = np.clip(r - half // 2, 0, h - half), np.clip(c - half // 2, 0, w - half)
        else:
            r0, c0 = int(rng.integers(h - half + 1)), int(rng.integers(w - half + 1))
        r0, c0 = int(r0), int(c0)
        xs.append(x[:, r0 * OUTPUT_SCALE: r0 * OUTPUT_SCALE + size, c0 * OUTPUT_SCALE: c0 * OUTPUT_SCALE + size])
        ys.append(y[None, r0: r0 + half, c0: c0 + half])
    return torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))


def loss_fn(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy plus soft Dice: trace is ~3 % of a page, and Dice keeps the thin lines from
    being traded for the paper's easy majority."""
    bce = F.binary_cross_entropy_with_logits(logits, target, pos_weight=torch.tensor(3.0))
    p = torch.sigmoid(logits)
    dice = 1 - (2 * (p * target).sum() + 1) / (p.sum() + target.sum() + 1)
    return bce + dice


def iou(pred: np.ndarray, target: np.ndarray) -> float:
    """Intersection over union of two boolean masks."""
    union = np.logical_or(pred, target).sum()
    return float(np.logical_and(pred, target).sum() / union) if union else 1.0


def page_seeds(cfg: SegmentTrainConfig) -> tuple[range, range]:
    """(training, held-out) simulator seeds of a run: seeds that no bench or test draws."""
    base = 1_000_000 + 10_000 * cfg.seed
    return range(base, base + cfg.pages), range(base + cfg.pages, base + cfg.pages + cfg.val_pages)


def train(cfg: SegmentTrainConfig, out: Path, progress_enabled: bool = True) -> dict:
    """Trains, exports FP32 and INT8 ONNX into `out`, scores both on held-out pages; returns the model card."""
    from edgeecg.train import _progress

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    net = TraceNet(cfg.net)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.steps, pct_start=0.1)
    train_seeds, val_seeds = page_seeds(cfg)
    t0 = time.perf_counter()
    with _progress(progress_enabled) as progress:
        pages = make_pages(train_seeds, progress)
        val = make_pages(val_seeds, progress)
        task = progress.add_task("training", total=cfg.steps, info="")
        losses: list[float] = []
        for _ in range(cfg.steps):
            x, y = _crops(pages, cfg.batch, cfg.crop, rng)
            loss = loss_fn(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
            progress.update(task, advance=1, info=f"loss {np.mean(losses[-50:]):.3f}")
    train_s = time.perf_counter() - t0
    net.eval()
    card = export(net, cfg, out, val)
    card.update(train_seconds=round(train_s, 1), final_loss=round(float(np.mean(losses[-50:])), 4),
                first_loss=round(float(np.mean(losses[:20])), 4))
    (out / "segmenter.json").write_text(json.dumps(card, indent=1))
    return card


def reexport(src: Path, out: Path, progress_enabled: bool = True) -> dict:
    """A trained network's weights, read from its FP32 ONNX, exported again by `export`, without training: how
    a shipped network follows a change to the export path. Retraining would not do: the renderer and capture
    simulator change, so a rerun draws other pages and gives another network. The held-out pages are those of
    the run's own config (from the card beside `src`, else the defaults); its training figures are kept."""
    import onnx
    from onnx import numpy_helper

    from edgeecg.train import _progress

    try:
        weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy())
                   for i in onnx.load(str(src)).graph.initializer}
        widths = tuple(int(weights[k].shape[0]) for k in ("stem.0.weight", "e2.0.1.weight", "e3.0.1.weight"))
        net = TraceNet(TraceNetConfig(widths))
        net.load_state_dict(weights)
    except Exception as err:  # onnx's and torch's own errors for a file that is not a trace network
        raise ValueError(f"{src} is not a trace segmenter's FP32 ONNX ({err}); pass the trace.onnx that "
                         "edgeecg train-segmenter wrote") from None
    card_path = src.parent / "segmenter.json"
    known = {f.name for f in fields(SegmentTrainConfig)} - {"net"}
    try:
        trained = json.loads(card_path.read_text()) if card_path.is_file() else {}
        cfg = SegmentTrainConfig(**{k: v for k, v in trained.get("train", {}).items() if k in known},
                                 net=TraceNetConfig(widths))
    except (json.JSONDecodeError, AttributeError) as err:   # not JSON, or not a card's shape
        raise ValueError(f"{card_path} is not a segmenter card ({err}); move it aside to use the defaults") from None
    out.mkdir(parents=True, exist_ok=True)
    with _progress(progress_enabled) as progress:
        val = make_pages(page_seeds(cfg)[1], progress)
    card = export(net.eval(), cfg, out, val)
    card.update({k: trained[k] for k in ("train_seconds", "final_loss", "first_loss") if k in trained})
    card["reexported_from"] = hashlib.sha256(src.read_bytes()).hexdigest()
    (out / "segmenter.json").write_text(json.dumps(card, indent=1))
    return card


def torch_probability(net: TraceNet, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.sigmoid(net(torch.from_numpy(x[None]))).numpy()[0, 0]


def export(net: TraceNet, cfg: SegmentTrainConfig, out: Path, val: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """FP32 ONNX (dynamic page size), INT8 QDQ calibrated on training-style pages; IoU of each against the
    truth and of INT8 against FP32 on the held-out `val` pages."""
    from safetensors.torch import save_file

    from edgeecg.quantize import quantize_int8

    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(out / "trace.safetensors"))
    fp32, int8 = out / PRECISIONS["fp32"], out / PRECISIONS["int8"]
    x0 = torch.from_numpy(val[0][0][None])
    torch.onnx.export(net, x0, str(fp32), input_names=["image"], output_names=["logits"], opset_version=17,
                      dynamic_axes={"image": {2: "height", 3: "width"}, "logits": {2: "h2", 3: "w2"}}, dynamo=False)
    # percentile calibration histograms need one shape: the same corner of each page
    calib = [{"image": np.ascontiguousarray(x[None, :, :CALIBRATION_SIDE, :CALIBRATION_SIDE])} for x, _ in val[:8]]
    quantize_int8(fp32, int8, calib, op_types=("Conv",), symbolic_shapes=False, keep_float=KEEP_FLOAT,
                  percentile=True)
    seg32, seg8 = Segmenter(fp32), Segmenter(int8)
    scores: dict[str, list[float]] = {"iou_fp32": [], "iou_int8": [], "iou_int8_vs_fp32": [], "max_abs_torch": []}
    for x, y in val:
        p_t = torch_probability(net, x)
        z32, z8 = seg32.logits(x[None])[0, 0], seg8.logits(x[None])[0, 0]
        p32, p8 = (1 / (1 + np.exp(-np.clip(z, -30, 30))) for z in (z32, z8))
        scores["max_abs_torch"].append(float(np.abs(p32 - p_t).max()))
        scores["iou_fp32"].append(iou(p32 >= 0.5, y > 0))
        scores["iou_int8"].append(iou(p8 >= 0.5, y > 0))
        scores["iou_int8_vs_fp32"].append(iou(p8 >= 0.5, p32 >= 0.5))
    digest = {k: hashlib.sha256((out / name).read_bytes()).hexdigest() for k, name in PRECISIONS.items()}
    return {"name": "trace-net", "net": asdict(cfg.net), "train": asdict(cfg), "net_side": NET_SIDE,
            "parameters": sum(p.numel() for p in net.parameters()), "sha256": digest,
            "trained_on": "edgeecg renderer (bench.wide_style) + capture simulator, simulator records; held out: "
                          "foreign_style families and all real records",
            "validation": {k: round(float(np.mean(v) if k != "max_abs_torch" else np.max(v)), 4)
                           for k, v in scores.items()} | {"pages": len(val)}}
