"""TraceNet: a small U-Net that marks an ECG page's trace pixels (torch; training and export only).

Depthwise-separable convolutions keep it near 12k parameters and ~30 ms a page on one CPU core; dilated
convolutions at 1/8 scale see about 40 mm of page, enough to tell a trace from a line of text or a grid line.

    image [B, 3, H, W] -> stem /2 -> e1 -> down /4 -> e2 -> down /8 -> e3 (dilated 2, 4)
                       -> up /4 (+e2) -> up /2 (+e1) -> head: logits [B, 1, H/2, W/2]
(each "up (+skip)" is a 1x1 convolution over [upsampled map, skip], computed by `_merged`)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class TraceNetConfig:
    """Channel widths at 1/2, 1/4 and 1/8 scale."""

    widths: tuple[int, int, int] = (12, 24, 48)


def separable(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """3x3 depthwise then 1x1 pointwise, ReLU: a full 3x3 convolution's reach at a ninth of its cost."""
    return nn.Sequential(nn.Conv2d(c_in, c_in, 3, stride, dilation, dilation=dilation, groups=c_in, bias=False),
                         nn.Conv2d(c_in, c_out, 1), nn.ReLU())


class TraceNet(nn.Module):
    def __init__(self, cfg: TraceNetConfig = TraceNetConfig()) -> None:
        super().__init__()
        a, b, c = cfg.widths
        self.cfg = cfg
        self.stem = nn.Sequential(nn.Conv2d(3, a, 3, 2, 1), nn.ReLU())
        self.e1 = separable(a, a)
        self.e2 = nn.Sequential(separable(a, b, stride=2), separable(b, b))
        self.e3 = nn.Sequential(separable(b, c, stride=2), separable(c, c, dilation=2), separable(c, c, dilation=4))
        self.u2 = nn.Sequential(nn.Conv2d(c + b, b, 1), nn.ReLU(), separable(b, b))
        self.u1 = nn.Sequential(nn.Conv2d(b + a, a, 1), nn.ReLU(), separable(a, a))
        self.head = nn.Conv2d(a, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.e1(self.stem(x))                      # [B, a, H/2, W/2]
        x2 = self.e2(x1)                                # [B, b, H/4, W/4]
        x3 = self.e3(x2)                                # [B, c, H/8, W/8]
        y = self.u2[2](self.u2[1](_merged(self.u2[0], x3, x2)))   # [B, b, H/4, W/4]
        y = self.u1[2](self.u1[1](_merged(self.u1[0], y, x1)))    # [B, a, H/2, W/2]
        return self.head(y)                             # [B, 1, H/2, W/2] logits


def _merged(conv: nn.Conv2d, coarse: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
    """`conv` (1x1) over [coarse upsampled x2 (nearest), skip], computed as the upsampled 1x1 convolution of
    `coarse` plus that of `skip`: a 1x1 convolution commutes with nearest upsampling, so the coarse part runs on
    a quarter of the pixels and no concatenated map is made."""
    c = coarse.shape[1]
    up = F.interpolate(F.conv2d(coarse, conv.weight[:, :c]), scale_factor=2.0)   # [B, out, 2h, 2w]
    return up + F.conv2d(skip, conv.weight[:, c:], conv.bias)
