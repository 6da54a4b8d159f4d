"""Signals in the forms hospital systems read: DICOM 12-lead ECG waveforms, EDF+, FHIR Observations.

Each writer takes a `Record` and its `Provenance` (where it came from, how it was read) and writes one file;
the `hospital` extra brings pydicom and pyedflib (FHIR JSON needs nothing). Samples a print did not show stay
marked as missing in each format's own way: DICOM's waveform padding value, FHIR's "E", and for EDF+ (which
has no missing value) zeros with an annotation per lead giving the stretches that were shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edgeecg import __version__

# Lead codes: DICOM CID 3001 (MDC, "2:n") and the same terms as MDC numbers for FHIR (MDC_ECG_ELEC_POTL_*).
MDC_LEAD = {"I": 1, "II": 2, "III": 61, "aVR": 62, "aVL": 63, "aVF": 64,
            "V1": 3, "V2": 4, "V3": 5, "V4": 6, "V5": 7, "V6": 8}
FORMATS = ("dicom", "edf", "fhir")
SUFFIXES = {"dicom": ".dcm", "edf": ".edf", "fhir": ".fhir.json"}


@dataclass
class Provenance:
    """What a signal file says about itself: its source and how it was read."""

    source: str = ""                       # the input file's name (never a full local path)
    method: str = "recorded"               # recorded | digitized
    paper_speed_mm_s: float | None = None
    gain_mm_mv: float | None = None
    layout: str = ""
    lead_confidence: dict[str, float] = field(default_factory=dict)
    software: str = f"edgeecg {__version__}"

    def summary(self) -> str:
        parts = [f"{self.method} by {self.software}"]
        if self.source:
            parts.append(f"from {self.source}")
        if self.layout:
            parts.append(f"layout {self.layout}")
        if self.paper_speed_mm_s:
            parts.append(f"{self.paper_speed_mm_s:g} mm/s")
        if self.gain_mm_mv:
            parts.append(f"{self.gain_mm_mv:g} mm/mV")
        return ", ".join(parts)

    def comments(self) -> list[str]:
        """Header comment lines (WFDB): one fact a line."""
        lines = [f"software: {self.software}", f"method: {self.method}"]
        if self.source:
            lines.append(f"source: {self.source}")
        if self.layout:
            lines.append(f"layout: {self.layout}")
        if self.paper_speed_mm_s:
            lines.append(f"paper speed: {self.paper_speed_mm_s:g} mm/s")
        if self.gain_mm_mv:
            lines.append(f"gain: {self.gain_mm_mv:g} mm/mV")
        if self.lead_confidence:
            lines.append("lead confidence: " + " ".join(f"{k}={v:.2f}" for k, v in self.lead_confidence.items()))
        return lines
