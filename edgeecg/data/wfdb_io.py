"""WFDB and PhysioNet/CinC Challenge records (`.hea` + `.dat`/`.mat`, any rate) as `Record`s.

Parsing is `wfdb_format`'s job (plain numpy, no `wfdb` package on a device); this module turns what it reads
into the project's record type: leads
reordered by name to PTB-XL order, physical units converted to mV, Challenge header comments (`# Age:`,
`# Sex:`, `# Dx:`) read, and every way a file can be broken turned into a `RecordError` that says which
file and what to do.

Documented handling of odd but readable input:
- a lead that is entirely NaN stays NaN (the lead is simply not observed);
- a recording shorter than 10 s is returned as it is; `Record.fit(10.0)` pads its tail with NaN;
- missing leads are an error unless `missing_leads="nan"`, which fills them with NaN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from edgeecg.data.snomed import map_codes
from edgeecg.data.wfdb_format import Header, parse_header, read_samples
from edgeecg.record import LEADS, Record, RecordError, lead_index

_UNIT_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "v": 1e3, "nu": 1.0, "": 1.0}


def record_stem(path: str | Path) -> Path:
    """The WFDB record name (path without extension) for `x`, `x.hea`, `x.dat` or `x.mat`."""
    path = Path(path)
    return path.with_suffix("") if path.suffix.lower() in {".hea", ".dat", ".mat"} else path


def _parse_comments(comments: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in comments:
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    return fields


def _age(text: str | None) -> float | None:
    try:
        age = float(text) if text is not None else None
    except ValueError:
        return None
    return age if age is not None and np.isfinite(age) and 0 <= age < 130 else None


def _sex(text: str | None) -> str | None:
    value = (text or "").strip().lower()
    if value in {"male", "m", "0"}:
        return "M"
    if value in {"female", "f", "1"}:
        return "F"
    return None


def read_wfdb(path: str | Path, missing_leads: Literal["error", "nan"] = "error") -> Record:
    """Reads one WFDB/Challenge record as a Record in mV and PTB-XL lead order."""
    stem = record_stem(path)
    header = stem.with_suffix(".hea")
    if not header.is_file():
        raise RecordError(f"{header}: header file not found; pass the record path with or without .hea")
    head = parse_header(header)
    try:
        samples = read_samples(stem, head)
    except FileNotFoundError as err:
        raise RecordError(f"{stem}: signal file missing ({Path(err.filename or '').name or err}); "
                          f"the .hea names the .dat/.mat it needs next to it") from None
    except ValueError as err:  # a file shorter than its own byte offset, a frame cut in half
        if isinstance(err, RecordError):
            raise
        raise RecordError(f"{stem}: cannot be read as a WFDB record ({err}); check that the .hea and its signal "
                          "file belong together and are complete") from None
    return _to_record(head, samples, stem, missing_leads)


def _to_record(head: Header, samples: np.ndarray, stem: Path, missing_leads: str) -> Record:
    if not head.signals or not samples.size:
        raise RecordError(f"{stem}: record holds no samples")
    signal = np.full((len(LEADS), samples.shape[0]), np.nan, dtype=np.float32)
    seen: set[int] = set()
    unknown: list[str] = []
    for ch, (name, unit) in enumerate((s.name, s.units) for s in head.signals):
        try:
            i = lead_index(name)
        except RecordError:
            unknown.append(name)
            continue
        scale = _UNIT_TO_MV.get((unit or "").strip().lower())
        if scale is None:
            raise RecordError(f"{stem}: lead {name} has unit {unit!r}; expected mV, uV or V")
        if i in seen:
            raise RecordError(f"{stem}: lead {name} appears twice")
        seen.add(i)
        signal[i] = samples[:, ch] * scale
    absent = [LEADS[i] for i in range(len(LEADS)) if i not in seen]
    if absent and missing_leads == "error":
        extra = f"; unrecognised channel names: {', '.join(unknown)}" if unknown else ""
        raise RecordError(f"{stem}: missing leads {', '.join(absent)}{extra}; edgeecg needs the 12 standard "
                          "leads (pass missing_leads='nan' to read them as not observed)")
    fields = _parse_comments(head.comments)
    codes = tuple(c.strip() for c in fields.get("dx", "").split(",") if c.strip())
    labels, unmapped = map_codes(codes)
    meta = {"source": "wfdb", "path": str(stem)}
    if unmapped:
        meta["unmapped_codes"] = ",".join(unmapped)
    if unknown:
        meta["ignored_channels"] = ",".join(unknown)
    return Record(signal, head.fs, labels, codes, _age(fields.get("age")), _sex(fields.get("sex")),
                  stem.name, meta)


def find_records(folder: str | Path) -> list[Path]:
    """Record stems of every `.hea` under `folder`, sorted, so a Challenge folder can be read whole."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RecordError(f"{folder}: not a folder")
    return sorted(record_stem(p) for p in folder.rglob("*.hea"))
