"""An HL7 FHIR R4 Observation with one SampledData component per lead (JSON, no library needed to write).

Follows the ECG example of the FHIR specification (MDC_ECG_ELEC_POTL codes per lead, values in microvolts
with `period` in ms); a sample the print did not show is "E". Heart rate and intervals go in as further
components (LOINC codes) with a dataAbsentReason where they are unavailable. Status is `preliminary` for a
digitized record: nobody has checked it against the paper yet.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edgeecg.interop import MDC_LEAD, Provenance
from edgeecg.record import LEADS, Record

MDC = "urn:oid:2.16.840.1.113883.6.24"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
MEASURES = {"heart_rate": ("8867-4", "Heart rate", "/min"), "pr": ("8625-6", "P-R Interval", "ms"),
            "qrs": ("8633-0", "QRS duration", "ms"), "qt": ("8634-8", "Q-T interval", "ms"),
            "qtc_bazett": ("8636-3", "Q-T interval corrected", "ms")}


def _lead_component(name: str, values: np.ndarray, fs: float) -> dict:
    data = " ".join("E" if not np.isfinite(v) else str(int(round(v * 1000.0))) for v in values)
    code = 131328 + MDC_LEAD[name]
    return {"code": {"coding": [{"system": MDC, "code": str(code), "display": f"MDC_ECG_ELEC_POTL_{name.upper()}"}]},
            "valueSampledData": {"origin": {"value": 0, "unit": "uV", "system": UCUM, "code": "uV"},
                                 "period": round(1000.0 / fs, 6), "factor": 1, "dimensions": 1, "data": data}}


def _measure_component(key: str, value: dict) -> dict:
    code, display, unit = MEASURES[key]
    out: dict = {"code": {"coding": [{"system": LOINC, "code": code, "display": display}]}}
    if value.get("value") is None:
        out["dataAbsentReason"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                               "code": "unknown"}], "text": value.get("reason", "")}
    else:
        out["valueQuantity"] = {"value": value["value"], "unit": unit, "system": UCUM, "code": unit}
    return out


def observation(record: Record, provenance: Provenance, measurements: dict | None = None) -> dict:
    """The Observation as a JSON-ready dict."""
    components = [_lead_component(name, record.signal[k], record.fs) for k, name in enumerate(LEADS)]
    for key in MEASURES:
        if measurements and key in measurements:
            components.append(_measure_component(key, measurements[key]))
    return {"resourceType": "Observation",
            "status": "preliminary" if provenance.method == "digitized" else "final",
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "procedure", "display": "Procedure"}]}],
            "code": {"coding": [{"system": LOINC, "code": "11524-6", "display": "EKG study"},
                                {"system": MDC, "code": "131328", "display": "MDC_ECG_ELEC_POTL"}]},
            "device": {"display": provenance.software},
            "note": [{"text": provenance.summary()}],
            "component": components}


def write_fhir(record: Record, path: Path, provenance: Provenance, measurements: dict | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(observation(record, provenance, measurements), indent=1))
    return path
