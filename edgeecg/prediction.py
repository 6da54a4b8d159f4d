"""One input in, one self-describing result out: findings, measurements and, for images, what the digitizer saw.

Inputs: a photo or scan of a printed ECG (a page of a PDF included; digitized first, its quality report comes
with the findings and an annotated PNG shows what was read), a WFDB/Challenge record (`.hea`, or its name
without extension), a signal CSV (`data/csv_io.py`), or a `Record`. Batches of them live in `archive.py`.

A result names what made it (edgeecg version, model name and SHA-256, every threshold and digitizer setting)
so that a file found in an archive years later still says what it means. Torch-free.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from edgeecg import __version__
from edgeecg.data.fetch import sha256_file
from edgeecg.imaging.page import IMAGE_SUFFIXES, check_orientation
from edgeecg.labels import describe
from edgeecg.record import Record, RecordError

RECORD_SUFFIXES = (".hea", ".csv")
AF_LABELS = ("AFIB", "AF")
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class PredictConfig:
    """What `predict` may assume about its inputs. `threshold=None` takes the model's per-class validation
    thresholds (0.5 where the model has none); a number applies to every class."""

    threshold: float | None = None
    layout: str = "auto"
    speed: float = 25.0                  # paper speed of images, mm/s
    gain: float | None = None            # mm/mV of images; None reads the calibration pulse
    csv_fs: float | None = None          # rate of a CSV without a time column
    out_fs: float = 500.0                # rate the digitizer reads images at
    orientation: str = "auto"            # of images: auto finds which way up the page lies; as-given trusts it
    tracer: str = "classical"            # of images: thresholds (classical) or the trace segmenter too (net)
    min_confidence: float | None = None  # of images: the digitizer's calibrated bar (None: the model's own)

    def __post_init__(self) -> None:
        check_orientation(self.orientation, self.tracer)

    def digitizer(self):
        from edgeecg.imaging.digitize import DigitizeConfig

        return DigitizeConfig(layout=self.layout, fs=self.out_fs, speed=self.speed, gain=self.gain,
                              orientation=self.orientation, tracer=self.tracer, min_confidence=self.min_confidence)


@dataclass
class LabelScore:
    label: str
    description: str
    probability: float
    threshold: float
    finding: bool


@dataclass
class ModelRef:
    name: str
    file: str
    sha256: str
    precision: str
    notice: str = ""


@dataclass
class Prediction:
    """The result for one input; `ok` False with `error` saying why it was refused."""

    source: str
    ok: bool
    error: str = ""
    page: int | None = None                              # page of a PDF (1-based)
    input_sha256: str = ""
    labels: list[LabelScore] = field(default_factory=list)       # every label, in the model's order
    findings: list[LabelScore] = field(default_factory=list)     # labels at or above threshold, highest first
    af_probability: float | None = None
    thresholds_from: str = ""
    measurements: dict | None = None
    digitizer: dict | None = None                        # settings and quality report, for images
    annotated: str = ""                                  # PNG: the page as read, the traces and the findings
    model: ModelRef | None = None
    edgeecg_version: str = __version__

    @property
    def probabilities(self) -> dict[str, float]:
        return {s.label: s.probability for s in self.labels}

    @property
    def quality(self) -> dict | None:
        return self.digitizer["quality"] if self.digitizer else None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Prediction:
        """A result read back from its JSON (a batch's --resume)."""
        d = dict(d)
        d["labels"] = [LabelScore(**x) for x in d.get("labels", [])]
        d["findings"] = [LabelScore(**x) for x in d.get("findings", [])]
        d["model"] = ModelRef(**d["model"]) if d.get("model") else None
        return cls(**d)


def model_ref(runtime, notice: str = "") -> ModelRef:
    return ModelRef(runtime.name, runtime.path.name, runtime.sha256, runtime.info.precision, notice)


def thresholds_for(runtime, threshold: float | None) -> tuple[list[float], str]:
    """The threshold of every class, and where they come from."""
    n = len(runtime.label_names)
    if threshold is not None:
        return [float(threshold)] * n, f"{threshold:g} for every class (given)"
    if runtime.info.thresholds is not None:
        return list(runtime.info.thresholds), f"per class from the model: {runtime.info.thresholds_from}"
    return [DEFAULT_THRESHOLD] * n, f"{DEFAULT_THRESHOLD:g} for every class (the model has no validation thresholds)"


def resolve_input(path: Path) -> Path:
    """The file a user means: `E07500` is the WFDB record `E07500.hea` when that exists."""
    if path.exists():
        return path
    header = path.with_name(path.name + ".hea")
    if header.is_file():
        return header
    raise RecordError(f"{path} not found" + ("" if path.suffix else " (nor a WFDB record of that name)"))


def load_record(path: Path, csv_fs: float | None = None) -> Record:
    """A record from a `.hea` or `.csv` file (images go through the digitizer)."""
    suffix = path.suffix.lower()
    if suffix == ".hea":
        from edgeecg.data.wfdb_io import read_wfdb

        return read_wfdb(path)
    if suffix == ".csv":
        from edgeecg.data.csv_io import read_csv

        return read_csv(path, csv_fs)
    raise RecordError(f"unsupported input {path.suffix!r}; use a photo or scan ({', '.join(IMAGE_SUFFIXES)}), "
                      f"a .hea record or a .csv of signals")


def score(runtime, record: Record, cfg: PredictConfig, source: str = "", notice: str = "") -> Prediction:
    """Findings and measurements of a record."""
    from edgeecg.measure import measure

    thresholds, origin = thresholds_for(runtime, cfg.threshold)
    prob = runtime.predict(record.signal, record.fs)
    labels = [LabelScore(name, describe(name), round(float(p), 4), round(t, 4), bool(p >= t))
              for name, p, t in zip(runtime.label_names, prob, thresholds, strict=True)]
    findings = sorted((s for s in labels if s.finding), key=lambda s: -s.probability)
    af = next((s.probability for s in labels if s.label in AF_LABELS), None)
    return Prediction(source, True, labels=labels, findings=findings, af_probability=af, thresholds_from=origin,
                      measurements=measure(record.signal, record.fs).as_dict(), model=model_ref(runtime, notice))


def predict_file(runtime, path: Path, cfg: PredictConfig, source: str = "", page: int | None = None,
                 notice: str = "", annotate: Path | None = None) -> Prediction:
    """One file (or one page of a PDF); refusals come back as `ok=False` with the reason, never raised."""
    from edgeecg.imaging.page import DigitizeError

    source = source or path.name
    digitized = None
    try:
        digest = sha256_file(path)
        if path.suffix.lower() in IMAGE_SUFFIXES:
            from edgeecg.imaging.digitize import digitize
            from edgeecg.imaging.page import load_image

            digitized = digitize(load_image(path, page or 1), cfg.digitizer())
            record = digitized.record
        else:
            record = load_record(path, cfg.csv_fs)
        out = score(runtime, record, cfg, source, notice)
    except (RecordError, DigitizeError, ValueError, OSError) as err:
        return Prediction(source, False, error=str(err), page=page, model=model_ref(runtime, notice))
    out.page, out.input_sha256 = page, digest
    if digitized is not None:
        out.digitizer = {"settings": asdict(cfg.digitizer()), "quality": digitized.quality.as_dict()}
        if annotate is not None:
            out.annotated = str(annotate_page(digitized, out, annotate))
    return out


def annotate_page(digitized, prediction: Prediction, path: Path) -> Path:
    """The digitizer's overlay with the findings and measurements in the caption band."""
    from edgeecg.imaging.outputs import overlay, write_png
    from edgeecg.measure import Measurements

    found = ", ".join(f"{f.label} {f.probability:.2f}" for f in prediction.findings) or "none"
    lines = [f"findings: {found}   ({prediction.thresholds_from})"]
    if prediction.af_probability is not None:
        lines.append(f"AF probability {prediction.af_probability:.2f}")
    if prediction.measurements:
        lines.append(Measurements.from_dict(prediction.measurements).summary())
    if prediction.model and prediction.model.notice:
        lines.append(prediction.model.notice)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_png(path, overlay(digitized, lines))
