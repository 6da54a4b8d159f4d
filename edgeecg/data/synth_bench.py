"""Simulator throughput on one core, the figure behind the ">= 1,000 records per second" target."""

from __future__ import annotations

import time
from dataclasses import dataclass

from threadpoolctl import threadpool_limits

from edgeecg.data.synth import SynthConfig, simulate


@dataclass
class SynthSpeed:
    n: int
    fs: float
    seconds: list[float]

    @property
    def records_per_s(self) -> float:
        """Median over repeats: robust to a noisy machine."""
        ordered = sorted(self.seconds)
        return self.n / ordered[len(ordered) // 2]


def measure(n: int = 5000, fs: float = 100.0, repeats: int = 3, chunk: int = 1000) -> SynthSpeed:
    """Times `n` records (in chunks, as `edgeecg data synth` makes them) with BLAS held to one thread."""
    cfg = SynthConfig(fs=fs)
    with threadpool_limits(limits=1):
        simulate(min(chunk, 200), cfg, seed=12345)  # warm-up: first-touch allocations
        seconds = []
        for r in range(repeats):
            t0 = time.perf_counter()
            for a in range(0, n, chunk):
                simulate(min(chunk, n - a), cfg, seed=r * 100_000 + a)
            seconds.append(time.perf_counter() - t0)
    return SynthSpeed(n, fs, seconds)
