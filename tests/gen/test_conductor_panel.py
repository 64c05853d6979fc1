"""The Generate panel's Conductor control, driven with real keys: the level chosen is the
one the generation uses, it is remembered, and the label says how real the conductor
judged each variation (a percentile among its reference of real passages)."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt

from composer_gui import settings
from composer_gui.ui.generate_pickers import GUIDANCE
from tests.gen.conftest import _window
from tests.gen.test_generate_flow import generate, open_sample


@pytest.fixture
def conducted_window(isolated_home, tiny_models, tmp_path, monkeypatch, qtbot):
    """The window whose only model is the tiny one with a conductor (its critic's
    weights, enough for the mechanics) and a reference of real-window scores."""
    from composer_gui.ml.model.checkpoint import load_model
    from composer_gui.ml.model.conductor import save_conductor

    models = tmp_path / "models"
    shutil.copytree(tiny_models, models)
    _config, _gen, critic = load_model(models / "tiny")
    save_conductor(models / "tiny", critic, {"reference": [-1.0, -0.5, 0.0, 0.5, 1.0]})
    yield from _window(models, monkeypatch, qtbot)


def test_the_conductor_level_chosen_is_the_one_generation_uses(conducted_window, qtbot):
    win = conducted_window
    panel = win.generate_panel
    open_sample(win)
    assert panel.select_model("tiny")
    combo = panel.conductor_combo
    assert combo.currentData() == "light"  # the default
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # Light -> Strong
    assert combo.currentData() == "strong"
    assert settings.get(GUIDANCE) == "strong"  # remembered for the next start
    panel.candidates_spin.setValue(2)
    generate(qtbot, panel)
    assert panel.variations.job.guidance == "strong"
    # the percentile among the conductor's scores of real validation passages
    qtbot.waitUntil(lambda: "% of real passages" in panel.variation_label.text(), timeout=10_000)
    qtbot.keyClick(combo, Qt.Key.Key_Home)  # Off: the plain network
    assert combo.currentData() == "off"
