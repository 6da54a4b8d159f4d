"""Optional extras: one line that names the install command, instead of a traceback, where one is missing."""

from __future__ import annotations

import importlib.util

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
INSTALL = {
    "train": f'pip install "edgeecg[train]" --extra-index-url {CPU_INDEX}   (the CPU build of PyTorch; leave the '
             "index out for a CUDA build, several GB)",
    "pdf": 'pip install "edgeecg[pdf]"',
    "hospital": 'pip install "edgeecg[hospital]"',
    "serve": 'pip install "edgeecg[serve]"',
    "ray": 'pip install "edgeecg[ray]"',
}
MODULES = {"train": ("torch", "safetensors", "onnx"), "pdf": ("pypdfium2",), "hospital": ("pydicom", "pyedflib"),
           "serve": ("fastapi", "uvicorn"), "ray": ("ray", "pyarrow")}


class MissingExtra(RuntimeError):
    """A command needs an optional extra that is not installed."""


def require(extra: str, what: str, modules: tuple[str, ...] | None = None) -> None:
    """Raises MissingExtra naming the install command when a module of `extra` cannot be imported."""
    missing = [m for m in (modules or MODULES[extra]) if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtra(f"{what} needs {', '.join(missing)}, which the core install leaves out; install it "
                           f"with: {INSTALL[extra]}")
