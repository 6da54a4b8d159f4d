"""PatchECG and the full-signal baseline, written from the paper's description (arXiv 2508.09165).

PatchECG embeds each present patch, adds a learned lead embedding and a learned time-slot embedding, and
runs a pre-norm transformer that attends only over present patches: the padding mask is a bias on the key
axis (never the query axis), built inside the graph from `valid`, FP16-safe (-1e4, added once, never -inf).
A record with a single present patch still yields finite output. The forward has no Python control flow on
data, so it exports to ONNX with dynamic batch and token count.

Shapes: B records, N tokens, P samples per patch, D embedding width, C labels.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

MASK_BIAS = -1.0e4   # fits FP16 (max 65504) and, added once, never overflows to -inf


@dataclass
class PatchECGConfig:
    """Model hyper-parameters; the presets are `edge` (default, < 2 M parameters) and `paper`."""

    n_labels: int
    patch_len: int = 125
    n_leads: int = 12
    n_slots: int = 8
    dim: int = 128
    depth: int = 4
    heads: int = 4
    mlp_ratio: float = 2.0
    dropout: float = 0.1
    encoder: Literal["linear", "cnn"] = "cnn"
    pooling: Literal["mean", "cls"] = "mean"

    @classmethod
    def preset(cls, name: str, **overrides) -> PatchECGConfig:
        presets = {
            # no dropout: on a CPU drawing its masks is 45 % of a training step (benchmarks/train_step.py), and
            # fresh masks every epoch already keep the model from memorising records
            "edge": {"dropout": 0.0},
            "paper": {"dim": 768, "depth": 3, "heads": 8, "mlp_ratio": 4.0, "encoder": "linear"},
        }
        if name not in presets:
            raise ValueError(f"unknown preset {name!r}; use one of {', '.join(presets)}")
        return cls(**{**presets[name], **overrides})

    def to_dict(self) -> dict:
        return asdict(self)


class LinearPatchEncoder(nn.Module):
    """[.., P] -> [.., D] by one projection: the paper's patch embedding."""

    def __init__(self, patch_len: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(patch_len, dim)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        return self.proj(patches)


class CNNPatchEncoder(nn.Module):
    """[.., P] -> [.., D] with a small 1-D CNN (local wave shapes) plus a linear path (amplitudes)."""

    def __init__(self, patch_len: int, dim: int, width: int = 32) -> None:
        super().__init__()
        self.convs = nn.Sequential(           # three stride-2 convolutions: P -> P/8 positions
            nn.Conv1d(1, width // 2, 7, stride=2, padding=3), nn.GELU(),
            nn.Conv1d(width // 2, width, 5, stride=2, padding=2), nn.GELU(),
            nn.Conv1d(width, width, 5, stride=2, padding=2), nn.GELU(),
        )
        out_len = _conv_lengths(patch_len)[-1]
        self.proj = nn.Linear(width * out_len, dim)
        self.skip = nn.Linear(patch_len, dim)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        lead_shape = patches.shape[:-1]
        x = patches.reshape(-1, 1, patches.shape[-1])                   # [B*N, 1, P]
        x = self.convs(x).flatten(1)                                     # [B*N, width * P/8]
        return (self.proj(x) + self.skip(patches.reshape(-1, patches.shape[-1]))).reshape(*lead_shape, -1)


def _conv_lengths(patch_len: int) -> tuple[int, int, int]:
    """Output lengths of the CNN encoder's three stride-2 convolutions."""
    l1 = math.ceil(patch_len / 2)
    l2 = math.ceil(l1 / 2)
    return l1, l2, math.ceil(l2 / 2)


class MaskedSelfAttention(nn.Module):
    """Multi-head self-attention whose keys are masked by an additive bias [B, 1, 1, N]."""

    def __init__(self, dim: int, heads: int, dropout: float) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} must be divisible by heads {heads}")
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, key_bias: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4).unbind(0)  # [B,H,N,Dh]
        scores = (q @ k.transpose(-2, -1)) * self.scale + key_bias                                 # [B,H,N,N]
        attn = self.drop(scores.softmax(dim=-1))
        return self.out((attn @ v).transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = MaskedSelfAttention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, key_bias: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), key_bias))
        return x + self.drop(self.mlp(self.norm2(x)))


class PatchECG(nn.Module):
    """Transformer over the present patches of an asynchronous, partially observed 12-lead ECG."""

    def __init__(self, cfg: PatchECGConfig) -> None:
        super().__init__()
        self.cfg = cfg
        encoders = {"linear": LinearPatchEncoder, "cnn": CNNPatchEncoder}
        if cfg.encoder not in encoders:
            raise ValueError(f"unknown patch encoder {cfg.encoder!r}; use linear or cnn")
        self.encoder = encoders[cfg.encoder](cfg.patch_len, cfg.dim)
        self.lead_emb = nn.Embedding(cfg.n_leads, cfg.dim)
        self.slot_emb = nn.Embedding(cfg.n_slots, cfg.dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, cfg.dim)) if cfg.pooling == "cls" else None
        self.blocks = nn.ModuleList(Block(cfg.dim, cfg.heads, cfg.mlp_ratio, cfg.dropout) for _ in range(cfg.depth))
        self.norm = nn.LayerNorm(cfg.dim)
        self.head = nn.Linear(cfg.dim, cfg.n_labels)
        nn.init.normal_(self.lead_emb.weight, std=0.02)
        nn.init.normal_(self.slot_emb.weight, std=0.02)

    def forward(self, patches: torch.Tensor, lead: torch.Tensor, slot: torch.Tensor,
                valid: torch.Tensor) -> torch.Tensor:
        """patches [B,N,P] float, lead/slot [B,N] int64, valid [B,N] bool -> logits [B,C]."""
        x = self.encoder(patches) + self.lead_emb(lead) + self.slot_emb(slot)          # [B,N,D]
        keep = valid.to(x.dtype)                                                         # [B,N]
        if self.cls is not None:
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)             # [B,N+1,D]
            keep = torch.cat([torch.ones_like(keep[:, :1]), keep], dim=1)
        key_bias = ((1.0 - keep) * MASK_BIAS)[:, None, None, :]                          # [B,1,1,N]
        for block in self.blocks:
            x = block(x, key_bias)
        x = self.norm(x)
        if self.cls is not None:
            pooled = x[:, 0]
        else:
            pooled = (x * keep[..., None]).sum(1) / keep.sum(1, keepdim=True).clamp(min=1.0)  # [B,D]
        return self.head(pooled)


@dataclass
class BaselineConfig:
    """Full-signal ResNet-1D (xresnet1d-style) on complete 12 x T signals."""

    n_labels: int
    width: int = 48
    blocks: list[int] = field(default_factory=lambda: [1, 1, 1, 1])
    kernel: int = 7
    dropout: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)


class ResBlock1d(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(c_in, c_out, kernel, stride, kernel // 2, bias=False), nn.BatchNorm1d(c_out), nn.ReLU(),
            nn.Conv1d(c_out, c_out, kernel, 1, kernel // 2, bias=False), nn.BatchNorm1d(c_out),
        )
        self.short = (nn.Identity() if c_in == c_out and stride == 1 else
                      nn.Sequential(nn.AvgPool1d(stride, ceil_mode=True) if stride > 1 else nn.Identity(),
                                    nn.Conv1d(c_in, c_out, 1, bias=False), nn.BatchNorm1d(c_out)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.short(x))


class Baseline1D(nn.Module):
    """signal [B, 12, T] (missing samples already filled) -> logits [B, C]."""

    def __init__(self, cfg: BaselineConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        layers: list[nn.Module] = [nn.Conv1d(12, w, cfg.kernel, 2, cfg.kernel // 2, bias=False),
                                   nn.BatchNorm1d(w), nn.ReLU()]
        c = w
        for stage, n in enumerate(cfg.blocks):
            c_out = w * 2 ** min(stage, 2)
            for i in range(n):
                layers.append(ResBlock1d(c, c_out, cfg.kernel, 2 if i == 0 and stage > 0 else 1))
                c = c_out
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(2 * c, cfg.n_labels))

    def forward(self, signal: torch.Tensor) -> torch.Tensor:
        x = self.features(signal)
        return self.head(torch.cat([x.mean(-1), x.amax(-1)], dim=1))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def patchecg_flops(cfg: PatchECGConfig, n_tokens: int) -> int:
    """Multiply-accumulates x 2 for one record with `n_tokens` present patches (dense layers + attention)."""
    d, n, p = cfg.dim, n_tokens + (cfg.pooling == "cls"), cfg.patch_len
    if cfg.encoder == "cnn":
        w = 32
        l1, l2, l3 = _conv_lengths(p)
        enc = l1 * (w // 2) * 7 + l2 * w * (w // 2) * 5 + l3 * w * w * 5 + w * l3 * d + p * d
    else:
        enc = p * d
    hidden = int(d * cfg.mlp_ratio)
    per_layer = n * (3 * d * d + d * d + 2 * d * hidden) + 2 * n * n * d
    return 2 * (n_tokens * enc + cfg.depth * per_layer + d * cfg.n_labels)
