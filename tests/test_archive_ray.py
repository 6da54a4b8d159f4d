"""`edgeecg predict --engine ray` on a local Ray with 2 workers over a generated archive of a few hundred inputs,
a quarter unreadable: the same results as the local path, every input a row, refusals with reasons, resume.
Skipped where Ray (the `ray` extra) is not installed."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pq = pytest.importorskip("pyarrow.parquet")

from edgeecg import archive  # noqa: E402
from edgeecg.archive_ray import predict_on_ray  # noqa: E402
from edgeecg.archive_sample import BAD_KINDS, SampleArchive, write_sample_archive  # noqa: E402
from edgeecg.models import default_model  # noqa: E402
from edgeecg.prediction import PredictConfig  # noqa: E402

pytestmark = pytest.mark.slow
N = 240


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleArchive:
    return write_sample_archive(tmp_path_factory.mktemp("archive") / "scans", n=N, seed=1)


@pytest.fixture(scope="module")
def ray_run(sample: SampleArchive, local_ray: None, tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("ray-out")
    items = archive.items_in(sample.folder)
    results = archive.run(items, default_model("int8"), PredictConfig(), out, ray=archive.RayConfig(workers=2))
    return out, results


def test_every_input_is_a_row_and_only_the_unreadable_are_refused(sample: SampleArchive, ray_run) -> None:
    out, results = ray_run
    assert len(results) == N
    rows = {r["source"]: r for r in csv.DictReader((out / archive.SUMMARY).open())}
    assert set(rows) == set(sample.readable)
    for name, readable in sample.readable.items():
        assert (rows[name]["status"] == "ok") == readable, (name, rows[name]["reason"])
        assert (out / f"{name}.json").is_file()
        if not readable:
            assert len(rows[name]["reason"]) > 20                      # a sentence that says what is wrong
    assert {re.match(r"[a-z_]+", name.split("/")[1])[0] for name, ok in sample.readable.items() if not ok} == set(
        BAD_KINDS)


def test_copies_of_one_page_get_one_result_so_nothing_is_mixed_up(sample: SampleArchive, ray_run) -> None:
    out, _ = ray_run
    rows = {r["source"]: r for r in csv.DictReader((out / archive.SUMMARY).open())}
    copies = [n for n, orig in sample.original.items() if orig != n]
    assert len(copies) > 100
    for name in copies:
        assert rows[name]["NORM"] == rows[sample.original[name]]["NORM"], name
        assert rows[name]["heart_rate_bpm"] == rows[sample.original[name]]["heart_rate_bpm"], name
        assert json.loads((out / f"{name}.json").read_text())["source"] == name


def test_the_parquet_summary_is_the_csv_with_types(ray_run) -> None:
    out, _ = ray_run
    table = pq.read_table(out / "summary.parquet")
    rows = list(csv.DictReader((out / archive.SUMMARY).open()))
    assert table.num_rows == len(rows) and table.column_names == list(rows[0])
    assert str(table.schema.field("heart_rate_bpm").type) == "double"
    by_source = dict(zip(table.column("source").to_pylist(), table.column("NORM").to_pylist(), strict=True))
    for r in rows:
        assert (by_source[r["source"]] is None) == (r["NORM"] == "")
        if r["NORM"]:
            assert by_source[r["source"]] == pytest.approx(float(r["NORM"]))


def test_ray_and_the_process_pool_agree(sample: SampleArchive, ray_run, tmp_path: Path) -> None:
    out, _ = ray_run
    items = archive.items_in(sample.folder)[::12]
    local = archive.run(items, default_model("int8"), PredictConfig(), tmp_path, workers=2)
    by_name = {r["source"]: r for r in csv.DictReader((out / archive.SUMMARY).open())}
    for r in local:
        assert (by_name[r.source]["status"] == "ok") == r.ok
        for label, p in r.probabilities.items():
            assert float(by_name[r.source][label]) == pytest.approx(p, abs=1e-6)


def test_a_rerun_skips_what_is_done_and_redoes_what_is_missing(sample: SampleArchive, ray_run, local_ray: None
                                                              ) -> None:
    out, _ = ray_run
    items = archive.items_in(sample.folder)
    gone = items[:5]
    for it in gone:
        (out / f"{it.stem}.json").unlink()
    kept_file = out / f"{items[10].stem}.json"
    before = kept_file.stat().st_mtime_ns
    done: list[tuple[str, bool]] = []
    with pytest.raises(archive.ArchiveError, match="--resume"):
        archive.run(items, default_model("int8"), PredictConfig(), out, ray=archive.RayConfig(workers=2))
    archive.run(items, default_model("int8"), PredictConfig(), out, resume=True, ray=archive.RayConfig(workers=2),
                on_done=lambda it, _p, was_kept: done.append((it.stem, was_kept)))
    assert sorted(stem for stem, was_kept in done if not was_kept) == sorted(it.stem for it in gone)
    assert all((out / f"{it.stem}.json").is_file() for it in gone)
    assert kept_file.stat().st_mtime_ns == before


def test_workers_that_cannot_start_lose_their_inputs_as_rows_with_the_reason(sample: SampleArchive,
                                                                             local_ray: None) -> None:
    items = archive.items_in(sample.folder)[:6]
    results = list(predict_on_ray(items, Path("/nonexistent/model.onnx"), PredictConfig(),
                                  ray_cfg=archive.RayConfig(workers=2)))
    assert sorted(it.stem for it, _ in results) == sorted(it.stem for it in items)
    for _, r in results:
        assert not r.ok and "lost on the cluster" in r.error and "model file" in r.error and "--resume" in r.error
