"""`edgeecg export`: a PatchECG checkpoint -> ONNX FP32, INT8 (QDQ), FP16 and TensorRT, each checked for parity.

| format    | flag     | file                     | precision                         | runs on                    |
| --------- | -------- | ------------------------ | --------------------------------- | -------------------------- |
| onnx-fp32 | (always) | model.onnx               | float32                           | ORT CPU, CUDA, TensorRT EP |
| onnx-int8 | --int8   | model.int8.onnx          | int8 QDQ dense layers, float rest | ORT CPU (x86, ARM); TRT    |
| onnx-fp16 | --fp16   | model.fp16.onnx          | float16 inside, float32 in/out    | GPU: CUDA / TRT EP, TRT    |
| tensorrt  | --trt    | model.{fp16,int8}.engine | from the FP16 or QDQ INT8 ONNX    | NVIDIA GPU / Jetson, TRT10 |

Every export writes `export/NAME/export.json`: source checkpoint hash, opset, precisions, calibration set id,
file sizes, ONNX Runtime / TensorRT versions and the parity figures. FP32 parity against torch is a gate
(max |logit diff| above 1e-4 fails the export), on ragged records including one with a single present patch.
"""

from __future__ import annotations

import json
import platform
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx
import torch

from edgeecg import calibration
from edgeecg.checkpoint import WEIGHTS, load_checkpoint, sha256_file
from edgeecg.layouts import condition_masks, masked
from edgeecg.quantize import TARGETS, Target, convert_fp16, quantize_int8
from edgeecg.record import RecordError
from edgeecg.runtime import INPUTS, MODEL_FILES, ModelInfo, Runtime, sigmoid
from edgeecg.tokens import PaddedTokens, TokenizerConfig, pad, tokenize_batch

FP32_TOLERANCE = 1e-4


@dataclass
class ExportConfig:
    """Which formats to make; `--trt` builds from the FP16 and/or INT8 ONNX, so it needs one of them."""

    checkpoint: Path
    out: Path | None = None
    int8: bool = False
    fp16: bool = False
    trt: bool = False
    target: Target = "x86"
    calibration: Path | None = None
    opset: int = 17
    trt_max_batch: int = 16

    def check(self) -> None:
        if self.trt and not (self.fp16 or self.int8):
            raise RecordError("--trt builds a TensorRT engine from the FP16 or INT8 model: add --fp16 and/or --int8")
        if self.target not in TARGETS:
            raise RecordError(f"unknown --target {self.target!r}; use one of {', '.join(TARGETS)}")
        if self.trt and self.int8 and self.target != "tensorrt":
            raise RecordError("--trt --int8 needs symmetric int8 (TensorRT explicit quantization): "
                              "add --target tensorrt")
        if self.calibration is not None and not self.int8:
            raise RecordError("--calibration only matters for --int8")
        if self.opset < 17:
            raise RecordError(f"opset {self.opset} is too old: LayerNormalization needs opset >= 17")


def export_onnx(model: torch.nn.Module, path: Path, info: ModelInfo, opset: int) -> None:
    """FP32 ONNX with dynamic batch and token count; the mask bias is computed in the graph from `valid`."""
    tok = info.tokenizer
    n = 7
    index = torch.zeros(2, n, dtype=torch.long)
    example = (torch.zeros(2, n, tok.patch_len), index, index, torch.ones(2, n, dtype=torch.bool))
    with warnings.catch_warnings():     # the TorchScript exporter is deliberate: dynamic axes, no onnxscript
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model.eval(), example, str(path), input_names=list(INPUTS), output_names=["logits"],
                          opset_version=opset, dynamo=False,
                          dynamic_axes={**{k: {0: "batch", 1: "tokens"} for k in INPUTS}, "logits": {0: "batch"}})
    proto = onnx.load(str(path))
    for key, value in info.to_metadata().items():
        proto.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(path))


def parity_records(tok: TokenizerConfig, n_per_condition: int = 2, seed: int = 0) -> list[PaddedTokens]:
    """Ragged single-record batches over every condition, plus one record with a single present patch."""
    from edgeecg.data.synth import SynthConfig, simulate
    from edgeecg.layouts import CONDITIONS

    sig = simulate(n_per_condition * len(CONDITIONS), SynthConfig(fs=tok.fs, duration=tok.duration), seed).signals
    masks = np.concatenate([condition_masks(c, n_per_condition, tok.fs, sig.shape[-1], seed) for c in CONDITIONS])
    single = np.full_like(sig[:1], np.nan)
    single[0, 1, :tok.patch_len] = sig[0, 1, :tok.patch_len]
    signals = np.concatenate([masked(sig, masks), single])
    return [pad([t]) for t in tokenize_batch(signals, tok.fs, tok).ragged()]


def torch_logits(model: torch.nn.Module, tokens: PaddedTokens) -> np.ndarray:
    with torch.no_grad():
        return model(*(torch.from_numpy(getattr(tokens, k)) for k in INPUTS)).numpy()


def compare(reference: list[np.ndarray], runtime: Runtime, records: list[PaddedTokens]) -> dict[str, float]:
    """Max |logit diff| and |prob diff| of a runtime against reference logits; NaN/inf counted."""
    got = [runtime.logits(r) for r in records]
    ref, out = np.concatenate(reference), np.concatenate(got)
    finite = bool(np.isfinite(out).all())
    return {"max_abs_logit_diff": float(np.abs(out - ref).max()) if finite else float("inf"),
            "max_abs_prob_diff": float(np.abs(sigmoid(out) - sigmoid(ref)).max()) if finite else float("inf"),
            "finite": finite, "records": len(records),
            "single_patch_logit_diff": float(np.abs(got[-1] - reference[-1]).max()) if finite else float("inf")}


def export(cfg: ExportConfig, progress=print) -> dict:
    """Runs the export; returns the manifest (also written to OUT/export.json)."""
    cfg.check()
    ck = load_checkpoint(cfg.checkpoint)
    if ck.kind != "patchecg":
        raise RecordError(f"{cfg.checkpoint} is a {ck.kind} checkpoint; export takes PatchECG checkpoints")
    out = cfg.out or Path("export") / Path(cfg.checkpoint).name
    out.mkdir(parents=True, exist_ok=True)
    source_hash = sha256_file(Path(cfg.checkpoint) / WEIGHTS)
    info = model_info(ck, "fp32", source_hash)
    records = parity_records(ck.tokenizer)
    reference = [torch_logits(ck.model, r) for r in records]
    files: dict[str, dict] = {}

    fp32 = out / MODEL_FILES["fp32"]
    export_onnx(ck.model, fp32, info, cfg.opset)
    parity = compare(reference, Runtime(fp32, ["CPUExecutionProvider"]), records)
    files["fp32"] = {"file": fp32.name, "bytes": fp32.stat().st_size, "parity_vs_torch": parity}
    progress(f"onnx fp32: {fp32} ({fp32.stat().st_size / 1e6:.2f} MB), max |logit diff| vs torch "
             f"{parity['max_abs_logit_diff']:.2e} (single patch {parity['single_patch_logit_diff']:.2e})")
    if not parity["finite"] or parity["max_abs_logit_diff"] > FP32_TOLERANCE:
        raise RecordError(f"ONNX FP32 differs from torch by {parity['max_abs_logit_diff']:.2e} > {FP32_TOLERANCE}")

    cal_id = None
    if cfg.int8:
        cal = (calibration.load(cfg.calibration) if cfg.calibration
               else calibration.build(calibration.Recipe(), ck.tokenizer))
        cal_id = cal.digest
        int8 = out / MODEL_FILES["int8"]
        nodes = quantize_int8(fp32, int8, cal.batches(32), cfg.target)
        set_metadata(int8, model_info(ck, f"int8-{cfg.target}", source_hash))
        parity = compare(reference, Runtime(int8, ["CPUExecutionProvider"]), records)
        files["int8"] = {"file": int8.name, "bytes": int8.stat().st_size, "quantized_nodes": len(nodes),
                         "target": cfg.target, "size_vs_fp32": int8.stat().st_size / fp32.stat().st_size,
                         "parity_vs_torch": parity}
        progress(f"onnx int8 ({cfg.target}, {len(nodes)} dense layers, calibration {cal_id[:12]}): {int8} "
                 f"({int8.stat().st_size / 1e6:.2f} MB, {files['int8']['size_vs_fp32']:.0%} of fp32), "
                 f"max |prob diff| {parity['max_abs_prob_diff']:.4f}")
    if cfg.fp16:
        fp16 = out / MODEL_FILES["fp16"]
        convert_fp16(fp32, fp16)
        set_metadata(fp16, model_info(ck, "fp16", source_hash))
        parity = compare(reference, Runtime(fp16, ["CPUExecutionProvider"]), records)
        files["fp16"] = {"file": fp16.name, "bytes": fp16.stat().st_size, "parity_vs_torch": parity}
        progress(f"onnx fp16: {fp16} ({fp16.stat().st_size / 1e6:.2f} MB), finite on masked inputs: "
                 f"{parity['finite']}, max |logit diff| {parity['max_abs_logit_diff']:.2e}")
        if not parity["finite"]:
            raise RecordError("the FP16 model gives NaN or inf on masked inputs")
    if cfg.trt:
        from edgeecg.tensorrt_build import build_engine

        for precision in [p for p in ("fp16", "int8") if p in files]:
            engine = out / MODEL_FILES[f"trt-{precision}"]
            versions = build_engine(out / files[precision]["file"], engine, precision, ck.tokenizer.max_tokens,
                                    cfg.trt_max_batch)
            engine.with_suffix(".json").write_text(json.dumps(
                model_info(ck, f"trt-{precision}", source_hash).to_metadata(), indent=2))
            files[f"trt-{precision}"] = {"file": engine.name, "bytes": engine.stat().st_size, **versions}
            progress(f"tensorrt {precision}: {engine}")

    manifest = {"format": "edgeecg-export/1", "checkpoint": str(cfg.checkpoint), "checkpoint_sha256": source_hash,
                "label_names": list(ck.label_names), "tokenizer": ck.tokenizer.to_dict(), "opset": cfg.opset,
                "calibration_set": cal_id, "config": {k: str(v) for k, v in asdict(cfg).items()}, "files": files,
                "versions": _versions()}
    (out / "export.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def model_info(ck, precision: str, source_hash: str) -> ModelInfo:
    """What travels in the model file: labels, tokenizer, precision, source hash, and the checkpoint's
    validation thresholds where it has them (older checkpoints do not)."""
    given = ck.meta.get("thresholds")
    thresholds = tuple(float(given[n]) for n in ck.label_names) if given else None
    return ModelInfo(ck.label_names, ck.tokenizer, precision, source_hash, thresholds,
                     ck.meta.get("thresholds_from", "") if given else "")


def set_metadata(path: Path, info: ModelInfo) -> None:
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in info.to_metadata().items():
        proto.metadata_props.add(key=key, value=value)
    onnx.save(proto, str(path))


def _versions() -> dict[str, str]:
    import onnxruntime

    out = {"onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__, "torch": torch.__version__,
           "python": platform.python_version(), "machine": platform.machine()}
    try:
        import tensorrt

        out["tensorrt"] = tensorrt.__version__
    except ImportError:
        out["tensorrt"] = "not installed"
    return out
