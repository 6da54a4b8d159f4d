"""The trace segmenter: it learns, its exports match torch, INT8 matches FP32, the shipped one runs without torch
and finds the traces (not the text, stamps and handwriting) on pages it never trained on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgeecg.imaging import segment
from edgeecg.imaging.render import RenderConfig, render

torch = pytest.importorskip("torch", reason="training and export need torch (the train extra)")

from edgeecg.imaging.segment_net import TraceNet, TraceNetConfig  # noqa: E402
from edgeecg.imaging.segment_train import (  # noqa: E402
    SegmentTrainConfig,
    _crops,
    export,
    iou,
    loss_fn,
    target,
    torch_probability,
    training_page,
)


@pytest.fixture(scope="module")
def pages():
    return [training_page(s) for s in (11, 12, 13)]


def test_training_pages_pair_the_image_with_the_pen(pages):
    for x, y in pages:
        assert x.shape[0] == 3 and x.shape[1] == 2 * y.shape[0] and x.shape[2] == 2 * y.shape[1]
        assert 0.005 < y.mean() < 0.12
        # where the truth says trace, the page is darker than the paper around it
        dark = 1 - x.min(axis=0)[::2, ::2][: y.shape[0], : y.shape[1]]
        assert dark[y > 0].mean() > dark[y == 0].mean() + 0.15


def test_a_training_step_lowers_the_loss(pages):
    torch.manual_seed(0)
    net = TraceNet(TraceNetConfig(widths=(8, 16, 16)))
    x, y = _crops(pages, 6, 128, np.random.default_rng(0))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    first = float(loss_fn(net(x), y))
    for _ in range(40):
        loss = loss_fn(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss_fn(net(x), y)) < 0.8 * first


def test_the_decoder_merges_as_a_convolution_over_the_concatenation():
    # each skip is added without concatenating it (segment_net._merged): the function of a U-Net that concatenates
    torch.manual_seed(2)
    net = TraceNet(TraceNetConfig(widths=(4, 6, 8))).eval()
    up = torch.nn.functional.interpolate
    with torch.no_grad():
        for name, p in net.named_parameters():   # weights that keep the signal's scale, biases that matter
            p.normal_(0.0, 0.5 if name.endswith("bias") else (2.0 / p[0].numel()) ** 0.5)
        x = torch.randn(1, 3, 48, 64)
        x1 = net.e1(net.stem(x))
        x2 = net.e2(x1)
        y = net.u2(torch.cat([up(net.e3(x2), scale_factor=2.0), x2], 1))
        concatenated = net.head(net.u1(torch.cat([up(y, scale_factor=2.0), x1], 1)))
        merged = net(x)
    assert merged.shape == concatenated.shape == (1, 1, 24, 32) and float(concatenated.std()) > 0.05
    assert torch.allclose(merged, concatenated, rtol=1e-5, atol=1e-5)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, pages):
    torch.manual_seed(1)
    net = TraceNet(TraceNetConfig(widths=(8, 16, 16))).eval()
    out = tmp_path_factory.mktemp("seg")
    card = export(net, SegmentTrainConfig(net=TraceNetConfig(widths=(8, 16, 16))), out, pages)
    return net, out, card


def test_onnx_matches_torch_at_any_page_size(exported, pages):
    net, out, card = exported
    assert card["validation"]["max_abs_torch"] < 1e-4
    seg = segment.Segmenter(out / segment.PRECISIONS["fp32"])
    x = pages[0][0][:, :200, :320]   # another size than export saw
    z = seg.logits(np.ascontiguousarray(x[None]))[0, 0]
    assert np.abs(1 / (1 + np.exp(-z)) - torch_probability(net, x)).max() < 1e-4


def test_export_segmenter_reexports_trained_weights_without_training(exported, pages, tmp_path):
    """The weights read back from the FP32 ONNX and exported again: the same network, the training run's figures
    kept, its held-out pages redrawn from its card; nothing in --out replaced unasked; another ONNX refused."""
    import json

    from typer.testing import CliRunner

    from edgeecg.cli import app

    _, src, _ = exported
    (src / "segmenter.json").write_text(json.dumps({"train": {"pages": 2, "val_pages": 2, "seed": 5},
                                                    "first_loss": 1.5, "final_loss": 0.2}))
    out = tmp_path / "re"
    ran = CliRunner().invoke(app, ["export-segmenter", str(src / "trace.onnx"), "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    card = json.loads((out / "segmenter.json").read_text())
    assert card["validation"]["pages"] == 2 and card["first_loss"] == 1.5 and len(card["reexported_from"]) == 64
    x = np.ascontiguousarray(pages[0][0][None])
    before = segment.Segmenter(src / "trace.onnx").logits(x)
    assert np.abs(segment.Segmenter(out / "trace.onnx").logits(x) - before).max() < 1e-4
    written = (out / "trace.int8.onnx").read_bytes()
    again = CliRunner().invoke(app, ["export-segmenter", str(src / "trace.onnx"), "--out", str(out)])
    assert again.exit_code == 2 and "pass --overwrite" in again.output
    assert (out / "trace.int8.onnx").read_bytes() == written
    other = CliRunner().invoke(app, ["export-segmenter", str(src / "trace.int8.onnx"), "--out", str(tmp_path / "x")])
    assert other.exit_code == 2 and "not a trace segmenter's FP32 ONNX" in other.output
    (src / "segmenter.json").write_text("{")   # a broken card beside the model: named, nothing written
    broken = CliRunner().invoke(app, ["export-segmenter", str(src / "trace.onnx"), "--out", str(tmp_path / "y")])
    said = " ".join(broken.output.replace("│", " ").split())   # the error box wraps long paths
    assert broken.exit_code == 2 and "is not a segmenter card" in said and not (tmp_path / "y").exists()


def test_a_broken_segmenter_file_is_refused_with_the_way_out(tmp_path):
    bad = tmp_path / "trace.int8.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(segment.SegmenterError, match="--tracer classical"):
        segment.Segmenter(bad)
    with pytest.raises(segment.SegmenterError, match="not found"):
        segment.Segmenter(tmp_path / "missing.onnx")


# the shipped network, on pages drawn from seeds and records it never trained on
HELD_OUT = [(s, style) for s in (101, 102) for style in ("wide", "foreign")]


@pytest.fixture(scope="module")
def held_out(ecgs):
    from edgeecg.imaging.bench import STYLES

    out = []
    for seed, style in HELD_OUT:
        page = render(ecgs[seed % len(ecgs)], "3x4+II", STYLES[style](np.random.default_rng(seed)))
        out.append(page)
    return out


def test_shipped_int8_masks_match_fp32(held_out):
    fp32, int8 = segment.load("fp32"), segment.load("int8")
    for page in held_out:
        x, (h, w) = segment.net_input(page.image)
        m32 = fp32.logits(x)[0, 0, : h // 2, : w // 2] >= 0
        m8 = int8.logits(x)[0, 0, : h // 2, : w // 2] >= 0
        assert iou(m8, m32) >= 0.95


def test_shipped_segmenter_finds_the_trace_and_not_the_rest(held_out):
    for page in held_out:
        x, hw = segment.net_input(page.image)
        pred = segment.load("int8").logits(x)[0, 0, : hw[0] // 2, : hw[1] // 2] >= 0
        assert iou(pred, target(page.trace, hw)) >= 0.6


def test_the_network_keeps_the_trace_and_drops_some_of_the_rest(ecgs):
    """Handwriting, a stamp and a header on the page: the classical mask keeps all of them; the network keeps
    the trace and drops part of what lies over 1 mm away from it (most redactions, a quarter of text-like
    strokes: a weak filter, which is why it is opt-in)."""
    from edgeecg.imaging.page import darkness, ink_threshold

    cfg = RenderConfig(marks=("handwriting", "stamp", "header"), marks_seed=7)
    page = render(ecgs[1], "3x4+II", cfg)
    ink, _ = darkness(page.image)
    classical = ink > ink_threshold(ink)
    gated = classical & (segment.near_trace(segment.load().probability(page.image), 2) > 0)
    import cv2

    ppm = cfg.px_per_mm   # ink more than 1 mm from any trace: text, stamp and handwriting
    far = cv2.dilate((page.trace > 0).astype(np.uint8), np.ones((2 * int(ppm) + 1,) * 2, np.uint8)) == 0
    assert (gated & far).sum() < 0.9 * (classical & far).sum()   # measured 0.72: text-like strokes pass
    on_trace = page.trace >= 200
    assert gated[on_trace].mean() > 0.97


def test_digitizing_with_the_network_never_imports_torch():
    code = ("import sys; sys.modules['torch'] = None; import numpy as np; "
            "from edgeecg.data.synth import SynthConfig, simulate; from edgeecg.imaging.render import render; "
            "from edgeecg.imaging.digitize import DigitizeConfig, digitize; "
            "rec = simulate(1, SynthConfig(fs=100.0), seed=3).records()[0]; "
            "out = digitize(render(rec, '3x4+II').image, DigitizeConfig(fs=100.0, tracer='net')); "
            "assert out.quality.tracer == 'net' and out.quality.completeness > 0.6")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr
