"""Masked training of PatchECG (and training of the full-signal baseline).

Each batch draws fresh observed masks (`layouts.MaskMix`: printed layouts, random per-lead blackouts, both,
or the full signal) after optional amplitude, baseline and noise augmentation, then goes through the same
tokenizer as the device. With `distill > 0` the model also sees each record whole, without gradient, and the
masked view is pulled towards that prediction (self-distillation): what a print hides should change the
answer as little as the evidence allows. The baseline trains on complete signals, as the paper's baselines did.

Under `torchrun` the same command trains with DistributedDataParallel: each rank takes a disjoint shard of
every epoch's permutation (a distributed sampler), gradients are averaged, weights stay identical.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from edgeecg.batches import masked, model_inputs
from edgeecg.checkpoint import META, load_checkpoint, load_optimizer_state, save_checkpoint
from edgeecg.data.sources import DataSplits, load_source
from edgeecg.layouts import MaskMix
from edgeecg.metrics import best_thresholds, macro_auroc
from edgeecg.model import Baseline1D, BaselineConfig, PatchECG, PatchECGConfig, count_parameters
from edgeecg.tokens import TokenizerConfig, token_counts


@dataclass(frozen=True)
class Recipe:
    """What a model trains with unless told otherwise."""

    epochs: int
    lr: float
    distill: float


RECIPES = {
    # measured on the simulator task (README): 12 epochs fit in 10 minutes on a 2-core CPU without dropout,
    # and self-distillation with shared-window masks keeps every printed layout within 0.02 of 12x1
    "patchecg": Recipe(epochs=12, lr=2e-3, distill=1.0),
    "baseline": Recipe(epochs=10, lr=1e-3, distill=0.0),   # full signals: nothing to distill
}


@dataclass
class TrainConfig:
    """Everything a training run depends on; stored in the checkpoint."""

    data: str = "synth"
    model: Literal["patchecg", "baseline"] = "patchecg"
    preset: str = "edge"
    task: str = "subclass"
    out: str = "runs/patchecg"
    epochs: int | None = None   # None: the model's recipe in RECIPES
    batch_size: int = 64
    lr: float | None = None     # None: the model's recipe in RECIPES
    weight_decay: float = 0.05
    warmup: float = 0.05
    loss: Literal["bce", "focal"] = "bce"
    focal_gamma: float = 2.0
    seed: int = 0
    n_train: int = 8000
    n_eval: int = 2000
    patience: int = 3
    augment: bool = True
    mask_mix: MaskMix = field(default_factory=MaskMix)
    resume: bool = False
    amp: bool = True
    progress: bool = True
    max_minutes: float | None = None
    distill: float | None = None  # weight of the full-view consistency loss (0 = off; None: RECIPES); see
    #                               `_distill_loss`
    distill_share: float = 1.0    # share of each batch that gets the teacher pass

    def __post_init__(self) -> None:
        recipe = RECIPES.get(self.model)
        if recipe is None:
            raise ValueError(f"unknown model {self.model!r}; use {' or '.join(RECIPES)}")
        for name, value in asdict(recipe).items():
            if getattr(self, name) is None:
                setattr(self, name, value)

    @classmethod
    def preset_defaults(cls, preset: str) -> dict:
        """`paper`: the paper's protocol (PTB-XL at 100 Hz, 23 subclasses, focal loss, paper-size model, masked
        training without self-distillation)."""
        if preset == "paper":
            return {"preset": "paper", "loss": "focal", "task": "subclass", "lr": 3e-4, "batch_size": 64,
                    "distill": 0.0}
        if preset == "edge":
            return {"preset": "edge"}
        raise ValueError(f"unknown preset {preset!r}; use edge or paper")


@dataclass
class TrainResult:
    out: Path
    best_val_score: float     # validation macro AUROC (or minus the loss where AUROC is undefined)
    epochs_run: int
    seconds: float
    seen: np.ndarray          # training indices this rank consumed in the last epoch
    model: nn.Module          # the weights after the last epoch (the best ones are in `out`)


def focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float) -> torch.Tensor:
    """Multi-label focal loss: BCE down-weighted where the model is already confident."""
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = torch.exp(-bce)
    return ((1 - p_t) ** gamma * bce).mean()


def augment(x: np.ndarray, rng: np.random.Generator, fs: float) -> np.ndarray:
    """Amplitude scaling (0.8-1.25), a slow baseline (<= 0.1 mV) and white noise (<= 0.02 mV), in place."""
    b, _, t = x.shape
    x *= rng.uniform(0.8, 1.25, (b, 1, 1)).astype(np.float32)
    time_s = np.arange(t, dtype=np.float32) / fs
    x += (rng.uniform(0, 0.1, (b, 12, 1)) * np.sin(2 * np.pi * rng.uniform(0.05, 0.5, (b, 12, 1)) * time_s
                                                  + rng.uniform(0, 6.3, (b, 12, 1)))).astype(np.float32)
    x += rng.standard_normal(x.shape, dtype=np.float32) * rng.uniform(0, 0.02, (b, 1, 1)).astype(np.float32)
    return x


def build(cfg: TrainConfig, n_labels: int, tok: TokenizerConfig) -> nn.Module:
    if cfg.model == "patchecg":
        return PatchECG(PatchECGConfig.preset(cfg.preset, n_labels=n_labels, patch_len=tok.patch_len,
                                              n_slots=tok.n_slots))
    if cfg.model == "baseline":
        return Baseline1D(BaselineConfig(n_labels))
    raise ValueError(f"unknown model {cfg.model!r}; use patchecg or baseline")


def _dist_env() -> tuple[int, int]:
    """(rank, world size); starts the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank() if world > 1 else 0), world


def _schedule(step: int, total: int, warmup: int) -> float:
    """Linear warm-up, then cosine decay to zero."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))


@torch.no_grad()
def predict(model: nn.Module, kind: str, signals: np.ndarray, fs: float, tok: TokenizerConfig,
            fill: str = "zero", batch: int = 256, device: str | torch.device = "cpu") -> np.ndarray:
    """Probabilities [N, C] for signals that already carry their NaN masks.

    PatchECG batches go by token count, so that a batch pads to about its own records' length.
    """
    model.eval()
    order = np.arange(len(signals))
    if kind == "patchecg" and fs == tok.fs:
        order = np.argsort(token_counts(signals, tok), kind="stable")
    probs = [torch.sigmoid(model(*model_inputs(kind, signals[order[a:a + batch]], fs, tok, fill, device)))
             .float().cpu().numpy() for a in range(0, len(signals), batch)]
    out = np.empty((len(signals), probs[0].shape[1]), np.float32)
    out[order] = np.concatenate(probs)
    return out


def validation_signals(splits: DataSplits, cfg: TrainConfig) -> np.ndarray:
    """The validation set under fixed masks: the training mix for PatchECG, full signals for the baseline."""
    val = splits.val.signals
    if cfg.model == "baseline":
        return val
    rng = np.random.default_rng([cfg.seed, 999_999])
    return masked(val, cfg.mask_mix.sample(rng, len(val), splits.fs, val.shape[-1]))


def train(cfg: TrainConfig, tok: TokenizerConfig | None = None, splits: DataSplits | None = None) -> TrainResult:
    """Trains and writes the best checkpoint to `cfg.out` (and `cfg.out/last` for --resume)."""
    tok = tok or TokenizerConfig()
    rank, world = _dist_env()
    cuda = torch.cuda.is_available()
    device = torch.device("cuda", rank % torch.cuda.device_count()) if cuda else torch.device("cpu")
    torch.manual_seed(cfg.seed)
    splits = splits or load_source(cfg.data, tok, cfg.seed, cfg.n_train, cfg.n_eval, cfg.task)
    model = build(cfg, len(splits.label_names), tok).to(device)
    out = Path(cfg.out)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n_train = len(splits.train.signals)
    per_rank = n_train // world
    steps_per_epoch = max(1, per_rank // cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _schedule(s, total, max(1, int(cfg.warmup * total))))
    start_epoch, best, stale = 0, -math.inf, 0
    if cfg.resume and (out / "last" / META).is_file():
        last = load_checkpoint(out / "last", device)
        model.load_state_dict(last.model.state_dict())
        load_optimizer_state(out / "last", opt)
        start_epoch, best, stale = last.meta["epoch"] + 1, last.meta["best_val_score"], last.meta["stale_epochs"]
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _schedule(s, total, max(1, int(cfg.warmup * total))),
                                                  last_epoch=start_epoch * steps_per_epoch - 1)
    core = model
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    use_amp = cfg.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    val_signals = validation_signals(splits, cfg)
    meta_base = {"train_config": {**asdict(cfg), "mask_mix": asdict(cfg.mask_mix)},
                 "data": {"spec": cfg.data, "description": splits.description, "digest": splits.digest},
                 "fs": splits.fs, "parameters": count_parameters(core)}
    t0 = time.perf_counter()
    seen = np.empty(0, dtype=np.int64)
    epoch = start_epoch - 1
    progress = _progress(cfg.progress and rank == 0)
    with progress:
        task = progress.add_task("training", total=(cfg.epochs - start_epoch) * steps_per_epoch, info="")
        for epoch in range(start_epoch, cfg.epochs):
            model.train()
            torch.manual_seed(cfg.seed * 10_000 + epoch)     # per epoch, so --resume replays the same dropout
            rng = np.random.default_rng([cfg.seed, epoch, rank])
            teacher_rng = np.random.default_rng([cfg.seed, epoch, rank, 1])  # leaves the masks' stream alone
            losses = []
            perm = np.random.default_rng([cfg.seed, epoch]).permutation(n_train)
            seen = perm[rank::world][:per_rank]
            for x, whole, y in _batches(splits, seen, cfg, tok, rng, steps_per_epoch):
                y = torch.from_numpy(y).to(device)
                with torch.autocast(device.type, enabled=use_amp):
                    logits = model(*model_inputs(cfg.model, x, splits.fs, tok, "zero", device))
                    loss = (focal_loss(logits.float(), y, cfg.focal_gamma) if cfg.loss == "focal"
                            else F.binary_cross_entropy_with_logits(logits.float(), y))
                    if whole is not None:
                        pick = _distill_rows(len(whole), cfg.distill_share, teacher_rng)
                        loss = loss + cfg.distill * _distill_loss(core, logits[pick], whole[pick], splits.fs,
                                                                  tok, device)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.unscale_(opt)
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                scaler.step(opt)
                scaler.update()
                sched.step()
                losses.append(loss.item())
                progress.update(task, advance=1, info=f"epoch {epoch + 1}/{cfg.epochs} loss {np.mean(losses):.4f}")
            val = validate(core, cfg.model, val_signals, splits.val.labels, splits.fs, tok, device)
            improved = val["score"] > best
            stale = 0 if improved else stale + 1
            best = max(best, val["score"])
            meta = {**meta_base, "epoch": epoch, "train_loss": float(np.mean(losses)), "val_macro_auroc":
                    val["macro_auroc"], "val_loss": val["loss"], "best_val_score": best, "stale_epochs": stale,
                    "train_seconds": time.perf_counter() - t0}
            if rank == 0:
                if improved:
                    save_checkpoint(out, core, cfg.model, splits.label_names, tok,
                                    {**meta, **validation_thresholds(splits.val.labels, val["prob"],
                                                                     splits.label_names)})
                save_checkpoint(out / "last", core, cfg.model, splits.label_names, tok, meta, opt)
                progress.console.print(f"epoch {epoch + 1}: loss {np.mean(losses):.4f}, val loss {val['loss']:.4f}, "
                                       f"val macro AUROC {val['macro_auroc']:.4f}" + (" (best)" if improved else ""))
            out_of_time = cfg.max_minutes is not None and time.perf_counter() - t0 > 60 * cfg.max_minutes
            if stale >= cfg.patience or out_of_time:
                break
    if world > 1:
        dist.barrier()
    return TrainResult(out, best, epoch + 1, time.perf_counter() - t0, seen, core)


def validate(model: nn.Module, kind: str, signals: np.ndarray, labels: np.ndarray, fs: float,
             tok: TokenizerConfig, device: torch.device) -> dict[str, float]:
    """Validation macro AUROC and BCE; `score` is the AUROC, or minus the loss where no class has both values
    in a (tiny) validation set, so that early stopping and the best checkpoint still work."""
    prob = predict(model, kind, signals, fs, tok, device=device)
    loss = float(F.binary_cross_entropy(torch.from_numpy(prob).double().clamp(1e-7, 1 - 1e-7),
                                        torch.from_numpy(labels).double()))
    auroc = macro_auroc(labels, prob)
    return {"macro_auroc": auroc, "loss": loss, "score": auroc if math.isfinite(auroc) else -loss, "prob": prob}


THRESHOLDS_FROM = "validation set under the training mask mix, F1-optimal per class"


def validation_thresholds(labels: np.ndarray, prob: np.ndarray, names: tuple[str, ...]) -> dict:
    """Checkpoint metadata: the per-class decision thresholds that `predict` uses where none is given."""
    return {"thresholds": dict(zip(names, best_thresholds(labels, prob).round(4).tolist(), strict=True)),
            "thresholds_from": THRESHOLDS_FROM}


def _distill_rows(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of the records that get the teacher pass: `share` of n, at least one."""
    return np.sort(rng.choice(n, size=max(1, min(n, int(round(share * n)))), replace=False))


def _distill_loss(model: nn.Module, logits: torch.Tensor, whole: np.ndarray, fs: float, tok: TokenizerConfig,
                  device: torch.device) -> torch.Tensor:
    """BCE of the masked view's logits against the model's own (detached) probabilities on the whole record.

    Only the masked view gets the gradient, so the full-signal answer is not pulled down towards the
    masked one; records that the mask left whole contribute zero. The teacher pass runs without dropout:
    its targets are then the model's actual answer, and on a CPU the pass costs a third as much (drawing
    the dropout masks is most of a small transformer's forward time there).
    """
    was_training = model.training
    model.eval()
    with torch.no_grad():
        target = torch.sigmoid(model(*model_inputs("patchecg", whole, fs, tok, "zero", device)).float())
    model.train(was_training)
    return F.binary_cross_entropy_with_logits(logits.float(), target)


def _batches(splits: DataSplits, order: np.ndarray, cfg: TrainConfig, tok: TokenizerConfig,
             rng: np.random.Generator, n_batches: int, group: int = 8):
    """Yields (masked signals, whole signals or None, labels) batches; within each group of batches, records
    with similar token counts go together so that padding to the batch's longest record wastes little compute.
    The whole signals come only when self-distillation is on."""
    size = cfg.batch_size
    for a in range(0, n_batches * size, group * size):
        idx = order[a:min(a + group * size, n_batches * size)]
        x = np.array(splits.train.signals[np.sort(idx)], dtype=np.float32)
        y = splits.train.labels[np.sort(idx)].astype(np.float32)
        if cfg.augment:
            augment(x, rng, splits.fs)
        whole = x if cfg.model == "patchecg" and cfg.distill > 0 else None
        if cfg.model == "patchecg":
            x = masked(x, cfg.mask_mix.sample(rng, len(x), splits.fs, x.shape[-1]))
            by_count = np.argsort(token_counts(x, tok), kind="stable")
        else:
            by_count = np.arange(len(x))
        batches = [by_count[b:b + size] for b in range(0, len(by_count), size)]
        for k in rng.permutation(len(batches)):
            yield x[batches[k]], None if whole is None else whole[batches[k]], y[batches[k]]


def _progress(enabled: bool):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                    TimeElapsedColumn(), disable=not enabled)
