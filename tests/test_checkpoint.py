"""Checkpoints: round trip, no pickle on load, refusal of tampered or incomplete folders."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from edgeecg.checkpoint import META, WEIGHTS, load_checkpoint, save_checkpoint
from edgeecg.model import PatchECG, PatchECGConfig
from edgeecg.record import RecordError
from edgeecg.tokens import TokenizerConfig

LABELS = ("A", "B", "C")


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, PatchECG]:
    torch.manual_seed(1)
    model = PatchECG(PatchECGConfig(n_labels=3, dim=32, depth=1, heads=2)).eval()
    save_checkpoint(tmp_path / "ck", model, "patchecg", LABELS, TokenizerConfig(),
                    {"val_macro_auroc": float("nan"), "data": {"spec": "synth"}})
    return tmp_path / "ck", model


def test_round_trip_gives_identical_outputs(saved) -> None:
    folder, model = saved
    ck = load_checkpoint(folder)
    assert ck.kind == "patchecg" and ck.label_names == LABELS and ck.fs == 100.0
    args = (torch.randn(2, 5, 125), torch.randint(0, 12, (2, 5)), torch.randint(0, 8, (2, 5)),
            torch.ones(2, 5, dtype=torch.bool))
    torch.testing.assert_close(ck.model(*args), model(*args), atol=0, rtol=0)


def test_json_is_standard_and_complete(saved) -> None:
    folder, _ = saved
    meta = json.loads((folder / META).read_text(), parse_constant=lambda c: pytest.fail(f"non-standard {c}"))
    assert meta["val_macro_auroc"] is None
    for key in ("model_config", "label_names", "tokenizer", "weights_sha256", "data"):
        assert key in meta


def test_load_never_unpickles(saved, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a, **_k):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    load_checkpoint(saved[0])
    raw = (saved[0] / WEIGHTS).read_bytes()
    header = int.from_bytes(raw[:8], "little")            # safetensors: u64 header length, then JSON
    assert "head.weight" in json.loads(raw[8:8 + header])


def test_tampered_weights_refused(saved) -> None:
    folder, _ = saved
    data = bytearray((folder / WEIGHTS).read_bytes())
    data[-4:] = b"\x00\x00\x80\x7f"        # change one float
    (folder / WEIGHTS).write_bytes(bytes(data))
    with pytest.raises(RecordError, match="SHA-256"):
        load_checkpoint(folder)


@pytest.mark.parametrize("remove", [META, WEIGHTS])
def test_incomplete_folder_refused(saved, remove: str) -> None:
    (saved[0] / remove).unlink()
    with pytest.raises(RecordError, match="not a checkpoint"):
        load_checkpoint(saved[0])


def test_unknown_kind_refused(saved) -> None:
    meta = json.loads((saved[0] / META).read_text())
    meta["kind"] = "mystery"
    (saved[0] / META).write_text(json.dumps(meta))
    with pytest.raises(RecordError, match="unknown model kind"):
        load_checkpoint(saved[0])
