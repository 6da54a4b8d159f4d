"""How many calibration records does INT8 need? AUROC parity of INT8 against FP32 for 64, 256 and 1024.

Quantizes the same FP32 ONNX with calibration sets of each size (same recipe, same seed), then scores FP32
and every INT8 model on identical held-out records under every layout. No torch needed.

    python benchmarks/calibration_size.py export/synth-patchecg/model.onnx --sizes 64 256 1024
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from edgeecg import calibration
from edgeecg.bench import PRINTED, test_records
from edgeecg.layouts import CONDITIONS, condition_masks, masked
from edgeecg.metrics import macro_auroc
from edgeecg.quantize import quantize_int8
from edgeecg.runtime import Runtime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fp32", type=Path)
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024])
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=Path("runs/calibration-size.json"))
    args = ap.parse_args()
    console = Console()
    ref = Runtime(args.fp32, ["CPUExecutionProvider"])
    tok = ref.info.tokenizer
    signals, labels = test_records(args.n_test, 0, tok.fs, tok.duration)
    inputs = {c: masked(signals, condition_masks(c, len(signals), tok.fs, signals.shape[-1], 17)) for c in CONDITIONS}
    ref_prob = {c: ref.predict_batch(x, tok.fs) for c, x in inputs.items()}
    ref_auc = {c: macro_auroc(labels, p) for c, p in ref_prob.items()}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            cal = calibration.build(calibration.Recipe(records=n), tok)
            path = Path(tmp) / f"int8-{n}.onnx"
            quantize_int8(args.fp32, path, cal.batches(32), "x86")
            rt = Runtime(path, ["CPUExecutionProvider"])
            prob = {c: rt.predict_batch(x, tok.fs) for c, x in inputs.items()}
            delta = {c: ref_auc[c] - macro_auroc(labels, prob[c]) for c in CONDITIONS}
            rows.append({"records": n, "calibration_sha256": cal.digest, "delta_auroc": delta,
                         "max_delta_printed": max(delta[c] for c in PRINTED),
                         "mean_abs_delta": float(np.mean([abs(d) for d in delta.values()])),
                         "max_abs_prob_diff": float(max(np.abs(prob[c] - ref_prob[c]).max() for c in CONDITIONS))})
            console.print(f"{n} calibration records: done")
    table = Table(title=f"INT8 vs FP32 by calibration set size ({args.n_test} held-out records, every layout)")
    for col in ("records", "worst dAUROC on a printed layout", "mean |dAUROC|", "max |dprob|"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(str(r["records"]), f"{r['max_delta_printed']:+.4f}", f"{r['mean_abs_delta']:.4f}",
                      f"{r['max_abs_prob_diff']:.4f}")
    console.print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"fp32": str(args.fp32), "fp32_auroc": ref_auc, "sizes": rows}, indent=2))
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
