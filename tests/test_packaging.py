"""The wheel a user installs: profiles, recipes and the shipped model inside; no heavy dependency in the core."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "edgeecg"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                           str(out), str(src)], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        pytest.skip(f"cannot build a wheel here: {done.stderr[-300:]}")
    return zipfile.ZipFile(next(out.glob("edgeecg-*.whl")))


def test_profiles_recipes_and_the_shipped_model_are_package_data(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for profile in ("x86-cpu", "arm-cpu", "jetson-orin-nano", "jetson-orin-nx", "jetson-agx-orin"):
        assert f"edgeecg/profiles/{profile}.toml" in names
    assert "edgeecg/recipes/default.toml" in names
    assert {"edgeecg/models/synth-edge/model.int8.onnx", "edgeecg/models/synth-edge/model.onnx",
            "edgeecg/models/segmenter/trace.int8.onnx", "edgeecg/models/segmenter/segmenter.json",
            "edgeecg/models/labels/labels.onnx", "edgeecg/models/confidence/confidence.json"} <= names
    shipped = wheel.read("edgeecg/profiles/x86-cpu.toml").decode()
    assert shipped == (ROOT / "devices" / "x86-cpu.toml").read_text()      # devices/ links to the same file


def test_the_core_install_needs_no_torch_wfdb_onnx_or_scikit_learn(wheel: zipfile.ZipFile) -> None:
    meta = next(n for n in wheel.namelist() if n.endswith("METADATA"))
    core = [ln.split(":", 1)[1].strip() for ln in wheel.read(meta).decode().splitlines()
            if ln.startswith("Requires-Dist:") and "extra ==" not in ln]
    names = {c.split(">")[0].split("=")[0].split(";")[0].strip().lower() for c in core}
    assert names.isdisjoint({"torch", "wfdb", "onnx", "scikit-learn", "pandas", "scipy", "matplotlib"})
    assert {"numpy", "onnxruntime", "opencv-python-headless"} <= names
