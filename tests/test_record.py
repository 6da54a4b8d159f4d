import numpy as np
import pytest

from edgeecg.record import LEADS, Record, RecordError, lead_index


def test_lead_index_accepts_real_file_spellings():
    assert lead_index("AVR") == LEADS.index("aVR")
    assert lead_index(" v1 ") == LEADS.index("V1")
    with pytest.raises(RecordError, match="unknown lead name 'MLII'"):
        lead_index("MLII")


@pytest.mark.parametrize("shape", [(11, 100), (12,), (12, 0)])
def test_bad_shapes_are_refused_with_the_shape_named(shape):
    with pytest.raises(RecordError):
        Record(np.zeros(shape, dtype=np.float32), 100)


def test_all_nan_and_inf_are_refused():
    with pytest.raises(RecordError, match="every sample is NaN"):
        Record(np.full((12, 10), np.nan), 100)
    sig = np.zeros((12, 10))
    sig[0, 0] = np.inf
    with pytest.raises(RecordError, match="inf"):
        Record(sig, 100)
    with pytest.raises(RecordError, match="sampling rate"):
        Record(np.zeros((12, 10)), 0)


def test_fit_pads_the_tail_with_nan_and_keeps_true_times():
    sig = np.arange(12 * 500, dtype=np.float32).reshape(12, 500)
    rec = Record(sig, 100).fit(10.0)
    assert rec.n_samples == 1000
    np.testing.assert_array_equal(rec.signal[:, :500], sig)
    assert np.isnan(rec.signal[:, 500:]).all()
    assert Record(np.zeros((12, 1200)), 100).fit(10.0).n_samples == 1000


def test_missing_leads_lists_all_nan_leads():
    sig = np.zeros((12, 100), dtype=np.float32)
    sig[[2, 7]] = np.nan
    assert Record(sig, 100).missing_leads() == ["III", "V2"]
