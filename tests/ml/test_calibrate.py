"""Bar gates fitted to a fine-tune's songs (ml.generate.calibrate) and how a fine-tune uses them."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from composer_gui.ml.generate.calibrate import MIN_GATE, fit_gate
from composer_gui.ml.generate.decode import gate_bars

BAR = 16


def _bars(n_windows: int, n_bars: int) -> np.ndarray:
    return np.broadcast_to(np.repeat(np.arange(n_bars), BAR), (n_windows, n_bars * BAR))


def _empty_bar_share(sounds: np.ndarray, bars: np.ndarray) -> float:
    n_bars = int(bars.max()) + 1
    per_bar = sounds.reshape(sounds.shape[0], n_bars, BAR).any(axis=2)
    return float(1 - per_bar.mean())


def test_the_fitted_gate_silences_as_many_bars_as_the_real_part_rests():
    rng = np.random.default_rng(0)
    n, n_bars = 20, 4
    bars = _bars(n, n_bars)
    # the network's mean activity per bar: every bar between 0.55 and 1.5 (it would
    # sound in all of them without a gate)
    level = rng.uniform(0.55, 1.5, size=(n, n_bars))
    activity = np.repeat(level, BAR, axis=1)
    frame = np.zeros((n, n_bars * BAR, 3))
    frame[..., 0] = activity
    sounds = activity >= 0.5
    for resting in (0.1, 0.3, 0.55):
        real = np.repeat(rng.random((n, n_bars)) >= resting, BAR, axis=1)
        gate = fit_gate(activity, sounds, real, bars)
        gated, _ = gate_bars(frame, frame, bars, gate)
        got = _empty_bar_share(gated.sum(axis=2) >= 0.5, bars)
        assert got == pytest.approx(_empty_bar_share(real, bars), abs=1e-9), resting


def test_bars_the_network_leaves_empty_count_and_a_too_quiet_network_is_not_gated():
    n, n_bars = 10, 4
    bars = _bars(n, n_bars)
    activity = np.repeat(np.tile([0.2, 0.8, 0.9, 1.0], (n, 1)), BAR, axis=1)
    sounds = activity >= 0.5  # bar 0 of every window is silent anyway: 25% empty
    real_half = np.repeat(np.tile([False, False, True, True], (n, 1)), BAR, axis=1)
    gate = fit_gate(activity, sounds, real_half, bars)
    assert 0.8 < gate < 0.9  # silences bar 1 only: 50% empty, as the real part
    real_full = np.ones_like(sounds)  # the real part never rests: the least gate
    assert fit_gate(activity, sounds, real_full, bars) == MIN_GATE
    never = np.zeros_like(sounds)  # the real part always rests: every bar silenced
    assert fit_gate(activity, sounds, never, bars) > 1.0


def test_a_fine_tune_saves_fitted_gates_for_generation_and_keeps_its_own_for_resuming(
        chorale_dir, tiny_model, tmp_path):
    from composer_gui.ml.model import checkpoint as ckpt
    from composer_gui.ml.model.config import ModelConfig
    from composer_gui.ml.train.loop import train

    from .test_train import options

    base = tmp_path / "base"
    shutil.copytree(tiny_model, base)
    data = json.loads((base / "config.json").read_text())
    data["roles"][2]["bar_gate"] = 0.5  # the bass rests in bars it barely plays
    (base / "config.json").write_text(json.dumps(data))
    out = tmp_path / "tuned"
    records = list(train(options(chorale_dir, out, tmp_path / "c", steps=3, style=None,
                                 base=base, config_overrides={}, validate_every=1)))
    fitted = [r["bar_gates"] for r in records if r["kind"] == "validation"]
    assert fitted and all(set(g) == {"Bass"} for g in fitted)
    gate = fitted[-1]["Bass"]
    assert gate >= MIN_GATE and gate != 0.5
    model = ModelConfig.load(out)
    assert [r.bar_gate for r in model.roles] == [0.0, 0.0, gate]  # what generation uses
    assert ckpt.state_config(out).roles[2].bar_gate == 0.5  # what a resume trains with
    assert f"Bass {gate:g}" in (out / "README.md").read_text()

    # from scratch, nothing is fitted: the style's gates are the model's
    scratch = tmp_path / "scratch"
    records = list(train(options(chorale_dir, scratch, tmp_path / "c", steps=2,
                                 validate_every=1)))
    assert all(r["bar_gates"] == {} for r in records if r["kind"] == "validation")
