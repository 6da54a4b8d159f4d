"""ONNX -> INT8 (QDQ, static, calibrated) and FP16, with ONNX Runtime's own tools; no torch.

INT8 quantizes only the dense layers (MatMul/Gemm with a weight initializer), per channel; the attention
products, the mask bias, softmax and LayerNorm stay in float, because a quantized -1e4 bias or softmax is
where masked transformers lose accuracy. Types follow the target: u8 activations / s8 weights on x86 (VNNI),
symmetric s8/s8 for ARM and TensorRT (TensorRT's explicit quantization takes symmetric int8 only).
MinMax calibration: Entropy and Percentile fail when the token count varies between batches.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

import numpy as np
import onnx

Target = Literal["x86", "arm", "tensorrt"]
TARGETS: tuple[str, ...] = ("x86", "arm", "tensorrt")


def dense_matmuls(model: onnx.ModelProto, op_types: tuple[str, ...] = ("MatMul", "Gemm")) -> list[str]:
    """Names of `op_types` nodes whose second input is a weight (an initializer)."""
    weights = {i.name for i in model.graph.initializer}
    return [n.name for n in model.graph.node if n.op_type in op_types and n.input[1] in weights]


class _Reader:
    """ONNX Runtime CalibrationDataReader over pre-made input batches."""

    def __init__(self, batches: list[dict[str, np.ndarray]]) -> None:
        self._it = iter(batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)


def quantize_int8(src: Path, dst: Path, batches: list[dict[str, np.ndarray]], target: Target = "x86",
                  op_types: tuple[str, ...] = ("MatMul", "Gemm"), symbolic_shapes: bool = True,
                  keep_float: tuple[str, ...] = (), percentile: bool = False) -> list[str]:
    """Static QDQ INT8 of `src` into `dst`, quantizing the weighted `op_types` nodes except those whose names
    start with a `keep_float` prefix; returns the quantized node names. The trace segmenter quantizes its
    convolutions at quarter and eighth resolution (segment_train.KEEP_FLOAT), calibrates by percentile (MinMax
    lets one bright page stretch a range), and its upsampling defeats symbolic shape inference
    (`symbolic_shapes` False)."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; use one of {', '.join(TARGETS)}")
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=not symbolic_shapes)
        nodes = [n for n in dense_matmuls(onnx.load(str(pre)), op_types) if not n.startswith(keep_float)]
        symmetric = target != "x86"
        quantize_static(
            str(pre), str(dst), _Reader(batches), quant_format=QuantFormat.QDQ, op_types_to_quantize=list(op_types),
            nodes_to_quantize=nodes, per_channel=True, reduce_range=False,
            activation_type=QuantType.QInt8 if symmetric else QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.Percentile if percentile else CalibrationMethod.MinMax,
            extra_options={"ActivationSymmetric": symmetric, "WeightSymmetric": True},
        )
    model = onnx.load(str(dst))
    del model.graph.value_info[:]      # shape annotations from pre-processing; runtimes infer them again
    onnx.save(model, str(dst))
    return nodes


def convert_fp16(src: Path, dst: Path) -> None:
    """FP16 weights and compute, float32 inputs and outputs; LayerNorm kept in float32 for its variance."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = convert_float_to_float16(onnx.load(str(src)), keep_io_types=True,
                                     op_block_list=["LayerNormalization"])
    onnx.save(model, str(dst))
