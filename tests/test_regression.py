"""The device runner's gate for the x86-cpu profile on the committed default model (pytest -m regression).

Accuracy bounds are absolute (measured when the model was committed, see edgeecg/models/synth-edge/README.md);
latency is only compared as a ratio inside this run, never against absolute times.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeecg import bench
from edgeecg.models import DEFAULT, default_model

DEVICES = Path(__file__).resolve().parents[1] / "devices"
EXPECTED = json.loads((DEFAULT / "expected.json").read_text()) if (DEFAULT / "expected.json").is_file() else {}


@pytest.mark.regression
@pytest.mark.slow
@pytest.mark.skipif(not EXPECTED, reason="no committed default model")
def _int8_over_fp32(reports: list[bench.ModelReport]) -> float:
    batch1 = {r.name: next(x for x in r.latency if x.batch == 1) for r in reports}
    return batch1["int8-x86"].compute_p50_ms / batch1["fp32"].compute_p50_ms


def test_x86_gate_on_the_committed_model() -> None:
    profile = bench.regression_profile(DEVICES / "x86-cpu.toml")

    def measure() -> list[bench.ModelReport]:
        return bench.run(profile, [default_model("fp32"), default_model("int8")], reference=None,
                         n_test=EXPECTED["n_test"], seed=EXPECTED["seed"], progress=lambda *_: None)[0]

    reports = measure()
    fp32, int8 = reports
    for layout, auroc in EXPECTED["fp32_auroc"].items():
        assert fp32.auroc[layout] >= auroc - 0.005, layout          # same records, same model: only drift fails
    for layout in bench.PRINTED:
        assert int8.delta_auroc[layout] <= profile.max_auroc_drop, layout
    ratio = _int8_over_fp32(reports)
    if ratio > EXPECTED["int8_vs_fp32_max_ratio"]:
        # the two models are timed one after the other, half a second each: a burst of other work on a shared
        # 2-core machine slows one window (2.1x and 1.7x seen, 1.0x on the next run); a regression slows every run
        ratio = min(ratio, _int8_over_fp32(measure()))
    assert ratio <= EXPECTED["int8_vs_fp32_max_ratio"]
