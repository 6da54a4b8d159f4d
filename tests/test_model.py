"""PatchECG: masking semantics, FP16-safe bias, size of the presets, ONNX export with dynamic tokens."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeecg.export import export_onnx
from edgeecg.layouts import apply
from edgeecg.model import (
    MASK_BIAS,
    Baseline1D,
    BaselineConfig,
    PatchECG,
    PatchECGConfig,
    count_parameters,
    patchecg_flops,
)
from edgeecg.runtime import ModelInfo
from edgeecg.tokens import TokenizerConfig, tokenize, tokenize_batch

TOK = TokenizerConfig()


def _model(**overrides) -> PatchECG:
    torch.manual_seed(0)
    return PatchECG(PatchECGConfig(n_labels=5, dropout=0.0, **overrides)).eval()


def _inputs(n_records: int = 3, layout: str = "3x4") -> tuple[torch.Tensor, ...]:
    rng = np.random.default_rng(0)
    sig = rng.standard_normal((n_records, 12, 1000)).astype(np.float32)
    sig = np.stack([apply(s, layout, 100) for s in sig])
    t = tokenize_batch(sig, 100, TOK)
    return tuple(torch.from_numpy(a) for a in (t.patches, t.lead, t.slot, t.valid))


@pytest.mark.parametrize("encoder", ["linear", "cnn"])
@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_padding_does_not_change_the_output(encoder: str, pooling: str) -> None:
    model = _model(encoder=encoder, pooling=pooling)
    patches, lead, slot, valid = _inputs()
    ref = model(patches, lead, slot, valid)
    extra = 10   # pad with garbage: masked keys must not leak into any output
    pad = lambda x, v: torch.cat([x, torch.full((x.shape[0], extra, *x.shape[2:]), v, dtype=x.dtype)], 1)  # noqa: E731
    out = model(pad(patches, 7.0), pad(lead, 3), pad(slot, 5), pad(valid, False))
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_masked_keys_matter_when_valid() -> None:
    """The mask is on the key axis: turning a padded token valid changes the result."""
    model = _model()
    patches, lead, slot, valid = _inputs()
    a = model(patches, lead, slot, valid)
    valid2 = valid.clone()
    valid2[:, -1] = True
    patches2 = patches.clone()
    patches2[:, -1] = 3.0
    assert not torch.allclose(a, model(patches2, lead, slot, valid2))


def test_single_present_patch_is_finite_in_fp32_and_fp16() -> None:
    model = _model()
    sig = np.full((12, 1000), np.nan, np.float32)
    sig[4, 250:375] = np.sin(np.arange(125) / 10)
    t = tokenize(sig, 100, TOK)
    assert len(t) == 1
    batch = tokenize_batch(np.stack([sig, sig]), 100, TOK, n_max=TOK.max_tokens)
    args = [torch.from_numpy(a) for a in (batch.patches, batch.lead, batch.slot, batch.valid)]
    out = model(*args)
    assert torch.isfinite(out).all()
    half = model.half()
    out16 = half(args[0].half(), *args[1:])
    assert torch.isfinite(out16).all()
    torch.testing.assert_close(out16.float(), out, atol=5e-2, rtol=5e-2)


def test_mask_bias_is_fp16_safe() -> None:
    assert np.isfinite(np.float16(MASK_BIAS)) and np.isfinite(np.float16(2 * MASK_BIAS))
    assert MASK_BIAS * 1 > np.finfo(np.float16).min


def test_edge_preset_under_two_million_and_paper_close_to_released() -> None:
    edge = PatchECG(PatchECGConfig.preset("edge", n_labels=23))
    paper = PatchECG(PatchECGConfig.preset("paper", n_labels=23))
    assert count_parameters(edge) <= 2_000_000
    assert paper.cfg.dim == 768 and paper.cfg.depth == 3 and paper.cfg.heads == 8
    assert count_parameters(paper) > 10 * count_parameters(edge)
    assert patchecg_flops(edge.cfg, 24) < patchecg_flops(edge.cfg, 96) < patchecg_flops(paper.cfg, 96)


@pytest.mark.parametrize("encoder", ["linear", "cnn"])
def test_flops_formula_matches_profiler(encoder: str) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    cfg = PatchECGConfig(n_labels=23, encoder=encoder, dropout=0.0)
    model = PatchECG(cfg).eval()
    n = 48
    args = (torch.zeros(1, n, cfg.patch_len), torch.zeros(1, n, dtype=torch.long),
            torch.zeros(1, n, dtype=torch.long), torch.ones(1, n, dtype=torch.bool))
    with FlopCounterMode(display=False) as counter:
        model(*args)
    assert patchecg_flops(cfg, n) == pytest.approx(counter.get_total_flops(), rel=0.02)


def test_preset_refuses_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown preset"):
        PatchECGConfig.preset("huge", n_labels=3)


def test_onnx_export_with_dynamic_token_count(tmp_path) -> None:
    ort = pytest.importorskip("onnxruntime")
    model = _model()
    patches, lead, slot, valid = _inputs(2, "3x4")
    path = tmp_path / "m.onnx"
    export_onnx(model, path, ModelInfo(("a", "b", "c", "d", "e"), TOK, "fp32", ""), opset=17)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for layout, n_rec in (("12x1", 1), ("3x4+II", 3)):
        args = _inputs(n_rec, layout)
        got = sess.run(None, {k: v.numpy() for k, v in zip(("patches", "lead", "slot", "valid"), args, strict=True)})[0]
        np.testing.assert_allclose(got, model(*args).detach().numpy(), atol=1e-4)


def test_baseline_runs_on_full_signals() -> None:
    model = Baseline1D(BaselineConfig(n_labels=4)).eval()
    assert model(torch.zeros(2, 12, 1000)).shape == (2, 4)
