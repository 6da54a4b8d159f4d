"""EDF+ with pyedflib: what sleep, EEG and many bedside systems import.

EDF has no missing-sample value, so a sample the print did not show is 0 uV and an annotation per lead
("I shown") gives each stretch that was shown; a reader that ignores annotations sees flat gaps, not
invented signal. Values are int16 microvolts (physical range +-32.767 mV).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeecg.extras import require
from edgeecg.interop import Provenance
from edgeecg.record import LEADS, Record, RecordError


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def write_edf(record: Record, path: Path, provenance: Provenance) -> Path:
    """One EDF+ file of 12 signals; refuses a rate that is not a whole number of samples a second."""
    require("hospital", "writing EDF+", ("pyedflib",))
    import pyedflib

    if abs(record.fs - round(record.fs)) > 1e-9:
        raise RecordError(f"{path}: EDF+ needs a whole number of samples a second, not {record.fs:g} Hz; digitize "
                          "with --out-fs 500")
    fs = int(round(record.fs))
    seconds = int(np.ceil(record.n_samples / fs))
    padded = np.full((len(LEADS), seconds * fs), np.nan, dtype=np.float64)
    padded[:, :record.n_samples] = record.signal
    microvolts = np.nan_to_num(padded, nan=0.0) * 1000.0
    if np.abs(microvolts).max(initial=0) > 32767:
        raise RecordError(f"{path}: a value beyond +-32.767 mV does not fit EDF's int16 range at 1 uV")
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = pyedflib.EdfWriter(str(path), len(LEADS), file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        writer.setSignalHeaders([{"label": f"ECG {name}", "dimension": "uV", "sample_frequency": fs,
                                  "physical_min": -32768.0, "physical_max": 32767.0, "digital_min": -32768,
                                  "digital_max": 32767, "transducer": "", "prefilter": ""} for name in LEADS])
        # EDF+ header subfields hold no spaces, and equipment plus the rest share 80 characters
        equipment = provenance.software.replace(" ", "_")
        writer.setEquipment(equipment)
        writer.setRecordingAdditional(f"from_{provenance.source or 'record'}".replace(" ", "_")
                                      .encode("ascii", "replace").decode()[:40])
        spans = [(name, a, b) for k, name in enumerate(LEADS) for a, b in _runs(np.isfinite(padded[k]))]
        # one annotation signal holds about one annotation a second of recording
        writer.set_number_of_annotation_signals(min(64, len(spans) // seconds + 2))
        # digital samples, rounded here: pyedflib truncates physical values towards zero
        writer.writeSamples([np.ascontiguousarray(np.round(x).astype(np.int32)) for x in microvolts], digital=True)
        for name, a, b in spans:
            writer.writeAnnotation(a / fs, (b - a) / fs, f"{name} shown")
    finally:
        writer.close()
    return path
