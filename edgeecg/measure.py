"""Heart rate, RR irregularity and the PR, QRS and QT intervals of a record, from whatever leads it shows.

numpy only (it runs on the device beside the model). Why not neurokit2: it would bring pandas, scipy,
scikit-learn and matplotlib to the device, and it reads one lead for its whole length, where a print shows
each lead for 2.5 s at its own time. Here the leads are read together, as an ECG machine's global
measurements are:

1. beats: each shown lead is band-passed (5-25 Hz), its slope energy normalised per lead, and the energies of
   the leads shown at each instant averaged into one QRS detection curve over the whole 10 s (a 3x4 print hands
   over from I-III to aVR-aVF at 2.5 s and the curve goes on); peaks at least 200 ms apart, 30 % of the way
   from the curve's noise floor to the typical beat, with a search back where an interval is over 1.6 times the median;
2. rate and rhythm: RR intervals only between beats with signal shown all the way between them; heart rate
   from their mean, irregularity as their coefficient of variation and RMSSD;
3. intervals: a median beat per lead from the beats whose whole window that lead shows, outlying (ectopic)
   beats left out; QRS onset and offset where the spatial velocity of all the median beats falls below a
   share of its peak, the T end by the tangent to the steepest fall of their RMS after the T peak, the P onset
   where the RMS before the QRS rises to a share of its P peak; QTc by Bazett and Fridericia.

Each value says why it is unavailable where the leads shown do not allow it (too few beats, no whole beat,
no P wave). `benchmarks/measure_accuracy.py` and `edgeecg bench measure` score it against the simulator's
fiducials and against neurokit2 on real records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from edgeecg.record import LEADS

FS = 500.0                      # measurements are made on the signal resampled to this rate


@dataclass(frozen=True)
class MeasureConfig:
    """Detection and delineation settings; the shares were chosen on simulator seeds 0-1 (see the benchmark)."""

    min_run_s: float = 1.0                  # shorter shown stretches do not take part in beat detection
    refractory_s: float = 0.2
    peak_share: float = 0.3                 # of the typical beat's detection peak over the noise floor
    search_back_share: float = 0.1
    min_rr_for_rate: int = 2                # RR intervals (3 beats)
    min_rr_for_rhythm: int = 5
    irregular_cv: float = 0.12              # RR coefficient of variation above which the rhythm is irregular
    min_template_leads: int = 2
    qrs_share: float = 0.08                 # of the peak spatial velocity: QRS onset and offset
    p_share: float = 0.15                   # of the P wave's RMS peak over its floor: P onset
    t_share: float | None = 0.04            # T end where the RMS falls to this share of its T peak; None: tangent
    min_p_mv: float = 0.025


@dataclass
class Value:
    """One measurement: a value in `unit`, or None with the reason it is unavailable."""

    value: float | None
    unit: str
    reason: str = ""

    @property
    def available(self) -> bool:
        return self.value is not None

    def text(self, digits: int = 0) -> str:
        return f"{self.value:.{digits}f} {self.unit}" if self.value is not None else "unavailable"


@dataclass
class Measurements:
    heart_rate: Value
    rr_cv: Value
    rr_rmssd: Value
    rhythm: str                              # regular, irregular, or unavailable
    pr: Value
    qrs: Value
    qt: Value
    qtc_bazett: Value
    qtc_fridericia: Value
    beats_s: list[float] = field(default_factory=list)     # detected beat times (QRS centre), s
    template_leads: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = asdict(self)
        for v in out.values():
            if isinstance(v, dict) and "value" in v:
                v["available"] = v["value"] is not None
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Measurements:
        """Back from `as_dict` (a result's JSON)."""
        values = {k: Value(v["value"], v["unit"], v.get("reason", "")) for k, v in d.items() if isinstance(v, dict)}
        return cls(**values, rhythm=d["rhythm"], beats_s=list(d.get("beats_s", [])),
                   template_leads=list(d.get("template_leads", [])))

    def summary(self) -> str:
        """One line for a terminal, a CSV cell or an image caption."""
        hr = self.heart_rate.text()
        return (f"HR {hr} ({self.rhythm}), PR {self.pr.text()}, QRS {self.qrs.text()}, QT {self.qt.text()}, "
                f"QTc {self.qtc_bazett.text()}")


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each stretch of True."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _resample(signal: np.ndarray, fs: float) -> np.ndarray:
    """[12, T'] at FS, NaN kept where the source had none (linear inside each shown stretch)."""
    if fs == FS:
        return signal.astype(np.float64)
    n = int(round(signal.shape[1] * FS / fs))
    t_new = np.arange(n) / FS
    t_old = np.arange(signal.shape[1]) / fs
    out = np.full((signal.shape[0], n), np.nan)
    for lead in range(signal.shape[0]):
        for a, b in _runs(~np.isnan(signal[lead])):
            if b - a < 2:
                continue
            inside = (t_new >= t_old[a]) & (t_new <= t_old[b - 1])
            out[lead, inside] = np.interp(t_new[inside], t_old[a:b], signal[lead, a:b])
    return out


def _bandpass(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Zero-phase Butterworth-shaped band-pass (order 2 each side) by FFT, with mirrored ends."""
    pad = min(len(x) - 1, int(0.5 * FS))
    y = np.r_[x[pad:0:-1], x, x[-2:-pad - 2:-1]] if pad > 0 else x
    f = np.fft.rfftfreq(len(y), 1 / FS)
    with np.errstate(divide="ignore"):
        h_high = 1.0 / np.sqrt(1.0 + (low / np.maximum(f, 1e-9)) ** 4)
    h = h_high / np.sqrt(1.0 + (f / high) ** 4)
    out = np.fft.irfft(np.fft.rfft(y - y.mean()) * h, len(y))
    return out[pad:pad + len(x)]


def _smooth(x: np.ndarray, seconds: float) -> np.ndarray:
    k = max(1, int(round(seconds * FS)))
    return np.convolve(x, np.ones(k) / k, mode="same")


def _typical_peak(x: np.ndarray, cfg: MeasureConfig, k: int) -> float:
    """Median of the k highest peaks at least a refractory period apart: one beat's level, which one tall
    ectopic beat in a 2.5 s lead does not set (a percentile of the samples would be that beat's)."""
    cands = _local_maxima(x)
    if not len(cands):
        return 0.0
    peaks = _pick(cands, np.nan_to_num(x, nan=-np.inf), int(cfg.refractory_s * FS))
    return float(np.median(np.sort(x[peaks])[-k:]))


def detection_curve(sig: np.ndarray, cfg: MeasureConfig) -> tuple[np.ndarray, np.ndarray]:
    """(curve [T], leads shown [T]): the weighted mean normalised slope energy of the leads shown at each instant."""
    total, weights, count = np.zeros(sig.shape[1]), np.zeros(sig.shape[1]), np.zeros(sig.shape[1])
    for lead in range(sig.shape[0]):
        energy = np.full(sig.shape[1], np.nan)
        for a, b in _runs(~np.isnan(sig[lead])):
            if b - a >= cfg.min_run_s * FS:
                bp = _bandpass(sig[lead, a:b], 5.0, 25.0)
                energy[a:b] = _smooth(np.gradient(bp) ** 2, 0.08)
        shown = ~np.isnan(energy)
        if not shown.any():
            continue
        scale = _typical_peak(energy, cfg, max(3, int(round(shown.sum() / FS / 1.2))))
        if scale <= 0:
            continue
        # a lead counts by its slope amplitude: one whose QRS is nearly isoelectric is noise once normalised
        weight = np.sqrt(scale)
        total[shown] += weight * energy[shown] / scale
        weights[shown] += weight
        count[shown] += 1
    with np.errstate(invalid="ignore"):
        return np.where(count > 0, total / np.maximum(weights, 1e-12), np.nan), count


def _local_maxima(x: np.ndarray) -> np.ndarray:
    y = np.nan_to_num(x, nan=-np.inf)
    return np.flatnonzero((y[1:-1] >= y[:-2]) & (y[1:-1] > y[2:]) & np.isfinite(y[1:-1])) + 1


def _pick(cands: np.ndarray, heights: np.ndarray, gap: int) -> np.ndarray:
    """Greedy by height: a peak is kept when no kept peak lies within `gap` samples."""
    kept: list[int] = []
    for i in cands[np.argsort(-heights[cands], kind="stable")]:
        if all(abs(i - k) >= gap for k in kept):
            kept.append(int(i))
    return np.array(sorted(kept), dtype=int)


def detect_beats(curve: np.ndarray, cfg: MeasureConfig) -> np.ndarray:
    """Sample indices (at FS) of the beats on a detection curve."""
    cands = _local_maxima(curve)
    if not len(cands):
        return cands
    gap = int(cfg.refractory_s * FS)
    peaks = _pick(cands, curve, gap)
    # the typical beat: the median of the k highest peaks, k the fewest beats the shown time can hold (30 bpm);
    # the greedy pick also keeps noise peaks 200 ms apart, so a percentile of all of them is noise at low rates
    typical = _typical_peak(curve, cfg, max(1, int(np.isfinite(curve).sum() / FS / 2.5)))
    floor = float(np.nanmedian(curve))        # the noise between beats: a noisy record's curve never rests at 0
    peaks = peaks[curve[peaks] >= floor + cfg.peak_share * (typical - floor)]
    if len(peaks) >= 3:       # search back in long intervals for a beat below the first bar
        rr = np.diff(peaks)
        extra = []
        for a, b in zip(peaks[:-1][rr > 1.6 * np.median(rr)], peaks[1:][rr > 1.6 * np.median(rr)], strict=True):
            inside = cands[(cands > a + gap) & (cands < b - gap)]
            inside = inside[curve[inside] >= floor + cfg.search_back_share * (typical - floor)]
            if len(inside):
                extra.append(int(inside[np.argmax(curve[inside])]))
        peaks = np.sort(np.r_[peaks, extra]).astype(int)
    return peaks


def _rr_intervals(beats: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(RR in s, whether each follows the previous RR without a gap): only beats with signal shown throughout."""
    rr, joined = [], []
    previous_ok = False
    for a, b in zip(beats[:-1], beats[1:], strict=True):
        ok = bool((count[a:b + 1] > 0).all())
        if ok:
            rr.append((b - a) / FS)
            joined.append(previous_ok)
        previous_ok = ok
    return np.array(rr), np.array(joined, dtype=bool)


def _templates(sig: np.ndarray, beats: np.ndarray, pre: int, post: int
               ) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """(median beat, the beats it is the median of) per lead, over the beats whose whole window the lead shows,
    ectopic beats left out."""
    out, beats_of = {}, {}
    qrs = slice(pre - int(0.06 * FS), pre + int(0.06 * FS))
    for lead in range(sig.shape[0]):
        windows = [sig[lead, b - pre:b + post] for b in beats if b - pre >= 0 and b + post <= sig.shape[1]]
        windows = [w for w in windows if not np.isnan(w).any()]
        if not windows:
            continue
        stack = np.stack(windows)
        stack -= np.median(stack[:, : int(0.05 * FS)], axis=1, keepdims=True)
        median = np.median(stack, axis=0)
        if len(stack) >= 3:
            r = [_corr(w[qrs], median[qrs]) for w in stack]
            dominant = stack[np.nan_to_num(r) >= 0.8]
            if len(dominant):
                stack, median = dominant, np.median(dominant, axis=0)
        out[lead], beats_of[lead] = median, stack
    return out, beats_of


def _p_repeats(beats_of: dict[int, np.ndarray], tpl: dict[int, np.ndarray], a: int, b: int) -> bool | None:
    """Whether the P wave [a, b) recurs beat after beat, over the leads that show it (0.02 mV or more) in two
    beats or more (None: too few to tell). Fibrillatory waves give a median beat a hump that no beat repeats."""
    votes = []
    for lead, beats in beats_of.items():
        if len(beats) >= 2 and float(np.ptp(tpl[lead][a:b])) >= 0.02:
            # each beat against the median of the others: a median of two or three beats resembles any of them
            r = [_corr(w[a:b], np.median(np.delete(beats, k, axis=0), axis=0)[a:b]) for k, w in enumerate(beats)]
            votes.append(float(np.median(np.nan_to_num(r))))
    return None if not votes else float(np.median(votes)) >= 0.3


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r, 0 where either side is flat (a lead at rest, a window of padding)."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _cross(x: np.ndarray, start: int, step: int, level: float, stop: int, hold: int = 1) -> int | None:
    """First index from `start` moving by `step` from which x stays below `level` for `hold` samples (None if
    it does not by `stop`): the QRS's spatial velocity dips briefly between its waves, and that is no end."""
    i, below = start, 0
    while 0 <= i < len(x) and (i - stop) * step < 0:
        below = below + 1 if x[i] < level else 0
        if below >= hold:
            return i - (hold - 1) * step
        i += step
    return None


@dataclass
class _Fiducials:
    """Wave boundaries in s from the beat fiducial (None where not found, with the reason)."""

    p_on: float | None = None
    qrs_on: float | None = None
    qrs_off: float | None = None
    t_end: float | None = None
    qrs_reason: str = ""
    t_reason: str = ""
    p_reason: str = ""


def _delineate(tpl: dict[int, np.ndarray], pre: int, rr: int, cfg: MeasureConfig) -> _Fiducials:
    """QRS from the spatial velocity of the median beats, T end and P onset from their RMS about the
    isoelectric level just before the QRS; `rr` (samples) keeps the T search clear of the next beat's P."""
    stack = np.stack(list(tpl.values()))
    smooth = np.stack([_smooth(x, 0.01) for x in stack])
    velocity = np.sqrt((np.gradient(smooth, axis=1) ** 2).sum(0))
    near = slice(pre - int(0.07 * FS), pre + int(0.07 * FS))
    peak = near.start + int(np.argmax(velocity[near]))
    floor = float(np.percentile(velocity, 25))          # noise: most of a beat is isoelectric or slow
    level = floor + cfg.qrs_share * (velocity[peak] - floor)
    hold = int(0.012 * FS)
    on = _cross(velocity, peak, -1, level, peak - int(0.15 * FS), hold)
    off = _cross(velocity, peak, 1, level, peak + int(0.2 * FS), hold)
    if on is None or off is None:
        why = "the QRS complex has no clear onset or offset in the median beats"
        return _Fiducials(qrs_reason=why, t_reason=why, p_reason=why)
    out = _Fiducials(qrs_on=(on - pre) / FS, qrs_off=(off - pre) / FS)
    base = smooth[:, max(0, on - int(0.02 * FS)):on].mean(1, keepdims=True)   # the 20 ms before the QRS
    rms = np.sqrt(((smooth - base) ** 2).mean(0))
    qrs_height = float(rms[on:off + 1].max())
    t_from, t_to = off + int(0.06 * FS), min(len(rms) - 1, off + int(0.5 * FS), pre + rr - int(0.25 * FS))
    out.t_reason = "no T wave end found in the median beats"
    if t_to - t_from > int(0.08 * FS):
        t_peak = t_from + int(np.argmax(rms[t_from:t_to]))
        fall = np.gradient(rms)[t_peak:t_to]
        if rms[t_peak] < max(0.02, 0.04 * qrs_height):
            out.t_reason = "the T wave is too flat to end the QT interval"
        elif len(fall) > 2 and fall.min() < 0:
            m = t_peak + int(np.argmin(fall))
            t_floor = float(np.percentile(rms[t_peak:t_to], 5))
            end = m + (rms[m] - t_floor) / -fall.min()          # the tangent meets the level after the T wave
            if cfg.t_share is not None:
                below = _cross(rms, t_peak, 1, t_floor + cfg.t_share * (rms[t_peak] - t_floor), t_to, hold)
                end = below if below is not None else end
            if end < len(rms):
                out.t_end, out.t_reason = (end - pre) / FS, ""
    p_from, p_to = max(0, on - int(0.32 * FS)), on - int(0.03 * FS)
    out.p_reason = "no P wave found before the QRS (atrial fibrillation, or P lost in noise)"
    if p_to - p_from > int(0.05 * FS):
        p_peak = p_from + int(np.argmax(rms[p_from:p_to]))
        height = rms[p_peak]
        if height >= max(cfg.min_p_mv, 0.02 * qrs_height):
            p_floor = float(rms[max(0, p_peak - int(0.15 * FS)):p_peak + 1].min())   # the level just before it
            start = _cross(rms, p_peak, -1, p_floor + cfg.p_share * (height - p_floor), -1, hold)
            if start is not None:
                out.p_on, out.p_reason = (start - pre) / FS, ""
    return out


def _unavailable(unit: str, reason: str) -> Value:
    return Value(None, unit, reason)


def _bounded(value_s: float | None, lo_ms: float, hi_ms: float, reason: str) -> Value:
    if value_s is None:
        return _unavailable("ms", reason)
    ms = 1000.0 * value_s
    if not lo_ms <= ms <= hi_ms:
        return _unavailable("ms", f"measured {ms:.0f} ms, outside {lo_ms:.0f}-{hi_ms:.0f} ms: not trusted")
    return Value(round(ms, 1), "ms")


def measure(signal: np.ndarray, fs: float, cfg: MeasureConfig | None = None) -> Measurements:
    """Measurements of one record: signal [12, T] in mV, NaN where not shown, at `fs` Hz."""
    cfg = cfg or MeasureConfig()
    sig = _resample(np.asarray(signal, dtype=np.float64), fs)
    curve, count = detection_curve(sig, cfg)
    beats = detect_beats(curve, cfg) if (count > 0).any() else np.array([], dtype=int)
    rr, joined = _rr_intervals(beats, count)
    times = [round(b / FS, 3) for b in beats]
    if len(rr) < cfg.min_rr_for_rate:
        why = (f"{len(beats)} beats found with signal shown between them; heart rate needs "
               f"{cfg.min_rr_for_rate + 1}")
        none = _unavailable("ms", why)
        return Measurements(_unavailable("bpm", why), _unavailable("", why), _unavailable("ms", why), "unavailable",
                            none, none, none, none, none, times)
    mean_rr = float(rr.mean())
    hr = Value(round(60.0 / mean_rr, 1), "bpm")
    if len(rr) >= cfg.min_rr_for_rhythm:
        cv = float(rr.std() / mean_rr)
        successive = np.diff(rr)[joined[1:]] if len(rr) > 1 else np.array([])
        rmssd = Value(round(1000 * float(np.sqrt(np.mean(successive ** 2))), 1), "ms") if len(successive) else \
            _unavailable("ms", "no two RR intervals in a row")
        rr_cv, rhythm = Value(round(cv, 3), ""), ("irregular" if cv > cfg.irregular_cv else "regular")
    else:
        why = f"{len(rr)} RR intervals; rhythm needs {cfg.min_rr_for_rhythm}"
        rr_cv, rmssd, rhythm = _unavailable("", why), _unavailable("ms", why), "unavailable"
    pre = int(min(0.45, 0.55 * np.median(rr)) * FS)
    post = int(min(0.6, 0.85 * np.median(rr)) * FS)
    tpl, beats_of = _templates(sig, beats, pre, post)
    leads = [LEADS[k] for k in tpl]
    if len(tpl) < cfg.min_template_leads:
        why = (f"a whole beat is shown in {len(tpl)} lead(s); intervals need {cfg.min_template_leads}")
        none = _unavailable("ms", why)
        return Measurements(hr, rr_cv, rmssd, rhythm, none, none, none, none, none, times, leads)
    f = _delineate(tpl, pre, int(np.median(rr) * FS), cfg)
    if f.p_on is not None and _p_repeats(beats_of, tpl, pre + int(f.p_on * FS), pre + int(f.qrs_on * FS)) is False:
        f.p_on, f.p_reason = None, "no P wave recurs from beat to beat (atrial fibrillation or flutter?)"
    pr = _bounded(None if f.p_on is None else f.qrs_on - f.p_on, 60, 400, f.p_reason)
    qrs = _bounded(None if f.qrs_on is None else f.qrs_off - f.qrs_on, 40, 220, f.qrs_reason)
    qt = _bounded(None if f.t_end is None else f.t_end - f.qrs_on, 200, 700, f.t_reason)
    if qt.available:
        qtc_b = Value(round(qt.value / np.sqrt(mean_rr), 1), "ms")
        qtc_f = Value(round(qt.value / np.cbrt(mean_rr), 1), "ms")
    else:
        qtc_b = qtc_f = _unavailable("ms", qt.reason)
    return Measurements(hr, rr_cv, rmssd, rhythm, pr, qrs, qt, qtc_b, qtc_f, times, leads)
