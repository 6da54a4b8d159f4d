"""The `edgeecg` command end to end: tables print, files appear, bad input exits 2 with one clear line."""

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from edgeecg.cli import app

runner = CliRunner()


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgeecg", *args], capture_output=True, text=True, timeout=120)


def test_layouts_lists_every_layout():
    result = runner.invoke(app, ["layouts"])
    assert result.exit_code == 0
    for name in ("3x4+II+V1", "6x2-sync", "12x1", "random"):
        assert name in result.output


def test_info_shows_labels_and_leads(cinc_dir):
    result = runner.invoke(app, ["info", str(cinc_dir / "JS20019.hea")])
    assert result.exit_code == 0, result.output
    assert "PAC, TAB_, STACH" in result.output and "aVF" in result.output


def test_data_synth_writes_a_dataset_and_preview(tmp_path):
    out = tmp_path / "ds"
    result = runner.invoke(app, ["data", "synth", "--n", "120", "--out", str(out), "--preview"])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "meta.json").read_text())
    assert meta["n"] == 120 and np.load(out / "signals.npy").shape == (120, 12, 1000)
    assert (out / "preview.png").stat().st_size > 10_000
    assert "AFIB" in result.output


def test_data_ptbxl_summarises_the_tree(ptbxl_mini):
    result = runner.invoke(app, ["data", "ptbxl", str(ptbxl_mini)])
    assert result.exit_code == 0, result.output
    assert "8 records at 100 Hz" in result.output and "test: 1" in result.output


def test_bench_synth_prints_records_per_second():
    result = runner.invoke(app, ["bench", "synth", "--n", "200", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    assert "records/s" in result.output


@pytest.mark.parametrize("args,message", [
    (["info", "/no/such/record.hea"], "header file not found"),
    (["data", "ptbxl", "/no/such/tree"], "is /no/such/tree a PTB-XL root"),
    (["data", "fetch", "ptbxl", "DEST", "--url", "http://127.0.0.1:9/"], "cannot read http://127.0.0.1:9/"),
    (["layouts", "--file", "/no/such.toml"], "does not exist"),
    (["evaluate", "/no/such/ckpt"], "not a checkpoint"),
    (["train", "--data", "ptbxl:/no/such/tree"], "a PTB-XL root"),
    (["train", "--data", "mystery"], "unknown data spec 'mystery'"),
    (["train", "--preset", "huge"], "unknown preset 'huge'"),
    (["train", "--model", "gpt"], "use patchecg or baseline"),
    (["train", "--loss", "mse"], "use bce or focal"),
])
def test_bad_input_is_one_clear_line_and_exit_2(args, message, tmp_path):
    args = [a.replace("DEST", str(tmp_path / "dest")) for a in args]
    result = _run(*args)
    assert result.returncode == 2, result.stderr
    text = " ".join((result.stdout + result.stderr).split())
    assert message in text and "Traceback" not in text


def test_unknown_dataset_is_refused():
    result = runner.invoke(app, ["data", "fetch", "mitdb", "x"])
    assert result.exit_code == 2 and "unknown data set 'mitdb'" in result.output


@pytest.mark.parametrize(("mix", "message"), [("0.5,0.5", "three or four shares are needed"),
                                              ("0.5,0.5,0.5", "sum to <= 1")])
def test_train_refuses_a_bad_mask_mix(tmp_path, mix: str, message: str):
    result = runner.invoke(app, ["train", "--mask-mix", mix, "--out", str(tmp_path / "run")])
    text = " ".join(result.output.split())
    assert result.exit_code == 2 and message in text and not (tmp_path / "run").exists()


@pytest.mark.parametrize("command", [["train"], ["export", "runs/x"], ["evaluate", "runs/x"], ["model-info"],
                                     ["demo", "--quick"]])
def test_torch_commands_refuse_in_one_line_where_torch_is_missing(command):
    code = ("import sys; sys.modules['torch'] = None; from edgeecg.cli import main; "
            f"sys.argv = ['edgeecg', *{command!r}]; main()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr + done.stdout
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and 'pip install "edgeecg[train]"' in lines[0] and "download.pytorch.org/whl/cpu" in lines[0]


def test_version_and_short_help():
    assert _run("--version").stdout.strip().startswith("edgeecg ")
    assert "Usage" in _run("-h").stdout and "Usage" in _run("predict", "-h").stdout
