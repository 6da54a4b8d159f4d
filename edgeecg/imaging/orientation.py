"""Which way up a page was read, from the signals it gave: a mirrored page (a front-camera photo) runs time
backwards, a page flipped top to bottom prints every trace upside down, one turned by 180 degrees does both.

The page's own furniture cannot tell these apart (a calibration pulse is symmetric, and edgeecg reads pages that
print it after the traces), but the heart can, on every page:
- **direction**: a beat's repolarisation (the T wave, 150-400 ms after the QRS) carries more area than the
  atrial wave before it (the P wave, small, or none in AF), so time reversal swaps the two sides of the beat;
- **polarity**: most leads of a 12-lead ECG point their QRS up (I, II, aVF, V4-V6 and the rhythm strip; aVR and
  V1 point down), so a page printed upside down points most of them down.
Both are measured on the median beat of each lead the page shows, weighted by its QRS size, and they are
independent: direction survives a flip, polarity survives a mirror. Where a finding is weak it says so, and the
digitizer refuses rather than guesses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

import numpy as np

from edgeecg.measure import FS, MeasureConfig, _resample, _runs, detect_beats, detection_curve
from edgeecg.record import LEADS

T = TypeVar("T")

HALF_S = 0.4           # the beat window, symmetric so that a reversed page is measured the same way
QRS_S = 0.05
WAVE_S = (0.12, 0.4)   # where the T wave lies after the QRS (and the P wave before it)
WAVE_RR = 0.55
"""The windows end at this share of the RR interval where it is short: at 120 bpm a 400 ms window before the QRS
holds the previous beat's T wave and both sides look alike (the share chosen between three window rules on
PTB-XL, Challenge and simulator records, seed 1 of each)."""
POLARITY_PRIOR = (0.6, 0.5, 0.0, -0.6, 0.3, 0.3, -0.7, -0.5, -0.1, 0.3, 0.6, 0.7)
"""Mean QRS polarity of each lead (LEADS order) on real PTB-XL records ecg_id 1-250, rounded; the other 250,
the Challenge records and the simulator are held out."""
LIMB_RELATIONS = ((("II",), ("I", "III"), (1.0, 1.0)), (("aVR",), ("I", "II"), (-0.5, -0.5)),
                  (("aVL",), ("I", "III"), (0.5, -0.5)), (("aVF",), ("II", "III"), (0.5, 0.5)),
                  (("aVF", "aVR"), ("II",), (1.5,)), (("aVL", "aVR"), ("I",), (1.5,)),
                  (("aVF", "aVL"), ("III",), (1.5,)))
"""Einthoven's and Goldberger's laws, (left side, summed with signs +, -), (leads on the right, weights): a page
read with its rows in the wrong order breaks those its layout prints at the same time."""
MIN_SHARED_S = 1.0


@dataclass(frozen=True)
class Evidence:
    """`direction` > 0: time runs forwards (log of T-side over P-side area, weighted over leads); `polarity` > 0:
    the leads point their QRS as they usually do (POLARITY_PRIOR agreement in [-1, 1]); `limb_laws`: mean
    correlation of the limb-lead laws the page allows checking (None: it shows none at the same time);
    `beats`: median beats they rest on; `pulse_up`: from the page, not the signals (None: not asked); `rare_layout`:
    the reading took the page for another vendor's print (layouts.VENDOR)."""

    direction: float
    polarity: float
    limb_laws: float | None
    beats: int
    pulse_up: bool | None = None   # the reading found a calibration pulse (it only rises on a page right side up)
    rare_layout: bool = False
    labels_read: float = 0.0       # share of its cells whose printed label reads as it says, less those read otherwise


@dataclass(frozen=True)
class ReadSummary:
    """What `upright` weighs of one reading of the page: its signals and what the page itself showed."""

    signal: np.ndarray
    fs: float
    pulse_up: bool
    rare_layout: bool
    labels_read: float = 0.0


def _lead_beats(x: np.ndarray, beats: np.ndarray, half: int) -> np.ndarray | None:
    windows = [x[b - half:b + half + 1] for b in beats if b - half >= 0 and b + half < len(x)]
    windows = [w for w in windows if not np.isnan(w).any()]
    if len(windows) < 2:
        return None
    stack = np.stack(windows)
    return stack - np.median(stack, axis=1, keepdims=True)


def limb_laws(sig: np.ndarray, trim: float = 0.0) -> float | None:
    """Mean agreement of both sides of each limb-lead law over the samples where all its leads are shown:
    1 - SSE / (SS left + SS right), 1 when they are equal, 0 when unrelated, -1 when opposite. Not a correlation:
    leads that merely look alike (V4 + V6 against V5, on a page read with its columns swapped) score about 0.8.
    With `trim`, that share of the samples whose sides differ most is left out of both sums: a few tens of
    milliseconds traced along a glyph sink the plain figure on a read that is otherwise right, while leads
    misplaced disagree everywhere."""
    idx = {name: k for k, name in enumerate(LEADS)}
    rs = []
    for left, right, weights in LIMB_RELATIONS:
        lhs = sig[idx[left[0]]] - (sig[idx[left[1]]] if len(left) > 1 else 0.0)
        rhs = sum(w * sig[idx[name]] for name, w in zip(right, weights, strict=True))
        both = np.isfinite(lhs) & np.isfinite(rhs)
        if both.sum() < MIN_SHARED_S * FS or np.std(lhs[both]) == 0 or np.std(rhs[both]) == 0:
            continue
        x, y = lhs[both] - lhs[both].mean(), rhs[both] - rhs[both].mean()
        squared = (x - y) ** 2
        keep = squared <= np.quantile(squared, 1 - trim) if trim > 0 else np.ones(squared.shape, bool)
        rs.append(float(1.0 - squared[keep].sum() / ((x[keep] ** 2).sum() + (y[keep] ** 2).sum())))
    return float(np.mean(rs)) if rs else None


def limb_agreement(signal: np.ndarray, fs: float, trim: float = 0.0) -> float | None:
    """`limb_laws` of a [12, T] record at its own rate."""
    return limb_laws(_resample(signal, fs), trim)


def evidence(signal: np.ndarray, fs: float) -> Evidence:
    """Direction, polarity and limb-lead consistency of a [12, T] record (NaN where not shown)."""
    sig = _resample(signal, fs)
    cfg = MeasureConfig()
    curve, _ = detection_curve(sig, cfg)
    beats = detect_beats(curve, cfg) if np.isfinite(curve).any() else np.array([], int)
    half, qrs = int(HALF_S * FS), int(QRS_S * FS)
    rr = float(np.median(np.diff(beats))) if len(beats) > 1 else HALF_S * FS / WAVE_RR
    a, b = int(WAVE_S[0] * FS), int(min(WAVE_S[1] * FS, WAVE_RR * rr))
    directions, polarities, weights, used = [], [], [], 0
    for lead in range(sig.shape[0]):
        for start, stop in _runs(~np.isnan(sig[lead])):
            inside = beats[(beats >= start) & (beats < stop)] - start
            stack = _lead_beats(sig[lead, start:stop], inside, half)
            if stack is None:
                continue
            beat = np.median(stack, axis=0)
            core = beat[half - qrs:half + qrs + 1]
            size = float(core.max() - core.min())
            if size <= 0:
                continue
            after = float(np.abs(beat[half + a:half + b]).sum())
            before = float(np.abs(beat[half - b:half - a]).sum())
            directions.append(np.log((after + 1e-6) / (before + 1e-6)))
            polarities.append((lead, (core.max() + core.min()) / size))
            weights.append(size * len(stack))
            used += len(stack)
    if not weights:
        return Evidence(0.0, 0.0, limb_laws(sig), 0)
    w = np.asarray(weights)
    prior = np.array([POLARITY_PRIOR[lead] for lead, _ in polarities])
    agree = float(np.sum(w * prior * np.array([v for _, v in polarities])) / max(np.sum(w * np.abs(prior)), 1e-12))
    return Evidence(float(np.dot(w / w.sum(), directions)), agree, limb_laws(sig), used)


TURNS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "as given": lambda a: a,
    "mirrored": lambda a: a[:, ::-1],
    "upside down (flipped top to bottom)": lambda a: a[::-1],
    "turned 180 degrees": lambda a: a[::-1, ::-1],
    "turned 90 degrees clockwise": lambda a: np.rot90(a, 1),
    "turned 90 degrees anticlockwise": lambda a: np.rot90(a, 3),
    "turned 90 degrees clockwise and mirrored": lambda a: np.rot90(a, 1)[:, ::-1],
    "turned 90 degrees anticlockwise and mirrored": lambda a: np.rot90(a, 3)[:, ::-1],
}
"""How the page may lie in the image, each with the turn that makes it upright (the name says how it lay)."""
LANDSCAPE = tuple(list(TURNS)[:4])
PORTRAIT = tuple(list(TURNS)[4:])
SURE = {"direction": 0.5, "polarity": 0.15, "limb_laws": 0.9}
"""A read this clearly upright needs no other reading; no wrong-way read of the tuning pages came this close."""
MARGIN = 0.8
"""How far a turned reading must lead the next (in `upright_score`) to be taken where none is sure: the smallest
that turned no tuning page wrongly (40 PTB-XL records, one per layout and style, each in its 4 landscape
positions)."""
LAWS_HOLD, LAWS_VETO = 0.85, 0.1
"""Where a reading keeps the limb-lead laws (agreement >= LAWS_HOLD), those that fall more than LAWS_VETO below it
are out: physics, where the T wave's side can mislead (an ischaemic ECG with flat T waves and clear P waves)."""
NOT_AGAINST = {"direction": -0.3, "polarity": 0.1}
"""The image as given is kept, unsure, where it is the best reading and its evidence does not point elsewhere:
most images are upright, and refusing every upright page whose T waves are small would refuse one in six."""


LABELS_SURE = 0.8
"""Share of a reading's cells whose printed labels read as it says (less those read otherwise) that counts as
upright text (`sure`): read in all four landscape positions, 40 bench pages of each of the own, foreign and wide
styles gave no turned reading above 0.21 (`python benchmarks/orientation_evidence.py`)."""


def sure(e: Evidence) -> bool:
    """Clearly upright, its leads keeping the limb-lead laws. A page read upside down finds no calibration pulse
    (its pulses point down), and on a page without them only the leads' usual polarity tells a flip, which
    atypical ECGs defeat: both need comparing, unless the printed labels read as the reading places them (text
    reads upright only). A rising pulse and upright labels together need nothing from the heart: the machine
    printed both, and a mirror (the pulse is symmetric) leaves the labels unread."""
    if e.beats <= 0 or (e.limb_laws is not None and e.limb_laws <= SURE["limb_laws"]):
        return False
    printed = e.labels_read >= LABELS_SURE
    if e.pulse_up and printed:
        return True
    return heart_upright(e) and (e.pulse_up is not False or printed)


def heart_upright(e: Evidence) -> bool:
    """What the heart alone says for upright: T waves after P waves, and QRS pointing as PTB-XL's do."""
    return e.direction > SURE["direction"] and e.polarity > SURE["polarity"]


PULSE_BONUS = 3.0
"""A rising calibration pulse outweighs the leads' usual polarity (2 x its range of 1) and more: printed by the
machine, it does not depend on the heart (a right-axis or bundle-branch ECG points many QRS the other way)."""


RARE_LAYOUT = 0.5
"""What a reading loses for taking the page for another vendor's print: a mirrored 3x4+II reads as a 3x4+V5 running
backwards, which keeps the limb-lead laws and the leads' polarity, so only the time direction (weak on a real photo:
+0.25 against -0.15 on ecg00003) would tell them apart; the common print seen the common way is the likelier."""


LABELS_WEIGHT = 2.0
"""What the printed labels add to a reading, per share of its cells read as it says: text printed upright reads
upright only (a turned or mirrored page's labels read as nothing, or sit where no cell of the reading starts)."""


def upright_score(e: Evidence) -> float:
    """One number to rank readings of one page by: higher is more like an upright ECG."""
    laws = 0.0 if e.limb_laws is None else 2.0 * (e.limb_laws - SURE["limb_laws"])
    pulse = PULSE_BONUS if e.pulse_up else 0.0
    rare = RARE_LAYOUT if e.rare_layout else 0.0
    printed = LABELS_WEIGHT * e.labels_read
    return float(np.clip(e.direction, -1.5, 1.5) + 2.0 * e.polarity + laws + pulse - rare + printed)


@dataclass(frozen=True)
class Reading(Generic[T]):
    turn: str
    result: T
    evidence: Evidence
    sure: bool = True


def summary_evidence(read: ReadSummary) -> Evidence:
    """The evidence of one reading, its signals' and the page's."""
    return replace(evidence(read.signal, read.fs), pulse_up=read.pulse_up, rare_layout=read.rare_layout,
                   labels_read=read.labels_read)


def _portrait(image: np.ndarray, corners: np.ndarray | None) -> bool:
    if corners is None:
        return image.shape[0] > image.shape[1]
    tl, tr, br, bl = corners
    width = np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)
    height = np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)
    return bool(height > width)


def upright(image: np.ndarray, corners: np.ndarray | None, read: Callable[[str, np.ndarray], T],
            summary: Callable[[T], ReadSummary], error: type[Exception],
            unsure: type[Exception]) -> Reading[T]:
    """The page read upright: as it lies if that reading is sure, else every position its shape allows, compared
    (`read(turn, turned image)`; `summary`: what a reading gives to weigh, ReadSummary); `error` (with the
    reason) where none reads or none leads
    clearly. A portrait page tries the quarter turns first and falls back to the landscape positions (a page
    printed in portrait). Where a set's first position is refused, its others are read only if the refusal is
    `unsure` (rows found, confidence short)."""
    first, second = (PORTRAIT, LANDSCAPE) if _portrait(image, corners) else (LANDSCAPE, PORTRAIT)
    refusal: Exception | None = None
    readings: list[Reading[T]] = []
    for turns in (first, second):
        for k, turn in enumerate(turns):
            try:
                result = read(turn, np.ascontiguousarray(TURNS[turn](image)))
            except error as err:
                if k == 0:
                    refusal = err if turn == "as given" or refusal is None else refusal
                    if not isinstance(err, unsure):
                        break    # the set's other positions are this one mirrored or flipped: the same rows
                continue
            readings.append(Reading(turn, result, summary_evidence(summary(result))))
            if k == 0 and sure(readings[0].evidence):
                return readings[0]
        if readings:
            break
    if not readings:
        raise refusal                      # nothing reads: the reason the image as given has
    # a rare layout keeping the laws proves nothing: read mirrored, a 3x4+II is a 3x4+V5 running backwards, and a
    # 6x2's smooth chest leads pass for Cabrera's limb leads (time's direction cannot tell: some ECGs read
    # backwards by it, upright)
    laws = [r.evidence.limb_laws for r in readings if r.evidence.limb_laws is not None and not r.evidence.rare_layout]
    if laws and max(laws) >= LAWS_HOLD:
        # a reading that breaks the laws another one keeps has its leads in the wrong places, whatever else it shows
        readings = [r for r in readings if r.evidence.limb_laws is not None
                    and r.evidence.limb_laws >= max(laws) - LAWS_VETO]
        if len(readings) == 1:
            return readings[0] if sure(readings[0].evidence) else replace(readings[0], sure=False)
    ranked = sorted(readings, key=lambda r: -upright_score(r.evidence))
    best = ranked[0]
    lead = upright_score(best.evidence) - (upright_score(ranked[1].evidence) if len(ranked) > 1 else -np.inf)
    if (len(ranked) > 1 and lead >= MARGIN) or (len(ranked) == 1 and sure(best.evidence)):
        return best
    e = best.evidence
    if best.turn == "as given" and e.direction > NOT_AGAINST["direction"] and e.polarity > NOT_AGAINST["polarity"]:
        return Reading(best.turn, best.result, e, sure=False)
    laws = "n/a" if e.limb_laws is None else f"{e.limb_laws:+.2f}"
    raise error(f"cannot tell which way up the page is (best reading: {best.turn}; time direction {e.direction:+.2f}, "
                f"QRS polarity {e.polarity:+.2f}, limb-lead laws {laws}, leading the next by {lead:.2f} < {MARGIN}); "
                "photograph the page with its text upright and the back camera (a front camera mirrors it), or pass "
                "--orientation as-given if the image is upright")
