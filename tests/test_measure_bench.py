"""`edgeecg bench measure`: its sections run, score against their truth, and print a table."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from edgeecg import measure_bench as mb
from edgeecg.cli import app


def test_simulator_section_scores_every_layout_at_both_rates() -> None:
    rows = mb.simulator(20, seed=100)
    assert [r.condition for r in rows] == [f"{lay} {fs} Hz" for fs in (100, 500) for lay in mb.LAYOUTS]
    assert all(r.hr_available >= 0.9 and r.hr_mae_bpm < 5 for r in rows)
    assert all(set(r.errors_ms) == set(mb.INTERVALS) for r in rows)


def test_real_records_are_checked_against_their_rate_labels(cinc_dir: Path) -> None:
    rows = mb.real(f"wfdb:{cinc_dir}", 3)
    assert [r.condition for r in rows] == ["12x1", "3x4+II", "3x4"]
    assert "STACH above 100 bpm" in rows[0].notes and rows[0].records == 3


def test_the_command_writes_its_figures(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["bench", "measure", "--n", "10", "--photos", "2", "--out", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert "photos" in done.output and (tmp_path / "bench-measure.json").is_file()
