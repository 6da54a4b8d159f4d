"""`edgeecg bench digitize` on a few images: every severity scored, clean pages included, bad options refused."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from edgeecg.cli import app
from edgeecg.imaging import bench, confidence


def test_the_page_as_rendered_is_scored_beside_the_captures(ecgs):
    """Severity "none" scores the rendered page itself (a digital export, another tool's clean image): the
    digitizer must read those as well as scans, and the bench shows it beside them."""
    results = bench.run({"synth": ecgs[:2]}, severities=("none", "scan"), progress=False)
    assert [(r.severity, r.layout) for r in results] == [("none", "3x4"), ("scan", "3x4"), ("none", "3x4+II"),
                                                          ("scan", "3x4+II")]
    assert all(r.ok and r.layout_correct for r in results)
    assert min(np.median(r.snr_db) for r in results if r.severity == "none") > 15.0
    figures = bench.overall(results)
    assert set(figures["median_snr_db"]) == {"none", "scan"}
    assert figures["median_ms_photo_2200x1700"] is None  # neither is photo-sized


def test_an_unknown_severity_is_refused_before_any_work(tmp_path):
    result = CliRunner().invoke(app, ["bench", "digitize", "--severity", "scan,blurry", "--n", "1",
                                      "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown severity blurry" in result.output
    assert not (tmp_path / "bench-digitize.json").exists()


def test_the_bench_writes_its_figures_and_prints_the_targets(tmp_path):
    result = CliRunner().invoke(app, ["bench", "digitize", "--severity", "none", "--n", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    payload = json.loads((tmp_path / "bench-digitize.json").read_text())
    assert payload["overall"]["images"] == 1 and "none" in payload["overall"]["median_snr_db"]
    assert "median SNR none" in result.output and "layout detection" in result.output
    assert "no photos in this run" in result.output  # the time target is for photos, not whole pages
    assert "reads above the bar under 5 dB" in result.output
    assert payload["overall"]["read_below_5db"]["reads"] == 1


def test_turned_pages_are_counted_as_read_upright_refused_or_wrong(ecgs, tmp_path):
    results = bench.run({"synth": ecgs[:1]}, severities=("none",), progress=False)
    turned = bench.reread(results, {"synth": ecgs[:1]}, bench.LYING, progress=False)
    assert [t.way for t in turned] == list(bench.LYING)
    assert all(t.first_snr_db > 10 for t in turned)          # the same page, read upright first
    summary = bench.reread_summary(turned)
    assert summary["all"]["pages"] == 5 and summary["all"]["wrong"] == 0.0
    assert summary["all"]["same"] + summary["all"]["refused"] == 1.0
    wrong = bench.Reread("synth", "3x4", "none", "mirrored", 20.0, 3.0, "as given", 0.9, "")
    assert wrong.outcome == "wrong" and bench.Reread("s", "3x4", "none", "mirrored", 20.0, 19.5, "mirrored",
                                                     0.9, "").outcome == "same"
    path = bench.write(results, tmp_path, {}, {"turned": turned, "jpeg": []})
    payload = json.loads(path.read_text())
    assert payload["overall"]["turned"]["all"]["pages"] == 5 and len(payload["turned_images"]) == 5
    assert "jpeg" not in payload["overall"] and "jpeg_images" not in payload


def test_resaving_as_jpeg_loses_detail_with_quality(ecgs):
    page = bench.bench_shot(ecgs[0], "3x4+II", "none", (0, 0))
    errors = [float(np.abs(bench.resaved(q)(page.image).astype(int) - page.image).mean()) for q in (95, 60, 20)]
    assert 0 < errors[0] < errors[1] < errors[2]


def test_the_jpeg_section_and_the_vendor_layouts_come_out_of_the_command(tmp_path):
    result = CliRunner().invoke(app, ["bench", "digitize", "--severity", "none", "--n", "1", "--layouts", "vendor",
                                      "--jpeg", "90,30", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    payload = json.loads((tmp_path / "bench-digitize.json").read_text())
    assert payload["images"][0]["layout"] == "3x4+V1" and payload["overall"]["layouts"] == "vendor"
    assert set(payload["overall"]["jpeg"]) == {"all", "JPEG q90", "JPEG q30"} and "re-saved as JPEG" in result.output
    bad = CliRunner().invoke(app, ["bench", "digitize", "--n", "1", "--jpeg", "90,x", "--out", str(tmp_path)])
    assert bad.exit_code != 0 and "comma list of JPEG qualities" in bad.output


def test_foreign_styles_are_families_the_own_bench_never_draws():
    rng = np.random.default_rng(0)
    own = [bench.random_style(rng) for _ in range(200)]
    foreign = [bench.foreign_style(rng) for _ in range(200)]
    assert all(s.minor_grid == "lines" and s.pulse == "start" and s.label_position != "inside" for s in own)
    assert all(s.minor_grid != "lines" for s in foreign)
    assert {s.pulse for s in foreign} == {"start", "end", "none"} and any(s.label_position == "inside"
                                                                          for s in foreign)
    assert min(s.margin_top for s in foreign) >= 30 > max(s.margin_top for s in own)


def test_an_unknown_style_is_refused(tmp_path):
    result = CliRunner().invoke(app, ["bench", "digitize", "--style", "vendor", "--n", "1", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown style vendor" in result.output
    result = CliRunner().invoke(app, ["bench", "digitize", "--layouts", "cabrera", "--n", "1", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown layout set cabrera" in result.output


def test_fit_confidence_fits_bench_reads_and_refuses_too_few(tmp_path):
    """A bench run that keeps every read (--min-confidence 0) records each read's features and confidence; the fit
    turns reads into a model whose stated confidence is a probability, and says how the shipped model does on them;
    fewer than 50 reads, or all of them right, are refused before anything is written."""
    bench_dir = tmp_path / "bench"
    ran = CliRunner().invoke(app, ["bench", "digitize", "--severity", "none", "--n", "1", "--min-confidence", "0",
                                   "--out", str(bench_dir)])
    assert ran.exit_code == 0, ran.output
    payload = json.loads((bench_dir / "bench-digitize.json").read_text())
    image = payload["images"][0]
    assert set(image["features"]) == set(confidence.FEATURES) and 0.0 <= image["confidence"] <= 1.0
    assert payload["overall"]["confidence_reliability"][0]["reads"] == 1
    few = CliRunner().invoke(app, ["fit-confidence", str(bench_dir / "bench-digitize.json"), "--out",
                                   str(tmp_path / "c.json")])
    assert few.exit_code == 2 and "need at least 50" in " ".join(few.output.replace("│", " ").split())
    assert not (tmp_path / "c.json").exists()
    rng = np.random.default_rng(0)
    many = dict(payload, images=[])
    for _ in range(200):    # the same read 200 times, its coverage and SNR drawn so that coverage tells
        cov = float(rng.uniform(0.5, 1.0))
        snr = 20.0 if rng.random() < cov ** 4 else 0.0
        many["images"].append(dict(image, features=dict(image["features"], coverage=cov), snr_db=[snr] * 12))
    (tmp_path / "many.json").write_text(json.dumps(many))
    fitted = CliRunner().invoke(app, ["fit-confidence", str(tmp_path / "many.json"), "--out", str(tmp_path / "c.json")])
    assert fitted.exit_code == 0, fitted.output
    assert "the shipped model on these reads: bar" in fitted.output   # whether a refit is needed at all
    model = confidence.load(tmp_path / "c.json")
    assert dict(zip(model.names, model.weights, strict=True))["coverage"] > 0.5 and 0.0 < model.bar <= 1.0
    # a model already there is replaced only when asked
    before = (tmp_path / "c.json").read_bytes()
    again = CliRunner().invoke(app, ["fit-confidence", str(tmp_path / "many.json"), "--out", str(tmp_path / "c.json"),
                                     "--l2", "5"])
    said = " ".join(again.output.replace("│", " ").split())   # the error box wraps at the temporary path's length
    assert again.exit_code == 2 and "already exists; pass --overwrite" in said
    assert (tmp_path / "c.json").read_bytes() == before
    replaced = CliRunner().invoke(app, ["fit-confidence", str(tmp_path / "many.json"), "--out",
                                        str(tmp_path / "c.json"), "--l2", "5", "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert (tmp_path / "c.json").read_bytes() != before
    # three runs or more: each is scored by a model fitted without it, and the bar is set on those scores
    for run in ("r1", "r2", "r3"):
        (tmp_path / run).mkdir()
        layouts = "vendor" if run == "r3" else "bench"
        (tmp_path / run / "bench-digitize.json").write_text(
            json.dumps(dict(many, overall=dict(many["overall"], layouts=layouts))))
    held = CliRunner().invoke(app, ["fit-confidence", *(str(tmp_path / r / "bench-digitize.json") for r in
                                                        ("r1", "r2", "r3")), "--out", str(tmp_path / "h.json")])
    assert held.exit_code == 0, held.output
    assert "each run scored by a model fitted without it" in held.output
    assert "each run held out" in held.output and all(f"{r} (own style)" in held.output for r in ("r1", "r2"))
    assert "r3 (own style, vendor layouts)" in held.output


@pytest.mark.parametrize("text", ["{", '{"overall": {}}', '{"overall": {}, "images": [{"ok": true, "detected": "12x1", '
                                  '"layout": "12x1", "features": {"coverage": 1.0}}]}'])
def test_fit_confidence_refuses_a_file_that_is_not_a_bench_with_features(tmp_path, text):
    """Broken JSON, no images, or features of another digitizer (one missing): a one-line refusal, nothing written."""
    bad = tmp_path / "bench-digitize.json"
    bad.write_text(text)
    out = CliRunner().invoke(app, ["fit-confidence", str(bad), "--out", str(tmp_path / "c.json")])
    assert out.exit_code == 2 and "not a bench-digitize.json" in out.output and not (tmp_path / "c.json").exists()


def test_peak_memory_is_measured_on_the_benchs_own_digitizer(monkeypatch):
    # a --tracer net bench must not report the classical tracer's memory
    from edgeecg.imaging.digitize import DigitizeConfig

    seen = []
    monkeypatch.setattr(bench, "digitize", lambda image, config: seen.append(config))
    cfg = DigitizeConfig(tracer="net", labels=False)
    assert bench.peak_memory_mb(np.zeros((8, 8, 3), np.uint8), cfg) >= 0.0
    assert seen == [cfg]
