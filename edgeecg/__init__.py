"""edgeecg: arrhythmia reading from phone photos of paper ECGs, on the edge.

`edgeecg.predict(path_or_record)` and `edgeecg.digitize(path)` are the Python API (see `edgeecg/api.py`);
they import OpenCV and ONNX Runtime only when called, so `import edgeecg` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edgeecg.record import LEADS, Record, RecordError

__version__ = "0.1.0"
__all__ = ["LEADS", "Record", "RecordError", "__version__", "digitize", "predict"]

if TYPE_CHECKING:
    from edgeecg.api import digitize, predict


def __getattr__(name: str):
    if name in ("digitize", "predict"):
        from edgeecg import api

        return getattr(api, name)
    raise AttributeError(f"module 'edgeecg' has no attribute {name!r}")
