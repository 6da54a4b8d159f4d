"""The torch-free runtime: runs without torch, ragged equals padded, labels travel with the file, clear refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from edgeecg.layouts import apply
from edgeecg.record import RecordError
from edgeecg.runtime import Runtime, available_providers


def _records(n: int = 4) -> np.ndarray:
    from edgeecg.data.synth import simulate

    return simulate(n, seed=5).signals


def test_runtime_never_imports_torch(tiny_export: Path) -> None:
    code = f"""
import sys
import numpy as np
from edgeecg.runtime import Runtime
from edgeecg.data.synth import simulate
rt = Runtime({str(tiny_export / 'export' / 'model.int8.onnx')!r})
p = rt.predict(simulate(1, seed=1).signals[0], 100.0)
assert p.shape == (17,) and np.isfinite(p).all()
assert "torch" not in sys.modules, "torch was imported"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize("precision", ["model.onnx", "model.int8.onnx", "model.fp16.onnx"])
def test_ragged_record_equals_its_row_in_a_padded_batch(tiny_export: Path, precision: str) -> None:
    rt = Runtime(tiny_export / "export" / precision, ["CPUExecutionProvider"])
    sig = np.stack([apply(s, name, 100) for s, name in zip(_records(), ["3x4", "12x1", "2x6+II", "3x4+3"],
                                                            strict=True)])
    batch = rt.predict_batch(sig, 100)
    for k in range(len(sig)):
        np.testing.assert_allclose(rt.predict(sig[k], 100), batch[k], atol=2e-3 if "fp16" in precision else 1e-5)


def test_matches_torch_through_the_same_tokenizer(tiny_export: Path) -> None:
    pytest.importorskip("torch")
    from edgeecg.checkpoint import load_checkpoint
    from edgeecg.train import predict

    ck = load_checkpoint(tiny_export / "ckpt")
    sig = np.stack([apply(s, "3x4+II", 100) for s in _records()])
    np.testing.assert_allclose(Runtime(tiny_export / "export" / "model.onnx").predict_batch(sig, 100),
                               predict(ck.model, "patchecg", sig, 100, ck.tokenizer), atol=1e-5)


def test_500hz_record_is_resampled_like_training(tiny_export: Path) -> None:
    rt = Runtime(tiny_export / "export" / "model.onnx")
    t = np.arange(5000) / 500
    sig500 = (np.sin(2 * np.pi * 1.2 * t) * np.linspace(0.5, 1.5, 12)[:, None]).astype(np.float32)
    np.testing.assert_allclose(rt.predict(sig500, 500), rt.predict(sig500[:, ::5], 100), atol=0.02)


def test_labels_and_tokenizer_come_from_the_file(tiny_export: Path) -> None:
    rt = Runtime(tiny_export / "export" / "model.int8.onnx")
    assert rt.label_names[:2] == ("NORM", "AFIB") and rt.info.tokenizer.patch_len == 125
    assert rt.info.precision == "int8-x86" and rt.providers[-1] == "CPUExecutionProvider"
    assert available_providers()[-1] == "CPUExecutionProvider"


def test_refusals(tiny_export: Path, tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="not found"):
        Runtime(tmp_path / "none.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(RecordError, match="cannot load"):
        Runtime(tmp_path / "junk.onnx")
    bare = onnx.load(str(tiny_export / "export" / "model.onnx"))
    del bare.metadata_props[:]
    onnx.save(bare, str(tmp_path / "bare.onnx"))
    with pytest.raises(RecordError, match="no edgeecg metadata"):
        Runtime(tmp_path / "bare.onnx")
    rt = Runtime(tiny_export / "export" / "model.onnx")
    empty = np.full((2, 12, 1000), np.nan, np.float32)
    with pytest.raises(RecordError, match="too little signal"):
        rt.predict_batch(empty, 100)
    with pytest.raises(ValueError, match="too little signal"):
        rt.predict(empty[0], 100)


def test_onnx_metadata_is_read_without_the_onnx_package(tiny_export: Path, tmp_path: Path) -> None:
    from edgeecg.runtime import onnx_metadata

    for name in ("model.onnx", "model.int8.onnx", "model.fp16.onnx"):
        path = tiny_export / "export" / name
        assert onnx_metadata(path) == {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    (tmp_path / "junk.onnx").write_bytes(b"\xff\xff\xff\xff\xff not a model")
    with pytest.raises(RecordError, match="not an ONNX model file"):
        onnx_metadata(tmp_path / "junk.onnx")


def test_a_model_names_itself_and_scores_with_label_names() -> None:
    import hashlib

    from edgeecg.models import default_model

    rt = Runtime(default_model("int8"))
    assert rt.name == "synth-edge" and rt.sha256 == hashlib.sha256(default_model("int8").read_bytes()).hexdigest()
    assert rt.info.thresholds is not None and len(rt.info.thresholds) == len(rt.label_names)
    signal = np.random.default_rng(0).normal(0, 0.1, (12, 1000)).astype(np.float32)
    scores = rt.scores(signal, 100.0)
    assert list(scores) == list(rt.label_names)
    np.testing.assert_allclose(list(scores.values()), rt.predict(signal, 100.0))
