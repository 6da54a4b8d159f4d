"""Device profiles: every shipped profile loads; malformed ones are refused with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeecg.devices import DeviceProfile
from edgeecg.record import RecordError

DEVICES = Path(__file__).resolve().parents[1] / "devices"
EXPECTED = {"x86-cpu", "arm-cpu", "jetson-orin-nano", "jetson-orin-nx", "jetson-agx-orin"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shipped_profiles_load(name: str) -> None:
    p = DeviceProfile.load(DEVICES / f"{name}.toml")
    assert p.name == name and p.deploy in p.precisions and 1 in p.batch_sizes
    assert p.max_auroc_drop <= 0.01 and p.latency_budget_ms > 0
    if name.startswith("jetson"):
        assert p.backends[0] == "tensorrt" and "trt-fp16" in p.precisions
    else:
        assert p.ort_providers == ["CPUExecutionProvider"]


def test_every_shipped_profile_is_tested() -> None:
    assert {p.stem for p in DEVICES.glob("*.toml")} == EXPECTED


@pytest.mark.parametrize("body, message", [
    ('name="x"\ndescription="d"\nbackends=["CPUExecutionProvider"]\nprecisions=["fp64"]\ndeploy="fp64"\n'
     'threads=1\nlatency_budget_ms=1.0\nmax_auroc_drop=0.01\n', "unknown precisions"),
    ('name="x"\ndescription="d"\nbackends=["NPU"]\nprecisions=["fp32"]\ndeploy="fp32"\n'
     'threads=1\nlatency_budget_ms=1.0\nmax_auroc_drop=0.01\n', "unknown backends"),
    ('name="x"\ndescription="d"\nbackends=["CPUExecutionProvider"]\nprecisions=["fp32"]\ndeploy="int8"\n'
     'threads=1\nlatency_budget_ms=1.0\nmax_auroc_drop=0.01\n', "deploy precision"),
    ('name="x"\nspeed=3\n', "unknown keys"),
    ('name="x"\n', "missing"),
    ('name = [', "not valid TOML"),
])
def test_bad_profiles_refused(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(body)
    with pytest.raises(RecordError, match=message):
        DeviceProfile.load(path)


def test_missing_profile_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(RecordError, match="not found.*shipped name: arm-cpu, jetson-agx-orin"):
        DeviceProfile.load(tmp_path / "pi9.toml")
    with pytest.raises(RecordError, match="device profile pi9 not found"):
        DeviceProfile.load("pi9")


def test_a_shipped_name_works_from_any_folder_and_is_the_repositorys_profile(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)                         # outside a checkout: no devices/ folder here
    assert DeviceProfile.load("x86-cpu") == DeviceProfile.load(DEVICES / "x86-cpu.toml")
    (tmp_path / "x86-cpu").mkdir()                      # a folder of that name is not a profile
    assert DeviceProfile.load("x86-cpu").name == "x86-cpu"
