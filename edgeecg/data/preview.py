"""A PNG of a few simulated records per class, to see at a glance what each condition looks like."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeecg.record import LEADS


def preview_png(signals: np.ndarray, labels: np.ndarray, label_names: tuple[str, ...], fs: float,
                path: str | Path, per_class: int = 1, leads: tuple[str, ...] = ("II", "V1", "V5")) -> Path:
    """One row per class (records carrying that label), leads side by side, 10 mm/mV-like scaling."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise RuntimeError("the preview needs matplotlib: pip install 'edgeecg[plot]'") from None
    rows = [(name, i) for c, name in enumerate(label_names)
            for i in np.flatnonzero(labels[:, c])[:per_class]]
    if not rows:
        raise ValueError("no labelled records to preview")
    lead_idx = [LEADS.index(x) for x in leads]
    fig, axes = plt.subplots(len(rows), len(leads), figsize=(4.2 * len(leads), 1.15 * len(rows)),
                             sharex=True, squeeze=False)
    t = np.arange(signals.shape[-1]) / fs
    for r, (name, i) in enumerate(rows):
        tags = ",".join(n for n, v in zip(label_names, labels[i], strict=True) if v)
        for c, li in enumerate(lead_idx):
            ax = axes[r, c]
            ax.plot(t, signals[i, li], lw=0.7, color="k")
            ax.set_ylim(-2.0, 2.5)
            ax.set_yticks([])
            ax.grid(True, color="#f4a6a6", lw=0.4)
            if r == 0:
                ax.set_title(leads[c], fontsize=9)
            if c == 0:
                ax.set_ylabel(f"{name}\n[{tags}]", rotation=0, ha="right", va="center", fontsize=7)
    axes[-1, 0].set_xlabel("s")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
