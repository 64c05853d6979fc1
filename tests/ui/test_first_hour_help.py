"""Help > Keyboard Shortcuts (issue 21, item 10): a table of every shortcut, built from
the actions themselves, so it names Ctrl+G and Ctrl+[ / Ctrl+] and follows a changed key;
and Help is the last menu."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence


def open_table(window, qtbot):
    window.act_shortcuts.trigger()
    dialog = window.shortcuts_dialog
    qtbot.waitExposed(dialog)
    return dialog.rows()


def test_shortcut_table_lists_every_action_shortcut(window, qtbot):
    rows = open_table(window, qtbot)
    keys = {r[2] for r in rows}
    by_command = {r[1]: r[2] for r in rows}
    native = QKeySequence.SequenceFormat.NativeText
    assert by_command["Generate"] == QKeySequence("Ctrl+G").toString(native)
    assert by_command["Next Variation"] == QKeySequence("Ctrl+]").toString(native)
    assert by_command["Previous Variation"] == QKeySequence("Ctrl+[").toString(native)
    assert by_command["Play / Pause"] == QKeySequence("Space").toString(native)
    # every action of the window with a shortcut is in the table
    for act in window.findChildren(QAction):
        for seq in act.shortcuts():
            if not seq.isEmpty():
                assert any(seq.toString(native) in k for k in keys), act.text()
    # the computer keyboard's notes come from the Keyboard panel's own layout
    assert any(r[0] == "Keyboard panel" and "A C" in r[2] and "W C#" in r[2] for r in rows)
    # a changed shortcut shows at once: the table cannot drift from the actions
    window.act_generate.setShortcut(QKeySequence("Ctrl+Alt+G"))
    rows = open_table(window, qtbot)
    assert {r[1]: r[2] for r in rows}["Generate"] == QKeySequence("Ctrl+Alt+G").toString(native)


def test_help_is_the_last_menu(window):
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[-1] == "&Help" and "&Generate" in titles


def test_the_computer_keyboard_plays_notes_without_focusing_the_keyboard_panel(window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    keyboard = window.live.keyboard
    roll = window.roll
    roll.setFocus()
    assert keyboard.show_letters and "plays notes" in window.panels["keyboard"].windowTitle()
    with qtbot.waitSignal(keyboard.note_pressed,
                          check_params_cb=lambda pitch, _v: pitch == keyboard.base):
        QTest.keyPress(roll, Qt.Key.Key_A)
    with qtbot.waitSignal(keyboard.note_released):
        QTest.keyRelease(roll, Qt.Key.Key_A)
    # Ctrl+Z stays Undo, not the octave key
    base = keyboard.base
    QTest.keyClick(roll, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert keyboard.base == base
    # Ctrl+K turns musical typing off: A no longer plays (and it says so)
    QTest.keyClick(roll, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert "click it" in window.panels["keyboard"].windowTitle()
    played = []
    keyboard.note_pressed.connect(lambda p, v: played.append(p))
    QTest.keyClick(roll, Qt.Key.Key_A)
    assert played == []
