"""Calibration sets: reproducible from the seed, spread over every condition, stored without pickle, hashed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from edgeecg import calibration as cal
from edgeecg.layouts import CONDITIONS
from edgeecg.record import RecordError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small() -> cal.CalibrationSet:
    return cal.build(cal.Recipe(records=2 * len(CONDITIONS)))


def test_default_recipe_file_matches_the_documented_default() -> None:
    recipe = cal.Recipe.load(REPO / "calibration" / "default.toml")
    assert recipe == cal.Recipe() and recipe.records == 512 and recipe.conditions == CONDITIONS
    assert cal.Recipe.load("default") == recipe                  # the shipped name, from any folder
    with pytest.raises(RecordError, match="calibration recipe nightly not found.*shipped name: default"):
        cal.Recipe.load("nightly")


def test_same_seed_same_set_other_seed_other_set(small) -> None:
    again = cal.build(cal.Recipe(records=2 * len(CONDITIONS)))
    assert again.digest == small.digest
    assert cal.build(cal.Recipe(records=2 * len(CONDITIONS), seed=1)).digest != small.digest


def test_token_counts_follow_the_conditions(small) -> None:
    counts = small.tokens.valid.sum(1)
    k = {c: i for i, c in enumerate(CONDITIONS)}
    n = len(CONDITIONS)
    assert counts[k["12x1"]] == counts[k["12x1"] + n] == 96
    assert counts[k["3x4"]] == 24 and counts[k["3x4+II"]] == 30        # II adds its 6 slots outside 0-2.5 s
    assert len(set(counts.tolist())) > 4


def test_batches_are_padded_to_buckets_and_cover_every_record(small) -> None:
    batches = small.batches(size=8, bucket=8)
    assert sum(len(b["valid"]) for b in batches) == len(small.tokens.valid)
    for b in batches:
        assert b["patches"].shape[1] % 8 == 0 and b["valid"].any(1).all()


def test_save_load_round_trip_and_tamper_check(small, tmp_path: Path) -> None:
    folder = cal.save(small, tmp_path / "set", cal.TokenizerConfig())
    loaded = cal.load(folder)
    assert loaded.digest == small.digest and loaded.recipe == small.recipe
    np.testing.assert_array_equal(loaded.tokens.patches, small.tokens.patches)
    with np.load(folder / "tokens.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["patches"][0, 0, 0] += 1.0
    np.savez_compressed(folder / "tokens.npz", **arrays)
    with pytest.raises(RecordError, match="hash does not match"):
        cal.load(folder)


def test_recipe_errors_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nrecords = 10\nconditions = ["3x4", "4x3"]\n')
    with pytest.raises(RecordError, match="unknown conditions"):
        cal.Recipe.load(bad)
    bad.write_text('name = "x"\nsize = 10\n')
    with pytest.raises(RecordError, match="unknown keys"):
        cal.Recipe.load(bad)
    with pytest.raises(RecordError, match="records must be"):
        replace(cal.Recipe(), records=0)
    with pytest.raises(RecordError, match="not a calibration set"):
        cal.load(tmp_path)
