"""Training: a tiny run improves validation, checkpoints resume exactly, OOM saves."""

from __future__ import annotations

import json

import numpy as np
import pytest

from composer_gui.ml.errors import ModelError, OutOfMemory
from composer_gui.ml.model import checkpoint as ckpt
from composer_gui.ml.train.loop import train
from composer_gui.ml.train.options import TrainOptions

from .conftest import tiny_config


def options(data, out, cache, **changes):
    config = tiny_config()
    overrides = {k: getattr(config, k) for k in
                 ("gen_width", "gen_blocks", "critic_width", "critic_blocks", "noise_dim")}
    opts = TrainOptions(data_dir=data, out_dir=out, style="chorale", steps=30, batch_size=8,
                        lr=2e-3, validate_every=1000, log_every=5, cache_dir=cache,
                        save_every_s=1e9, command="test", config_overrides=overrides)
    for key, value in changes.items():
        setattr(opts, key, value)
    return opts


def test_tiny_run_improves_validation_and_writes_a_model(chorale_dir, tmp_path):
    opts = options(chorale_dir, tmp_path / "m", tmp_path / "cache", steps=40, validate_every=5)
    records = list(train(opts))
    kinds = [r["kind"] for r in records]
    assert kinds.count("step") == 8 and kinds[-1] == "done"
    assert "checkpoint" in kinds
    vals = [r for r in records if r["kind"] == "validation"]
    assert vals[0]["step"] == 5 and vals[-1]["step"] == 40
    # the validation cross-entropy of the generated parts falls clearly
    assert vals[-1]["val_bce"] < 0.9 * vals[0]["val_bce"]
    steps = [r for r in records if r["kind"] == "step"]
    assert all(np.isfinite(r["g_loss"]) and np.isfinite(r["gp"]) for r in steps)
    # the folder is a usable model
    config, generator, critic = ckpt.load_model(tmp_path / "m")
    assert config.role_names() == ["Alto", "Tenor", "Bass"]
    assert config.training["steps"] == 40 and config.training["seed"] == 0
    assert ckpt.trained_steps(tmp_path / "m") == 40


def _weights(folder):
    from safetensors.numpy import load_file

    return load_file(str(folder / "model.safetensors"))


def test_interrupted_run_resumes_exactly(chorale_dir, tmp_path):
    cache = tmp_path / "cache"
    # one straight run of 16 steps
    list(train(options(chorale_dir, tmp_path / "straight", cache, steps=16)))
    # the same run saving every step, killed after step 10 (the generator is dropped
    # between two records, as a kill would leave it), then resumed to 16
    run = train(options(chorale_dir, tmp_path / "resumed", cache, steps=16, save_every_s=0.0))
    for record in run:
        if record["kind"] == "checkpoint" and record["step"] == 10:
            break
    run.close()
    state = json.loads((tmp_path / "resumed" / ckpt.STATE_JSON).read_text())
    assert state["step"] == 10
    resumed = list(train(options(chorale_dir, tmp_path / "resumed", cache, steps=16,
                                 resume=True)))
    assert resumed[[r["kind"] for r in resumed].index("start")]["step"] == 10
    a, b = _weights(tmp_path / "straight"), _weights(tmp_path / "resumed")
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_same_folder_without_resume_is_refused(chorale_dir, tmp_path):
    list(train(options(chorale_dir, tmp_path / "m", tmp_path / "c", steps=2)))
    with pytest.raises(ModelError, match="--resume"):
        list(train(options(chorale_dir, tmp_path / "m", tmp_path / "c", steps=4)))


def test_out_of_memory_saves_then_stops(chorale_dir, tmp_path, monkeypatch):
    import torch

    from composer_gui.ml.train import loop as train_module
    calls = {"n": 0}
    real = train_module.reconstruction_loss

    def exploding(*args):
        calls["n"] += 1
        if calls["n"] == 4:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(*args)

    monkeypatch.setattr(train_module, "reconstruction_loss", exploding)
    with pytest.raises(OutOfMemory, match="batch-size"):
        list(train(options(chorale_dir, tmp_path / "m", tmp_path / "c", steps=10)))
    state = json.loads((tmp_path / "m" / ckpt.STATE_JSON).read_text())
    assert state["step"] == 3


def test_fine_tune_from_a_model_keeps_its_roles_and_starts_from_its_weights(chorale_dir, tmp_path):
    cache = tmp_path / "cache"
    list(train(options(chorale_dir, tmp_path / "base", cache, steps=6)))
    base = _weights(tmp_path / "base")
    records = list(train(options(chorale_dir, tmp_path / "tuned", cache, steps=2, style=None,
                                 base=tmp_path / "base", config_overrides={})))
    assert records[-1]["kind"] == "done"
    config, _, _ = ckpt.load_model(tmp_path / "tuned")
    assert config.role_names() == ["Alto", "Tenor", "Bass"]
    assert config.training["base"] == str(tmp_path / "base")
    tuned = _weights(tmp_path / "tuned")
    # two small steps from the base: close to it, but moved
    key = "generator.out.weight"
    assert not np.array_equal(tuned[key], base[key])
    assert np.abs(tuned[key] - base[key]).max() < 0.05


def test_ctrl_c_saves_the_step_it_reached(chorale_dir, tmp_path, monkeypatch):
    from composer_gui.ml.train import loop as train_module
    calls = {"n": 0}
    real = train_module.reconstruction_loss

    def interrupted(*args):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(train_module, "reconstruction_loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        list(train(options(chorale_dir, tmp_path / "m", tmp_path / "c", steps=50)))
    state = json.loads((tmp_path / "m" / ckpt.STATE_JSON).read_text())
    assert state["step"] == 5
    assert ckpt.trained_steps(tmp_path / "m") == 5


def test_a_consumer_that_stops_reading_keeps_the_steps_trained(chorale_dir, tmp_path):
    """A signal that lands while the consumer (the command's printer, the window's
    worker) holds a record closes the run from outside: the steps are saved all the same."""
    run = train(options(chorale_dir, tmp_path / "m", tmp_path / "c", steps=1000, log_every=1))
    for record in run:
        if record["kind"] == "step" and record["step"] >= 3:
            break
    run.close()
    state = json.loads((tmp_path / "m" / ckpt.STATE_JSON).read_text())
    assert state["step"] == 3 and state["training"]["ended"] == "interrupted"
    assert ckpt.trained_steps(tmp_path / "m") == 3
