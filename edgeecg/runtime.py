"""The torch-free runtime: an exported PatchECG over ONNX Runtime or a native TensorRT engine.

Input is a record (signal [12, T] with NaN where nothing was shown, any rate) or tokens; output is one
probability per label. Records go through `tokens.tokenize_batch`, the function training used, so the device
sees exactly what the model was trained on. Labels and tokenizer settings travel inside the ONNX file
(metadata) or in the engine's `.json` side file, so a model file is enough to run it.

Imports: numpy, onnxruntime, and tensorrt + cuda-python only for `.engine` files. Never torch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from edgeecg.record import RecordError
from edgeecg.tokens import PaddedTokens, TokenizerConfig, pad, token_counts, tokenize, tokenize_batch

INPUTS = ("patches", "lead", "slot", "valid")
PROVIDER_ORDER = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
ENGINE_SUFFIXES = (".engine", ".plan")
MODEL_FILES = {"fp32": "model.onnx", "int8": "model.int8.onnx", "fp16": "model.fp16.onnx",
               "trt-fp16": "model.fp16.engine", "trt-int8": "model.int8.engine"}   # names inside an export folder


@dataclass(frozen=True)
class ModelInfo:
    """What the runtime needs to know about a model besides its weights."""

    label_names: tuple[str, ...]
    tokenizer: TokenizerConfig
    precision: str
    source_sha256: str
    thresholds: tuple[float, ...] | None = None      # per class, chosen on validation (None: the model has none)
    thresholds_from: str = ""

    def to_metadata(self) -> dict[str, str]:
        meta = {"edgeecg.labels": json.dumps(list(self.label_names)),
                "edgeecg.tokenizer": json.dumps(self.tokenizer.to_dict()),
                "edgeecg.precision": self.precision, "edgeecg.source_sha256": self.source_sha256}
        if self.thresholds is not None:
            meta["edgeecg.thresholds"] = json.dumps(list(self.thresholds))
            meta["edgeecg.thresholds_from"] = self.thresholds_from
        return meta

    @classmethod
    def from_metadata(cls, meta: dict[str, str], where: Path) -> ModelInfo:
        try:
            labels = tuple(json.loads(meta["edgeecg.labels"]))
            tok = TokenizerConfig(**json.loads(meta["edgeecg.tokenizer"]))
        except KeyError as err:
            raise RecordError(f"{where}: no edgeecg metadata ({err}); export the model with `edgeecg export`") from None
        thresholds = tuple(float(t) for t in json.loads(meta["edgeecg.thresholds"])) \
            if "edgeecg.thresholds" in meta else None
        if thresholds is not None and len(thresholds) != len(labels):
            raise RecordError(f"{where}: {len(thresholds)} thresholds for {len(labels)} labels; re-export the model")
        return cls(labels, tok, meta.get("edgeecg.precision", "unknown"), meta.get("edgeecg.source_sha256", ""),
                   thresholds, meta.get("edgeecg.thresholds_from", ""))


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = buf[i]
        value |= (byte & 0x7F) << shift
        i += 1
        if byte < 0x80:
            return value, i
        shift += 7


def _fields(buf: bytes):
    """(field number, bytes) of a protobuf message's length-delimited fields; other wire types are skipped."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        wire = key & 7
        if wire == 0:
            _, i = _varint(buf, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            size, i = _varint(buf, i)
            yield key >> 3, buf[i:i + size]
            i += size
        else:
            raise ValueError(f"protobuf wire type {wire}")


def onnx_metadata(path: Path) -> dict[str, str]:
    """An ONNX file's metadata_props (ModelProto field 14) without the onnx package, which a device that only
    builds a TensorRT engine from the file has no other use for (and cannot always install)."""
    try:
        meta = {}
        for number, entry in _fields(path.read_bytes()):
            if number == 14:
                kv = dict(_fields(entry))
                meta[kv.get(1, b"").decode()] = kv.get(2, b"").decode()
        return meta
    except (ValueError, IndexError, UnicodeDecodeError) as err:
        raise RecordError(f"{path}: not an ONNX model file ({err}); give the .onnx that `edgeecg export` wrote"
                          ) from None


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))


def available_providers(preferred: Sequence[str] = PROVIDER_ORDER) -> list[str]:
    """The preferred ONNX Runtime providers that this installation has, in order (CPU always last)."""
    import onnxruntime as ort

    have = set(ort.get_available_providers())
    chosen = [p for p in preferred if p in have]
    return chosen if "CPUExecutionProvider" in chosen else [*chosen, "CPUExecutionProvider"]


class _OrtBackend:
    def __init__(self, path: Path, providers: Sequence[str] | None, threads: int | None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=list(providers or available_providers()))
        except Exception as err:  # onnxruntime raises its own exception types for unreadable models
            raise RecordError(f"{path}: ONNX Runtime cannot load it ({str(err).splitlines()[0]})") from None
        self.info = ModelInfo.from_metadata(self.session.get_modelmeta().custom_metadata_map, path)
        self.providers = self.session.get_providers()

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        return self.session.run(["logits"], feeds)[0]


class _TensorRTBackend:
    """A serialized TensorRT engine run with TensorRT's Python API and cuda-python (both ship with JetPack)."""

    def __init__(self, path: Path) -> None:
        try:
            import tensorrt as trt
            from cuda.bindings import runtime as cudart
        except ImportError:
            raise RecordError("running a TensorRT engine needs the tensorrt and cuda-python packages (see "
                              "devices/README.md); or run the ONNX file with ONNX Runtime") from None
        side = path.with_suffix(".json")
        if not side.is_file():
            raise RecordError(f"{side} is missing: an engine needs its side file from `edgeecg export --trt`")
        self.info = ModelInfo.from_metadata(json.loads(side.read_text()), side)
        self._trt, self._cudart = trt, cudart
        self.engine = trt.Runtime(trt.Logger(trt.Logger.WARNING)).deserialize_cuda_engine(path.read_bytes())
        if self.engine is None:
            raise RecordError(f"{path}: TensorRT cannot deserialize it (built for another GPU or TensorRT version?)")
        self.context = self.engine.create_execution_context()
        self.providers = ["TensorRT (native)"]

    def _check(self, result):
        err, *rest = result
        if int(err) != 0:
            raise RuntimeError(f"CUDA error {err}")
        return rest[0] if rest else None

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        cudart, ctx = self._cudart, self.context
        kind = cudart.cudaMemcpyKind
        stream = self._check(cudart.cudaStreamCreate())
        buffers = []
        try:
            for name, arr in feeds.items():
                arr = np.ascontiguousarray(arr)
                ctx.set_input_shape(name, arr.shape)
                ptr = self._check(cudart.cudaMalloc(arr.nbytes))
                buffers.append(ptr)
                self._check(cudart.cudaMemcpyAsync(ptr, arr.ctypes.data, arr.nbytes, kind.cudaMemcpyHostToDevice,
                                                   stream))
                ctx.set_tensor_address(name, ptr)
            out = np.empty(tuple(ctx.get_tensor_shape("logits")), dtype=np.float32)
            out_ptr = self._check(cudart.cudaMalloc(out.nbytes))
            buffers.append(out_ptr)
            ctx.set_tensor_address("logits", out_ptr)
            if not ctx.execute_async_v3(stream):
                raise RuntimeError("TensorRT execution failed")
            self._check(cudart.cudaMemcpyAsync(out.ctypes.data, out_ptr, out.nbytes, kind.cudaMemcpyDeviceToHost,
                                               stream))
            self._check(cudart.cudaStreamSynchronize(stream))
            return out
        finally:
            for ptr in buffers:
                cudart.cudaFree(ptr)
            cudart.cudaStreamDestroy(stream)


class Runtime:
    """An exported model ready to score records: `Runtime("export/edge/model.int8.onnx").predict(signal, fs)`."""

    def __init__(self, path: str | Path, providers: Sequence[str] | None = None, threads: int | None = None) -> None:
        path = Path(path)
        if not path.is_file():
            raise RecordError(f"model file {path} not found; export one with `edgeecg export CKPT`")
        self.path = path
        self._backend = (_TensorRTBackend(path) if path.suffix in ENGINE_SUFFIXES
                         else _OrtBackend(path, providers, threads))
        self.info: ModelInfo = self._backend.info
        self.providers: list[str] = list(self._backend.providers)

    @property
    def label_names(self) -> tuple[str, ...]:
        return self.info.label_names

    @property
    def name(self) -> str:
        """The model's name: its export folder (`synth-edge`), not a path that differs from machine to machine."""
        return self.path.resolve().parent.name

    @cached_property
    def sha256(self) -> str:
        """SHA-256 of the model file, so a result names exactly what made it."""
        h = hashlib.sha256()
        with self.path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    def scores(self, signal: np.ndarray, fs: float) -> dict[str, float]:
        """{label: probability} for one record: `predict` with the label names attached."""
        return {n: float(p) for n, p in zip(self.label_names, self.predict(signal, fs), strict=True)}

    def logits(self, tokens: PaddedTokens) -> np.ndarray:
        """float32 [B, C] from padded tokens."""
        feeds = {"patches": tokens.patches.astype(np.float32, copy=False), "lead": tokens.lead.astype(np.int64),
                 "slot": tokens.slot.astype(np.int64), "valid": tokens.valid.astype(bool)}
        return np.asarray(self._backend.run(feeds), dtype=np.float32)

    def predict_tokens(self, tokens: PaddedTokens) -> np.ndarray:
        return sigmoid(self.logits(tokens))

    def predict(self, signal: np.ndarray, fs: float) -> np.ndarray:
        """float32 [C] for one record, run ragged (only its own present patches, no padding)."""
        return self.predict_tokens(pad([tokenize(signal, fs, self.info.tokenizer)]))[0]

    def predict_batch(self, signals: np.ndarray, fs: float, batch_size: int = 64) -> np.ndarray:
        """float32 [B, C]; records are grouped by token count so each batch pads little."""
        tok = self.info.tokenizer
        signals = np.asarray(signals, dtype=np.float32)
        at_model_rate = fs == tok.fs and signals.shape[-1] == tok.n_samples
        order = np.argsort(token_counts(signals, tok), kind="stable") if at_model_rate else np.arange(len(signals))
        out = np.empty((len(signals), len(self.label_names)), np.float32)
        for a in range(0, len(signals), batch_size):
            idx = order[a:a + batch_size]
            tokens = tokenize_batch(signals[idx], fs, tok)
            if not tokens.valid.any(1).all():
                raise RecordError("a record in the batch has no observed patch; it shows too little signal to classify")
            out[idx] = self.predict_tokens(tokens)
        return out
