import numpy as np
import pytest

from edgeecg.data.ptbxl import SUBCLASSES, SUPERCLASSES, PtbxlIndex, load_ptbxl
from edgeecg.record import RecordError


def test_subclasses_are_the_23_of_ptbxl(ptbxl_mini):
    index = PtbxlIndex.load(ptbxl_mini)
    assert len(SUBCLASSES) == 23 and list(SUBCLASSES) == sorted(SUBCLASSES)
    assert {s.subclass for s in index.statements.values() if s.diagnostic} == set(SUBCLASSES)


def test_labels_folds_and_af(ptbxl_mini, tmp_path):
    data = load_ptbxl(ptbxl_mini, 100, "subclass", cache_dir=tmp_path, progress=False)
    ids = data.ecg_ids.tolist()
    assert ids == [1, 2, 3, 8, 9, 10, 17, 18]
    assert data.signals.shape == (8, 12, 1000)
    norm, imi = SUBCLASSES.index("NORM"), SUBCLASSES.index("IMI")
    assert data.labels[ids.index(1), norm] == 1 and data.labels[ids.index(8), imi] == 1
    assert data.labels[ids.index(17)].sum() == 0 and data.af[ids.index(17)] == 1
    assert data.ecg_ids[data.split("test")].tolist() == [9]
    assert set(data.ecg_ids[data.split("val")].tolist()) == {8, 10, 17, 18}
    assert set(data.ecg_ids[data.split("train")].tolist()) == {1, 2, 3}
    sup = load_ptbxl(ptbxl_mini, 100, "superclass", cache_dir=tmp_path, progress=False)
    assert sup.label_names == SUPERCLASSES and sup.labels[ids.index(8), SUPERCLASSES.index("MI")] == 1
    with pytest.raises(ValueError, match="unknown split"):
        data.split("holdout")


def test_cache_is_one_memmap_and_is_reused(ptbxl_mini, tmp_path, monkeypatch):
    first = load_ptbxl(ptbxl_mini, 100, cache_dir=tmp_path, progress=False)
    assert isinstance(first.signals, np.memmap)
    assert len(list(tmp_path.glob("*.npy"))) == 1

    def no_decoding(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr("edgeecg.data.ptbxl.read_wfdb", no_decoding)
    again = load_ptbxl(ptbxl_mini, 100, cache_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(np.asarray(first.signals), np.asarray(again.signals))


def test_cached_signal_equals_the_record(ptbxl_mini, tmp_path):
    data = load_ptbxl(ptbxl_mini, 100, cache_dir=tmp_path, progress=False)
    rec = PtbxlIndex.load(ptbxl_mini).read_record(0, 100)
    np.testing.assert_array_equal(data.signals[0], rec.signal)
    assert rec.labels == ("NORM",) and rec.meta["strat_fold"] == "3"


def test_partial_500hz_tree_skips_or_refuses(ptbxl_mini, tmp_path):
    data = load_ptbxl(ptbxl_mini, 500, cache_dir=tmp_path, progress=False)
    assert data.signals.shape == (1, 12, 5000) and data.ecg_ids.tolist() == [1]
    assert data.missing_ids == [2, 3, 8, 9, 10, 17, 18]
    with pytest.raises(RecordError, match="7 of 8 records missing at 500 Hz"):
        load_ptbxl(ptbxl_mini, 500, cache_dir=tmp_path, on_missing="error", progress=False)
    with pytest.raises(ValueError, match="not 250 Hz"):
        load_ptbxl(ptbxl_mini, 250, cache_dir=tmp_path)


def test_not_a_ptbxl_root(tmp_path):
    with pytest.raises(RecordError, match="is .* a PTB-XL root"):
        PtbxlIndex.load(tmp_path)


def test_malformed_scp_codes_are_named(ptbxl_mini, tmp_path):
    import shutil

    shutil.copytree(ptbxl_mini, tmp_path / "tree")
    db = tmp_path / "tree" / "ptbxl_database.csv"
    db.write_text(db.read_text().replace("{'NORM': 80.0, 'SBRAD': 0.0}", "__import__('os')"))
    with pytest.raises(RecordError, match="malformed row for ecg_id 2"):
        PtbxlIndex.load(tmp_path / "tree")


def test_shared_ptbxl_tree_opens_as_it_is(shared_data, tmp_path):
    data = load_ptbxl(shared_data / "ptbxl-500", 100, cache_dir=tmp_path, progress=False)
    assert data.signals.shape == (500, 12, 1000) and not data.missing_ids
    assert (len(data.split("train")), len(data.split("val")), len(data.split("test"))) == (353, 81, 66)
    assert data.labels[:, SUBCLASSES.index("NORM")].sum() == 297
    hr = load_ptbxl(shared_data / "ptbxl-500", 500, cache_dir=tmp_path, progress=False)
    assert hr.signals.shape == (20, 12, 5000) and len(hr.missing_ids) == 480
