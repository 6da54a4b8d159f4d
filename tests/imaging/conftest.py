"""Shared records for the imaging tests: a few simulated ECGs at 100 Hz, made once per session."""

from __future__ import annotations

import pytest

from edgeecg.data.synth import SynthConfig, simulate


@pytest.fixture(scope="session")
def ecgs():
    return simulate(6, SynthConfig(fs=100.0), seed=5).records()
