"""Shared fixtures: the small real records shipped under tests/fixtures, and ../shared/data when present."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def ptbxl_mini() -> Path:
    return FIXTURES / "ptbxl-mini"


@pytest.fixture
def cinc_dir() -> Path:
    return FIXTURES / "cinc"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, the project's real data; tests that need all of it skip where it is absent."""
    if not (SHARED / "ptbxl-500").is_dir():
        pytest.skip("../shared/data is not present on this machine")
    return SHARED


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Decoded-signal caches go to a per-test folder, never to the user's home."""
    monkeypatch.setenv("EDGEECG_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small random-weight PatchECG checkpoint exported to FP32, INT8 and FP16 (for export/runtime tests)."""
    torch = pytest.importorskip("torch")
    from edgeecg import calibration
    from edgeecg.checkpoint import save_checkpoint
    from edgeecg.data.synth_conditions import SYNTH_LABELS
    from edgeecg.export import ExportConfig, export
    from edgeecg.model import PatchECG, PatchECGConfig
    from edgeecg.tokens import TokenizerConfig

    root = tmp_path_factory.mktemp("tiny-export")
    torch.manual_seed(0)
    model = PatchECG(PatchECGConfig(n_labels=len(SYNTH_LABELS), dim=32, depth=2, heads=2)).eval()
    tok = TokenizerConfig()
    save_checkpoint(root / "ckpt", model, "patchecg", SYNTH_LABELS, tok, {"data": {"spec": "synth"}})
    calibration.build(calibration.Recipe(records=33), tok, root / "cal")
    export(ExportConfig(root / "ckpt", root / "export", int8=True, fp16=True, calibration=root / "cal"),
           progress=lambda *_: None)
    return root
