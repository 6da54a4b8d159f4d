#!/usr/bin/env bash
# Creates .venv and installs edgeecg with its extras. Torch goes in first as the CPU build, because a
# plain `pip install torch` on Linux pulls a multi-GB CUDA build that a CPU-only user does not need.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
EXTRAS="${EXTRAS:-dev}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
TORCH_INDEX="${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --quiet)
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    echo "setup: installing the CPU build of PyTorch ($TORCH_SPEC)"
    # Where the CPU index cannot be reached (an offline mirror or wheel cache provides torch), skip it
    # rather than spend minutes on retries.
    if "$VENV/bin/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)" \
            "$TORCH_INDEX/torch/" 2>/dev/null; then
        "${PIP[@]}" install "$TORCH_SPEC" --extra-index-url "$TORCH_INDEX"
    else
        echo "setup: $TORCH_INDEX unreachable; installing $TORCH_SPEC from the configured index"
        "${PIP[@]}" install "$TORCH_SPEC"
    fi
fi
echo "setup: installing edgeecg[$EXTRAS]"
"${PIP[@]}" install -e ".[$EXTRAS]"
