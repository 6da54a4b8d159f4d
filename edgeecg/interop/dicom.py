"""DICOM 12-lead ECG Waveform (PS3.3 A.34.3) with pydicom: what a PACS or an ECG management system stores.

Samples are int16 in microvolts (ChannelSensitivity 1 uV); a sample the print did not show is the
WaveformPaddingValue. Records below 200 Hz (PTB-XL's 100 Hz files) do not meet the 12-lead IOD's sampling
range and are written as General ECG Waveform instead.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from edgeecg.extras import require
from edgeecg.interop import MDC_LEAD, Provenance
from edgeecg.record import LEADS, Record, RecordError

TWELVE_LEAD = "1.2.840.10008.5.1.4.1.1.9.1.1"
GENERAL_ECG = "1.2.840.10008.5.1.4.1.1.9.1.2"
PADDING = -32768


def _code(value: str, scheme: str, meaning: str):
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def write_dicom(record: Record, path: Path, provenance: Provenance) -> Path:
    """One waveform file; refuses values beyond int16 microvolts rather than clipping them."""
    require("hospital", "writing DICOM", ("pydicom",))
    from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    signal = record.signal
    shown = np.isfinite(signal)
    microvolts = np.round(np.where(shown, signal, 0.0) * 1000.0)
    if np.abs(microvolts).max(initial=0) > 32767:
        raise RecordError(f"{path}: a value beyond +-32.767 mV cannot be stored as int16 microvolts")
    data = np.where(shown, microvolts, PADDING).astype("<i2")
    sop_class = TWELVE_LEAD if 200 <= record.fs <= 1000 else GENERAL_ECG
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    now = dt.datetime.now()
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.Manufacturer, ds.SoftwareVersions = "ECG", "edgeecg", provenance.software
    ds.ContentDate, ds.ContentTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    for empty in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                  "ReferringPhysicianName", "StudyID", "AccessionNumber", "AcquisitionDateTime"):
        setattr(ds, empty, "")
    ds.SeriesNumber, ds.InstanceNumber = 1, 1
    ds.AcquisitionContextSequence = []
    ds.ImageComments = provenance.summary()[:10240]
    if record.sex in ("M", "F"):
        ds.PatientSex = record.sex
    group = Dataset()
    group.MultiplexGroupTimeOffset = 0.0
    group.WaveformOriginality = "DERIVED" if provenance.method == "digitized" else "ORIGINAL"
    group.NumberOfWaveformChannels, group.NumberOfWaveformSamples = len(LEADS), record.n_samples
    group.SamplingFrequency = record.fs
    group.MultiplexGroupLabel = "RHYTHM"
    channels = []
    for name in LEADS:
        ch = Dataset()
        ch.ChannelSourceSequence = [_code(f"2:{MDC_LEAD[name]}", "MDC", f"Lead {name}")]
        ch.ChannelSensitivity, ch.ChannelSensitivityCorrectionFactor = 1.0, 1.0
        ch.ChannelSensitivityUnitsSequence = [_code("uV", "UCUM", "microvolt")]
        ch.ChannelBaseline, ch.ChannelSampleSkew, ch.WaveformBitsStored = 0.0, 0.0, 16
        channels.append(ch)
    group.ChannelDefinitionSequence = channels
    group.WaveformBitsAllocated, group.WaveformSampleInterpretation = 16, "SS"
    group.WaveformPaddingValue = np.int16(PADDING).tobytes()
    group.WaveformData = np.ascontiguousarray(data.T).tobytes()      # interleaved: sample by sample
    ds.WaveformSequence = [group]
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(str(path), enforce_file_format=True)
    return path
