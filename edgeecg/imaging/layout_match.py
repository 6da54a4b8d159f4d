"""Which registered layout, and which row order, a page's traced rows are: the separator ticks and breaks at its
cell boundaries, how exactly its rhythm strips copy their cells, the limb-lead laws and the printed lead labels.

A wrong choice here is a silent wrong answer (every lead read, each in the wrong place), so every rule that can
overrule the boundary score says in a note why it did. numpy only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import permutations

import numpy as np

from edgeecg.imaging import labels, orientation
from edgeecg.imaging.page import DigitizeError
from edgeecg.imaging.trace import RowTrace
from edgeecg.layouts import LAYOUTS, VENDOR, Cell, Layout, paper_starts

LOOK_ALIKE = {"6x2": "2x6", "6x2-sync": "2x6"}
"""Layouts that print the same page geometry; detection names the first, `--layout` picks the others."""


def read_as(printed: str, detected: str) -> bool:
    """Whether a page printed in layout `printed` was read in the right one: `detected` is it or its look-alike
    (the rule every bench and the confidence fit score layouts by)."""
    return detected == printed or LOOK_ALIKE.get(printed) == detected


def row_orders(layout: Layout) -> list[tuple[tuple[Cell, ...], ...]]:
    """The layout's rows top to bottom: rhythm strips below (usual) or above, in any order (machines differ:
    3x4+3 prints II, V1, V5 or V1, II, V5); the rhythm strips' repeats of grid cells tell which is which."""
    strips = layout.rows[len(layout.grid):]
    if not strips:
        return [layout.rows]
    orders = []
    for perm in permutations(strips):
        orders += [layout.grid + perm, perm + layout.grid]
    return orders


def _boundary_evidence(mask: np.ndarray, row: RowTrace, x: float, ppm: float) -> float:
    """1 where a separator tick or a break in the trace marks a cell boundary at column x, else 0."""
    xi = int(round(x))
    half = max(1, int(0.4 * ppm))
    sub = mask[row.top:row.bottom, max(0, xi - half): xi + half + 1] > 0
    if sub.size == 0:
        return 0.0
    if not sub.any():
        return 1.0  # a gap between two cells
    rows_with_ink = np.flatnonzero(sub.any(axis=1)) + row.top
    extent = (rows_with_ink[-1] - rows_with_ink[0]) / ppm
    # a tick crosses the baseline, reaching 1.5 mm past it on both sides (as tick_x reads it); a narrow QRS
    # between level stretches is as tall but mostly one-sided, and in simultaneous layouts (6x2) one beat
    # lines up in every row and would pass for a boundary across the page
    both = rows_with_ink[0] <= row.baseline - 1.5 * ppm and rows_with_ink[-1] >= row.baseline + 1.5 * ppm
    side = int(1.5 * ppm)
    neighbours = [row.y[c] for c in (xi - side, xi + side) if 0 <= c < len(row.y)]
    flat = all(np.isfinite(v) and abs(v - row.baseline) < 2.0 * ppm for v in neighbours)
    return 1.0 if extent >= 4.0 and both and flat else 0.0


Order = tuple[tuple[Cell, ...], ...]


def match_layout(mask: np.ndarray, rows: list[RowTrace], x0: float, sec_px: float, ppm: float
                  ) -> list[tuple[float, Layout, Order]]:
    """(score, layout, row order) of every registered layout that prints as many rows, best first: how well its
    cell boundaries (and the repeats of its rhythm strips) explain the page."""
    candidates = []
    for layout in LAYOUTS.values():
        if layout.name in LOOK_ALIKE:
            continue
        for order in row_orders(layout):
            if len(order) == len(rows):
                candidates.append((layout, order))
    if not candidates:
        raise DigitizeError(f"found {len(rows)} printed rows, and no registered layout has {len(rows)} rows; pass "
                            f"--layout NAME or a .toml layout that describes this print")
    times = sorted({p for layout, order in candidates for row in order for p in paper_starts(row) if p > 0})
    evidence = np.array([[_boundary_evidence(mask, r, x0 + t * sec_px, ppm) for t in times] for r in rows])
    scores = []
    for _, order in candidates:
        expect = np.array([[1.0 if any(abs(p - t) < 1e-6 for p in paper_starts(row)) else -1.0 for t in times]
                           for row in order])
        scores.append(float((expect * (evidence - 0.5)).sum()))
    # a strip that copies its cell counts as much as three boundaries, and no more: two different leads that
    # correlate strongly (simulated limb leads: r 0.98) must not outvote a clear pattern of ticks
    scores = [sc + 3.0 * duplicate_agreement(rows, order, x0, sec_px, ppm)
              for sc, (_, order) in zip(scores, candidates, strict=True)]
    ranked = np.argsort(-np.asarray(scores), kind="stable")  # ties: the first registered wins
    return [(scores[i], *candidates[i]) for i in ranked]


RECHECK = 2.0
"""Candidates with rhythm strips this close to the best score are weighed again by how exactly their strips copy
their cells: on a print without separator ticks, the boundaries barely tell which row is the strip, and the
strips' correlation (measured before the origin is refined) can favour a neighbouring chest lead."""
COPY_TIE = 0.05
"""Candidates whose copies are this close to the most exact one are left to their boundary score."""
COPY_SURE = 0.6
"""How exactly a strip must copy its cell to overrule the best-scoring strips: true copies match 0.8-1.0 on the
bench; a strip overlapped by the row above it (a real photo's tall chest leads) matches nothing above 0.4."""
TWIN_LAWS = 0.15
"""How much better a lead order must obey the limb-lead laws to replace the first in line (PTB-XL's order first):
a true order agrees 0.5-0.95 on the bench, the wrong one of a Cabrera pair about 0 or below."""
LAWS_CHOOSE = 0.7
"""And how well, at least: chest leads change smoothly from V1 to V6, so six of them read as Cabrera's limb leads
(a page flipped top to bottom) obey the laws 0.45-0.5 by chance; true Cabrera reads agree 0.85 and more."""


def _timing(order: Order) -> tuple:
    return tuple(tuple((c.start, c.end) for c in row) for row in order)


def _laws_clearly_better(challenger: float | None, incumbent: float) -> bool:
    """A lead order's read beats the one in place by the limb-lead laws: by TWIN_LAWS, and at LAWS_CHOOSE at least."""
    return challenger is not None and challenger >= max(incumbent + TWIN_LAWS, LAWS_CHOOSE)


def choose_layout(ranked: list[tuple[float, Layout, Order]], exactness: Callable[[Order], float | None],
                   assemble: Callable[[Order], np.ndarray], fs: float) -> tuple[Layout, Order, float, list[str]]:
    """The best-scoring layout and row order, or a rival: its twins (same cells at the same times, other leads in
    them: II against a V1 or V5 strip, Cabrera against PTB-XL order) and, where it prints strips, the candidates
    with strips within RECHECK of its score. With strips, the one whose strips copy their cells most exactly
    (unless that is another vendor's and a common layout's read keeps the limb-lead laws far better); without,
    the lead order whose read obeys Einthoven's and Goldberger's laws clearly better; the margin to the next
    layout."""
    best_score, layout, order = ranked[0]
    first_exact, timing = exactness(order), _timing(order)
    rivals = [(layout, order, first_exact)]
    for sc, lay, o in ranked[1:]:
        # twins share every cell boundary, so their scores differ only by the strips' correlation: always weighed
        if _timing(o) == timing:
            rivals.append((lay, o, exactness(o)))
        elif first_exact is not None and best_score - sc < RECHECK and (e := exactness(o)) is not None:
            rivals.append((lay, o, e))
    notes = []
    known = [e for _, _, e in rivals if e is not None]
    if known and max(known) >= COPY_SURE:
        pick = next(r for r in rivals if r[2] is not None and r[2] >= max(known) - COPY_TIE)
        common = next((r for r in rivals if r[0].name not in VENDOR), None)
        by_copies = pick is not rivals[0]
        if pick[0].name in VENDOR and common is not None:
            # a misread grid cell copies nothing: a common layout whose read keeps the laws far better stays
            laws = [orientation.limb_agreement(assemble(r[1]), fs) for r in (pick, common)]
            if laws[0] is not None and _laws_clearly_better(laws[1], laws[0]):
                notes.append(f"{common[0].name}, not {pick[0].name}: its read keeps the limb-lead laws "
                             f"{laws[1]:.2f} against {laws[0]:.2f}")
                pick, by_copies = common, False
        if by_copies:
            notes.append(f"rhythm strips from their copies: {pick[0].name} matches its cells {pick[2]:.2f}, "
                         f"{layout.name} {first_exact if first_exact is not None else 0:.2f}")
        layout, order = pick[0], pick[1]
    elif not known and len(rivals) > 1:
        # no strip to tell: the limb-lead laws pick the order, and the first registered (PTB-XL's) unless clearly
        # beaten; where strips exist, they never choose among common layouts, whose reads they check afterwards
        agree = [orientation.limb_agreement(assemble(o), fs) for _, o, _ in rivals]
        agree = [-np.inf if a is None else a for a in agree]
        k = int(np.argmax(agree))
        if k > 0 and _laws_clearly_better(agree[k], agree[0]):
            notes.append(f"lead order from the limb-lead laws: {rivals[k][0].name} agrees {agree[k]:.2f}, "
                         f"{layout.name} {agree[0]:.2f}")
            layout, order = rivals[k][0], rivals[k][1]
    rival_names = {lay.name for lay, _, _ in rivals}
    others = [sc for sc, lay, _ in ranked if lay.name not in rival_names]
    margin = best_score - others[0] if others else float(len(order))
    if layout.name == "2x6":
        notes.append("2x6, 6x2 and 6x2-sync print alike; pass --layout 6x2-sync if both columns show 0-5 s")
    return layout, order, margin, notes


LABELS_MIN = 3
"""Cells whose printed label must be read as a candidate says, at least, before the labels have a say: and more
than twice as many as those read as another lead's (a page whose labels the reader does not know, or has none,
is left to the signals)."""
LABELS_LEAD = 2
"""Candidates this far behind the best by the labels (a cell read as printed against one read otherwise: twins
differ in one cell, the rhythm strip) are left out before the signals choose among the rest."""


def by_labels(ranked: list[tuple[float, Layout, Order]], evidence: list[labels.LabelEvidence]
               ) -> tuple[list[tuple[float, Layout, Order]], list[str]]:
    """The candidates the printed labels leave standing, best first as ranked, and a note: those within
    LABELS_LEAD of the best by the labels, where its labels were read (LABELS_MIN); all of them otherwise."""
    scores = np.array([e.score for e in evidence])
    best = evidence[int(np.argmax(scores))]
    if best.matches < LABELS_MIN or best.matches <= 2 * best.contradictions:
        return ranked, []
    kept = [r for r, sc in zip(ranked, scores, strict=True) if sc > scores.max() - LABELS_LEAD]
    if len(kept) == len(ranked):
        return ranked, []
    names = sorted({lay.name for _, lay, _ in kept})
    return kept, [f"printed lead labels: {best.matches} of {best.cells} cells read as {' or '.join(names)} prints "
                  f"them" + (f", {best.contradictions} otherwise" if best.contradictions else "")
                  + f"; {len(ranked) - len(kept)} other reading(s) of the page left out"]


def _row_height(row: RowTrace, x: np.ndarray) -> np.ndarray:
    ok = np.isfinite(row.y)
    if ok.sum() < 2:
        return np.full(np.shape(x), np.nan)
    return np.interp(x, np.flatnonzero(ok), row.y[ok])


def _copies(rows: list[RowTrace], order: Order, x0: float, sec_px: float, ppm: float
            ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every lead printed twice at the same time under `order` (a rhythm strip and its grid cell): the heights of
    one copy [t] and of the other [shifts, t], shifted by up to half a millimetre, as the page shows them (an
    inverted copy turned back)."""
    placed = [(cell, row, pos) for row, cells in zip(rows, order, strict=True)
              for cell, pos in zip(cells, paper_starts(cells), strict=True)]
    shifts = np.arange(-int(0.5 * ppm), int(0.5 * ppm) + 1, dtype=np.float64)
    for i, (ca, ra, pa) in enumerate(placed):
        for cb, rb, pb in placed[i + 1:]:
            t0, t1 = max(ca.start, cb.start), min(ca.end, cb.end)
            if ca.lead != cb.lead or t1 - t0 < 0.5 or ra is rb:
                continue
            t = np.linspace(t0 + 0.05, t1 - 0.05, 200)
            ya = _row_height(ra, x0 + (pa + t - ca.start) * sec_px)
            yb = _row_height(rb, (x0 + (pb + t - cb.start) * sec_px)[None, :] + shifts[:, None])
            yield ca.sign * cb.sign * (ya - ya.mean()), yb - yb.mean(axis=1, keepdims=True)


def duplicate_agreement(rows: list[RowTrace], order: Order, x0: float, sec_px: float, ppm: float) -> float:
    """Sum over leads printed twice at the same time (a rhythm strip and its grid cell) of (r - 0.9) / 0.08,
    clipped to [-0.75, 1], r at the best shift of one copy within half a millimetre.

    A print shows the same samples in both places, so under the right layout and row order the two traces
    correlate almost perfectly; under a wrong one they are different leads, which still share every beat's
    timing and can correlate strongly (adjacent chest leads most of all: at r - 0.5 such pairs outvoted the
    separator ticks between 2x6 and 3x4+3; simulated limb leads reach r 0.98). Renderer-independent
    evidence. A flattened photo can leave two rows a fraction of a millimetre apart in time, which costs a
    true pair's sharp QRS much of its r; and a poorly read copy disagrees too, so disagreement counts less
    than agreement.
    """
    total = 0.0
    for a, b in _copies(rows, order, x0, sec_px, ppm):
        norm = np.sqrt((a ** 2).sum() * (b ** 2).sum(axis=1))
        if np.all(norm > 0):
            r = float(((b @ a) / norm).max())
            total += float(np.clip((r - 0.9) / 0.08, -0.75, 1.0))
    return total


def copy_exactness(rows: list[RowTrace], order: Order, x0: float, sec_px: float, ppm: float) -> float | None:
    """The worst over the leads printed twice of 1 - SSE / (SSa + SSb) at the best shift: 1 for a true copy,
    lower for another lead however well it correlates (it differs in amplitude); None where nothing is printed
    twice. Tells a II strip from a V5 strip where both correlate past the agreement's clip; the worst, as one
    true copy among wrong ones (strips read in the wrong rows) must not carry them."""
    exact = [float(1.0 - (((b - a) ** 2).sum(axis=1) / ((a ** 2).sum() + (b ** 2).sum(axis=1))).min())
             for a, b in _copies(rows, order, x0, sec_px, ppm)]
    exact = [e for e in exact if np.isfinite(e)]
    return float(np.min(exact)) if exact else None
