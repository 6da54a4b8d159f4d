"""From signals and observed masks to model inputs, the same way in training and in evaluation.

PatchECG gets tokens from `tokens.tokenize_batch`; the full-signal baseline gets the masked signal with the
missing samples filled (zeros, or linear interpolation along time), as the paper's baselines were evaluated.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from edgeecg.layouts import masked
from edgeecg.tokens import TokenizerConfig, tokenize_batch

__all__ = ["fill_missing", "masked", "model_inputs", "patch_inputs"]

Fill = Literal["zero", "interp"]


def fill_missing(signals: np.ndarray, how: Fill) -> np.ndarray:
    """Fills NaN for a model that needs complete signals; a lead with nothing observed becomes zeros."""
    if how == "zero":
        return np.nan_to_num(signals, nan=0.0)
    if how != "interp":
        raise ValueError(f"unknown fill {how!r}; use zero or interp")
    out = np.nan_to_num(signals, nan=0.0)
    t = np.arange(signals.shape[-1])
    flat_in, flat_out = signals.reshape(-1, signals.shape[-1]), out.reshape(-1, signals.shape[-1])
    for i, row in enumerate(flat_in):
        seen = ~np.isnan(row)
        if 0 < seen.sum() < len(row):
            flat_out[i] = np.interp(t, t[seen], row[seen])
    return out


def patch_inputs(signals: np.ndarray, fs: float, tok: TokenizerConfig, device: torch.device | str = "cpu"
                 ) -> tuple[torch.Tensor, ...]:
    """(patches, lead, slot, valid) tensors for PatchECG."""
    t = tokenize_batch(signals, fs, tok)
    return tuple(torch.from_numpy(a).to(device) for a in (t.patches, t.lead, t.slot, t.valid))


def model_inputs(kind: str, signals: np.ndarray, fs: float, tok: TokenizerConfig, fill: Fill = "zero",
                 device: torch.device | str = "cpu") -> tuple[torch.Tensor, ...]:
    """Inputs for `patchecg` (tokens) or `baseline` (filled full signal)."""
    if kind == "patchecg":
        return patch_inputs(signals, fs, tok, device)
    return (torch.from_numpy(fill_missing(signals, fill)).to(device),)
