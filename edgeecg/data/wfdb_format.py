"""The WFDB file format in plain numpy: header parsing, the common sample formats, and a format-16 writer.

Why not the `wfdb` package: on a device it would bring pandas, scipy, matplotlib, aiohttp and soundfile (about
350 MB) to read a few thousand int16 values. This module reads what 12-lead ECG archives use (PTB-XL, the
PhysioNet/CinC Challenges, MIT-BIH style 212 files) and refuses the rest by name; `tests/data/test_wfdb_format.py`
holds it to the `wfdb` package on every format it reads.

Spec: https://physionet.org/physiotools/wag/header-5.htm and signal-5.htm. Supported: single-segment records,
one sample per frame, formats 16, 24, 32, 61, 80, 160 and 212, byte offsets (`16+24`, the Challenge `.mat`
files), several signals interleaved in one file or spread over several files. WFDB's invalid-sample value of
each format reads as NaN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeecg.record import RecordError

_DTYPES = {"16": "<i2", "61": ">i2", "80": "u1", "160": "<u2", "24": None, "32": "<i4", "212": None}
_BYTES_PER_SAMPLE = {"16": 2, "61": 2, "80": 1, "160": 2, "24": 3, "32": 4, "212": 1.5}
_INVALID = {"16": -32768, "61": -32768, "80": -128, "160": -32768, "24": -(2 ** 23), "32": -(2 ** 31),
            "212": -2048}
_SIGNAL_SPEC = re.compile(r"^(?P<fmt>\d+)(?:x(?P<spf>\d+))?(?::(?P<skew>\d+))?(?:\+(?P<offset>\d+))?$")
_GAIN_SPEC = re.compile(r"^(?P<gain>[-+\d.eE]+)(?:\((?P<baseline>[-+\d]+)\))?(?:/(?P<units>\S+))?$")


@dataclass
class Signal:
    """One signal line of a header."""

    file: str
    fmt: str
    gain: float
    baseline: int
    units: str
    adc_zero: int
    name: str
    byte_offset: int = 0


@dataclass
class Header:
    name: str
    fs: float
    n_samples: int | None
    signals: list[Signal]
    comments: list[str] = field(default_factory=list)


def parse_header(path: Path) -> Header:
    """The record and signal lines of a `.hea`; RecordError names the line that cannot be read."""
    try:
        text = path.read_text(encoding="latin-1")
    except OSError as err:
        raise RecordError(f"{path}: cannot be read ({err.strerror})") from None
    lines = [ln.strip() for ln in text.splitlines()]
    comments = [ln.lstrip("#").strip() for ln in lines if ln.startswith("#")]
    body = [ln for ln in lines if ln and not ln.startswith("#")]
    if not body:
        raise RecordError(f"{path}: empty header (no record line)")
    parts = body[0].split()
    if "/" in parts[0]:
        raise RecordError(f"{path}: a multi-segment record; convert it to a single segment (e.g. with WFDB's "
                          "`wfdbcollate` or the wfdb package) first")
    try:
        n_signals = int(parts[1])
        fs = float(parts[2].split("/")[0]) if len(parts) > 2 else 250.0
        n_samples = int(parts[3]) if len(parts) > 3 else None
    except (IndexError, ValueError):
        raise RecordError(f"{path}: record line {body[0]!r} is not 'name signals [fs [samples]]'") from None
    if len(body) - 1 < n_signals:
        raise RecordError(f"{path}: the record line names {n_signals} signals, the header lists {len(body) - 1}")
    signals = [_signal(path, line, k) for k, line in enumerate(body[1:n_signals + 1])]
    return Header(parts[0], fs, n_samples, signals, comments)


def _signal(path: Path, line: str, k: int) -> Signal:
    parts = line.split()
    spec = _SIGNAL_SPEC.match(parts[1]) if len(parts) > 1 else None
    if spec is None:
        raise RecordError(f"{path}: signal line {k + 1} ({line!r}) has no readable format field")
    fmt = spec["fmt"]
    if fmt not in _DTYPES:
        raise RecordError(f"{path}: signal {k + 1} is in WFDB format {fmt}, which edgeecg does not read (it reads "
                          f"{', '.join(sorted(_DTYPES, key=int))}); convert the record with the wfdb package")
    if int(spec["spf"] or 1) != 1 or int(spec["skew"] or 0) != 0:
        raise RecordError(f"{path}: signal {k + 1} uses several samples per frame or skew, which edgeecg does not "
                          "read; resample the record to one rate first")
    gain, baseline, units = 200.0, None, "mV"
    if len(parts) > 2:
        g = _GAIN_SPEC.match(parts[2])
        if g is None:
            raise RecordError(f"{path}: signal {k + 1} has an unreadable gain field {parts[2]!r}")
        gain = float(g["gain"]) or 200.0                       # the spec: a gain of 0 means the default
        baseline = int(g["baseline"]) if g["baseline"] else None
        units = g["units"] or "mV"
    adc_zero = int(parts[4]) if len(parts) > 4 else 0
    name = " ".join(parts[8:]) if len(parts) > 8 else f"signal {k + 1}"
    return Signal(parts[0], fmt, gain, adc_zero if baseline is None else baseline, units, adc_zero, name,
                  int(spec["offset"] or 0))


def _decode(raw: bytes, fmt: str, n_values: int) -> np.ndarray:
    """int64 [n_values] from a file's bytes (frames of interleaved signals, in file order)."""
    if fmt == "212":
        need = (n_values + 1) // 2 * 3                 # an odd count ends in a 2-byte group
        b = np.frombuffer(raw[:need].ljust(need, b"\0"), np.uint8).reshape(-1, 3).astype(np.int64)
        first = b[:, 0] | ((b[:, 1] & 0x0F) << 8)
        second = b[:, 2] | ((b[:, 1] & 0xF0) << 4)
        values = np.stack([first, second], 1).reshape(-1)[:n_values]
        return np.where(values >= 2048, values - 4096, values)
    if fmt == "24":
        b = np.frombuffer(raw[: n_values * 3], np.uint8).reshape(-1, 3).astype(np.int64)
        values = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        return np.where(values >= 2 ** 23, values - 2 ** 24, values)
    values = np.frombuffer(raw, _DTYPES[fmt], count=n_values).astype(np.int64)
    if fmt == "80":
        return values - 128
    if fmt == "160":
        return values - 32768
    return values


def read_samples(stem: Path, header: Header) -> np.ndarray:
    """Physical values float64 [T, n_signals] (NaN where WFDB marks a sample invalid)."""
    by_file: dict[str, list[int]] = {}
    for k, s in enumerate(header.signals):
        by_file.setdefault(s.file, []).append(k)
    columns: dict[int, np.ndarray] = {}
    for name, members in by_file.items():
        fmts = {header.signals[k].fmt for k in members}
        offsets = {header.signals[k].byte_offset for k in members}
        if len(fmts) > 1 or len(offsets) > 1:
            raise RecordError(f"{stem}: signals in {name} mix formats or offsets, which edgeecg does not read")
        fmt, offset = fmts.pop(), offsets.pop()
        path = stem.parent / name
        if not path.is_file():
            raise FileNotFoundError(2, "signal file missing", str(path))
        raw = path.read_bytes()[offset:]
        per_frame = len(members)
        held = int(len(raw) // (_BYTES_PER_SAMPLE[fmt] * per_frame))
        frames = header.n_samples if header.n_samples else held
        if held < frames:
            raise RecordError(f"{stem}: truncated signal file {name}: header says {frames} samples, the file holds "
                              f"{held}; re-download the record")
        digital = _decode(raw, fmt, frames * per_frame).reshape(frames, per_frame)
        for j, k in enumerate(members):
            s = header.signals[k]
            d = digital[:, j]
            columns[k] = np.where(d == _INVALID[fmt], np.nan, (d - s.baseline) / s.gain)
    lengths = {len(c) for c in columns.values()}
    if len(lengths) > 1:
        raise RecordError(f"{stem}: its signal files hold different numbers of samples ({sorted(lengths)})")
    return np.stack([columns[k] for k in range(len(header.signals))], axis=1)


def write_record(stem: Path, signal_mv: np.ndarray, fs: float, names: list[str], comments: list[str],
                 gain: float = 1000.0) -> Path:
    """Format-16 `.hea` + `.dat` for signal float [n_signals, T] in mV; NaN is written as WFDB's invalid value.

    Gain 1000/mV keeps 1 uV steps and +-32.7 mV, far past any ECG; a value beyond it is refused, not clipped."""
    digital = np.round(np.nan_to_num(signal_mv.T.astype(np.float64), nan=0.0) * gain)
    if np.abs(digital).max(initial=0) > 32767:
        raise RecordError(f"{stem}: a value beyond +-{32767 / gain:g} mV cannot be written at {gain:g}/mV")
    digital = digital.astype(np.int16)
    digital[np.isnan(signal_mv.T)] = -32768
    stem.parent.mkdir(parents=True, exist_ok=True)
    dat = stem.with_suffix(".dat")
    dat.write_bytes(digital.astype("<i2").tobytes())
    first = digital[0] if len(digital) else np.zeros(len(names), np.int16)
    checksums = (digital.astype(np.int64).sum(0) + 32768) % 65536 - 32768
    lines = [f"{stem.name} {len(names)} {fs:g} {digital.shape[0]}"]
    lines += [f"{dat.name} 16 {gain:g}(0)/mV 16 0 {int(first[k])} {int(checksums[k])} 0 {name}"
              for k, name in enumerate(names)]
    lines += [f"# {c}" for c in comments]
    header = stem.with_suffix(".hea")
    header.write_text("\n".join(lines) + "\n")
    return header
