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
