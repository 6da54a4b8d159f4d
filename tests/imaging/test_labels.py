"""The lead label reader: windows cut as in training, evidence counted per candidate layout, the network learns
and exports exactly, and the shipped one reads labels (in a face it never trained on too) and settles layouts
that print alike, without torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgeecg.imaging import labels
from edgeecg.imaging.digitize import DigitizeConfig, digitize
from edgeecg.imaging.render import RenderConfig, render


def test_a_window_is_the_row_band_around_a_cell_start_at_the_reading_scale():
    ink = np.zeros((400, 600), np.uint8)
    ink[120:180, :] = 200   # the row's band; above and below it, a neighbour's ink
    ink[:120, :] = 90
    ink[180:, :] = 90
    win = labels.window(ink, x=300.0, baseline=150.0, band=(120.0, 180.0), ppm_x=4.0, ppm_y=4.0)
    assert win.shape == labels.WINDOW_PX
    rows = np.flatnonzero(win.max(axis=1) > 0)   # only the band's 60 px = 15 mm, at 5 px/mm
    assert abs(len(rows) - 15 * labels.PX_PER_MM) <= 2
    assert win.max() == 200 and not win[0].any() and not win[-1].any()   # the neighbours' 90 is cut away
    edge = labels.window(ink, x=5.0, baseline=150.0, band=(120.0, 180.0), ppm_x=4.0, ppm_y=4.0)
    assert not edge[:, : int(5 * labels.PX_PER_MM)].any()   # left of the page: paper


def _probs(best: str, p: float = 0.95) -> np.ndarray:
    out = np.full(len(labels.CLASSES), (1 - p) / (len(labels.CLASSES) - 1))
    out[labels.CLASSES.index(best)] = p
    return out


def test_evidence_counts_sure_reads_for_and_against_a_candidate():
    read_at = {(0, 10.0): _probs("I"), (0, 50.0): _probs("aVR"), (1, 10.0): _probs("-aVR"),
               (1, 50.0): _probs("none"), (2, 10.0): _probs("V1", 0.5)}
    cells = [((0, 10.0), "I", False), ((0, 50.0), "aVL", False), ((1, 10.0), "aVR", True), ((1, 50.0), "II", False),
             ((2, 10.0), "V1", False)]
    ev = labels.evidence(read_at, cells)
    # I and -aVR read surely as printed, aVR where aVL should be; none and the unsure V1 count neither way
    assert (ev.matches, ev.contradictions, ev.cells, ev.score) == (2, 1, 5, 1)


def test_a_broken_label_model_is_refused_with_a_reason(tmp_path):
    bad = tmp_path / "labels.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(labels.LabelReaderError, match="cannot load"):
        labels.LabelReader(bad)
    with pytest.raises(labels.LabelReaderError, match="not found"):
        labels.LabelReader(tmp_path / "missing.onnx")


# the shipped reader

@pytest.mark.parametrize("font", ["simplex", "duplex", "complex", "triplex"])
@pytest.mark.parametrize("position", ["above", "below"])
def test_the_shipped_reader_reads_the_renderers_labels(ecgs, font, position):
    """Every label of a 150 dpi page read surely and right (the renderer's "plain" face prints its labels 1.5 mm
    tall, where I, II and III run together: it is read, but not this well)."""
    page = render(ecgs[0], "3x4+II", RenderConfig(font=font, label_position=position, dpi=150.0))
    truth = page.truth
    base = sorted({c.baseline for c in truth.cells})
    positions = [(base.index(c.baseline), c.x0) for c in truth.cells]
    from edgeecg.imaging.page import darkness

    read_at = labels.read(darkness(page.image)[0], base, positions, truth.px_per_mm, truth.px_per_mm)
    ev = labels.evidence(read_at, [(p, c.lead, c.inverted) for p, c in zip(positions, truth.cells, strict=True)])
    assert ev.matches >= 11 and ev.contradictions == 0, ev


def test_an_unlabelled_print_reads_as_no_labels(ecgs):
    page = render(ecgs[1], "3x4+II", RenderConfig(label_position="none"))
    truth = page.truth
    base = sorted({c.baseline for c in truth.cells})
    from edgeecg.imaging.page import darkness

    read_at = labels.read(darkness(page.image)[0], base, [(base.index(c.baseline), c.x0) for c in truth.cells],
                          truth.px_per_mm, truth.px_per_mm)
    ev = labels.evidence(read_at, [((base.index(c.baseline), c.x0), c.lead, c.inverted) for c in truth.cells])
    assert ev.matches + ev.contradictions <= 1


@pytest.mark.parametrize("layout", ["3x4+V1", "3x4+V5", "6x2-cabrera"])
def test_vendor_layouts_are_read_from_their_labels(ecgs, layout):
    page = render(ecgs[2], layout, RenderConfig(dpi=150.0))
    out = digitize(page.image, DigitizeConfig(fs=100.0))
    assert out.quality.layout == layout
    assert any("printed lead labels" in n for n in out.quality.notes), out.quality.notes


def test_a_rhythm_strip_on_top_is_placed_by_its_label(ecgs):
    page = render(ecgs[3], "3x4+II", RenderConfig(rhythm_position="top", dpi=150.0))
    out = digitize(page.image, DigitizeConfig(fs=100.0))
    assert out.quality.layout == "3x4+II"
    assert [c.lead for c in out.cells if c.row == 0] == ["II"]


def test_reading_labels_never_imports_torch():
    code = ("import sys; sys.modules['torch'] = None; "
            "from edgeecg.data.synth import SynthConfig, simulate; from edgeecg.imaging.render import render; "
            "from edgeecg.imaging.digitize import DigitizeConfig, digitize; "
            "rec = simulate(1, SynthConfig(fs=100.0), seed=3).records()[0]; "
            "out = digitize(render(rec, '3x4+V1').image, DigitizeConfig(fs=100.0)); "
            "assert out.quality.layout == '3x4+V1', out.quality")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
