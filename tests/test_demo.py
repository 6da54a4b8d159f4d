"""`edgeecg demo` end to end at a tiny size: every step runs and the report holds the summary table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeecg.demo import DemoConfig, report_markdown, run, summary_rows


@pytest.mark.slow
def test_tiny_demo_writes_its_report(tmp_path: Path) -> None:
    cfg = DemoConfig.sized(True, out=tmp_path / "demo", n_train=96, n_eval=64, epochs=1, n_boot=10, photos=2,
                           bench_records=60)
    summary = run(cfg)
    out = cfg.out
    for name in ("report.md", "summary.json", "auroc_per_layout.png", "evaluation.json", "export/model.int8.onnx",
                 "bench/bench.json"):
        assert (out / name).is_file(), name
    saved = json.loads((out / "summary.json").read_text())
    assert set(saved["auroc_per_layout"]) == {"patchecg (demo training)", "patchecg (embedded default)",
                                              "baseline (zero fill)", "baseline (interp fill)"}
    assert saved["auroc_per_layout"]["patchecg (embedded default)"]["12x1"] > 0.7   # the shipped model works
    assert len(saved["photos"]) == 2 and set(saved["stage_seconds"]) == {"train", "evaluate", "export", "photos",
                                                                         "device runner"}
    rows = dict(summary_rows(summary))
    assert "macro AUROC 3x4" in rows and "device gate (x86-cpu profile)" in rows
    report = (out / "report.md").read_text()
    assert report == report_markdown(saved) and "![AUROC per layout](auroc_per_layout.png)" in report
    assert any(p["annotated"] and (out / "photos" / p["annotated"]).is_file() for p in saved["photos"])
