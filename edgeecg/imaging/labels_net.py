"""LabelNet: a small CNN that reads which lead label, if any, a window of the page shows (torch; training and
export only).

Global max pooling makes it indifferent to where in the window the text sits (the mean beside it says how
much of the window is text: "II" is inside "III"); five 3x3 blocks see about
15 mm of page at the last one, enough for a label three letters long at 2-5 mm letter height. Narrow early
blocks keep it near 11 MFLOPs a window, a few milliseconds for a page's windows on one core.

    window [B, 1, 120, 100] -> block /2 -> block /4 -> block /8 -> block /16 -> block
                            -> max and mean over space -> logits [B, 14]
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from edgeecg.imaging.labels import CLASSES


@dataclass(frozen=True)
class LabelNetConfig:
    """Channel widths of the five blocks."""

    widths: tuple[int, ...] = (12, 16, 32, 48, 64)


def block(c_in: int, c_out: int, pool: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
    return nn.Sequential(*layers, nn.MaxPool2d(2)) if pool else nn.Sequential(*layers)


class LabelNet(nn.Module):
    def __init__(self, cfg: LabelNetConfig = LabelNetConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        pairs = list(zip((1, *cfg.widths[:-1]), cfg.widths, strict=True))
        self.features = nn.Sequential(*(block(i, o, k < len(pairs) - 1) for k, (i, o) in enumerate(pairs)))
        self.head = nn.Linear(2 * cfg.widths[-1], len(CLASSES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x)                                            # [B, widths[-1], H/16, W/16]
        return self.head(torch.cat([f.amax(dim=(2, 3)), f.mean(dim=(2, 3))], 1))   # [B, classes] logits
