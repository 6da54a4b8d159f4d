"""DICOM, EDF+ and FHIR files read back by the libraries hospitals' software uses: same values, gaps kept."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgeecg.data.synth import SynthConfig, simulate
from edgeecg.interop import Provenance
from edgeecg.layouts import apply
from edgeecg.measure import measure
from edgeecg.record import LEADS, Record

PROVENANCE = Provenance(source="photo.jpg", method="digitized", paper_speed_mm_s=25.0, gain_mm_mv=10.0,
                        layout="3x4+II", lead_confidence={name: 0.9 for name in LEADS})


@pytest.fixture(scope="module")
def printed() -> Record:
    """A 500 Hz record as a 3x4+II print shows it: most of each lead is NaN."""
    rec = simulate(1, SynthConfig(fs=500.0), seed=5).records()[0]
    return Record(apply(rec.signal, "3x4+II", 500.0), 500.0, record_id="p")


def test_dicom_waveform_reads_back_in_pydicom(printed: Record, tmp_path: Path) -> None:
    pydicom = pytest.importorskip("pydicom")
    from edgeecg.interop.dicom import TWELVE_LEAD, write_dicom

    ds = pydicom.dcmread(write_dicom(printed, tmp_path / "p.dcm", PROVENANCE))
    assert ds.SOPClassUID == TWELVE_LEAD and ds.Modality == "ECG" and "photo.jpg" in ds.ImageComments
    group = ds.WaveformSequence[0]
    assert group.NumberOfWaveformChannels == 12 and group.SamplingFrequency == 500 and \
        group.WaveformOriginality == "DERIVED"
    leads = [ch.ChannelSourceSequence[0].CodeMeaning for ch in group.ChannelDefinitionSequence]
    assert leads == [f"Lead {name}" for name in LEADS]
    raw = np.frombuffer(group.WaveformData, "<i2").reshape(-1, 12).T
    padding = np.frombuffer(group.WaveformPaddingValue, "<i2")[0]
    shown = np.isfinite(printed.signal)
    assert np.array_equal(raw == padding, ~shown)                       # gaps are the padding value
    microvolts = ds.waveform_array(0).T                                  # pydicom applies the sensitivity
    np.testing.assert_allclose(microvolts[shown] / 1000.0, printed.signal[shown], atol=6e-4)


def test_a_100_hz_record_is_a_general_ecg_waveform(tmp_path: Path) -> None:
    pydicom = pytest.importorskip("pydicom")
    from edgeecg.interop.dicom import GENERAL_ECG, write_dicom

    rec = simulate(1, SynthConfig(fs=100.0), seed=1).records()[0]
    ds = pydicom.dcmread(write_dicom(rec, tmp_path / "r.dcm", Provenance(source="r.hea")))
    assert ds.SOPClassUID == GENERAL_ECG and ds.WaveformSequence[0].WaveformOriginality == "ORIGINAL"


def test_edf_plus_reads_back_in_pyedflib_with_the_shown_stretches(printed: Record, tmp_path: Path) -> None:
    pyedflib = pytest.importorskip("pyedflib")
    from edgeecg.interop.edf import write_edf

    path = write_edf(printed, tmp_path / "p.edf", PROVENANCE)
    with pyedflib.EdfReader(str(path)) as f:
        assert f.getSignalLabels() == [f"ECG {name}" for name in LEADS] and f.getSampleFrequency(0) == 500
        values = np.stack([f.readSignal(k) for k in range(12)])[:, :printed.n_samples] / 1000.0
        onsets, durations, texts = f.readAnnotations()
    shown = np.isfinite(printed.signal)
    np.testing.assert_allclose(values[shown], printed.signal[shown], atol=6e-4)
    assert np.all(values[~shown] == 0.0)
    spans = {t: (o, d) for o, d, t in zip(onsets, durations, texts, strict=True)}
    assert spans["I shown"] == pytest.approx((0.0, 2.5)) and spans["II shown"] == pytest.approx((0.0, 10.0))
    assert spans["V6 shown"] == pytest.approx((7.5, 2.5))


def test_fhir_observation_validates_in_fhir_resources_and_keeps_gaps(printed: Record, tmp_path: Path) -> None:
    r4b = pytest.importorskip("fhir.resources.R4B.observation")
    from edgeecg.interop.fhir import write_fhir

    m = measure(printed.signal, printed.fs).as_dict()
    path = write_fhir(printed, tmp_path / "p.fhir.json", PROVENANCE, m)
    obs = r4b.Observation.model_validate(json.loads(path.read_text()))
    assert obs.status == "preliminary" and obs.code.coding[0].code == "11524-6"
    leads = obs.component[:12]
    assert [c.code.coding[0].display for c in leads] == [f"MDC_ECG_ELEC_POTL_{n.upper()}" for n in LEADS]
    for k, comp in enumerate(leads):
        sd = comp.valueSampledData
        assert float(sd.period) == pytest.approx(2.0) and sd.origin.code == "uV"
        values = sd.data.split()
        shown = np.isfinite(printed.signal[k])
        assert [v == "E" for v in values] == list(~shown)
        back = np.array([float(v) for v, s in zip(values, shown, strict=True) if s]) / 1000.0
        np.testing.assert_allclose(back, printed.signal[k][shown], atol=6e-4)
    rate = next(c for c in obs.component if c.code.coding[0].code == "8867-4")
    assert float(rate.valueQuantity.value) == pytest.approx(m["heart_rate"]["value"])
