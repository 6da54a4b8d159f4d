"""`edgeecg bench measure`: how right heart rate, rhythm and intervals are, on inputs the shares were not tuned on.

Three sections, each a different kind of truth:
- simulator: the generator's own fiducials (true beat times, PR, QRS, QT) on seeds other than 0-1 (the ones
  `MeasureConfig`'s shares were chosen on), per printed layout, at 100 and 500 Hz;
- photos: the same truth after render -> capture -> digitize, in randomly drawn print styles;
- real records (PTB-XL, Challenge): neurokit2's R peaks on lead II as a second opinion on the heart rate
  (where neurokit2 is installed: the dev extra), and the labels' own claim: sinus bradycardia below 60 bpm,
  sinus tachycardia above 100.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edgeecg.layouts import apply
from edgeecg.measure import measure
from edgeecg.record import Record

LAYOUTS = ("12x1", "3x4", "3x4+II", "2x6")
INTERVALS = ("pr", "qrs", "qt")


@dataclass
class Row:
    section: str
    condition: str
    records: int
    hr_available: float = float("nan")           # share of records with a heart rate
    hr_mae_bpm: float = float("nan")
    hr_within_5pct: float = float("nan")          # share within 5 % of the truth (of those with a rate)
    errors_ms: dict[str, float] = field(default_factory=dict)     # median |error| per interval
    available: dict[str, float] = field(default_factory=dict)     # share measured where the truth exists
    notes: str = ""


def _summarise(section: str, condition: str, found: list, truth: list[dict]) -> Row:
    row = Row(section, condition, len(found))
    hr = [(m.heart_rate.value, t["hr"]) for m, t in zip(found, truth, strict=True) if np.isfinite(t["hr"])]
    got = [(v, t) for v, t in hr if v is not None]
    row.hr_available = len(got) / max(1, len(hr))
    if got:
        err = np.array([abs(v - t) for v, t in got])
        row.hr_mae_bpm = float(err.mean())
        row.hr_within_5pct = float(np.mean([abs(v - t) <= 0.05 * t for v, t in got]))
    for name in INTERVALS:
        pairs = [(getattr(m, name).value, t[name]) for m, t in zip(found, truth, strict=True)
                 if np.isfinite(t.get(name, np.nan))]
        measured = [abs(v - t) for v, t in pairs if v is not None]
        row.available[name] = len(measured) / max(1, len(pairs))
        row.errors_ms[name] = float(np.median(measured)) if measured else float("nan")
    af = [m for m, t in zip(found, truth, strict=True) if t.get("af")]
    if af:
        row.notes = (f"AF: {np.mean([m.rhythm == 'irregular' for m in af]):.0%} read irregular, PR reported in "
                     f"{np.mean([m.pr.available for m in af]):.0%}")
    return row


def _truth_of(batch, i: int) -> dict:
    from edgeecg.data.synth_conditions import SYNTH_LABELS

    onsets = batch.truth.qrs_onsets[i][np.isfinite(batch.truth.qrs_onsets[i])]
    return {"hr": 60.0 / float(np.mean(np.diff(onsets))), "pr": 1000 * batch.truth.pr[i],
            "qrs": 1000 * batch.truth.qrs[i], "qt": 1000 * batch.truth.qt[i],
            "af": bool(batch.labels[i, SYNTH_LABELS.index("AFIB")])}


def simulator(n: int, seed: int) -> list[Row]:
    from edgeecg.data.synth import SynthConfig, simulate

    rows = []
    for fs in (100.0, 500.0):
        batch = simulate(n, SynthConfig(fs=fs), seed=seed)
        truth = [_truth_of(batch, i) for i in range(n)]
        for layout in LAYOUTS:
            found = [measure(s if layout == "12x1" else apply(s, layout, fs), fs) for s in batch.signals]
            rows.append(_summarise("simulator", f"{layout} {fs:g} Hz", found, truth))
    return rows


def photos(n: int, seed: int) -> list[Row]:
    """Render -> capture -> digitize in drawn print styles; a refused photo counts as nothing measured."""
    from edgeecg.data.synth import SynthConfig, simulate
    from edgeecg.imaging.bench import random_style
    from edgeecg.imaging.capture import capture
    from edgeecg.imaging.digitize import digitize
    from edgeecg.imaging.page import DigitizeError
    from edgeecg.imaging.render import render
    from edgeecg.measure import Measurements, Value

    batch = simulate(n, SynthConfig(fs=500.0), seed=seed)
    rows = []
    for severity in ("scan", "photo"):
        found, truth = [], []
        for i, rec in enumerate(batch.records()):
            rng = np.random.default_rng([seed, i, 7])
            layout = ("3x4+II", "3x4", "2x6", "12x1")[i % 4]
            shot = capture(render(rec, layout, random_style(rng)), severity, seed=seed * 1000 + i)
            try:
                record = digitize(shot.image).record
                found.append(measure(record.signal, record.fs))
            except DigitizeError as err:
                none = Value(None, "", str(err))
                found.append(Measurements(none, none, none, "unavailable", none, none, none, none, none))
            truth.append(_truth_of(batch, i))
        rows.append(_summarise("photos", severity, found, truth))
    return rows


def real(spec: str, n: int) -> list[Row]:
    """Heart rate against neurokit2 (lead II, whole record) and against the rate labels."""
    from edgeecg.data.sources import sample_records

    records = [r for r in sample_records(spec, n) if np.isfinite(r.signal[1]).all()]
    reference = _neurokit_rates(records)
    rows = []
    for layout in ("12x1", "3x4+II", "3x4"):
        found = [measure(r.signal if layout == "12x1" else apply(r.signal, layout, r.fs), r.fs) for r in records]
        truth = [{"hr": ref} for ref in reference]
        row = _summarise(f"{spec.split(':')[0]} vs nk2", layout, found, truth) if reference else \
            Row(spec.split(":")[0], layout, len(records), notes="neurokit2 not installed")
        # PTB-XL keeps its rhythm statements (SBRAD, STACH) among the record's codes, the Challenge among labels
        rates = [(m.heart_rate.value, set(r.labels) | set(r.codes)) for m, r in zip(found, records, strict=True)]
        brady = [v for v, labels in rates if "SBRAD" in labels and v is not None]
        tachy = [v for v, labels in rates if "STACH" in labels and v is not None]
        row.notes = "; ".join(x for x in (row.notes, f"SBRAD below 60 bpm: {sum(v < 60 for v in brady)}/{len(brady)}",
                                          f"STACH above 100 bpm: {sum(v > 100 for v in tachy)}/{len(tachy)}") if x)
        rows.append(row)
    return rows


def _neurokit_rates(records: list[Record]) -> list[float]:
    try:
        import neurokit2 as nk
    except ImportError:
        return []
    out = []
    for r in records:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                _, info = nk.ecg_peaks(nk.ecg_clean(r.signal[1], sampling_rate=int(r.fs)), sampling_rate=int(r.fs))
                peaks = np.asarray(info["ECG_R_Peaks"])
                out.append(60.0 * r.fs / float(np.mean(np.diff(peaks))) if len(peaks) >= 3 else float("nan"))
            except (ValueError, IndexError):
                out.append(float("nan"))
    return out


def write(rows: list[Row], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "bench-measure.json"
    path.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return path
