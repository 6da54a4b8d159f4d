"""Device runner: the gate's rules, a short real run on a tiny export, and its reports."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from edgeecg import bench
from edgeecg.bench import Latency, ModelReport, gate
from edgeecg.devices import DeviceProfile
from edgeecg.layouts import CONDITIONS

DEVICES = Path(__file__).resolve().parents[1] / "devices"


def _quick(profile: DeviceProfile) -> DeviceProfile:
    return replace(profile, warmup=2, min_runs=6, min_seconds=0.05, batch_sizes=(1, 4))


def _report(name: str, drop: float = 0.0, p50: float = 1.0, on: str = "3x4") -> ModelReport:
    lat = [Latency(1, p50, p50, p50, p50, p50, p50, 1000 / p50, 10)]
    delta = {c: (drop if c == on else 0.0) for c in CONDITIONS}
    return ModelReport(name, "m.onnx", ["CPUExecutionProvider"], 1, 1.0, lat, {c: 0.8 for c in CONDITIONS}, delta)


def test_gate_passes_within_bounds_and_names_each_failure() -> None:
    profile = DeviceProfile.load(DEVICES / "x86-cpu.toml")
    assert gate(profile, [_report("fp32"), _report("int8-x86", 0.004, 4.0)], "torch-fp32")["passed"]
    verdict = gate(profile, [_report("fp32"), _report("int8-x86", 0.02, 9.0, on="2x6")], "torch-fp32")
    assert not verdict["passed"]
    assert any("AUROC drop 0.0200 on 2x6" in f for f in verdict["failures"])
    assert any("p50 9.00 ms > budget 5.0 ms" in f for f in verdict["failures"])
    # a drop on the full 12x1 record is not a printed layout; the gate is about what printouts show
    assert gate(profile, [_report("int8-x86", 0.02, on="12x1")], "fp32")["passed"]
    assert "no model of the deploy precision" in gate(profile, [_report("fp32")], "fp32")["failures"][0]


def test_short_run_reports_latency_and_parity(tiny_export: Path, tmp_path: Path) -> None:
    profile = _quick(DeviceProfile.load(DEVICES / "x86-cpu.toml"))
    models = [tiny_export / "export" / "model.onnx", tiny_export / "export" / "model.int8.onnx"]
    reports, verdict = bench.run(profile, models, tiny_export / "ckpt", n_test=120, progress=lambda *_: None)
    assert [r.name for r in reports] == ["torch-fp32", "fp32", "int8-x86"]
    for r in reports:
        assert [x.batch for x in r.latency] == [1, 4] and r.peak_rss_mb > 10
        assert all(0 < x.compute_p50_ms <= x.compute_p99_ms for x in r.latency)
        assert set(r.auroc) == set(CONDITIONS)
    fp32 = reports[1]
    assert max(abs(d) for d in fp32.delta_auroc.values()) < 1e-3 and fp32.max_abs_prob_diff < 1e-4
    assert verdict["reference"] == "torch-fp32"
    js, md = bench.write_reports(reports, verdict, tmp_path)
    assert json.loads(js.read_text())["models"][2]["name"] == "int8-x86"
    text = md.read_text()
    assert "| int8-x86 | " in text and "3x4+II" in text and ("PASSED" in text or "FAILED" in text)
