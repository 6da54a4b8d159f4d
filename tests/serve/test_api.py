"""The HTTP API over loopback: good and refused photos, records, bounds, auth, and parallel requests kept apart."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from edgeecg.data.csv_io import write_csv
from edgeecg.data.synth import SynthConfig, simulate


def test_health_and_model(service) -> None:
    with service.client() as c:
        assert c.get("/v1/health").json()["status"] == "ok"
        model = c.get("/v1/model").json()
    assert model["name"] == "synth-edge" and len(model["sha256"]) == 64 and len(model["labels"]) == 17
    assert {"label": "AFIB", "description": "atrial fibrillation"}.items() <= model["labels"][1].items()
    assert "not for clinical use" in model["notice"]


def test_a_photo_gives_findings_measurements_and_the_annotated_page(service, scan_png: bytes) -> None:
    with service.client() as c:
        r = c.post("/v1/predict", content=scan_png, headers={"Content-Type": "image/png", "X-Filename": "scan.png"})
        assert r.status_code == 200, r.text
        body = r.json()
        png = c.get(body["annotated_url"])
    assert body["ok"] and body["source"] == "scan.png" and body["digitizer"]["quality"]["layout"] == "3x4+II"
    assert body["measurements"]["heart_rate"]["available"] and body["model"]["name"] == "synth-edge"
    assert body["input_sha256"] == hashlib.sha256(scan_png).hexdigest() and body["annotated"] == ""
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    with service.client() as c:
        assert c.get(f"/v1/results/{body['id']}").json()["labels"] == body["labels"]


def test_a_page_that_is_no_ecg_is_refused_with_its_reason(service) -> None:
    import cv2

    blank = cv2.imencode(".png", np.full((900, 1200, 3), 250, np.uint8))[1].tobytes()
    with service.client() as c:
        r = c.post("/v1/predict", content=blank, headers={"Content-Type": "image/png"})
    assert r.status_code == 422 and not r.json()["ok"] and "blank" in r.json()["error"]


def test_wrong_types_and_empty_uploads_are_refused(service) -> None:
    with service.client() as c:
        wrong = c.post("/v1/predict", content=b"hello", headers={"Content-Type": "text/plain"})
        empty = c.post("/v1/predict", content=b"", headers={"Content-Type": "image/jpeg"})
        none = c.post("/v1/predict", files={"note": (None, "no file here")})
    assert wrong.status_code == 415 and "not accepted" in wrong.json()["error"]
    assert empty.status_code == 400 and none.status_code == 400


def test_a_wfdb_record_as_two_files(service, cinc_dir: Path) -> None:
    from edgeecg import predict

    files = [("hea", ("E07500.hea", (cinc_dir / "E07500.hea").read_bytes(), "text/plain")),
             ("signal", ("E07500.mat", (cinc_dir / "E07500.mat").read_bytes(), "application/octet-stream"))]
    with service.client() as c:
        r = c.post("/v1/predict", files=files)
    assert r.status_code == 200, r.text
    local = predict(cinc_dir / "E07500.hea")
    assert r.json()["source"] == "E07500.hea"
    assert {s["label"]: s["probability"] for s in r.json()["labels"]} == local.probabilities


def test_a_client_file_name_never_becomes_a_path(service, scan_png: bytes) -> None:
    with service.client() as c:
        r = c.post("/v1/predict", files={"file": ("../../../../tmp/evil.png", scan_png, "image/png")})
        bad_id = c.get("/v1/results/..%2F..%2Fetc")
        page = c.get("/static/../app.py")
    assert r.status_code == 200 and r.json()["source"] == "evil.png"
    assert not Path("/tmp/evil.png").exists()
    written = [p for p in service.data_dir.rglob("*") if p.is_file()]
    assert all(p.name in ("result.json", "annotated.png") for p in written)      # uploads gone once read
    assert bad_id.status_code == 404 and page.status_code == 404


def test_parallel_uploads_finish_without_errors_or_mixed_up_results(service, tmp_path: Path) -> None:
    batch = simulate(8, SynthConfig(fs=100.0), seed=21)
    bodies = []
    for i, rec in enumerate(batch.records()):
        write_csv(rec, tmp_path / f"r{i}.csv")
        bodies.append((tmp_path / f"r{i}.csv").read_bytes())

    def send(k: int):
        with service.client() as c:
            return c.post("/v1/predict", content=bodies[k], headers={"Content-Type": "text/csv",
                                                                     "X-Filename": f"r{k}.csv"})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    for k, a in enumerate(answers):
        body = a.json()
        assert body["source"] == f"r{k}.csv" and body["input_sha256"] == hashlib.sha256(bodies[k]).hexdigest()
    assert len({a.json()["id"] for a in answers}) == 8


def test_token_size_and_time_limits(guarded, scan_png: bytes) -> None:
    import cv2
    import httpx

    page = cv2.imdecode(np.frombuffer(scan_png, np.uint8), cv2.IMREAD_COLOR)
    small_jpeg = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
    assert len(small_jpeg) < 1_000_000

    with httpx.Client(base_url=guarded.url, timeout=60) as anonymous:
        assert anonymous.get("/v1/health").status_code == 200                      # no data in it
        assert anonymous.get("/v1/model").status_code == 401
        assert anonymous.post("/v1/predict", content=b"x", headers={"Content-Type": "image/png"}).status_code == 401
        assert anonymous.get("/").status_code == 200                               # the page holds no data
    with guarded.client() as c:
        big = c.post("/v1/predict", content=b"\0" * 1_500_000, headers={"Content-Type": "image/png"})
        slow = c.post("/v1/predict", content=small_jpeg, headers={"Content-Type": "image/jpeg"})
    assert big.status_code == 413 and "limit of 1 MB" in big.json()["error"]
    assert slow.status_code == 504 and "longer than 0.01 s" in slow.json()["error"]


@pytest.mark.parametrize("name", ["app.js", "precheck.js", "style.css"])
def test_the_page_and_its_files_are_served(service, name: str) -> None:
    with service.client() as c:
        assert "Photograph the ECG page" in c.get("/").text
        assert c.get(f"/static/{name}").status_code == 200


def test_the_serve_benchmark_runs_both_inputs_without_errors() -> None:
    from typer.testing import CliRunner

    from edgeecg.cli import app

    done = CliRunner().invoke(app, ["bench", "serve", "--requests", "4", "--clients", "2", "--workers", "1"])
    assert done.exit_code == 0, done.output
    assert "photo" in done.output and "record" in done.output and "requests/s" in done.output
