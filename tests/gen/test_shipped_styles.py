"""Every shipped style works in the real window: the first-run sample melody, pick the
style, Generate with the button, the style's parts arrive as one undo step over an
untouched melody, and flipping to the next variation keeps the same parts."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from composer_gui.assets import models_dir
from composer_gui.ml.model.checkpoint import read_config

MODELS = models_dir()
SHIPPED = sorted(p.name for p in MODELS.iterdir() if (p / "config.json").is_file())


def test_every_style_folder_is_found():
    assert "chorale" in SHIPPED


@pytest.mark.parametrize("style", SHIPPED)
def test_shipped_style_generates_its_parts_in_the_window(shipped_window, qtbot, style):
    from composer_gui.ui.sample_melodies import open_first_run_melody

    win = shipped_window
    assert open_first_run_melody(win)  # what run_app does on a first start
    panel = win.generate_panel
    song = win.document.song
    assert song.tracks[0].notes and song.tracks[0].role == "melody"
    assert song.title == "Ode To Joy"  # 4/4: every shipped style takes it
    melody = list(song.tracks[0].notes)
    roles = read_config(MODELS / style).role_names()
    assert panel.select_model(style)
    assert ", ".join(roles) in panel.card_label.text()
    panel.candidates_spin.setValue(2)
    with qtbot.waitSignal(panel.generation_applied, timeout=60_000):
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    song = win.document.song
    assert [t.name for t in song.tracks[1:]] == roles
    assert song.tracks[0].notes == melody
    assert all(t.notes for t in song.tracks[1:]), [t.name for t in song.tracks if not t.notes]
    first = [list(t.notes) for t in song.tracks[1:]]

    with qtbot.waitSignal(panel.generation_applied, timeout=10_000):
        qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert [t.name for t in win.document.song.tracks[1:]] == roles
    assert [list(t.notes) for t in win.document.song.tracks[1:]] != first

    # the generation (with its variation flips) undoes in one step
    QTest.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [t.name for t in win.document.song.tracks] == [win.document.song.tracks[0].name]
