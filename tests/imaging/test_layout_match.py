"""Choosing the layout and row order: a rhythm strip is the lead it copies, the limb-lead laws pick a lead order only
when clearly better, and the printed labels leave out the readings they contradict."""

from __future__ import annotations

import numpy as np
import pytest

from edgeecg.imaging import labels, layout_match
from edgeecg.imaging.layout_match import by_labels, choose_layout, duplicate_agreement, read_as, row_orders
from edgeecg.imaging.trace import RowTrace
from edgeecg.layouts import LAYOUTS, get_layout, paper_starts
from edgeecg.record import LEADS


def test_a_rhythm_strip_a_little_off_its_cell_still_reads_as_its_copy(traced_row):
    """A flattened photo can leave rows a fraction of a millimetre apart in time; a rhythm strip and its grid
    cell are the same samples even so (before: r at zero shift only, which sharp QRS 3 px apart cut to a
    vote against the right layout). A copy that disagrees, as a poor read does, counts less than one that
    agrees."""

    ppm, x0, sec_px = 8.0, 100.0, 200.0
    x = np.arange(2200, dtype=np.float64)
    rng = np.random.default_rng(0)
    shape = {lead: rng.normal(0, 1, 3) for lead in LEADS}   # per lead: R, S and T heights, one beat a second

    def lead_at(lead: str, t: np.ndarray) -> np.ndarray:
        r, s, tw = shape[lead]
        phase = np.mod(t, 1.0)
        return (r * np.exp(-0.5 * ((phase - 0.3) / 0.01) ** 2) + s * np.exp(-0.5 * ((phase - 0.33) / 0.01) ** 2)
                + tw * np.exp(-0.5 * ((phase - 0.6) / 0.05) ** 2))

    layout = get_layout("3x4+II")
    order = row_orders(layout)[0]   # grid rows, then the II strip

    def printed(k: int, cells: tuple, lag_px: float, lead_of=lambda c: c.lead) -> RowTrace:
        base = 150.0 * (k + 1)
        y = np.full(len(x), np.nan)
        for cell, pos in zip(cells, paper_starts(cells), strict=True):
            xa = x0 + pos * sec_px + lag_px
            span = (x >= xa) & (x < xa + (cell.end - cell.start) * sec_px)
            y[span] = base - 40 * lead_at(lead_of(cell), cell.start + (x[span] - xa) / sec_px)
        return traced_row(base, y)

    grid = [printed(k, cells, 0.0) for k, cells in enumerate(order[:-1])]
    strip = printed(3, order[-1], 3.0)                                    # 0.4 mm late
    assert duplicate_agreement(grid + [strip], order, x0, sec_px, ppm) > 0.9
    other = printed(3, order[-1], 0.0, lead_of=lambda c: "V4")            # not a copy of II
    assert duplicate_agreement(grid + [other], order, x0, sec_px, ppm) == -0.75


@pytest.mark.parametrize(("plain", "cabrera", "chosen"), [(-0.06, 0.86, "12x1-cabrera"), (-0.06, 0.47, "12x1"),
                                                         (0.80, 0.90, "12x1")])
def test_the_limb_lead_laws_pick_cabrera_only_when_its_read_keeps_them_clearly_and_well(monkeypatch, plain, cabrera,
                                                                                        chosen):
    ranked = [(0.0, LAYOUTS[name], LAYOUTS[name].rows) for name in ("12x1", "12x1-cabrera")]
    laws = {ranked[0][2]: plain, ranked[1][2]: cabrera}
    monkeypatch.setattr(layout_match.orientation, "limb_agreement", lambda agreement, fs: agreement)
    layout, _, _, notes = choose_layout(ranked, lambda order: None, lambda order: laws[order], 100.0)
    assert layout.name == chosen and any("limb-lead laws" in n for n in notes) == (chosen != "12x1")


@pytest.mark.parametrize(("exact_ii", "exact_v1", "laws_ii", "chosen"), [
    (0.99, 0.90, 0.9, "3x4+II"), (0.86, 0.93, 0.5, "3x4+V1"), (0.50, 0.55, 0.9, "3x4+II"),
    (0.92, 0.95, 0.9, "3x4+II"), (0.20, 0.94, 0.99, "3x4+II")])
def test_a_rhythm_strip_is_the_lead_it_copies_most_exactly(monkeypatch, exact_ii, exact_v1, laws_ii, chosen):
    """Clearly more exact wins; within COPY_TIE, or where no copy is sure (under COPY_SURE), the boundary score's
    first stays; and a common layout whose read keeps the laws far better than the vendor's stays too (its grid
    cell misread, so that it copies nothing)."""
    ranked = [(0.0, LAYOUTS["3x4+II"], LAYOUTS["3x4+II"].rows), (-1.0, LAYOUTS["3x4+V1"], LAYOUTS["3x4+V1"].rows)]
    exact = {ranked[0][2]: exact_ii, ranked[1][2]: exact_v1}
    laws = {ranked[0][2]: laws_ii, ranked[1][2]: 0.22}
    monkeypatch.setattr(layout_match.orientation, "limb_agreement", lambda agreement, fs: agreement)
    layout, _, _, _ = choose_layout(ranked, lambda order: exact[order], lambda order: laws[order], 100.0)
    assert layout.name == chosen


def test_labels_leave_out_the_readings_they_clearly_contradict():
    """Strip at the top or at the bottom, II or V1 in it: the labels leave the readings within LABELS_LEAD of the
    best by them for the signals to choose from, and say nothing where they were hardly read."""
    ranked = [(0.0, get_layout(n), order) for n in ("3x4+II", "3x4+V1") for order in row_orders(get_layout(n))]
    ev = [labels.LabelEvidence(9, 0, 13), labels.LabelEvidence(1, 7, 13), labels.LabelEvidence(8, 1, 13),
          labels.LabelEvidence(1, 8, 13)]
    kept, notes = by_labels(ranked, ev)
    assert kept == [ranked[0]] and "3x4+II prints them" in notes[0] and "3 other" in notes[0]
    twins = [labels.LabelEvidence(8, 0, 13), labels.LabelEvidence(1, 7, 13), labels.LabelEvidence(8, 0, 13),
             labels.LabelEvidence(1, 7, 13)]
    kept, _ = by_labels(ranked, twins)
    assert kept == [ranked[0], ranked[2]]          # the strip's label unread: II or V1 is the signals' call
    hardly = [labels.LabelEvidence(2, 0, 13)] * 4
    disputed = [labels.LabelEvidence(4, 2, 13), *[labels.LabelEvidence(0, 6, 13)] * 3]
    for few in (hardly, disputed):
        assert by_labels(ranked, few) == (ranked, [])


@pytest.mark.parametrize(("printed", "detected", "right"), [
    ("3x4", "3x4", True), ("6x2", "2x6", True), ("6x2-sync", "2x6", True),
    ("2x6", "6x2", False),          # detection names 2x6 for that geometry: 6x2 is only ever given
    ("3x4+V1", "3x4+II", False), ("12x1", "12x1-cabrera", False)])
def test_a_layout_is_read_right_as_itself_or_the_look_alike_detection_names(printed, detected, right):
    assert read_as(printed, detected) is right
