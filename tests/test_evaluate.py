"""Per-layout evaluation: every condition scored, baselines twice (zero and interpolation), table, JSON, PNG."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from edgeecg.cli import app
from edgeecg.evaluate import BLACKOUT, CONDITIONS, condition_masks, evaluate_probs
from edgeecg.layouts import PRINTED, RANDOM, observed_mask
from edgeecg.metrics import best_thresholds, bootstrap_macro_auroc, macro_auroc, macro_f1, per_class_auroc


def test_conditions_cover_every_layout_the_mix_and_blackouts() -> None:
    assert set(CONDITIONS) == {*PRINTED, RANDOM, BLACKOUT}


def test_condition_masks_are_fixed_by_seed_and_match_layouts() -> None:
    a = condition_masks(BLACKOUT, 6, 100, 1000, seed=4)
    np.testing.assert_array_equal(a, condition_masks(BLACKOUT, 6, 100, 1000, seed=4))
    assert not np.array_equal(a, condition_masks(BLACKOUT, 6, 100, 1000, seed=5))
    np.testing.assert_array_equal(condition_masks("3x4", 2, 100, 1000, 0)[1], observed_mask("3x4", 100, 1000))


def test_metrics_on_a_known_ranking() -> None:
    labels = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    prob = np.array([[0.9, 0.2], [0.1, 0.8], [0.8, 0.3], [0.2, 0.4]])
    np.testing.assert_allclose(per_class_auroc(labels, prob), [1.0, 0.75])
    assert macro_auroc(labels, prob) == pytest.approx(0.875)
    assert np.isnan(per_class_auroc(np.array([[1], [1]]), np.array([[0.2], [0.3]]))[0])
    th = best_thresholds(labels, prob)
    assert macro_f1(labels, prob, th) == pytest.approx(0.9)    # class 1 at best: F1 0.8 (threshold 0.3)
    lo, hi = bootstrap_macro_auroc(labels, prob, 50, 0)
    assert 0.5 <= lo <= hi <= 1.0


def test_evaluate_probs_af_and_intervals() -> None:
    rng = np.random.default_rng(0)
    labels = (rng.random((80, 2)) < 0.4).astype(np.uint8)
    signals = rng.standard_normal((80, 12, 1000)).astype(np.float32)
    signals[:, :, :] += labels[:, :1, None] * 2.0                # AFIB visible as an offset in every lead

    def predict(x: np.ndarray) -> np.ndarray:                     # mean of what is observed
        m = np.nanmean(x.reshape(len(x), -1), 1)
        return np.stack([1 / (1 + np.exp(-m)), rng.random(len(x))], 1)

    ev = evaluate_probs("toy", ("AFIB", "X"), predict, signals, labels, signals, labels, 100,
                        conditions=("12x1", "3x4"), n_boot=30)
    res = ev.by_condition()
    assert res["12x1"].af_auroc > 0.95 and res["3x4"].af_auroc > 0.95
    assert res["12x1"].ci_low <= res["12x1"].macro_auroc <= res["12x1"].ci_high


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    runner = CliRunner()
    root = tmp_path_factory.mktemp("ev")
    for model in ("patchecg", "baseline"):
        done = runner.invoke(app, ["train", "--model", model, "--n-train", "64", "--n-eval", "32", "--epochs", "1",
                                   "--batch-size", "32", "--out", str(root / model)])
        assert done.exit_code == 0, done.output
    return root / "patchecg", root / "baseline"


@pytest.mark.slow
def test_evaluate_cli_writes_table_json_and_png(tmp_path: Path, trained) -> None:
    done = CliRunner().invoke(app, ["evaluate", str(trained[0]), str(trained[1]), "--out", str(tmp_path),
                                    "--n-boot", "10"])
    assert done.exit_code == 0, done.output
    assert "macro AUROC per layout" in done.output and "3x4+II" in done.output
    result = json.loads((tmp_path / "evaluation.json").read_text())
    assert [e["model"] for e in result] == ["patchecg", "baseline (zero fill)", "baseline (interp fill)"]
    for e in result:
        assert [r["condition"] for r in e["results"]] == list(CONDITIONS)
        assert all(0.0 <= r["macro_auroc"] <= 1.0 for r in e["results"])
    assert (tmp_path / "auroc_per_layout.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

