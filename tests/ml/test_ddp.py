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
    from composer_gui.ml.model.checkpoint import load_model
    from composer_gui.ml.train.distributed import state_digest

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


def _gradient_check(rank: int, world: int, port: int, folder: str) -> None:
    """One rank: the critic loss (gradient penalty included) through DDP must give the
    average of every rank's own gradients."""
    import copy

    import torch
    import torch.distributed as dist

    from composer_gui.ml.model.networks import build_models
    from composer_gui.ml.train.distributed import DistContext, wrap
    from composer_gui.ml.train.losses import critic_loss

    from .conftest import tiny_config

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.set_num_threads(1)
    config = tiny_config()
    torch.manual_seed(0)
    _, critic = build_models(config)
    alone = copy.deepcopy(critic)
    g = torch.Generator().manual_seed(100 + rank)  # each rank its own batch
    b, t, p, r = 2, config.window_steps, config.pitches, config.tracks
    mel = (torch.rand(b, 2, t, p, generator=g) < 0.05).float()
    real = (torch.rand(b, r, 2, t, p, generator=g) < 0.05).float()
    fake = torch.rand(b, r, 2, t, p, generator=g)
    pos = torch.rand(b, t, config.position_features, generator=g)
    loss, _ = critic_loss(alone, alone, mel, real, fake, pos, torch.Generator().manual_seed(5))
    loss.backward()
    own = [q.grad.clone() for q in alone.parameters()]
    for grad in own:
        dist.all_reduce(grad)
        grad /= world
    ctx = DistContext(rank, world, rank, torch.device("cpu"), "gloo", enabled=True)
    wrapped = wrap(critic, ctx)  # held: a dropped DDP wrapper takes its reduction hooks along
    loss, gp = critic_loss(wrapped, critic, mel, real, fake, pos, torch.Generator().manual_seed(5))
    loss.backward()
    worst = max(float((q.grad - a).abs().max()) for q, a in zip(critic.parameters(), own))
    differs = max(float((q.grad - a.grad).abs().max())
                  for q, a in zip(critic.parameters(), alone.parameters()))
    Path(folder, f"rank{rank}.json").write_text(json.dumps(
        {"worst": worst, "differs_from_own": differs, "gp": float(gp.detach())}))
    # tear down in order: both ranks done, the DDP wrapper (its reducer's threads) gone,
    # then the group; a wrapper outliving its group aborted a rank at exit now and then
    dist.barrier()
    del wrapped
    import gc

    gc.collect()
    dist.destroy_process_group()


def test_gradient_penalty_gradients_are_averaged_under_ddp(tmp_path):
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_gradient_check, args=(2, port, str(tmp_path)), nprocs=2)
    for rank in (0, 1):
        got = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert got["gp"] > 0
        assert got["worst"] < 1e-6  # the DDP gradients are the ranks' average ...
        assert got["differs_from_own"] > 1e-4  # ... not this rank's own gradients


def test_one_process_running_out_of_memory_leaves_the_run_saved_and_resumable(
        tiny_model, chorale_dir, tmp_path):
    """Rank 1 runs out of (simulated CUDA) memory in step 6 of a 2-process run that would
    otherwise save only once a minute: rank 0 still saves the steps done before the run
    ends, the messages say what happened, and the run resumes from there."""
    import torch.distributed

    if not torch.distributed.is_available():
        pytest.skip("this torch build has no torch.distributed")
    out = tmp_path / "model"
    env = dict(os.environ, COMPOSER_GUI_THREADS="1", PYTHONPATH=str(REPO),
               XDG_CACHE_HOME=str(tmp_path / "cache"), COMPOSER_GUI_DIST_TIMEOUT_MIN="2")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "tests.ml.failing_rank", "6", "train", str(chorale_dir), "--from",
           str(tiny_model), "-o", str(out), "--steps", "30", "--batch-size", "4",
           "--device", "cpu", "--save-every", "600", "--jsonl"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=180)
    assert done.returncode != 0
    # rank 1 says what happened to it, and that it is not the one that saves
    assert "process 1 of 2 ran out of CPU memory" in done.stderr
    assert "process 0 saves the run" in done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    errors = [r for r in records if r["kind"] == "error"]
    if errors:  # rank 0 saw the broken collective before torchrun's SIGTERM reached it
        assert "another process" in errors[-1]["message"]
        assert "--resume" in errors[-1]["message"]
    else:  # SIGTERM first: rank 0 saved as after Ctrl+C
        assert "interrupted" in done.stderr
    state = json.loads((out / "training_state.json").read_text())
    assert state["step"] == 5  # the five whole steps before rank 1 failed
    resumed = subprocess.run(
        [sys.executable, "-m", "composer_gui", "train", str(chorale_dir), "-o", str(out),
         "--resume", "--steps", "8", "--device", "cpu", "--jsonl"],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=180)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    last = json.loads(resumed.stdout.splitlines()[-1])
    assert last["kind"] == "done" and last["step"] == 8


def test_a_resumed_two_process_run_matches_an_unbroken_one(tiny_model, chorale_dir, tmp_path):
    """Every rank's random streams survive a stop: 3 steps, then --resume to 6, gives the
    weights of 6 steps in one go (before, only rank 0's streams were kept and rank 1 drew
    other batches after a resume)."""
    import torch.distributed

    if not torch.distributed.is_available():
        pytest.skip("this torch build has no torch.distributed")
    from composer_gui.ml.model.checkpoint import load_model
    from composer_gui.ml.train.distributed import state_digest

    env = dict(os.environ, COMPOSER_GUI_THREADS="1", PYTHONPATH=str(REPO),
               XDG_CACHE_HOME=str(tmp_path / "cache"), COMPOSER_GUI_DIST_TIMEOUT_MIN="2")

    def torchrun(out, *args):
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node", "2", "-m", "composer_gui", "train", str(chorale_dir),
               "-o", str(out), "--batch-size", "4", "--device", "cpu", "--save-every", "0",
               "--jsonl", *args]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env,
                              timeout=180)
        assert done.returncode == 0, done.stderr[-3000:]
        return state_digest(*load_model(out)[1:])

    unbroken = torchrun(tmp_path / "a", "--from", str(tiny_model), "--steps", "6")
    halfway = torchrun(tmp_path / "b", "--from", str(tiny_model), "--steps", "3")
    resumed = torchrun(tmp_path / "b", "--resume", "--steps", "6")
    assert halfway != unbroken
    assert resumed == unbroken
