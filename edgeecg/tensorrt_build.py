"""TensorRT engines from the exported ONNX (FP16, or explicit INT8 from the QDQ model), imported lazily.

The implicit INT8 calibrators are deprecated since TensorRT 10.1, so INT8 engines come from the QDQ ONNX
(explicit quantization). One optimization profile spans the token count: min 1 patch, opt a 3x4+II print,
max the full 12x1 record; batch from 1 to `max_batch`.
"""

from __future__ import annotations

from pathlib import Path

from edgeecg.runtime import INPUTS

OPT_TOKENS = 30      # a 3x4 print with a lead II rhythm strip: the most common hospital layout


class TensorRTUnavailable(RuntimeError):
    """TensorRT or an NVIDIA GPU is missing where an engine was asked for."""


def _tensorrt():
    try:
        import tensorrt as trt
    except ImportError:
        raise TensorRTUnavailable("--trt needs the TensorRT Python package and an NVIDIA GPU (on a Jetson it ships "
                                  "with JetPack; see devices/README.md). The ONNX files were written.") from None
    return trt


def profile_shapes(max_tokens: int, max_batch: int, patch_len: int) -> dict[str, tuple[tuple[int, ...], ...]]:
    """(min, opt, max) shape per input for the optimization profile."""
    shapes = {}
    for name in INPUTS:
        tail = (patch_len,) if name == "patches" else ()
        shapes[name] = ((1, 1, *tail), (1, min(OPT_TOKENS, max_tokens), *tail), (max_batch, max_tokens, *tail))
    return shapes


def build_engine(onnx_path: Path, engine_path: Path, precision: str, max_tokens: int, max_batch: int) -> dict:
    """Parses the ONNX, builds and serializes an engine; returns the versions that went into it."""
    trt = _tensorrt()
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_path.read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise TensorRTUnavailable(f"TensorRT cannot parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    if precision == "fp16":
        config.set_flag(trt.BuilderFlag.FP16)
    elif precision == "int8":
        config.set_flag(trt.BuilderFlag.INT8)   # scales come from the QDQ nodes (explicit quantization)
        config.set_flag(trt.BuilderFlag.FP16)
    patch_len = network.get_input(0).shape[-1]
    profile = builder.create_optimization_profile()
    for name, (lo, opt, hi) in profile_shapes(max_tokens, max_batch, patch_len).items():
        profile.set_shape(name, lo, opt, hi)
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise TensorRTUnavailable(f"TensorRT failed to build a {precision} engine from {onnx_path}")
    engine_path.write_bytes(bytes(serialized))
    return {"tensorrt": trt.__version__, "precision": precision,
            "profile_tokens": [1, min(OPT_TOKENS, max_tokens), max_tokens], "max_batch": max_batch}
