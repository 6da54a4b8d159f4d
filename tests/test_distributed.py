"""DistributedDataParallel under torchrun: 2 CPU processes with gloo see different data, end with equal weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = '''
import hashlib, json, os, sys
import torch
from edgeecg.data.sources import load_source
from edgeecg.tokens import TokenizerConfig
from edgeecg.train import TrainConfig, train

out = sys.argv[1]
splits = load_source("synth", TokenizerConfig(), seed=3, n_train=128, n_eval=32)
cfg = TrainConfig(out=out + "/run", n_train=128, n_eval=32, batch_size=16, epochs=2, progress=False, seed=3)
result = train(cfg, splits=splits)
model_state = result.model.state_dict()
digest = hashlib.sha256(b"".join(v.numpy().tobytes() for v in model_state.values())).hexdigest()
rank = int(os.environ["RANK"])
with open(f"{out}/rank{rank}.json", "w") as f:
    json.dump({"seen": result.seen.tolist(), "digest": digest, "world": int(os.environ["WORLD_SIZE"])}, f)
torch.distributed.destroy_process_group()
'''


@pytest.mark.slow
def test_two_gloo_ranks_split_data_and_agree_on_weights(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script),
           str(tmp_path)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert all(r["world"] == 2 for r in ranks)
    seen0, seen1 = set(ranks[0]["seen"]), set(ranks[1]["seen"])
    assert len(seen0) == len(seen1) == 64 and not seen0 & seen1
    assert ranks[0]["digest"] == ranks[1]["digest"]
    assert (tmp_path / "run" / "checkpoint.json").is_file()

