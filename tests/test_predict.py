"""`edgeecg predict` with the shipped model: a record, a photo, a folder with a refusal, the summary CSV."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from typer.testing import CliRunner

from edgeecg.cli import app
from edgeecg.data.csv_io import write_csv
from edgeecg.data.wfdb_io import read_wfdb

runner = CliRunner()


def test_one_record_prints_ranked_findings_and_the_notice(cinc_dir: Path) -> None:
    done = runner.invoke(app, ["predict", str(cinc_dir / "JS20019.hea"), "--threshold", "0.3"])
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    assert "not for clinical use" in text and "AF probability" in text and "STACH" in text


def test_folder_goes_on_past_a_refused_image(cinc_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    shutil.copytree(cinc_dir, folder)
    write_csv(read_wfdb(cinc_dir / "E07500.hea"), folder / "E07500-copy.csv")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8 not really a photo")
    done = runner.invoke(app, ["predict", str(folder), "--out", str(tmp_path / "out"), "--workers", "2"])
    assert done.exit_code == 0, done.output
    assert "4 of 5 inputs scored, 1 refused" in " ".join(done.output.split())
    rows = {Path(r["source"]).name: r for r in csv.DictReader((tmp_path / "out" / "summary.csv").open())}
    assert rows["photo.jpg"]["status"].startswith("error:") and "could not be decoded" in rows["photo.jpg"]["status"]
    assert rows["E07500-copy.csv"]["NORM"] == rows["E07500.hea"]["NORM"]      # CSV and WFDB give the same answer
    assert (tmp_path / "out" / "JS20019.json").is_file()


def test_nothing_scorable_exits_nonzero(tmp_path: Path) -> None:
    (tmp_path / "scan.png").write_bytes(b"\x89PNG")
    done = runner.invoke(app, ["predict", str(tmp_path / "scan.png")])
    assert done.exit_code == 2 and "could not be decoded" in " ".join(done.output.split())


def test_photo_gives_findings_quality_and_an_annotated_page(tmp_path: Path) -> None:
    import json

    from edgeecg.data.synth import SynthConfig, simulate
    from edgeecg.imaging.capture import capture
    from edgeecg.imaging.outputs import write_png
    from edgeecg.imaging.render import render

    rec = simulate(1, SynthConfig(fs=100.0), seed=3).records()[0]
    photo = write_png(tmp_path / "photo.png", capture(render(rec, "3x4+II"), "scan", seed=1).image)
    done = runner.invoke(app, ["predict", str(photo), "--out", str(tmp_path / "out"), "--threshold", "0.3"])
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    assert "digitizer: layout 3x4+II" in text and "not for clinical use" in text
    saved = json.loads((tmp_path / "out" / "photo.json").read_text())
    assert saved["quality"]["layout"] == "3x4+II" and saved["quality"]["confidence"] > 0.5
    assert (tmp_path / "out" / "photo.annotated.png").stat().st_size > 10_000
    assert len(saved["probabilities"]) == 17


def test_photo_prediction_never_imports_torch() -> None:
    """The device path (digitizer + runtime) must run where torch is not installed."""
    import subprocess
    import sys

    fixture = Path(__file__).parent / "fixtures" / "real-images" / "ecg00001.png"
    code = ("import sys; from pathlib import Path; from edgeecg.runtime import Runtime; "
            "from edgeecg.models import default_model; from edgeecg.predict import predict_one; "
            f"r = predict_one(Runtime(default_model('int8')), Path({str(fixture)!r}), 0.5); "
            "assert r.ok, r.error; assert 'torch' not in sys.modules, 'torch was imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
