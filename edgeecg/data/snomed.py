"""SNOMED-CT codes of the PhysioNet/CinC Challenges mapped to PTB-XL statement names.

Both sources then speak one label vocabulary. Codes without a mapping are kept on the record
(`Record.codes`) and reported, never dropped silently. Where the Challenge scores two codes as one class
(RBBB and complete RBBB, PAC and SVPB, PVC and VPB) they map to the same name here too.
"""

from __future__ import annotations

SNOMED_TO_LABEL: dict[str, str] = {
    "164889003": "AFIB",    # atrial fibrillation
    "164890007": "AFLT",    # atrial flutter
    "164909002": "CLBBB",   # left bundle branch block
    "733534002": "CLBBB",   # complete left bundle branch block
    "59118001": "CRBBB",    # right bundle branch block
    "713427006": "CRBBB",   # complete right bundle branch block
    "713426002": "IRBBB",   # incomplete right bundle branch block
    "270492004": "1AVB",    # 1st degree AV block
    "164947007": "LPR",     # prolonged PR interval
    "164873001": "LVH",     # left ventricular hypertrophy
    "55827005": "LVH",      # left ventricular hypertrophy
    "89792004": "RVH",      # right ventricular hypertrophy
    "426783006": "SR",      # sinus rhythm
    "427084000": "STACH",   # sinus tachycardia
    "426177001": "SBRAD",   # sinus bradycardia
    "427393009": "SARRH",   # sinus arrhythmia
    "284470004": "PAC",     # premature atrial contraction
    "63593006": "PAC",      # supraventricular premature beats
    "427172004": "PVC",     # premature ventricular contractions
    "17338001": "PVC",      # ventricular premature beats
    "164934002": "TAB_",    # T-wave abnormal
    "59931005": "INVT",     # T-wave inversion
    "429622005": "STD_",    # ST depression
    "164930006": "STE_",    # ST elevation
    "55930002": "NST_",     # ST changes (non-specific)
    "698252002": "IVCD",    # nonspecific intraventricular conduction disorder
    "445118002": "LAFB",    # left anterior fascicular block
    "445211001": "LPFB",    # left posterior fascicular block
    "74390002": "WPW",      # Wolff-Parkinson-White pattern
    "10370003": "PACE",     # pacing rhythm
    "251146004": "LVOLT",   # low QRS voltages
    "164917005": "QWAVE",   # Q wave abnormal
    "111975006": "LNGQT",   # prolonged QT interval
    "164865005": "MI",      # myocardial infarction
    "164861001": "ISC_",    # myocardial ischemia
    "67741000119109": "LAO/LAE",  # left atrial enlargement
}


def map_codes(codes: list[str] | tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(labels, unmapped codes), each in first-seen order without repeats."""
    labels: list[str] = []
    unmapped: list[str] = []
    for code in codes:
        label = SNOMED_TO_LABEL.get(code)
        if label is None:
            if code not in unmapped:
                unmapped.append(code)
        elif label not in labels:
            labels.append(label)
    return tuple(labels), tuple(unmapped)
