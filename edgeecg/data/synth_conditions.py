"""Conditions of the simulator: which labels a record gets, and what each does to the heart's dipole.

Each condition is a physiological change to a record's parameters (intervals, rhythm, wave vectors in
Frank XYZ: x to the patient's left, y to the feet, z to the back), applied with a per-record severity in
[0.25, 1] so that mild cases sit close to normal. Parameters also vary widely within every class; the task
is meant to be hard, not separable by one feature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SYNTH_LABELS: tuple[str, ...] = (
    "NORM", "AFIB", "_AVB", "CLBBB", "CRBBB", "LAFB/LPFB", "LVH", "RVH", "IMI", "AMI", "LMI", "ISC_",
    "STTC", "WPW", "PVC", "SBRAD", "STACH",
)
L = {name: i for i, name in enumerate(SYNTH_LABELS)}

# Primary finding of a record and its prior; NORM is a finding like the others.
PRIMARY: dict[str, float] = {
    "NORM": 0.30, "AFIB": 0.07, "_AVB": 0.06, "CLBBB": 0.05, "CRBBB": 0.06, "LAFB/LPFB": 0.06, "LVH": 0.08,
    "RVH": 0.04, "IMI": 0.07, "AMI": 0.06, "LMI": 0.04, "ISC_": 0.05, "STTC": 0.04, "WPW": 0.02,
}
# Second findings that occur together clinically (strain with LVH, bifascicular block, inferolateral MI...).
COMBOS: dict[str, tuple[str, ...]] = {
    "AFIB": ("LVH", "STTC", "CRBBB", "IMI", "ISC_"),
    "_AVB": ("IMI", "LVH", "CRBBB", "LAFB/LPFB", "CLBBB"),
    "CLBBB": ("_AVB", "AFIB"),
    "CRBBB": ("LAFB/LPFB", "_AVB", "AMI", "AFIB"),
    "LAFB/LPFB": ("CRBBB", "_AVB", "LVH"),
    "LVH": ("ISC_", "STTC", "_AVB", "AFIB", "LAFB/LPFB"),
    "RVH": ("CRBBB", "STTC"),
    "IMI": ("LMI", "_AVB", "ISC_", "AMI"),
    "AMI": ("ISC_", "CRBBB", "IMI"),
    "LMI": ("IMI", "ISC_"),
    "ISC_": ("LVH", "IMI", "AMI"),
    "STTC": ("LVH", "AFIB"),
    "WPW": (),
}


@dataclass(frozen=True)
class Prescribed:
    """Interval ranges a condition prescribes (s, bpm); the physiology tests hold the generator to them."""

    hr: tuple[float, float] = (50.0, 100.0)
    pr: tuple[float, float] = (0.12, 0.20)
    qrs: tuple[float, float] = (0.07, 0.12)


PRESCRIBED: dict[str, Prescribed] = {
    "NORM": Prescribed(),
    "SBRAD": Prescribed(hr=(38.0, 60.0)),
    "STACH": Prescribed(hr=(100.0, 155.0)),
    "AFIB": Prescribed(hr=(50.0, 170.0)),
    "_AVB": Prescribed(pr=(0.20, 0.35)),
    "WPW": Prescribed(pr=(0.07, 0.12), qrs=(0.11, 0.145)),
    "CLBBB": Prescribed(qrs=(0.12, 0.175)),
    "CRBBB": Prescribed(qrs=(0.12, 0.165)),
}


def sample_labels(rng: np.random.Generator, n: int, p_secondary: float, p_pvc: float,
                  p_rate: float) -> np.ndarray:
    """bool [n, len(SYNTH_LABELS)]: a primary finding, maybe a clinical companion, and modifiers."""
    names = list(PRIMARY)
    probs = np.array([PRIMARY[k] for k in names])
    primary = rng.choice(len(names), size=n, p=probs / probs.sum())
    labels = np.zeros((n, len(SYNTH_LABELS)), dtype=bool)
    labels[np.arange(n), [L[names[i]] for i in primary]] = True
    second = rng.random(n) < p_secondary
    for i in np.flatnonzero(second):
        options = COMBOS.get(names[primary[i]], ())
        if options:
            labels[i, L[options[rng.integers(len(options))]]] = True
    labels[:, L["PVC"]] = rng.random(n) < p_pvc
    rate = rng.random(n)
    sinus = ~labels[:, L["AFIB"]]
    labels[:, L["SBRAD"]] = sinus & (rate < p_rate / 2)
    labels[:, L["STACH"]] = sinus & (rate >= p_rate / 2) & (rate < p_rate)
    return labels


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _frontal(theta_deg: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Unit vectors at frontal-plane angle theta (0 = lead I, +90 = aVF) with posterior component z."""
    t = np.deg2rad(theta_deg)
    return _unit(np.stack([np.cos(t), np.sin(t), z], axis=-1))


@dataclass
class Params:
    """Per-record parameters, arrays of length n (vectors n x 3), that conditions modify."""

    hr: np.ndarray
    pr: np.ndarray
    p_dur: np.ndarray
    qrs: np.ndarray
    qtc: np.ndarray
    t_dur: np.ndarray
    # wave vectors (mV-scale dipole): P, Q, R, S, R' (late R / notch), delta, ST, T
    vec: dict[str, np.ndarray]
    # where Q, R, S, R' sit in the QRS, as fractions of its duration; Q width factor (pathological Q)
    frac: dict[str, np.ndarray]
    q_wide: np.ndarray
    rr_cv: np.ndarray        # AF: coefficient of variation of RR; 0 for sinus rhythm
    f_amp: np.ndarray        # AF fibrillatory wave amplitude (mV)


WAVES: tuple[str, ...] = ("P", "Q", "R", "S", "R2", "D", "ST", "T")


def normal_params(rng: np.random.Generator, n: int) -> Params:
    """A healthy heart with wide but physiological variation."""
    u = rng.uniform
    axis = np.clip(rng.normal(50, 25, n), -30, 100)
    r_dir = _frontal(axis, u(-0.2, 0.75, n))   # up to poor R-wave progression, a normal variant
    t_dir = _frontal(axis + u(-35, 35, n), u(-0.6, 0.05, n))
    vec = {
        "P": _frontal(u(30, 75, n), u(-0.2, 0.3, n)) * u(0.05, 0.2, n)[:, None],
        "Q": _unit(np.stack([u(-0.7, 0.1, n), u(-0.7, 0.3, n), u(-0.9, 0.2, n)], -1)) * u(0.05, 0.3, n)[:, None],
        "R": r_dir * u(0.8, 2.0, n)[:, None],
        "S": _unit(np.stack([u(-0.6, -0.2, n), u(-0.7, -0.2, n), u(0.5, 0.9, n)], -1)) * u(0.15, 0.6, n)[:, None],
        "R2": np.zeros((n, 3)),
        "D": np.zeros((n, 3)),
        "ST": _unit(rng.normal(size=(n, 3))) * u(0.0, 0.04, n)[:, None],
        "T": t_dir * u(0.18, 0.5, n)[:, None],
    }
    frac = {"Q": np.full(n, 0.15), "R": np.full(n, 0.45), "S": np.full(n, 0.78), "R2": np.full(n, 0.85)}
    return Params(hr=u(53, 97, n), pr=u(0.122, 0.199, n), p_dur=u(0.08, 0.11, n), qrs=u(0.072, 0.112, n),
                  qtc=u(0.37, 0.45, n), t_dur=u(0.14, 0.22, n), vec=vec, frac=frac, q_wide=np.ones(n),
                  rr_cv=np.zeros(n), f_amp=np.zeros(n))


def apply_conditions(rng: np.random.Generator, p: Params, labels: np.ndarray) -> np.ndarray:
    """Changes `p` in place so each labelled finding shows where it belongs physiologically.

    Returns float [n, len(SYNTH_LABELS)]: the severity drawn for graded findings, NaN elsewhere.
    """
    u = rng.uniform
    severity = np.full(labels.shape, np.nan)

    def has(name: str) -> np.ndarray:
        return labels[:, L[name]]

    def sev(m: np.ndarray, name: str) -> np.ndarray:
        """Severity in [0.05, 1], skewed to mild: many cases sit close to normal, as in real wards."""
        s = 0.05 + 0.95 * u(0, 1, int(m.sum())) ** 1.3
        severity[m, L[name]] = s
        return s[:, None]

    def borderline(m: np.ndarray, threshold: float, span: float) -> np.ndarray:
        """Interval values past a diagnostic threshold, densest just past it (borderline cases)."""
        return threshold + span * u(0, 1, int(m.sum())) ** 1.6

    v, f = p.vec, p.frac
    if (m := has("SBRAD")).any():
        p.hr[m] = 58.0 - 18.0 * u(0, 1, m.sum()) ** 1.6
    if (m := has("STACH")).any():
        p.hr[m] = 102.0 + 48.0 * u(0, 1, m.sum()) ** 1.6
    if (m := has("_AVB")).any():
        p.pr[m] = borderline(m, 0.202, 0.13)
    if (m := has("LVH")).any():
        s = sev(m, "LVH")
        gain = 1 + u(0.5, 1.3, m.sum())[:, None] * s
        v["R"][m] *= gain
        v["S"][m] *= gain * u(1.0, 1.5, m.sum())[:, None]
        p.qrs[m] = np.clip(p.qrs[m] + 0.012 * s[:, 0], 0.07, 0.115)
        strain = m.copy()
        strain[m] = u(0, 1, m.sum()) < 0.2 + 0.6 * s[:, 0]
        v["T"][strain] = -0.6 * v["T"][strain]
        v["ST"][strain] = -u(0.03, 0.12, strain.sum())[:, None] * _unit(v["R"][strain])
    if (m := has("RVH")).any():
        s = sev(m, "RVH")
        target = _unit(np.stack([u(-0.5, -0.1, m.sum()), u(0.6, 1.0, m.sum()), u(-1.0, -0.5, m.sum())], -1))
        v["R"][m] = _unit((1 - s) * _unit(v["R"][m]) + s * target) * u(0.9, 1.8, m.sum())[:, None]
        deep_s = _unit(np.stack([u(-1, -0.6, m.sum()), u(-0.2, 0.2, m.sum()), u(0, 0.4, m.sum())], -1)) \
            * u(0.3, 0.8, m.sum())[:, None]
        v["S"][m] = (1 - s) * v["S"][m] + s * deep_s
        v["T"][m, 2] = np.abs(v["T"][m, 2]) * s[:, 0] + v["T"][m, 2] * (1 - s[:, 0])
    if (m := has("LAFB/LPFB")).any():
        s = sev(m, "LAFB/LPFB")[:, 0]
        anterior = u(0, 1, m.sum()) < 0.75
        target = np.where(anterior, u(-80, -45, m.sum()), u(100, 135, m.sum()))
        base = np.rad2deg(np.arctan2(v["R"][m, 1], v["R"][m, 0]))
        angle = base + s * (target - base)
        mag = np.linalg.norm(v["R"][m], axis=1, keepdims=True)
        v["R"][m] = _frontal(angle, v["R"][m, 2] / np.maximum(mag[:, 0], 1e-9)) * mag
        v["S"][m, 1] = np.where(anterior, np.abs(v["S"][m, 1]), -np.abs(v["S"][m, 1]))
    for name, target_z in (("CLBBB", (0.5, 1.0)), ("CRBBB", None)):
        if not (m := has(name)).any():
            continue
        k = m.sum()
        p.qrs[m] = borderline(m, 0.121, 0.044)
        if name == "CLBBB":
            mag = u(1.2, 2.4, k)[:, None]
            v["R"][m] = _frontal(u(-30, 45, k), u(*target_z, k)) * mag
            v["Q"][m] = 0.0
            v["R2"][m] = v["R"][m] * u(0.3, 0.6, k)[:, None]
            v["S"][m] *= 0.3
            f["R"][m], f["R2"][m] = 0.3, 0.72
            v["T"][m] = -_unit(v["R"][m]) * u(0.25, 0.6, k)[:, None]
            v["ST"][m] = -_unit(v["R"][m]) * u(0.05, 0.15, k)[:, None]
        else:
            s = sev(m, "CRBBB")
            v["R2"][m] = _unit(np.stack([u(-0.9, -0.4, k), u(-0.3, 0.2, k), u(-1.0, -0.6, k)], -1)) \
                * (u(0.4, 0.9, k)[:, None] * (0.5 + 0.5 * s))
            f["Q"][m], f["R"][m], f["S"][m], f["R2"][m] = 0.15, 0.32, 0.52, 0.8
            v["T"][m, 2] = (1 - s[:, 0]) * v["T"][m, 2] + s[:, 0] * (np.abs(v["T"][m, 2]) + 0.1)
    if (m := has("IMI")).any():
        k, s = m.sum(), sev(m, "IMI")
        v["Q"][m] = np.stack([u(-0.1, 0.1, k), -np.ones(k), u(-0.2, 0.2, k)], -1) * (u(0.2, 0.5, k)[:, None] * s)
        v["R"][m, 1] *= 1 - 0.6 * s[:, 0]
        p.q_wide[m] = 1.3 + 0.6 * s[:, 0]
        acute = u(0, 1, k) < 0.35
        st = np.where(acute, u(0.05, 0.25, k), 0.0) * s[:, 0]
        v["ST"][m, 1] += st
        v["T"][m, 1] = np.where(acute, v["T"][m, 1], -np.abs(v["T"][m, 1]) * s[:, 0])
    if (m := has("AMI")).any():
        k, s = m.sum(), sev(m, "AMI")
        v["Q"][m] = np.stack([u(-0.2, 0.2, k), u(-0.1, 0.1, k), np.ones(k)], -1) * (u(0.3, 0.7, k)[:, None] * s)
        v["R"][m, 2] += 0.5 * s[:, 0] * np.linalg.norm(v["R"][m], axis=1)
        p.q_wide[m] = 1.3 + 0.6 * s[:, 0]
        acute = u(0, 1, k) < 0.4
        v["ST"][m, 2] -= np.where(acute, u(0.05, 0.3, k), 0.0) * s[:, 0]
        inverted = (1 - s[:, 0]) * v["T"][m, 2] + s[:, 0] * (np.abs(v["T"][m, 2]) + 0.25)
        v["T"][m, 2] = np.where(acute, v["T"][m, 2], inverted)
    if (m := has("LMI")).any():
        k, s = m.sum(), sev(m, "LMI")
        v["Q"][m] = np.stack([-np.ones(k), u(-0.3, 0.1, k), u(-0.2, 0.2, k)], -1) * (u(0.2, 0.45, k)[:, None] * s)
        v["R"][m, 0] *= 1 - 0.5 * s[:, 0]
        p.q_wide[m] = 1.3 + 0.5 * s[:, 0]
        acute = u(0, 1, k) < 0.3
        v["ST"][m, 0] += np.where(acute, u(0.05, 0.2, k), 0.0) * s[:, 0]
        v["T"][m, 0] = np.where(acute, v["T"][m, 0], -np.abs(v["T"][m, 0]) * s[:, 0])
    if (m := has("ISC_")).any():
        k, s = m.sum(), sev(m, "ISC_")
        lateral_inferior = _unit(np.stack([u(0.4, 1, k), u(0.2, 0.8, k), u(-0.6, 0, k)], -1))
        v["ST"][m] -= lateral_inferior * (u(0.04, 0.2, k)[:, None] * s)
        v["T"][m] *= 1 - s * u(0.8, 1.6, k)[:, None]
    if (m := has("STTC")).any():
        k, s = m.sum(), sev(m, "STTC")
        v["T"][m] *= 1 - s * u(0.5, 1.2, k)[:, None]
        v["ST"][m] += _unit(rng.normal(size=(k, 3))) * u(0.02, 0.07, k)[:, None]
    if (m := has("WPW")).any():
        k = m.sum()
        p.pr[m] = u(0.08, 0.119, k)
        p.qrs[m] = u(0.115, 0.14, k)
        rot = _frontal(np.rad2deg(np.arctan2(v["R"][m, 1], v["R"][m, 0])) + u(-70, 70, k), u(-0.8, 0.8, k))
        v["D"][m] = rot * u(0.1, 0.6, k)[:, None]
        v["Q"][m] = 0.0
        f["R"][m] = 0.55
        v["T"][m] -= 0.3 * v["D"][m]
    if (m := has("AFIB")).any():
        k = m.sum()
        v["P"][m] = 0.0
        p.hr[m] = u(62, 150, k)
        p.rr_cv[m] = u(0.2, 0.35, k)
        p.f_amp[m] = u(0.015, 0.12, k)
    return severity


# Graded findings whose mild forms readers often leave unreported; interval-defined ones are never missed.
MAY_GO_UNREPORTED: tuple[str, ...] = ("LVH", "RVH", "LAFB/LPFB", "IMI", "AMI", "LMI", "ISC_", "STTC")


def report(rng: np.random.Generator, labels: np.ndarray, severity: np.ndarray, mild_unreported: float
           ) -> np.ndarray:
    """Labels as a reader would write them: a graded finding milder than a per-record cut in
    [0, mild_unreported) is present in the signal but not reported; a record left with no finding is NORM.

    This is the overlap real data has: the mildest reported case looks like the worst unreported one.
    """
    out = labels.copy()
    cut = rng.uniform(0, mild_unreported, (labels.shape[0], 1))
    graded = [L[name] for name in MAY_GO_UNREPORTED]
    missed = np.zeros_like(out)
    missed[:, graded] = np.nan_to_num(severity[:, graded], nan=1.0) < cut
    out &= ~missed
    diagnostic = [i for name, i in L.items() if name not in ("PVC", "SBRAD", "STACH")]
    out[:, L["NORM"]] |= ~out[:, diagnostic].any(1)
    return out
