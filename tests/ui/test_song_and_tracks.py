"""Song settings (tempo, meter, key) and the track list, through the real widgets."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from composer_gui.core.song import Note, Track
from tests.ui.conftest import answer_next_dialog, drag, song_with

TPB = 480


def _set(dialog, bpm=None, meter=None, key=None, at_bar=None):
    if bpm is not None:
        dialog.bpm.setValue(bpm)
    if meter is not None:
        dialog.numerator.setValue(meter[0])
        dialog.denominator.setCurrentText(str(meter[1]))
    if key is not None:
        dialog.key.setCurrentText(key)
    if at_bar is not None:
        dialog.add_change.setChecked(True)
        dialog.bar.setValue(at_bar)
    dialog.accept()


def test_tempo_at_playhead_changed_in_one_undo_step(window):
    doc = window.document
    answer_next_dialog(act=lambda d: _set(d, bpm=90, meter=(3, 4), key="D"))
    QTest.keyClick(window.roll, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert [round(t.bpm, 3) for t in doc.song.tempos] == [90]
    assert [(m.numerator, m.denominator) for m in doc.song.time_signatures] == [(3, 4)]
    assert [k.key for k in doc.song.key_signatures] == ["D"]
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert [round(t.bpm) for t in doc.song.tempos] == [120]
    assert [(m.numerator, m.denominator) for m in doc.song.time_signatures] == [(4, 4)]


def test_tempo_and_meter_change_added_at_a_bar(window):
    doc = window.document
    answer_next_dialog(act=lambda d: _set(d, bpm=140, meter=(6, 8), at_bar=3))
    window.act_song.trigger()
    assert [(t.tick, round(t.bpm)) for t in doc.song.tempos] == [(0, 120), (8 * TPB, 140)]
    assert [(m.tick, m.numerator, m.denominator) for m in doc.song.time_signatures] == [
        (0, 4, 4), (8 * TPB, 6, 8)]
    # the grid follows: bar 4 starts one 6/8 bar (3 beats) after bar 3
    from composer_gui.ui.songsettings import bar_start_tick

    assert bar_start_tick(doc.song, 4) == 8 * TPB + 3 * TPB
    doc.undo_stack.undo()
    assert len(doc.song.tempos) == 1 and len(doc.song.time_signatures) == 1


def test_track_list_add_rename_mute_move_delete_and_undo(window, qtbot):
    doc = window.document
    doc.replace_song(song_with([Note(60, 0, TPB, 90)]))
    tl = window.track_list
    tl.buttons["Add a track"].click()
    assert [t.name for t in doc.song.tracks] == ["Melody", "Track 2"]
    assert doc.state.current_track == 1
    item = tl.table.item(1, 1)
    item.setText("Bass")
    assert doc.song.tracks[1].name == "Bass"
    rect = tl.table.visualItemRect(tl.table.item(1, 3))
    QTest.mouseClick(tl.table.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, rect.center())
    assert doc.song.tracks[1].muted
    tl.table.cellWidget(1, 2).setCurrentIndex(33)
    assert doc.song.tracks[1].program == 33
    tl.buttons["Move the track up"].click()
    assert [t.name for t in doc.song.tracks] == ["Bass", "Melody"]
    tl.buttons["Mark the selected track as the melody"].click()
    assert [t.role for t in doc.song.tracks] == ["melody", None]
    tl.buttons["Delete the selected track"].click()
    assert [t.name for t in doc.song.tracks] == ["Melody"]
    for _ in range(7):
        doc.undo_stack.undo()
    assert [t.name for t in doc.song.tracks] == ["Melody"]
    assert doc.song.tracks[0].notes == [Note(60, 0, TPB, 90)]
    assert doc.undo_stack.index() == 0


def test_selecting_a_track_row_edits_that_track(window):
    doc = window.document
    song = song_with([Note(60, 0, TPB, 90)])
    song.tracks.append(Track(name="Bass", notes=[Note(36, 0, TPB, 90)]))
    doc.replace_song(song)
    table = window.track_list.table
    rect = table.visualItemRect(table.item(1, 1))
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, rect.center())
    assert doc.state.current_track == 1
    # Ctrl+A in the track list is the table's own; in the roll it selects the notes
    QTest.keyClick(table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert doc.state.selection == frozenset()
    window.roll.setFocus()
    QTest.keyClick(window.roll, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert doc.state.selection == {Note(36, 0, TPB, 90)}


def test_ruler_click_moves_playhead_and_double_click_opens_settings(window):
    ruler = window.editor.ruler
    g = window.roll.geom
    x = round(g.x_of(2 * TPB)) + 1
    QTest.mouseClick(ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(x, 20))
    assert window.document.state.playhead == 2 * TPB
    seen = []
    answer_next_dialog(act=lambda d: (seen.append(d.windowTitle()), d.reject()))
    QTest.mouseDClick(ruler, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      QPoint(x, 20))
    assert seen == ["Song Settings"]
    drag(ruler, QPoint(x, 20), QPoint(round(g.x_of(6 * TPB)) + 1, 20),
         Qt.KeyboardModifier.ShiftModifier)
    assert window.document.state.loop == (2 * TPB, 6 * TPB)


def test_duplicate_track_and_pick_a_colour(window, monkeypatch):
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QColorDialog

    doc = window.document
    doc.replace_song(song_with([Note(60, 0, TPB, 90)]))
    tl = window.track_list
    tl.buttons["Duplicate the selected track"].click()
    assert [t.name for t in doc.song.tracks] == ["Melody", "Melody copy"]
    assert doc.song.tracks[1].notes == doc.song.tracks[0].notes
    assert doc.song.tracks[1].role is None  # one melody track
    monkeypatch.setattr(QColorDialog, "getColor", lambda *a, **k: QColor("#123456"))
    rect = tl.table.visualItemRect(tl.table.item(1, 0))
    QTest.mouseClick(tl.table.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, rect.center())
    assert doc.song.tracks[1].color == "#123456"
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert len(doc.song.tracks) == 1
