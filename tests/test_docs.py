"""The documentation's code runs: the plain ONNX Runtime example in docs/onnx-model.md gives the runtime's answer."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from edgeecg.data.wfdb_io import read_wfdb
from edgeecg.layouts import apply
from edgeecg.models import default_model
from edgeecg.runtime import Runtime
from edgeecg.tokens import resample

DOC = Path(__file__).resolve().parents[1] / "docs" / "onnx-model.md"


def _example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_the_onnx_example_is_twenty_lines_of_numpy_and_onnxruntime() -> None:
    code = _example()
    assert "import edgeecg" not in code and "from edgeecg" not in code
    assert len([ln for ln in code.splitlines() if ln.strip()]) <= 20


def test_the_onnx_example_matches_the_runtime_on_a_printed_record(cinc_dir: Path) -> None:
    namespace: dict = {}
    exec(_example(), namespace)                           # noqa: S102 - the project's own documentation
    rec = read_wfdb(cinc_dir / "HR06000.hea")
    signal = apply(resample(rec.signal, rec.fs, 100.0), "3x4+II", 100.0)    # [12, 1000], NaN where not printed
    for precision in ("fp32", "int8"):
        rt = Runtime(default_model(precision))
        ours = namespace["predict"](str(default_model(precision)), signal)
        np.testing.assert_allclose(list(ours.values()), rt.predict(signal, 100.0), atol=1e-5)
        assert list(ours) == list(rt.label_names)
