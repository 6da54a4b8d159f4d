"""The one record type that every part of edgeecg passes around.

A record is a 12-lead signal in mV, in PTB-XL lead order, with NaN wherever a sample was not observed
(a printed layout hides it, a digitizer could not trace it, the recording was shorter). NaN samples stay at
their true time: nothing is ever shifted to t=0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LEADS: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
LEAD_INDEX: dict[str, int] = {name: i for i, name in enumerate(LEADS)}


class RecordError(ValueError):
    """A record (file or array) that cannot be used, with a message that says why and what to do."""


def lead_index(name: str) -> int:
    """Index of a lead in PTB-XL order, accepting the spellings found in real files (AVR, avr, v1)."""
    key = name.strip()
    for canonical, i in LEAD_INDEX.items():
        if key.lower() == canonical.lower():
            return i
    raise RecordError(f"unknown lead name {name!r}; expected one of {', '.join(LEADS)}")


@dataclass
class Record:
    """A 12-lead ECG: signal float32 [12, T] in mV (NaN = not observed) sampled at `fs` Hz.

    `labels` are names from the project's label vocabulary; `codes` keeps the source's own codes (for
    example SNOMED-CT) including those that map to no label, so nothing is dropped silently.
    """

    signal: np.ndarray
    fs: float
    labels: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    age: float | None = None
    sex: str | None = None
    record_id: str = ""
    meta: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        sig = np.asarray(self.signal)
        if sig.ndim != 2 or sig.shape[0] != len(LEADS):
            raise RecordError(
                f"record {self.record_id or '?'}: signal must have shape [12, T] in PTB-XL lead order, "
                f"got {sig.shape}"
            )
        if sig.shape[1] == 0:
            raise RecordError(f"record {self.record_id or '?'}: signal has no samples")
        if not np.isfinite(self.fs) or self.fs <= 0:
            raise RecordError(f"record {self.record_id or '?'}: sampling rate must be > 0 Hz, got {self.fs}")
        if np.isinf(sig).any():
            raise RecordError(f"record {self.record_id or '?'}: signal contains inf; use NaN for missing")
        if np.isnan(sig).all():
            raise RecordError(f"record {self.record_id or '?'}: every sample is NaN, nothing was observed")
        self.signal = sig.astype(np.float32, copy=False)
        self.fs = float(self.fs)

    @property
    def n_samples(self) -> int:
        return int(self.signal.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.n_samples / self.fs

    @property
    def observed(self) -> np.ndarray:
        """bool [12, T]: which samples are present."""
        return ~np.isnan(self.signal)

    def missing_leads(self) -> list[str]:
        """Names of leads with no observed sample at all."""
        return [LEADS[i] for i in np.flatnonzero(~self.observed.any(axis=1))]

    def fit(self, seconds: float = 10.0) -> Record:
        """Pads with NaN at the end (true times kept) or crops to exactly `seconds`.

        Models see 10 s; a shorter recording is not an error, its tail is simply not observed.
        """
        n = int(round(seconds * self.fs))
        if n == self.n_samples:
            return self
        out = np.full((len(LEADS), n), np.nan, dtype=np.float32)
        k = min(n, self.n_samples)
        out[:, :k] = self.signal[:, :k]
        return Record(out, self.fs, self.labels, self.codes, self.age, self.sex, self.record_id, dict(self.meta))
