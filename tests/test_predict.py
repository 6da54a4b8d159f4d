"""`edgeecg predict` on records with the shipped model: one record, a folder with a refusal, the summary CSV."""

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
    assert rows["photo.jpg"]["status"].startswith("error: photos and scans need the photo digitizer")
    assert rows["E07500-copy.csv"]["NORM"] == rows["E07500.hea"]["NORM"]      # CSV and WFDB give the same answer
    assert (tmp_path / "out" / "JS20019.json").is_file()


def test_nothing_scorable_exits_nonzero(tmp_path: Path) -> None:
    (tmp_path / "scan.png").write_bytes(b"\x89PNG")
    done = runner.invoke(app, ["predict", str(tmp_path / "scan.png")])
    assert done.exit_code == 2 and "digitizer" in done.output
