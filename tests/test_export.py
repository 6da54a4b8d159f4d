"""Export: ONNX FP32 parity with torch on ragged inputs, INT8 QDQ structure and size, FP16 finiteness, manifest,
refused flag combinations, and the TensorRT path as far as it goes without a GPU."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import onnx
import pytest

from edgeecg.export import FP32_TOLERANCE, ExportConfig, export
from edgeecg.quantize import dense_matmuls
from edgeecg.record import RecordError
from edgeecg.tensorrt_build import TensorRTUnavailable, build_engine, profile_shapes


def test_manifest_names_source_precisions_and_parity(tiny_export: Path) -> None:
    manifest = json.loads((tiny_export / "export" / "export.json").read_text())
    assert len(manifest["checkpoint_sha256"]) == 64 and manifest["opset"] >= 17
    assert manifest["calibration_set"] and manifest["versions"]["onnxruntime"]
    fp32 = manifest["files"]["fp32"]["parity_vs_torch"]
    assert fp32["max_abs_logit_diff"] <= FP32_TOLERANCE and fp32["single_patch_logit_diff"] <= FP32_TOLERANCE
    assert manifest["files"]["fp16"]["parity_vs_torch"]["finite"]
    assert manifest["files"]["fp16"]["parity_vs_torch"]["max_abs_logit_diff"] < 0.05


def test_fp32_graph_is_valid_with_dynamic_batch_and_tokens(tiny_export: Path) -> None:
    model = onnx.load(str(tiny_export / "export" / "model.onnx"))
    onnx.checker.check_model(model, full_check=True)
    dims = {i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    assert dims["patches"][:2] == ["batch", "tokens"] and dims["valid"] == ["batch", "tokens"]
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["edgeecg.labels"])[0] == "NORM" and meta["edgeecg.precision"] == "fp32"


def test_int8_quantizes_only_dense_layers(tiny_export: Path) -> None:
    fp32 = onnx.load(str(tiny_export / "export" / "model.onnx"))
    int8 = onnx.load(str(tiny_export / "export" / "model.int8.onnx"))
    producer = {o: n for n in int8.graph.node for o in n.output}
    weights = {i.name for i in int8.graph.initializer}
    for dq in (n for n in int8.graph.node if n.op_type == "DequantizeLinear"):
        consumers = [n for n in int8.graph.node if dq.output[0] in n.input]
        if dq.input[0] in weights:            # an int8 weight: only dense layers use one
            assert {c.op_type for c in consumers} <= {"MatMul", "Gemm"}, dq.name
            continue
        source = producer[producer[dq.input[0]].input[0]]    # DQ <- Q <- the op whose output was quantized
        for c in consumers:                   # float ops may only read a dense layer's dequantized output
            assert c.op_type in ("MatMul", "Gemm") or source.op_type in ("MatMul", "Gemm"), (c.op_type, dq.name)
            assert c.op_type not in ("Softmax", "LayerNormalization", "Conv", "Gather"), c.name
    weights8 = [i for i in int8.graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert len(weights8) >= len(dense_matmuls(fp32)) > 0
    assert (tiny_export / "export" / "model.int8.onnx").stat().st_size < (tiny_export / "export" / "model.onnx"
                                                                           ).stat().st_size


@pytest.mark.parametrize("flags, message", [
    ({"trt": True}, "add --fp16 and/or --int8"),
    ({"trt": True, "int8": True}, "--target tensorrt"),
    ({"int8": True, "target": "riscv"}, "unknown --target"),
    ({"calibration": Path("x")}, "only matters for --int8"),
    ({"opset": 13}, "opset 13 is too old"),
])
def test_refused_flag_combinations(flags: dict, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        ExportConfig(Path("ckpt"), **flags).check()


def test_baseline_checkpoint_refused(tmp_path: Path) -> None:
    from edgeecg.checkpoint import save_checkpoint
    from edgeecg.model import Baseline1D, BaselineConfig
    from edgeecg.tokens import TokenizerConfig

    save_checkpoint(tmp_path / "b", Baseline1D(BaselineConfig(3)), "baseline", ("a", "b", "c"), TokenizerConfig(), {})
    with pytest.raises(RecordError, match="export takes PatchECG"):
        export(ExportConfig(tmp_path / "b", tmp_path / "out"), progress=lambda *_: None)


def test_trt_without_tensorrt_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    with pytest.raises(TensorRTUnavailable, match="needs the TensorRT Python package"):
        build_engine(tmp_path / "m.onnx", tmp_path / "m.engine", "fp16", 96, 16)


def test_profile_spans_one_patch_to_full_record() -> None:
    shapes = profile_shapes(96, 16, 125)
    assert shapes["patches"] == ((1, 1, 125), (1, 30, 125), (16, 96, 125))
    assert shapes["valid"] == ((1, 1), (1, 30), (16, 96))


def test_engine_build_sets_flags_and_profile_for_every_input(monkeypatch: pytest.MonkeyPatch,
                                                              tiny_export: Path, tmp_path: Path) -> None:
    """A stand-in `tensorrt` module records what the builder is asked for (no GPU needed)."""
    calls: dict[str, list] = {"flags": [], "shapes": []}

    class Input:
        shape = (-1, -1, 125)

    class Network:
        def get_input(self, i: int) -> Input:
            return Input()

    class Parser:
        num_errors = 0

        def __init__(self, network, logger) -> None:
            pass

        def parse(self, data: bytes) -> bool:
            return data[:2] != b""

    class Profile:
        def set_shape(self, name, lo, opt, hi) -> None:
            calls["shapes"].append((name, lo, opt, hi))

    class Config:
        def set_flag(self, flag) -> None:
            calls["flags"].append(flag)

        def add_optimization_profile(self, profile) -> None:
            calls["profile"] = profile

    class Builder:
        def __init__(self, logger) -> None:
            pass

        def create_network(self, flags: int) -> Network:
            return Network()

        def create_builder_config(self) -> Config:
            return Config()

        def create_optimization_profile(self) -> Profile:
            return Profile()

        def build_serialized_network(self, network, config) -> bytes:
            return b"engine-bytes"

    fake = types.SimpleNamespace(Logger=type("Logger", (), {"WARNING": 1, "__init__": lambda self, level: None}),
                                 Builder=Builder, OnnxParser=Parser, __version__="10.3.0",
                                 BuilderFlag=types.SimpleNamespace(FP16="FP16", INT8="INT8"))
    monkeypatch.setitem(sys.modules, "tensorrt", fake)
    out = build_engine(tiny_export / "export" / "model.int8.onnx", tmp_path / "m.engine", "int8", 96, 8)
    assert calls["flags"] == ["INT8", "FP16"] and out["profile_tokens"] == [1, 30, 96]
    assert {s[0] for s in calls["shapes"]} == {"patches", "lead", "slot", "valid"}
    assert (tmp_path / "m.engine").read_bytes() == b"engine-bytes"


def _has_gpu_tensorrt() -> bool:
    try:
        import tensorrt  # noqa: F401
        from cuda.bindings import runtime as cudart
    except ImportError:
        return False
    err, count = cudart.cudaGetDeviceCount()
    return int(err) == 0 and count > 0


@pytest.mark.tensorrt
@pytest.mark.skipif(not _has_gpu_tensorrt(), reason="needs TensorRT, cuda-python and an NVIDIA GPU")
def test_real_fp16_engine_matches_onnx(tiny_export: Path, tmp_path: Path) -> None:
    from edgeecg.runtime import Runtime

    engine = tmp_path / "model.fp16.engine"
    build_engine(tiny_export / "export" / "model.fp16.onnx", engine, "fp16", 96, 4)
    engine.with_suffix(".json").write_text(json.dumps(
        Runtime(tiny_export / "export" / "model.onnx").info.to_metadata()))
    sig = np.random.default_rng(0).standard_normal((3, 12, 1000)).astype(np.float32)
    a = Runtime(engine).predict_batch(sig, 100)
    b = Runtime(tiny_export / "export" / "model.onnx").predict_batch(sig, 100)
    np.testing.assert_allclose(a, b, atol=5e-3)


def test_validation_thresholds_travel_into_the_model_file(tmp_path: Path) -> None:
    import torch

    from edgeecg.checkpoint import save_checkpoint
    from edgeecg.data.synth_conditions import SYNTH_LABELS
    from edgeecg.model import PatchECG, PatchECGConfig
    from edgeecg.runtime import Runtime
    from edgeecg.tokens import TokenizerConfig

    torch.manual_seed(0)
    model = PatchECG(PatchECGConfig(n_labels=len(SYNTH_LABELS), dim=16, depth=1, heads=2)).eval()
    chosen = {name: round(0.1 + 0.05 * k, 2) for k, name in enumerate(SYNTH_LABELS)}
    save_checkpoint(tmp_path / "ckpt", model, "patchecg", SYNTH_LABELS, TokenizerConfig(),
                    {"data": {"spec": "synth"}, "thresholds": chosen, "thresholds_from": "validation, test"})
    export(ExportConfig(tmp_path / "ckpt", tmp_path / "out"), progress=lambda *_: None)
    info = Runtime(tmp_path / "out" / "model.onnx").info
    assert info.thresholds == tuple(chosen.values()) and info.thresholds_from == "validation, test"
