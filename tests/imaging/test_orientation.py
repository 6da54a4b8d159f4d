"""Which way up a page lies: the evidence on signals whose orientation is known, and pages read upright (or
refused) in every position a photo can give them, never read wrongly."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from edgeecg.data.synth import SynthConfig, simulate
from edgeecg.imaging.bench import LYING
from edgeecg.imaging.digitize import DigitizeConfig, DigitizeError, UnsureReadError, digitize
from edgeecg.imaging.orientation import (
    LABELS_WEIGHT,
    LANDSCAPE,
    PORTRAIT,
    TURNS,
    ReadSummary,
    evidence,
    limb_agreement,
    sure,
    upright,
    upright_score,
)
from edgeecg.imaging.render import RenderConfig, render
from edgeecg.imaging.score import score
from edgeecg.layouts import apply
from edgeecg.record import Record


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return simulate(3, SynthConfig(fs=100.0), seed=21).records()


def test_evidence_points_upright_and_each_turn_flips_its_own_part(records: list[Record]) -> None:
    for rec in records:
        sig = rec.signal.astype(np.float64)
        up = evidence(sig, rec.fs)
        assert up.direction >= 0 and up.limb_laws == pytest.approx(1.0, abs=0.02)
        backwards = evidence(sig[:, ::-1], rec.fs)             # a mirrored page runs time backwards
        assert backwards.direction == pytest.approx(-up.direction, abs=0.05)
        assert backwards.polarity == pytest.approx(up.polarity, abs=0.05)
        flipped = evidence(-sig[::-1], rec.fs)                 # upside down: rows reversed, traces inverted
        assert flipped.direction == pytest.approx(up.direction, abs=0.05)
        assert flipped.limb_laws < 0.7                         # Goldberger's laws break with the leads moved
        assert upright_score(up) > max(upright_score(backwards), upright_score(flipped))
    # at 130 bpm the first record's P wave rides on the previous T: its beats look alike both ways round
    assert [evidence(r.signal, r.fs).direction > 0.5 for r in records] == [False, True, True]
    # the leads' usual polarity holds for most records, not all: the third points most of its QRS the other way
    assert [evidence(r.signal, r.fs).polarity > 0 for r in records] == [True, True, False]


def test_limb_laws_need_leads_shown_at_the_same_time(records: list[Record]) -> None:
    rec = records[0]
    shown = apply(rec.signal, "3x4", rec.fs)                  # I, II, III share 0-2.5 s; aVR-aVF 2.5-5 s
    assert evidence(shown, rec.fs).limb_laws == pytest.approx(1.0, abs=0.02)   # only Einthoven's can be checked
    only_chest = np.full_like(rec.signal, np.nan)
    only_chest[6:] = rec.signal[6:]
    assert evidence(only_chest, rec.fs).limb_laws is None


def test_trimmed_limb_laws_forgive_a_glyph_but_not_leads_misplaced(records: list[Record]) -> None:
    rec = records[0]
    shown = apply(rec.signal, "3x4", rec.fs).astype(np.float64)
    glyph = shown.copy()
    glyph[0, 2:4] += 1.5                                       # lead I's first 20 ms traced along a 15 mm glyph
    assert limb_agreement(glyph, rec.fs) < 0.8
    assert limb_agreement(glyph, rec.fs, trim=0.02) > 0.95
    swapped = shown.copy()
    swapped[[0, 1]] = swapped[[1, 0]]                          # rows I and II read in each other's place
    assert limb_agreement(swapped, rec.fs, trim=0.02) < 0.7
    assert limb_agreement(shown, rec.fs, trim=0.0) == evidence(shown, rec.fs).limb_laws


def test_the_turns_cover_every_way_a_page_can_lie() -> None:
    page = np.arange(6).reshape(2, 3)
    seen = {TURNS[t](page).tobytes() + bytes(TURNS[t](page).shape) for t in TURNS}
    assert len(seen) == 8 and set(LANDSCAPE) | set(PORTRAIT) == set(TURNS)
    assert all(TURNS[t](page).shape == (2, 3) for t in LANDSCAPE) and all(TURNS[t](page).shape == (3, 2)
                                                                         for t in PORTRAIT)


def _snr(shot, rec: Record, image: np.ndarray) -> float:
    out = digitize(np.ascontiguousarray(image), DigitizeConfig(fs=rec.fs))
    return float(np.median([s.snr_db for s in score(shot.truth.signal, rec.fs, out.record.signal, rec.fs)]))


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["3x4+II", "6x2", "12x1"])
def test_a_page_lying_any_way_is_read_upright_or_refused(records: list[Record], layout: str) -> None:
    rec = records[1]
    shot = render(rec, layout)
    up = _snr(shot, rec, shot.image)
    read = 0
    for name, lie in LYING.items():
        try:
            got = _snr(shot, rec, lie(shot.image))
        except DigitizeError as err:
            assert "which way up" in str(err) or "rows" in str(err), (name, str(err))
            continue
        assert got == pytest.approx(up, abs=1.0), name              # upright, not merely read
        read += 1
    assert read >= 4


def test_the_reading_says_how_the_page_lay(records: list[Record]) -> None:
    shot = render(records[1], "3x4+II")
    quality = digitize(np.ascontiguousarray(shot.image[:, ::-1]), DigitizeConfig(fs=100.0)).quality
    assert quality.orientation == "mirrored" and any("read turned upright" in n for n in quality.notes)
    assert digitize(shot.image, DigitizeConfig(fs=100.0)).quality.orientation == "as given"


def test_a_page_whose_signals_cannot_tell_is_refused_turned_and_read_as_given_only_if_asked() -> None:
    fs = 100.0
    t = np.arange(int(10 * fs)) / fs
    # the same symmetric downward spike in every lead: no T wave to give time's direction, mirrored columns
    # alike, and polarity against most leads' usual one, so the image as given is not presumed upright either
    spikes = -sum(np.exp(-0.5 * ((t - b) / 0.012) ** 2) for b in np.arange(0.5, 10, 0.9))
    record = Record(np.tile(spikes, (12, 1)).astype(np.float32), fs)
    shot = render(record, "3x4", RenderConfig(label_position="none"))
    with pytest.raises(DigitizeError, match="which way up"):
        digitize(np.ascontiguousarray(shot.image[:, ::-1]), DigitizeConfig(fs=fs))
    given = digitize(np.ascontiguousarray(shot.image[:, ::-1]), DigitizeConfig(fs=fs, orientation="as-given"))
    assert given.quality.orientation == "as given"
    with pytest.raises(DigitizeError, match="use auto or as-given"):
        digitize(shot.image, DigitizeConfig(fs=fs, orientation="sideways"))
    # printed labels tell what the signals cannot: mirrored text reads as nothing, upright text as the leads
    labelled = render(record, "3x4")
    mirrored = digitize(np.ascontiguousarray(labelled.image[:, ::-1]), DigitizeConfig(fs=fs, min_confidence=0.0))
    assert mirrored.quality.orientation == "mirrored"


def test_sure_needs_every_part_of_the_evidence(records: list[Record]) -> None:
    rec = simulate(1, SynthConfig(fs=100.0), seed=22).records()[0]
    up = evidence(rec.signal, rec.fs)
    assert sure(up) and not sure(evidence(rec.signal[:, ::-1], rec.fs)) and not sure(evidence(-rec.signal, rec.fs))
    assert not sure(replace(up, pulse_up=False))          # no pulse where the page has one: it may lie flipped
    assert not sure(replace(up, pulse_up=False, labels_read=0.7))
    assert sure(replace(up, pulse_up=False, labels_read=0.9))   # unless its labels read upright, where it lies
    assert not sure(replace(up, pulse_up=False, labels_read=0.9, polarity=0.0))
    # a rising pulse and upright labels: the machine's own marks, whatever the heart's evidence says
    weak_heart = replace(up, direction=0.0, polarity=0.0)
    assert sure(replace(weak_heart, pulse_up=True, labels_read=0.9)) and not sure(replace(weak_heart, pulse_up=True))
    assert not sure(replace(weak_heart, pulse_up=True, labels_read=0.9, limb_laws=0.5))   # leads misplaced


@pytest.mark.parametrize("layout", ["3x4", "3x4+II"])
def test_an_ecg_against_the_usual_polarity_is_not_turned_over_when_its_pulses_rise(records: list[Record],
                                                                                  layout: str) -> None:
    """In 3x4 a flipped page keeps Einthoven's law, so only polarity and the page tell a flip; the pulses decide."""
    shot = render(records[2], layout)
    for lie, name in ((lambda a: a, "as given"), (lambda a: a[::-1], "upside down (flipped top to bottom)")):
        quality = digitize(np.ascontiguousarray(lie(shot.image)), DigitizeConfig(fs=100.0)).quality
        assert quality.orientation == name


def test_a_rare_layout_keeping_the_laws_outvotes_nothing(records: list[Record]) -> None:
    """Read mirrored, a 3x4+II is a 3x4+V5 running backwards that keeps the laws as well as the true reading:
    such a reading must not veto the page as it lies, whose noisier limb leads keep them less well."""
    rng = np.random.default_rng(0)
    noisy = records[1].signal.copy()
    noisy[[2, 5]] += 0.4 * rng.standard_normal((2, noisy.shape[1])).astype(np.float32)
    signals = {"as given": noisy, "mirrored": records[1].signal[:, ::-1]}

    def read(turn: str, image: np.ndarray) -> str:
        if turn not in signals:
            raise DigitizeError("no rows")
        return turn

    def summary(turn: str) -> ReadSummary:
        return ReadSummary(signals[turn], 100.0, True, turn == "mirrored")      # read mirrored, the page is a 3x4+V5

    got = upright(np.zeros((100, 200, 3), np.uint8), None, read, summary, DigitizeError, UnsureReadError)
    assert evidence(signals["mirrored"], 100.0).limb_laws > 0.99 > 0.85 > evidence(noisy, 100.0).limb_laws
    assert got.turn == "as given"


def test_printed_labels_read_as_the_reading_says_count_for_it(records: list[Record]) -> None:
    """Two readings alike in every signal: the one whose cells' labels read as it says scores higher, by the
    labels' weight per share read (turned or mirrored, a page's labels read as nothing)."""
    e = evidence(records[0].signal, 100.0)
    read = replace(e, labels_read=0.8)
    assert upright_score(read) - upright_score(e) == pytest.approx(0.8 * LABELS_WEIGHT)


@pytest.mark.parametrize(("labels_read", "reads"), [(1.0, 1), (0.5, 4)])
def test_a_page_without_pulses_whose_labels_read_upright_is_read_once(records: list[Record], labels_read: float,
                                                                      reads: int) -> None:
    """No pulse rises on the page: where its printed labels read as the first reading places them, that reading
    is kept without reading the page's other positions; where they do not, all four are read and compared."""
    rec = simulate(1, SynthConfig(fs=100.0), seed=22).records()[0]
    assert sure(evidence(rec.signal, rec.fs))
    calls: list[str] = []

    def read(turn: str, image: np.ndarray) -> str:
        calls.append(turn)
        return turn

    def summary(turn: str) -> ReadSummary:
        upright_read = turn == "as given"
        return ReadSummary(rec.signal if upright_read else -rec.signal[:, ::-1], rec.fs, False, False,
                           labels_read if upright_read else 0.0)

    got = upright(np.zeros((100, 200, 3), np.uint8), None, read, summary, DigitizeError, UnsureReadError)
    assert got.turn == "as given" and len(calls) == reads
