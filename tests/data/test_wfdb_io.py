import shutil

import numpy as np
import pytest
import wfdb

from edgeecg.data.snomed import map_codes
from edgeecg.data.wfdb_io import find_records, read_wfdb
from edgeecg.record import LEADS, RecordError


def test_challenge_record_reads_labels_age_sex(cinc_dir):
    rec = read_wfdb(cinc_dir / "HR06000.hea")
    assert rec.signal.shape == (12, 5000) and rec.fs == 500.0 and rec.signal.dtype == np.float32
    assert rec.age == 59 and rec.sex == "F"
    assert rec.codes == ("164934002", "426783006")
    assert rec.labels == ("TAB_", "SR")
    # physical values in mV: the raw int16 of lead I divided by the 1000/mV gain
    raw = wfdb.rdrecord(str(cinc_dir / "HR06000"), physical=False).d_signal[:, 0]
    np.testing.assert_allclose(rec.signal[0], raw / 1000.0, atol=1e-6)


def test_ptbxl_record_with_uppercase_avr_is_reordered(ptbxl_mini):
    rec = read_wfdb(ptbxl_mini / "records100/00000/00001_lr")
    assert rec.signal.shape == (12, 1000) and rec.fs == 100.0
    ref = wfdb.rdrecord(str(ptbxl_mini / "records100/00000/00001_lr"))
    assert ref.sig_name[3] == "AVR"
    np.testing.assert_allclose(rec.signal[LEADS.index("aVR")], ref.p_signal[:, 3], atol=1e-6)


def test_leads_are_reordered_by_name_and_units_converted(tmp_path):
    rng = np.random.default_rng(0)
    sig = rng.normal(size=(1000, 12)) * 0.5
    order = list(reversed(LEADS))
    wfdb.wrsamp("rev", fs=250, units=["uV"] * 12, sig_name=order, p_signal=sig * 1000, fmt=["32"] * 12,
                write_dir=str(tmp_path), comments=["Age: 40", "Sex: Male", "Dx: 164889003,999999"])
    rec = read_wfdb(tmp_path / "rev")
    for j, name in enumerate(order):
        np.testing.assert_allclose(rec.signal[LEADS.index(name)], sig[:, j], atol=1e-4)
    assert rec.fs == 250 and rec.sex == "M" and rec.age == 40
    assert rec.labels == ("AFIB",) and rec.codes == ("164889003", "999999")
    assert rec.meta["unmapped_codes"] == "999999"


def test_unmapped_codes_are_kept_not_dropped():
    labels, unmapped = map_codes(["426783006", "123", "59118001", "713427006", "123"])
    assert labels == ("SR", "CRBBB") and unmapped == ("123",)


def test_required_mappings_exist():
    labels, _ = map_codes(["164889003", "164909002", "59118001", "270492004", "164873001", "426783006",
                           "164934002", "429622005"])
    assert {"AFIB", "CLBBB", "CRBBB", "1AVB", "LVH", "SR", "TAB_", "STD_"} <= set(labels)


def test_missing_header_and_signal_file(tmp_path, cinc_dir):
    with pytest.raises(RecordError, match="header file not found"):
        read_wfdb(tmp_path / "nothing.hea")
    shutil.copy(cinc_dir / "E07500.hea", tmp_path)
    with pytest.raises(RecordError, match="signal file missing"):
        read_wfdb(tmp_path / "E07500")


def test_truncated_signal_file_is_a_clear_error(tmp_path, ptbxl_mini):
    for ext in (".hea", ".dat"):
        shutil.copy(ptbxl_mini / f"records100/00000/00001_lr{ext}", tmp_path / f"00001_lr{ext}")
    data = (tmp_path / "00001_lr.dat").read_bytes()
    (tmp_path / "00001_lr.dat").write_bytes(data[: len(data) // 3])
    with pytest.raises(RecordError, match="00001_lr"):
        read_wfdb(tmp_path / "00001_lr")


def test_wrong_lead_names_are_named(tmp_path):
    names = list(LEADS)
    names[0], names[1] = "MLII", "lead-x"
    wfdb.wrsamp("odd", fs=100, units=["mV"] * 12, sig_name=names, p_signal=np.zeros((1000, 12)),
                fmt=["16"] * 12, write_dir=str(tmp_path))
    with pytest.raises(RecordError, match=r"missing leads I, II; unrecognised channel names: MLII, lead-x"):
        read_wfdb(tmp_path / "odd")
    rec = read_wfdb(tmp_path / "odd", missing_leads="nan")
    assert rec.missing_leads() == ["I", "II"] and rec.meta["ignored_channels"] == "MLII,lead-x"


def _write_digital(folder, name, digital: np.ndarray, fs: float = 100) -> None:
    """A format-16 record; -32768 is WFDB's 'no sample' value, read back as NaN."""
    wfdb.wrsamp(name, fs=fs, units=["mV"] * 12, sig_name=list(LEADS), d_signal=digital, fmt=["16"] * 12,
                adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(folder))


def test_nan_only_lead_and_short_record_are_documented_handling(tmp_path):
    digital = np.random.default_rng(1).integers(-300, 300, size=(600, 12)).astype(np.int16)
    digital[:, 4] = -32768
    _write_digital(tmp_path, "short", digital)
    rec = read_wfdb(tmp_path / "short")
    assert rec.missing_leads() == ["aVL"] and rec.n_samples == 600
    np.testing.assert_allclose(rec.signal[0], digital[:, 0] / 1000.0, atol=1e-6)
    padded = rec.fit(10.0)
    assert padded.n_samples == 1000 and np.isnan(padded.signal[:, 600:]).all()


def test_all_nan_record_is_refused(tmp_path):
    _write_digital(tmp_path, "empty", np.full((100, 12), -32768, dtype=np.int16))
    with pytest.raises(RecordError, match="every sample is NaN"):
        read_wfdb(tmp_path / "empty")


def test_find_records_and_whole_folder(cinc_dir):
    stems = find_records(cinc_dir)
    assert [s.name for s in stems] == ["E07500", "HR06000", "JS20019"]
    with pytest.raises(RecordError, match="not a folder"):
        find_records(cinc_dir / "nope")


def test_all_shared_challenge_records_open(shared_data):
    stems = find_records(shared_data / "cinc2021-sample")
    assert len(stems) == 50
    recs = [read_wfdb(s) for s in stems]
    assert all(r.signal.shape == (12, 5000) and np.isfinite(r.signal).all() for r in recs)
    assert sum(bool(r.labels) for r in recs) == 50
