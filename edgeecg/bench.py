"""The device runner: latency on the target and AUROC parity against the FP32 model, with a pass/fail gate.

Each model's latency is measured in a fresh process (so thread pools and peak memory are its own): warm-up,
then at least `min_runs` runs and `min_seconds`; p50/p90/p99 at batch 1 and a larger batch, model compute
(tokens in) and end to end (signal in: tokenize + infer) separately. Parity runs every model on the same
held-out records under every printed layout, through the same tokenizer, against the FP32 reference (the
torch checkpoint where torch is installed, else the FP32 ONNX). torch is imported only for that reference.
"""

from __future__ import annotations

import itertools
import json
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from edgeecg.devices import DeviceProfile
from edgeecg.layouts import CONDITIONS, condition_masks, masked
from edgeecg.layouts import PRINTED as MODEL_LAYOUTS
from edgeecg.record import RecordError

PRINTED = tuple(name for name in MODEL_LAYOUTS if name != "12x1")


@dataclass
class Latency:
    batch: int
    compute_p50_ms: float
    compute_p90_ms: float
    compute_p99_ms: float
    end_to_end_p50_ms: float
    end_to_end_p90_ms: float
    end_to_end_p99_ms: float
    records_per_s: float
    runs: int


@dataclass
class ModelReport:
    name: str                  # precision label, e.g. int8-x86, or torch-fp32
    path: str
    providers: list[str]
    bytes: int
    peak_rss_mb: float
    latency: list[Latency]
    auroc: dict[str, float] = field(default_factory=dict)         # macro AUROC per condition
    delta_auroc: dict[str, float] = field(default_factory=dict)   # reference minus this model
    max_abs_prob_diff: float = 0.0


def _timeit(fn, warmup: int, min_runs: int, min_seconds: float) -> np.ndarray:
    """Milliseconds per call: at least `min_runs` calls and `min_seconds`, after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    end = time.perf_counter() + min_seconds
    while len(times) < min_runs or (time.perf_counter() < end and len(times) < 50 * min_runs):
        t0 = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return np.asarray(times)


def _latencies(compute, end_to_end, batches: list[int], profile: DeviceProfile) -> list[Latency]:
    out = []
    for b in batches:
        c = _timeit(compute[b], profile.warmup, profile.min_runs, profile.min_seconds)
        e = _timeit(end_to_end[b], profile.warmup // 2, profile.min_runs // 2, profile.min_seconds / 2)
        out.append(Latency(b, *np.percentile(c, [50, 90, 99]).tolist(), *np.percentile(e, [50, 90, 99]).tolist(),
                           b * 1000.0 / float(np.median(e)), len(c)))
    return out


def _measure_onnx(path: str, profile: DeviceProfile, signals: np.ndarray, fs: float) -> dict:
    """Runs in a child process: one runtime session, its latency table and peak memory."""
    from edgeecg.runtime import Runtime
    from edgeecg.tokens import tokenize_batch

    rt = Runtime(path, profile.ort_providers if not path.endswith((".engine", ".plan")) else None, profile.threads)
    tok = rt.info.tokenizer
    compute, e2e = {}, {}
    for b in profile.batch_sizes:
        groups = [signals[a:a + b] for a in range(0, len(signals) - b + 1, b)]
        tokens = [tokenize_batch(g, fs, tok) for g in groups]
        nt, ns = itertools.cycle(tokens).__next__, itertools.cycle(groups).__next__
        compute[b] = lambda nt=nt: rt.logits(nt())
        e2e[b] = (lambda ns=ns: rt.predict(ns()[0], fs)) if b == 1 else (lambda ns=ns: rt.predict_batch(ns(), fs))
    lat = _latencies(compute, e2e, list(profile.batch_sizes), profile)
    return {"providers": rt.providers, "precision": rt.info.precision, "latency": [asdict(x) for x in lat],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _measure_torch(checkpoint: str, profile: DeviceProfile, signals: np.ndarray, fs: float) -> dict:
    """The torch FP32 reference, timed the same way in its own process."""
    import torch

    from edgeecg.batches import patch_inputs
    from edgeecg.checkpoint import load_checkpoint

    torch.set_num_threads(profile.threads)
    ck = load_checkpoint(checkpoint)
    tok = ck.tokenizer
    compute, e2e = {}, {}
    with torch.inference_mode():
        for b in profile.batch_sizes:
            groups = [signals[a:a + b] for a in range(0, len(signals) - b + 1, b)]
            inputs = [patch_inputs(g, fs, tok) for g in groups]
            ni, ns = itertools.cycle(inputs).__next__, itertools.cycle(groups).__next__
            compute[b] = lambda ni=ni: ck.model(*ni())
            e2e[b] = lambda ns=ns: torch.sigmoid(ck.model(*patch_inputs(ns(), fs, tok)))
        lat = _latencies(compute, e2e, list(profile.batch_sizes), profile)
    return {"providers": ["torch CPU"], "precision": "torch-fp32", "latency": [asdict(x) for x in lat],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def test_records(n: int, seed: int, fs: float, duration: float, data: str = "synth") -> tuple[np.ndarray, np.ndarray]:
    """Held-out (signals, labels): simulator records from a seed stream of their own, or a data spec's test split."""
    if data == "synth":
        from edgeecg.data.synth import SynthConfig, simulate

        batch = simulate(n, SynthConfig(fs=fs, duration=duration), seed=np.random.SeedSequence([seed, 0xBE7C]))
        return batch.signals, batch.labels
    from edgeecg.data.sources import load_source
    from edgeecg.tokens import TokenizerConfig

    test = load_source(data, TokenizerConfig(fs=fs, duration=duration), seed).test
    return test.signals[:n], test.labels[:n]


def run(profile: DeviceProfile, models: list[Path], reference: Path | None, n_test: int = 1000, seed: int = 0,
        data: str = "synth", progress=print) -> tuple[list[ModelReport], dict]:
    """Latency and parity for every model; returns the reports and the gate verdict."""
    from edgeecg.metrics import macro_auroc
    from edgeecg.runtime import Runtime

    runtimes = [Runtime(m, profile.ort_providers if m.suffix == ".onnx" else None, profile.threads) for m in models]
    tok = runtimes[0].info.tokenizer
    labels_ref = runtimes[0].label_names
    for rt in runtimes:
        if rt.label_names != labels_ref or rt.info.tokenizer != tok:
            raise RecordError(f"{rt.path}: labels or tokenizer differ from {runtimes[0].path}; bench one model's "
                              "exports together")
    signals, labels = test_records(n_test, seed, tok.fs, tok.duration, data)
    k = min(64, len(signals))
    latency_set = masked(signals[:k], condition_masks("random", k, tok.fs, signals.shape[-1], seed))
    reports: list[ModelReport] = []
    ctx = get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        jobs = []
        if reference is not None:
            jobs.append(("torch-fp32", reference, pool.submit(_measure_torch, str(reference), profile, latency_set,
                                                              tok.fs)))
        for m, rt in zip(models, runtimes, strict=True):
            jobs.append((rt.info.precision, m, pool.submit(_measure_onnx, str(m), profile, latency_set, tok.fs)))
        for name, path, job in jobs:
            progress(f"latency: {name} ({path})")
            r = job.result()
            size = sum(f.stat().st_size for f in Path(path).iterdir() if f.is_file()) if Path(path).is_dir() \
                else Path(path).stat().st_size
            reports.append(ModelReport(name, str(path), r["providers"], size, r["peak_rss_mb"],
                                       [Latency(**x) for x in r["latency"]]))

    probs: dict[str, dict[str, np.ndarray]] = {rep.name: {} for rep in reports}
    ref_predict = None
    if reference is not None:
        from edgeecg.checkpoint import load_checkpoint
        from edgeecg.train import predict

        ck = load_checkpoint(reference)
        ref_predict = lambda x: predict(ck.model, "patchecg", x, tok.fs, tok)  # noqa: E731
    for cond in CONDITIONS:
        progress(f"parity: {cond}")
        x = masked(signals, condition_masks(cond, len(signals), tok.fs, signals.shape[-1], seed + 17))
        if ref_predict is not None:
            probs["torch-fp32"][cond] = ref_predict(x)
        for rt in runtimes:
            probs[rt.info.precision][cond] = rt.predict_batch(x, tok.fs)
    ref_name = "torch-fp32" if reference is not None else next(
        (r.name for r in reports if r.name == "fp32"), reports[0].name)
    for rep in reports:
        rep.auroc = {c: macro_auroc(labels, p) for c, p in probs[rep.name].items()}
        rep.delta_auroc = {c: probs_auc - rep.auroc[c] for c, probs_auc in
                           ((c, macro_auroc(labels, probs[ref_name][c])) for c in CONDITIONS)}
        rep.max_abs_prob_diff = float(max(np.abs(probs[rep.name][c] - probs[ref_name][c]).max() for c in CONDITIONS))
    return reports, gate(profile, reports, ref_name)


def regression_profile(path: Path) -> DeviceProfile:
    """The profile at `path` with the fewer timing runs that the shipped model's regression gate uses (its
    `expected.json` is measured with this too, so the gate and its figures cannot drift apart)."""
    return replace(DeviceProfile.load(path), warmup=10, min_runs=60, min_seconds=0.5)


def gate(profile: DeviceProfile, reports: list[ModelReport], reference: str) -> dict:
    """Failures: a model losing more than the allowed AUROC on a printed layout; the deployed precision's
    batch-1 end-to-end p50 over budget."""
    failures = []
    for rep in reports:
        worst = max(PRINTED, key=lambda c: rep.delta_auroc[c])
        if rep.delta_auroc[worst] > profile.max_auroc_drop:
            failures.append(f"{rep.name}: AUROC drop {rep.delta_auroc[worst]:.4f} on {worst} > "
                            f"{profile.max_auroc_drop}")
    deployed = [r for r in reports if r.name.split("-")[0] == profile.deploy or r.name == profile.deploy]
    if not deployed:
        failures.append(f"no model of the deploy precision {profile.deploy!r} was benched")
    for rep in deployed:
        p50 = next(x.end_to_end_p50_ms for x in rep.latency if x.batch == 1)
        if p50 > profile.latency_budget_ms:
            failures.append(f"{rep.name}: end-to-end p50 {p50:.2f} ms > budget {profile.latency_budget_ms} ms")
    return {"passed": not failures, "failures": failures, "reference": reference, "profile": asdict(profile)}


def write_reports(reports: list[ModelReport], verdict: dict, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    js = out / "bench.json"
    js.write_text(json.dumps({"verdict": verdict, "models": [asdict(r) for r in reports]}, indent=2))
    md = out / "bench.md"
    md.write_text(markdown(reports, verdict))
    return js, md


def markdown(reports: list[ModelReport], verdict: dict) -> str:
    p = verdict["profile"]
    lines = [f"# Device runner: {p['name']}", "", p["description"], "",
             f"Gate: {'PASSED' if verdict['passed'] else 'FAILED'} (reference: {verdict['reference']}; allowed "
             f"AUROC drop {p['max_auroc_drop']}, budget {p['latency_budget_ms']} ms p50 end to end for "
             f"{p['deploy']})", ""]
    lines += [f"- {f}" for f in verdict["failures"]]
    lines += ["", "| model | MB | batch | compute p50 / p90 / p99 ms | end-to-end p50 ms | records/s | peak RSS MB |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in reports:
        for x in r.latency:
            lines.append(f"| {r.name} | {r.bytes / 1e6:.2f} | {x.batch} | {x.compute_p50_ms:.2f} / "
                         f"{x.compute_p90_ms:.2f} / {x.compute_p99_ms:.2f} | {x.end_to_end_p50_ms:.2f} | "
                         f"{x.records_per_s:.0f} | {r.peak_rss_mb:.0f} |")
    conds = list(reports[0].auroc)
    lines += ["", "| model | " + " | ".join(conds) + " | max abs dprob |", "| --- " * (len(conds) + 2) + "|"]
    for r in reports:
        lines.append(f"| {r.name} | " + " | ".join(f"{r.auroc[c]:.4f} ({-r.delta_auroc[c]:+.4f})" for c in conds)
                     + f" | {r.max_abs_prob_diff:.4f} |")
    return "\n".join(lines) + "\n"
