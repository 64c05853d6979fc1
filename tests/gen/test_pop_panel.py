"""The Generate panel with the shipped pop model: four parts listed and written, the drums
on channel 10, and regenerating the drums alone keeps every other part."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from composer_gui.assets import models_dir
from composer_gui.ui.sample_melodies import sample_melodies

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["Bass", "Piano", "Strings", "Drums"]


@pytest.fixture
def pop_window(shipped_window):
    if not (models_dir() / "pop" / "config.json").is_file():
        pytest.fail("models/pop is missing: the pop model is shipped with the project")
    return shipped_window


def _generate(qtbot, panel):
    with qtbot.waitSignal(panel.generation_applied, timeout=60_000):
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)


def test_pop_panel_writes_four_parts_and_regenerates_the_drums_alone(pop_window, qtbot):
    win = pop_window
    panel = win.generate_panel
    path = next(p for p in sample_melodies() if p.stem == "ode_to_joy")
    assert win.open_file(str(path), ask=False)
    assert panel.select_model("pop")
    assert [panel.role_list.item(r).text() for r in range(panel.role_list.count())] == NAMES
    assert "Writes Bass, Piano, Strings, Drums" in panel.card_label.text()
    panel.candidates_spin.setValue(2)
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData("replace"))
    _generate(qtbot, panel)
    song = win.document.song
    assert [t.name for t in song.tracks] == ["Melody", *NAMES]
    drums = song.tracks[4]
    assert drums.is_drum and drums.channel == 9 and drums.notes
    assert all(t.notes for t in song.tracks[1:])

    before = [list(t.notes) for t in song.tracks]
    for r in range(panel.role_list.count()):
        item = panel.role_list.item(r)
        item.setCheckState(Qt.CheckState.Checked if item.text() == "Drums"
                           else Qt.CheckState.Unchecked)
    panel.seed_spin.setValue(11)
    _generate(qtbot, panel)
    after = [list(t.notes) for t in win.document.song.tracks]
    assert after[:4] == before[:4]
    assert after[4] and after[4] != before[4]
