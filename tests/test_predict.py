"""`edgeecg predict` with the shipped model: records, photos, folders named by relative path, resume and
overwrite, every page of a PDF, and results that say what made them."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edgeecg import __version__
from edgeecg.cli import app
from edgeecg.data.csv_io import write_csv
from edgeecg.data.wfdb_io import read_wfdb

runner = CliRunner()


def _text(done) -> str:
    return " ".join(done.output.split())


def _refused(done, why: str) -> bool:
    """A refusal: the one-line error that `edgeecg.cli.main` prints with exit 2 (tests/test_cli.py runs it in a
    process), raised here as the RecordError it prints, its message naming `why`."""
    from edgeecg.record import RecordError

    return isinstance(done.exception, RecordError) and why in " ".join(str(done.exception).split())


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from edgeecg.data.synth import SynthConfig, simulate
    from edgeecg.imaging.capture import capture
    from edgeecg.imaging.outputs import write_png
    from edgeecg.imaging.render import render

    rec = simulate(1, SynthConfig(fs=100.0), seed=3).records()[0]
    folder = tmp_path_factory.mktemp("photo")
    return write_png(folder / "photo.png", capture(render(rec, "3x4+II"), "scan", seed=1).image)


def test_one_record_prints_findings_thresholds_measurements_and_the_notice(cinc_dir: Path) -> None:
    done = runner.invoke(app, ["predict", str(cinc_dir / "JS20019.hea")])
    assert done.exit_code == 0, done.output
    text = _text(done)
    assert "not for clinical use" in text and "AF probability" in text and "sinus tachycardia" in text
    assert "per class from the model" in text and "measurements: HR" in text


def test_a_record_name_without_extension_is_found(cinc_dir: Path) -> None:
    done = runner.invoke(app, ["predict", str(cinc_dir / "E07500")])
    assert done.exit_code == 0, done.output
    missing = runner.invoke(app, ["predict", str(cinc_dir / "E99999")])
    assert _refused(missing, "nor a WFDB record of that name")


def test_folder_names_results_by_relative_path_and_goes_on_past_a_refusal(cinc_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    for sub in ("a", "b"):
        shutil.copytree(cinc_dir, folder / sub)
    write_csv(read_wfdb(cinc_dir / "E07500.hea"), folder / "a" / "E07500-copy.csv")
    (folder / "b" / "photo.jpg").write_bytes(b"\xff\xd8 not really a photo")
    done = runner.invoke(app, ["predict", str(folder), "--out", str(tmp_path / "out"), "--workers", "2"])
    assert done.exit_code == 0, done.output
    assert "7 of 8 inputs scored, 1 refused" in _text(done)
    assert (tmp_path / "out" / "a" / "JS20019.hea.json").is_file() and (tmp_path / "out" / "b" / "JS20019.hea.json")
    rows = {r["source"]: r for r in csv.DictReader((tmp_path / "out" / "summary.csv").open())}
    assert rows["b/photo.jpg"]["status"] == "refused" and "could not be decoded" in rows["b/photo.jpg"]["reason"]
    assert rows["a/E07500-copy.csv"]["NORM"] == rows["a/E07500.hea"]["NORM"]    # CSV and WFDB agree
    assert float(rows["a/JS20019.hea"]["heart_rate_bpm"]) > 95                  # labelled sinus tachycardia
    refused = json.loads((tmp_path / "out" / "b" / "photo.jpg.json").read_text())
    assert refused["ok"] is False and "could not be decoded" in refused["error"]


def test_earlier_results_are_refused_then_resumed_or_overwritten(cinc_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, ["predict", str(cinc_dir), "--out", str(out)]).exit_code == 0
    first = (out / "E07500.hea.json").stat().st_mtime_ns
    again = runner.invoke(app, ["predict", str(cinc_dir), "--out", str(out)])
    assert _refused(again, "already holds results") and _refused(again, "--resume")
    assert (out / "E07500.hea.json").stat().st_mtime_ns == first                # nothing was touched
    (out / "HR06000.hea.json").unlink()                                         # an interrupted run
    resumed = runner.invoke(app, ["predict", str(cinc_dir), "--out", str(out), "--resume"])
    assert resumed.exit_code == 0 and "2 kept from the earlier run" in _text(resumed)
    assert (out / "HR06000.hea.json").is_file() and (out / "E07500.hea.json").stat().st_mtime_ns == first
    assert len(list(csv.DictReader((out / "summary.csv").open()))) == 3
    redone = runner.invoke(app, ["predict", str(cinc_dir), "--out", str(out), "--overwrite"])
    assert redone.exit_code == 0 and (out / "E07500.hea.json").stat().st_mtime_ns != first
    both = runner.invoke(app, ["predict", str(cinc_dir), "--out", str(out), "--overwrite", "--resume"])
    assert _refused(both, "pass one of the two")


def test_resume_refuses_to_mix_two_models(cinc_dir: Path, tmp_path: Path) -> None:
    from edgeecg.models import default_model

    out = tmp_path / "out"
    runner.invoke(app, ["predict", str(cinc_dir), "--out", str(out)])
    done = runner.invoke(app, ["predict", str(cinc_dir), "--out", str(out), "--resume",
                               "--model", str(default_model("fp32"))])
    assert _refused(done, "mix two models")


def test_photo_result_describes_itself_and_has_an_annotated_page(photo: Path, tmp_path: Path) -> None:
    from edgeecg.models import default_model
    from edgeecg.runtime import Runtime

    done = runner.invoke(app, ["predict", str(photo), "--out", str(tmp_path / "out"), "--threshold", "0.3"])
    assert done.exit_code == 0, done.output
    assert "digitizer: layout 3x4+II" in _text(done) and "dpi" in _text(done)
    saved = json.loads((tmp_path / "out" / "photo.png.json").read_text())
    assert saved["edgeecg_version"] == __version__
    assert saved["model"]["name"] == "synth-edge" and saved["model"]["sha256"] == Runtime(default_model()).sha256
    assert "/" not in saved["model"]["file"]                                    # no machine's path as the id
    assert len(saved["labels"]) == 17 and all(s["threshold"] == 0.3 for s in saved["labels"])
    assert next(s for s in saved["labels"] if s["label"] == "AFIB")["description"] == "atrial fibrillation"
    assert saved["thresholds_from"] == "0.3 for every class (given)"
    assert saved["digitizer"]["settings"]["speed"] == 25.0 and saved["digitizer"]["quality"]["layout"] == "3x4+II"
    assert saved["measurements"]["heart_rate"]["available"] is True
    assert (tmp_path / "out" / "photo.png.annotated.png").stat().st_size > 10_000


def test_nothing_found_still_records_every_threshold(cinc_dir: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["predict", str(cinc_dir / "E07500.hea"), "--out", str(tmp_path), "--threshold", "1.0"])
    saved = json.loads((tmp_path / "E07500.hea.json").read_text())
    assert saved["findings"] == [] and [s["threshold"] for s in saved["labels"]] == [1.0] * 17


def test_every_page_of_a_pdf_is_read(photo: Path, tmp_path: Path) -> None:
    pytest.importorskip("pypdfium2")
    import cv2

    pdf = tmp_path / "in" / "two-pages.pdf"
    pdf.parent.mkdir()
    _write_pdf(pdf, [cv2.imread(str(photo)), cv2.imread(str(photo))])
    done = runner.invoke(app, ["predict", str(pdf.parent), "--out", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader((tmp_path / "out" / "summary.csv").open()))
    assert [(r["source"], r["page"]) for r in rows] == [("two-pages.pdf", "1"), ("two-pages.pdf", "2")]
    assert rows[0]["status"] == rows[1]["status"] == "ok" and (tmp_path / "out" / "two-pages.pdf.p2.json").is_file()


def _write_pdf(path: Path, pages) -> None:
    """A PDF of full-page images, written with pypdfium2 (JPEG pages at 200 dpi)."""
    import cv2
    import pypdfium2

    doc = pypdfium2.PdfDocument.new()
    for k, bgr in enumerate(pages):
        jpg = path.with_name(f"page{k}.jpg")
        cv2.imwrite(str(jpg), bgr)
        w, h = bgr.shape[1] * 72 / 200, bgr.shape[0] * 72 / 200
        page = doc.new_page(w, h)
        image = pypdfium2.PdfImage.new(doc)
        image.load_jpeg(str(jpg))
        image.set_matrix(pypdfium2.PdfMatrix().scale(w, h))
        page.insert_obj(image)
        page.gen_content()
        jpg.unlink()
    doc.save(str(path))


def test_nothing_scorable_exits_nonzero(tmp_path: Path) -> None:
    (tmp_path / "scan.png").write_bytes(b"\x89PNG")
    done = runner.invoke(app, ["predict", str(tmp_path / "scan.png")])
    assert done.exit_code == 2 and "could not be decoded" in _text(done)


def test_photo_prediction_never_imports_torch() -> None:
    """The device path (digitizer + runtime + measurements) must run where torch is not installed."""
    import subprocess
    import sys

    fixture = Path(__file__).parent / "fixtures" / "real-images" / "ecg00001.png"
    code = ("import sys; from pathlib import Path; from edgeecg.runtime import Runtime; "
            "from edgeecg.models import default_model; from edgeecg.prediction import PredictConfig, predict_file; "
            f"r = predict_file(Runtime(default_model('int8')), Path({str(fixture)!r}), PredictConfig()); "
            "assert r.ok, r.error; assert r.measurements['heart_rate']['available']; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_list_of_files_is_an_archive_and_a_missing_entry_is_a_row(cinc_dir: Path, tmp_path: Path) -> None:
    listing = tmp_path / "todo.txt"
    listing.write_text(f"# from the archive's index\n{cinc_dir / 'JS20019.hea'}\n{cinc_dir / 'E07500'}\n"
                       f"{cinc_dir / 'gone.png'}\n")
    done = runner.invoke(app, ["predict", str(listing), "--out", str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    assert "2 of 3 inputs scored, 1 refused" in _text(done)
    rows = {r["source"]: r for r in csv.DictReader((tmp_path / "out" / "summary.csv").open())}
    assert set(rows) == {"JS20019.hea", "E07500.hea", "gone.png"}      # named relative to the files' folder
    assert rows["gone.png"]["status"] == "refused" and "gone.png" in rows["gone.png"]["reason"]
    (tmp_path / "empty.txt").write_text("# nothing yet\n")
    assert _refused(runner.invoke(app, ["predict", str(tmp_path / "empty.txt")]), "the list names no files")


@pytest.mark.parametrize("args, why", [(["--engine", "spark"], "use local or ray"),
                                       (["--ray-address", "auto"], "--ray-address needs --engine ray")])
def test_engine_options_are_checked(cinc_dir: Path, args: list[str], why: str) -> None:
    assert _refused(runner.invoke(app, ["predict", str(cinc_dir / "E07500"), *args]), why)


def test_a_wrong_orientation_is_one_error_before_any_input_is_read(photo: Path) -> None:
    from edgeecg.imaging.page import DigitizeError

    done = runner.invoke(app, ["predict", str(photo.parent), "--orientation", "sideways"])
    assert isinstance(done.exception, DigitizeError) and "use auto or as-given" in str(done.exception)
    assert "refused" not in done.output                    # not a refusal per input
