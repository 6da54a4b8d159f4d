"""One ONNX Runtime CPU session for a shipped network (the trace segmenter, the label reader), with a clear error
where its file is missing or unreadable. No torch."""

from __future__ import annotations

from pathlib import Path


def cpu_session(path: Path, threads: int, error: type[Exception], what: str, advice: str):
    """An onnxruntime InferenceSession over `path` on `threads` CPU threads; `error` naming `what` and `advice`
    (what the user can do) where the file is missing or not a model ONNX Runtime can load."""
    import onnxruntime as ort

    if not path.is_file():
        raise error(f"{what} model {path} not found; {advice}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own exception types for unreadable models
        raise error(f"cannot load {what} {path}: {err}; {advice}") from None
