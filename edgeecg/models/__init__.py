"""Models shipped inside the package, so that `predict` and the device runner work on a fresh install.

`synth-edge`: the default edge PatchECG trained by `edgeecg train` on the built-in simulator, with its FP32 and
INT8 (x86) ONNX exports. A demonstration model trained on simulated ECGs: not for clinical use.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT = Path(__file__).parent / "synth-edge"
NOTICE = "demonstration model trained on simulated ECGs; not for clinical use"


def default_model(precision: str = "int8") -> Path:
    """Path of the shipped default model file: `int8` or `fp32` ONNX, or `checkpoint` (folder, needs torch)."""
    from edgeecg.runtime import MODEL_FILES

    files = {"int8": DEFAULT / MODEL_FILES["int8"], "fp32": DEFAULT / MODEL_FILES["fp32"], "checkpoint": DEFAULT}
    if precision not in files:
        raise ValueError(f"unknown precision {precision!r}; use one of {', '.join(files)}")
    return files[precision]
