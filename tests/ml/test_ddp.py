"""Several processes: two CPU ranks (gloo) under torchrun train one model together."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_two_ranks_hold_the_same_weights_and_only_rank_0_writes(tiny_model, chorale_dir,
                                                                tmp_path):
    import torch.distributed

    if not torch.distributed.is_available():
        pytest.skip("this torch build has no torch.distributed")
    from composer_gui.ml.checkpoint import load_model
    from composer_gui.ml.distributed import state_digest

    out, reports = tmp_path / "model", tmp_path / "ranks"
    env = dict(os.environ, COMPOSER_GUI_THREADS="1", PYTHONPATH=str(REPO),
               COMPOSER_GUI_RANK_REPORT=str(reports), XDG_CACHE_HOME=str(tmp_path / "cache"),
               COMPOSER_GUI_DIST_TIMEOUT_MIN="2")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "composer_gui", "train", str(chorale_dir), "--from", str(tiny_model),
           "-o", str(out), "--steps", "4", "--batch-size", "4", "--device", "cpu",
           "--save-every", "0", "--jsonl"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in done.stdout.splitlines()]  # only JSON lines
    kinds = [r["kind"] for r in records]
    assert kinds.count("start") == 1 and kinds.count("done") == 1  # rank 0 alone reports
    assert records[kinds.index("start")]["world_size"] == 2
    ranks = [json.loads((reports / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["step"] for r in ranks] == [4, 4]
    # gradients were averaged: identical weights on both ranks ...
    assert ranks[0]["digest"] == ranks[1]["digest"]
    # ... though each rank drew its own batches
    assert ranks[0]["rng"] != ranks[1]["rng"]
    # rank 0 saved every step and the end; rank 1 never wrote a checkpoint
    assert ranks[0]["checkpoints_written"] == 5 and ranks[1]["checkpoints_written"] == 0
    # the saved model is those weights, moved away from the base model
    _, generator, critic = load_model(out)
    assert state_digest(generator, critic) == ranks[0]["digest"]
    _, g0, c0 = load_model(tiny_model)
    assert state_digest(g0, c0) != ranks[0]["digest"]
