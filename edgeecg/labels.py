"""What each label name means, in words a reader of a prediction file can check against PTB-XL's statements.

The names are PTB-XL's diagnostic subclasses and superclasses, its rhythm statements and the simulator's
labels (which reuse PTB-XL names); a model file carries only the names, so outputs look the meaning up here.
"""

from __future__ import annotations

DESCRIPTIONS: dict[str, str] = {
    # diagnostic superclasses
    "NORM": "normal ECG",
    "MI": "myocardial infarction",
    "STTC": "ST/T change",
    "CD": "conduction disturbance",
    "HYP": "hypertrophy",
    # diagnostic subclasses
    "AMI": "anterior myocardial infarction",
    "IMI": "inferior myocardial infarction",
    "LMI": "lateral myocardial infarction",
    "PMI": "posterior myocardial infarction",
    "CLBBB": "complete left bundle branch block",
    "ILBBB": "incomplete left bundle branch block",
    "CRBBB": "complete right bundle branch block",
    "IRBBB": "incomplete right bundle branch block",
    "IVCD": "non-specific intraventricular conduction disturbance",
    "LAFB/LPFB": "left anterior or left posterior fascicular block",
    "WPW": "Wolff-Parkinson-White syndrome (pre-excitation)",
    "_AVB": "atrioventricular block",
    "ISCA": "ischemia in anterior leads",
    "ISCI": "ischemia in inferior leads",
    "ISC_": "non-specific ischemic ST/T change",
    "NST_": "non-specific ST change",
    "LAO/LAE": "left atrial overload or enlargement",
    "RAO/RAE": "right atrial overload or enlargement",
    "LVH": "left ventricular hypertrophy",
    "RVH": "right ventricular hypertrophy",
    "SEHYP": "septal hypertrophy",
    # rhythm and form statements
    "AFIB": "atrial fibrillation",
    "AFLT": "atrial flutter",
    "SR": "sinus rhythm",
    "SBRAD": "sinus bradycardia",
    "STACH": "sinus tachycardia",
    "SARRH": "sinus arrhythmia",
    "PVC": "premature ventricular complex(es)",
    "PAC": "premature atrial complex(es)",
    "1AVB": "first degree AV block",
    "TAB_": "T-wave abnormality",
    "STD_": "ST depression",
    "STE_": "ST elevation",
    "INVT": "inverted T waves",
}


def describe(label: str) -> str:
    """The label's meaning, or the name itself where it is not a known statement (a model of one's own)."""
    return DESCRIPTIONS.get(label, label)
