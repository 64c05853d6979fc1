"""A musician's first hour with the Generate panel (issue 21), driven with real clicks:
changing style and replacing, regenerating a few bars of one part, a panel that does not
jump under the mouse, and style texts a musician reads."""

from __future__ import annotations

from PySide6.QtCore import Qt

from composer_gui.ui.sample_melodies import sample_melodies


def open_sample(win, name="ode_to_joy"):
    path = next(p for p in sample_melodies() if p.stem == name)
    assert win.open_file(str(path), ask=False)
    return path


def pick(combo, data):
    combo.setCurrentIndex(combo.findData(data))


def click_generate(qtbot, panel, timeout=60_000):
    with qtbot.waitSignal(panel.generation_applied, timeout=timeout):
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)


def tracks(win):
    return [(t.name, t.program) for t in win.document.song.tracks]


def test_replace_with_another_style_replaces_every_generated_part(shipped_window, qtbot):
    win = shipped_window
    panel = win.generate_panel
    open_sample(win)
    panel.candidates_spin.setValue(1)
    pick(panel.mode_combo, "replace")
    assert panel.select_model("chorale")
    click_generate(qtbot, panel)
    chorale = tracks(win)
    assert chorale == [("Melody", 73), ("Alto", 52), ("Tenor", 52), ("Bass", 52)]

    assert panel.select_model("pop")
    click_generate(qtbot, panel)
    # no choir left singing a pop bass line: the pop parts, each with its instrument
    assert tracks(win) == [("Melody", 73), ("Bass", 33), ("Piano", 0), ("Strings", 48),
                           ("Drums", 0)]
    assert win.document.song.tracks[4].is_drum
    assert all(t.notes for t in win.document.song.tracks[1:])

    # one undo step brings the chorale back as it was
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert tracks(win) == chorale
