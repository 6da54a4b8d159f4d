"""Signal CSV: round trip with a WFDB record, NaN where not shown, clear refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeecg.data.csv_io import read_csv, write_csv
from edgeecg.data.wfdb_io import read_wfdb
from edgeecg.layouts import apply
from edgeecg.record import Record, RecordError


def test_round_trip_keeps_values_rate_and_gaps(cinc_dir: Path, tmp_path: Path) -> None:
    rec = read_wfdb(cinc_dir / "E07500.hea")
    shown = Record(apply(rec.signal, "3x4", rec.fs), rec.fs, record_id="x")
    back = read_csv(write_csv(shown, tmp_path / "x.csv"))
    assert back.fs == rec.fs and back.signal.shape == shown.signal.shape
    np.testing.assert_array_equal(np.isnan(back.signal), np.isnan(shown.signal))
    np.testing.assert_allclose(back.signal, shown.signal, atol=1e-5, equal_nan=True)


def test_columns_in_any_order_and_missing_leads(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("V1,II\n0.1,1.0\n0.2,\n0.3,1.2\n")
    rec = read_csv(path, fs=250)
    assert rec.fs == 250 and rec.n_samples == 3
    np.testing.assert_allclose(rec.signal[6], [0.1, 0.2, 0.3])
    assert np.isnan(rec.signal[1, 1]) and np.isnan(rec.signal[0]).all()


@pytest.mark.parametrize("body, message", [
    ("II,V1\n1,2\n", "at least two rows"),
    ("II,V9\n1,2\n1,2\n", "unknown lead name 'V9'"),
    ("time,II\n0.0,1\n0.0,2\n", "must increase"),
    ("II,V1\n1,x\n1,2\n", "not a number"),
    ("II,V1\n1,2\n1,2\n", "give the sampling rate"),
])
def test_refusals(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(RecordError, match=message):
        read_csv(path)
