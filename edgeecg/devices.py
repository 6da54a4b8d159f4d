"""Device profiles: what the device runner measures on a target and what it must meet.

The shipped profiles live in `edgeecg/profiles/` (package data, linked from the repository's `devices/`), so
`edgeecg bench --device x86-cpu` works on a bare `pip install edgeecg`; a TOML path of one's own works too."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from edgeecg import tomlfile as tomllib
from edgeecg.record import RecordError

PROFILES = Path(__file__).parent / "profiles"

PRECISIONS = ("fp32", "int8", "fp16", "trt-fp16", "trt-int8")
BACKENDS = ("tensorrt", "TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")


@dataclass(frozen=True)
class DeviceProfile:
    """One target. `deploy` is the precision the latency budget applies to; every benched model must keep
    its AUROC within `max_auroc_drop` of the FP32 reference on every printed layout."""

    name: str
    description: str
    backends: tuple[str, ...]
    precisions: tuple[str, ...]
    deploy: str
    threads: int
    latency_budget_ms: float
    max_auroc_drop: float
    batch_sizes: tuple[int, ...] = (1, 16)
    warmup: int = 20
    min_runs: int = 200
    min_seconds: float = 2.0
    notes: str = ""

    def __post_init__(self) -> None:
        bad = [p for p in self.precisions if p not in PRECISIONS]
        if bad:
            raise RecordError(f"profile {self.name}: unknown precisions {bad}; use {', '.join(PRECISIONS)}")
        if self.deploy not in self.precisions:
            raise RecordError(f"profile {self.name}: deploy precision {self.deploy!r} is not in precisions")
        bad = [b for b in self.backends if b not in BACKENDS]
        if bad:
            raise RecordError(f"profile {self.name}: unknown backends {bad}; use {', '.join(BACKENDS)}")
        if self.threads < 1 or self.latency_budget_ms <= 0 or self.max_auroc_drop < 0 or 1 not in self.batch_sizes:
            raise RecordError(f"profile {self.name}: threads >= 1, a positive budget, a drop >= 0 and batch size 1 "
                              "are required")

    @property
    def ort_providers(self) -> list[str]:
        return [b for b in self.backends if b != "tensorrt"]

    @classmethod
    def load(cls, spec: str | Path) -> DeviceProfile:
        """From a shipped profile's name (`x86-cpu`) or a TOML path."""
        path = tomllib.resolve(spec, PROFILES, "device profile")
        try:
            raw = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as err:
            raise RecordError(f"{path}: not valid TOML ({err})") from None
        names = {f.name for f in fields(cls)}
        unknown = set(raw) - names
        if unknown:
            raise RecordError(f"{path}: unknown keys {sorted(unknown)}; allowed: {sorted(names)}")
        try:
            return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
        except TypeError as err:
            raise RecordError(f"{path}: {err}") from None
