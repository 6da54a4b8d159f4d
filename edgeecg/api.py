"""The Python API in two calls: `edgeecg.digitize(path)` and `edgeecg.predict(path_or_record)`.

    import edgeecg
    result = edgeecg.predict("photo.jpg")                  # a photo, scan, PDF page, .hea, .csv or Record
    print(result.findings, result.measurements["heart_rate"], result.probabilities["AFIB"])

Both are torch-free. A refused input raises the RecordError or DigitizeError that says why, rather than
returning something that looks like an answer.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from edgeecg.imaging.digitize import DigitizeConfig, Digitized
from edgeecg.prediction import PredictConfig, Prediction, predict_file, resolve_input, score
from edgeecg.record import Record, RecordError


@lru_cache(maxsize=4)
def _runtime(model: str):
    from edgeecg.runtime import Runtime

    return Runtime(model)


def digitize(path: str | Path, layout: str = "auto", speed: float = 25.0, gain: float | None = None,
             out_fs: float = 500.0, page: int = 1, orientation: str = "auto", tracer: str = "classical") -> Digitized:
    """Signals (`.record`, NaN where not printed), quality report (`.quality`) and the flattened page of a photo,
    scan or PDF page."""
    from edgeecg.imaging.digitize import digitize as run
    from edgeecg.imaging.page import load_image

    return run(load_image(path, page), DigitizeConfig(layout=layout, fs=out_fs, speed=speed, gain=gain,
                                                         orientation=orientation, tracer=tracer))


def predict(source: str | Path | Record, model: str | Path | None = None, threshold: float | None = None,
            layout: str = "auto", speed: float = 25.0, gain: float | None = None, csv_fs: float | None = None,
            page: int | None = None, orientation: str = "auto", tracer: str = "classical") -> Prediction:
    """Findings (label names, probabilities, thresholds), heart rate and intervals of one input, with the shipped
    demonstration model unless `model` names an exported .onnx/.engine."""
    from edgeecg.models import NOTICE, default_model

    path = Path(model) if model is not None else default_model("int8")
    notice = NOTICE if model is None else ""
    runtime = _runtime(str(path))
    cfg = PredictConfig(threshold, layout, speed, gain, csv_fs, orientation=orientation, tracer=tracer)
    if isinstance(source, Record):
        return score(runtime, source, cfg, source.record_id, notice)
    result = predict_file(runtime, resolve_input(Path(source)), cfg, page=page, notice=notice)
    if not result.ok:
        raise RecordError(result.error)
    return result
