"""Checkpoints without pickle: `model.safetensors` plus `checkpoint.json` (config, labels, data, metrics).

`checkpoint.json` also carries the SHA-256 of the weights, so every artifact made from a checkpoint can name
exactly what it came from. Resuming needs the optimizer too: `optimizer.safetensors` holds its tensors and
`checkpoint.json` its step counters.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from edgeecg.model import Baseline1D, BaselineConfig, PatchECG, PatchECGConfig
from edgeecg.record import RecordError
from edgeecg.tokens import TokenizerConfig

WEIGHTS, META, OPTIM = "model.safetensors", "checkpoint.json", "optimizer.safetensors"


@dataclass
class Checkpoint:
    model: nn.Module
    kind: str                      # "patchecg" | "baseline"
    label_names: tuple[str, ...]
    tokenizer: TokenizerConfig
    meta: dict

    @property
    def fs(self) -> float:
        return self.tokenizer.fs


def build_model(kind: str, config: dict) -> nn.Module:
    if kind == "patchecg":
        return PatchECG(PatchECGConfig(**config))
    if kind == "baseline":
        return Baseline1D(BaselineConfig(**config))
    raise RecordError(f"unknown model kind {kind!r} in checkpoint")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_checkpoint(folder: str | Path, model: nn.Module, kind: str, label_names: tuple[str, ...],
                    tokenizer: TokenizerConfig, meta: dict, optimizer: torch.optim.Optimizer | None = None
                    ) -> Path:
    """Writes weights and metadata atomically enough: JSON last, so a half-written folder does not load."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / WEIGHTS
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(weights))
    record = {"format": "edgeecg-checkpoint/1", "kind": kind, "model_config": model.cfg.to_dict(),
              "label_names": list(label_names), "tokenizer": tokenizer.to_dict(),
              "weights_sha256": sha256_file(weights), **meta}
    if optimizer is not None:
        tensors, counters = {}, {}
        for i, state in optimizer.state_dict()["state"].items():
            for name, value in state.items():
                if torch.is_tensor(value) and value.dim() > 0:
                    tensors[f"{i}.{name}"] = value.detach().cpu().contiguous()
                else:
                    counters[f"{i}.{name}"] = float(value)
        save_file(tensors, str(folder / OPTIM))
        record["optimizer_counters"] = counters
    (folder / META).write_text(json.dumps(_finite(record), indent=2, allow_nan=False))
    return folder


def _finite(value):
    """NaN/inf (an undefined metric) -> null, so checkpoint.json stays standard JSON for every reader."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def load_checkpoint(folder: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Loads a checkpoint folder; refuses missing, truncated or tampered files with a clear message."""
    folder = Path(folder)
    meta_path, weights = folder / META, folder / WEIGHTS
    if not meta_path.is_file() or not weights.is_file():
        raise RecordError(f"{folder}: not a checkpoint (needs {META} and {WEIGHTS}); train one with `edgeecg train`")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as err:
        raise RecordError(f"{meta_path}: not valid JSON ({err})") from None
    if meta.get("weights_sha256") != sha256_file(weights):
        raise RecordError(f"{weights}: SHA-256 does not match {META}; the weights are truncated or replaced")
    model = build_model(meta["kind"], meta["model_config"])
    try:
        model.load_state_dict(load_file(str(weights), device=str(device)))
    except Exception as err:  # safetensors raises its own error types for corrupt headers
        raise RecordError(f"{weights}: cannot load weights ({err})") from None
    model.to(device).eval()
    return Checkpoint(model, meta["kind"], tuple(meta["label_names"]), TokenizerConfig(**meta["tokenizer"]), meta)


def load_optimizer_state(folder: str | Path, optimizer: torch.optim.Optimizer) -> None:
    """Restores what `save_checkpoint(..., optimizer=)` wrote into an optimizer over the same parameters."""
    folder = Path(folder)
    meta = json.loads((folder / META).read_text())
    tensors = load_file(str(folder / OPTIM))
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        i, name = key.split(".", 1)
        state.setdefault(int(i), {})[name] = value
    for key, value in meta.get("optimizer_counters", {}).items():
        i, name = key.split(".", 1)
        state.setdefault(int(i), {})[name] = torch.tensor(value)
    sd = optimizer.state_dict()
    sd["state"] = state
    optimizer.load_state_dict(sd)
