"""Masked training on tiny data: checkpoints, exact resume, focal loss, the PTB-XL and WFDB paths."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from edgeecg.checkpoint import META, load_checkpoint
from edgeecg.data.ptbxl import SUBCLASSES
from edgeecg.data.sources import load_source
from edgeecg.layouts import MaskMix
from edgeecg.metrics import per_class_auroc
from edgeecg.tokens import TokenizerConfig
from edgeecg.train import TrainConfig, focal_loss, predict, train

TINY = {"n_train": 96, "n_eval": 32, "batch_size": 32, "epochs": 2, "progress": False, "patience": 10}


def _cfg(tmp_path: Path, **overrides) -> TrainConfig:
    return TrainConfig(**{**TINY, "out": str(tmp_path / "run"), **overrides})


@pytest.fixture(scope="module")
def synth_splits():
    return load_source("synth", TokenizerConfig(), seed=0, n_train=96, n_eval=32)


@pytest.mark.parametrize("model", ["patchecg", "baseline"])
def test_tiny_run_writes_a_complete_checkpoint(tmp_path: Path, synth_splits, model: str) -> None:
    result = train(_cfg(tmp_path, model=model), splits=synth_splits)
    meta = json.loads((result.out / META).read_text())
    assert meta["kind"] == model and meta["label_names"] == list(synth_splits.label_names)
    assert meta["fs"] == 100.0 and meta["tokenizer"]["patch_len"] == 125
    assert meta["data"]["digest"] == synth_splits.digest and "simulator" in meta["data"]["description"]
    assert 0.0 <= meta["val_macro_auroc"] <= 1.0 and meta["train_config"]["mask_mix"]["p_layout"] > 0
    assert result.epochs_run == 2 and (result.out / "last" / "optimizer.safetensors").is_file()
    assert list(meta["thresholds"]) == list(synth_splits.label_names)        # chosen on the validation set
    assert all(0.02 <= t <= 0.98 for t in meta["thresholds"].values()) and "validation" in meta["thresholds_from"]
    load_checkpoint(result.out)


def test_resume_continues_exactly(tmp_path: Path, synth_splits) -> None:
    straight = train(_cfg(tmp_path / "a", epochs=3), splits=synth_splits)
    train(_cfg(tmp_path / "b", epochs=3, max_minutes=0.0), splits=synth_splits)     # stops after epoch 1
    assert json.loads((tmp_path / "b" / "run" / "last" / META).read_text())["epoch"] == 0
    resumed = train(_cfg(tmp_path / "b", epochs=3, resume=True), splits=synth_splits)
    assert resumed.epochs_run == 3
    a = load_checkpoint(straight.out / "last").model.state_dict()
    b = load_checkpoint(resumed.out / "last").model.state_dict()
    for key in a:
        torch.testing.assert_close(b[key], a[key], atol=1e-6, rtol=1e-5, msg=key)


@pytest.mark.slow
def test_learns_rhythm_on_the_simulator(tmp_path: Path) -> None:
    """Rate and rhythm are visible in any lead: a few CPU seconds of training must already beat chance.

    1,024 test records, so that chance (0.5) stays within about 0.03 for each class."""
    splits = load_source("synth", TokenizerConfig(), seed=1, n_train=512, n_eval=1024)
    cfg = _cfg(tmp_path, epochs=8, batch_size=64, lr=3e-3, mask_mix=MaskMix(0.0, 0.0, 0.0, 0.0), distill=0.0)
    result = train(cfg, splits=splits)
    ck = load_checkpoint(result.out)
    prob = predict(ck.model, "patchecg", splits.test.signals, splits.fs, ck.tokenizer)
    aucs = per_class_auroc(splits.test.labels, prob)
    rhythm = [aucs[splits.label_names.index(name)] for name in ("STACH", "SBRAD", "AFIB")]
    assert np.mean(rhythm) > 0.6 and min(rhythm) > 0.55, rhythm      # chance is 0.5


def test_focal_loss_matches_bce_at_gamma_zero_and_down_weights_easy_examples() -> None:
    logits = torch.tensor([[4.0, -4.0, 0.1]])
    target = torch.tensor([[1.0, 0.0, 1.0]])
    torch.testing.assert_close(focal_loss(logits, target, 0.0), F.binary_cross_entropy_with_logits(logits, target))
    easy, hard = (focal_loss(logits[:, :1], target[:, :1], 2.0), focal_loss(logits[:, 2:], target[:, 2:], 2.0))
    assert easy / F.binary_cross_entropy_with_logits(logits[:, :1], target[:, :1]) < 0.01
    assert hard / F.binary_cross_entropy_with_logits(logits[:, 2:], target[:, 2:]) > 0.2


def test_paper_preset_uses_the_papers_protocol() -> None:
    cfg = TrainConfig(**TrainConfig.preset_defaults("paper"))
    assert cfg.loss == "focal" and cfg.task == "subclass" and cfg.preset == "paper"
    with pytest.raises(ValueError, match="unknown preset"):
        TrainConfig.preset_defaults("tiny")


def test_ptbxl_tree_end_to_end(tmp_path: Path, ptbxl_mini: Path) -> None:
    """The real PTB-XL layout on the shipped 8-record tree: strat folds, 23 subclasses, focal loss."""
    cfg = _cfg(tmp_path, data=f"ptbxl:{ptbxl_mini}", epochs=1, **TrainConfig.preset_defaults("edge"), loss="focal")
    result = train(cfg)
    ck = load_checkpoint(result.out)
    assert ck.label_names == SUBCLASSES and len(SUBCLASSES) == 23
    assert ck.meta["data"]["spec"].startswith("ptbxl:") and "strat folds" in ck.meta["data"]["description"]
    splits = load_source(f"ptbxl:{ptbxl_mini}", ck.tokenizer, task="superclass")
    assert splits.label_names == ("NORM", "MI", "STTC", "CD", "HYP")
    assert (len(splits.train.labels), len(splits.val.labels), len(splits.test.labels)) == (3, 4, 1)


def test_wfdb_folder_source(cinc_dir: Path) -> None:
    splits = load_source(f"wfdb:{cinc_dir}", TokenizerConfig())
    assert splits.label_names == ("TAB_",)            # the only label in two or more of the three records
    total = sum(len(s.labels) for s in (splits.train, splits.val, splits.test))
    assert total == 3 and splits.train.signals.shape[1:] == (12, 1000)
    assert np.isfinite(splits.train.signals).any()


def test_self_distillation_pulls_only_the_masked_view(synth_splits) -> None:
    """The whole record's answer is the target and gets no gradient; a view that hides nothing feels no pull."""
    from edgeecg.batches import model_inputs
    from edgeecg.layouts import layout_masks, masked
    from edgeecg.model import PatchECG, PatchECGConfig
    from edgeecg.train import _distill_loss

    tok = TokenizerConfig()
    # with dropout (the edge preset has none), so that a teacher pass in training mode would show
    model = PatchECG(PatchECGConfig.preset("edge", n_labels=len(synth_splits.label_names), patch_len=tok.patch_len,
                                           n_slots=tok.n_slots, dropout=0.3)).eval()
    whole = np.asarray(synth_splits.train.signals[:8], np.float32)
    own = model(*model_inputs("patchecg", whole, 100.0, tok)).detach().requires_grad_(True)
    _distill_loss(model, own, whole, 100.0, tok, torch.device("cpu")).backward()
    assert own.grad is not None and float(own.grad.abs().max()) < 1e-6
    assert all(p.grad is None for p in model.parameters())       # the teacher pass is not trained

    view = masked(whole, layout_masks(["3x4"] * 8, 100.0, whole.shape[-1], np.random.default_rng(0)))
    model.train()
    logits = model(*model_inputs("patchecg", view, 100.0, tok))
    loss = _distill_loss(model, logits, whole, 100.0, tok, torch.device("cpu"))
    again = _distill_loss(model, logits, whole, 100.0, tok, torch.device("cpu"))
    assert model.training                                        # the teacher pass leaves training mode on
    assert torch.equal(loss, again)                              # and its targets carry no dropout noise
    loss.backward()
    assert float(loss.detach()) > 0
    assert any(float(p.grad.abs().sum()) > 0 for p in model.parameters() if p.grad is not None)


def test_distill_option_trains_and_is_recorded(tmp_path: Path, synth_splits) -> None:
    result = train(_cfg(tmp_path, distill=1.0, epochs=1), splits=synth_splits)
    meta = json.loads((result.out / META).read_text())
    assert meta["train_config"]["distill"] == 1.0 and np.isfinite(meta["train_loss"])
