"""The native WFDB reader and writer against the wfdb package (the reference; a dev dependency only)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from edgeecg.data.wfdb_format import parse_header, read_samples, write_record
from edgeecg.record import LEADS, RecordError

wfdb = pytest.importorskip("wfdb")


def _as_format(folder: Path, fmt: str) -> None:
    """Rewrites the format-16 record `r` as format 61 (big-endian) or 160 (offset binary): wfdb reads both but
    does not write them."""
    values = np.frombuffer((folder / "r.dat").read_bytes(), "<i2")
    raw = values.astype(">i2") if fmt == "61" else (values.astype(np.int32) + 32768).astype("<u2")
    (folder / "r.dat").write_bytes(raw.tobytes())
    header = folder / "r.hea"
    header.write_text(header.read_text().replace("r.dat 16 ", f"r.dat {fmt} "))


@pytest.mark.parametrize("fmt", ["16", "61", "80", "160", "212", "24", "32"])
def test_every_supported_format_reads_as_wfdb_reads_it(tmp_path: Path, fmt: str) -> None:
    rng = np.random.default_rng(int(fmt))
    bits = {"80": 8, "212": 12, "24": 24, "32": 32}.get(fmt, 16)
    digital = rng.integers(-(2 ** (bits - 1)) + 1, 2 ** (bits - 1) - 1, size=(777, 3))   # odd length: 212's tail
    digital[5, 1] = -(2 ** (bits - 1))                                                   # an invalid sample
    written = "16" if fmt in ("61", "160") else fmt
    wfdb.wrsamp("r", fs=360, units=["mV", "uV", "mV"], sig_name=["I", "II", "V1"], d_signal=digital.astype(np.int64),
                fmt=[written] * 3, adc_gain=[200.0, 1000.0, 50.0], baseline=[0, 12, -7], write_dir=str(tmp_path))
    if written != fmt:
        _as_format(tmp_path, fmt)
    head = parse_header(tmp_path / "r.hea")
    ours = read_samples(tmp_path / "r", head)
    theirs = wfdb.rdrecord(str(tmp_path / "r")).p_signal
    assert head.fs == 360 and [s.units for s in head.signals] == ["mV", "uV", "mV"]
    np.testing.assert_allclose(ours, theirs, atol=1e-9, equal_nan=True)


def test_challenge_mat_files_with_a_byte_offset(cinc_dir: Path) -> None:
    for stem in ("HR06000", "E07500", "JS20019"):
        head = parse_header(cinc_dir / f"{stem}.hea")
        assert head.signals[0].byte_offset == 24
        np.testing.assert_allclose(read_samples(cinc_dir / stem, head), wfdb.rdrecord(str(cinc_dir / stem)).p_signal,
                                   atol=1e-9)


def test_signals_spread_over_two_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    sig = rng.normal(size=(500, 4))
    wfdb.wrsamp("two", fs=100, units=["mV"] * 4, sig_name=["I", "II", "III", "aVR"], p_signal=sig, fmt=["16"] * 4,
                write_dir=str(tmp_path))
    head = (tmp_path / "two.hea").read_text().splitlines()
    dat = (tmp_path / "two.dat").read_bytes()
    frames = np.frombuffer(dat, "<i2").reshape(500, 4)
    (tmp_path / "a.dat").write_bytes(frames[:, :2].tobytes())
    (tmp_path / "b.dat").write_bytes(frames[:, 2:].tobytes())
    lines = [head[0]] + [ln.replace("two.dat", "a.dat" if k < 2 else "b.dat") for k, ln in enumerate(head[1:5])]
    (tmp_path / "two.hea").write_text("\n".join(lines) + "\n")
    np.testing.assert_allclose(read_samples(tmp_path / "two", parse_header(tmp_path / "two.hea")),
                               wfdb.rdrecord(str(tmp_path / "two")).p_signal, atol=1e-9)


def test_written_records_read_back_in_wfdb_with_their_comments(tmp_path: Path) -> None:
    sig = np.random.default_rng(2).normal(size=(12, 1000)).astype(np.float32)
    sig[3, 100:400] = np.nan
    header = write_record(tmp_path / "out" / "page", sig, 500.0, list(LEADS), ["source: photo.jpg", "speed: 25 mm/s"])
    back = wfdb.rdrecord(str(header.with_suffix("")))
    assert back.fs == 500 and back.sig_name == list(LEADS) and back.comments == ["source: photo.jpg",
                                                                                 "speed: 25 mm/s"]
    np.testing.assert_allclose(back.p_signal.T, sig, atol=5e-4, equal_nan=True)
    assert np.isnan(back.p_signal[100:400, 3]).all()


def test_values_beyond_the_format_are_refused_not_clipped(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="beyond"):
        write_record(tmp_path / "x", np.full((1, 10), 40.0), 100.0, ["I"], [])


@pytest.mark.parametrize(("line", "reason"), [
    ("r 1 100 10\nr.dat 310 200 12 0 0 0 0 I\n", "format 310"),
    ("r 1 100 10\nr.dat 16x4 200 12 0 0 0 0 I\n", "samples per frame"),
    ("r/2 1 100 10\nr_1 10\n", "multi-segment"),
    ("r 3 100 10\nr.dat 16 200 12 0 0 0 0 I\n", "names 3 signals"),
    ("r 1 100 10\nr.dat 16 abc 12 0 0 0 0 I\n", "unreadable gain"),
])
def test_unreadable_headers_are_named(tmp_path: Path, line: str, reason: str) -> None:
    (tmp_path / "r.hea").write_text(line)
    with pytest.raises(RecordError, match=reason):
        parse_header(tmp_path / "r.hea")


def test_a_file_cut_short_is_truncated_not_garbage(tmp_path: Path, ptbxl_mini: Path) -> None:
    for ext in (".hea", ".dat"):
        shutil.copy(ptbxl_mini / f"records100/00000/00001_lr{ext}", tmp_path / f"r{ext}")
    (tmp_path / "r.hea").write_text((tmp_path / "r.hea").read_text().replace("00001_lr", "r"))
    (tmp_path / "r.dat").write_bytes((tmp_path / "r.dat").read_bytes()[:1001])
    with pytest.raises(RecordError, match="truncated signal file r.dat: header says 1000 samples"):
        read_samples(tmp_path / "r", parse_header(tmp_path / "r.hea"))
