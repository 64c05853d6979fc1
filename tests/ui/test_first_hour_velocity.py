"""A chord's softer note in the velocity lane (issue 21, item 7): lowered behind another
note's stalk, it stays visible (its head) and can be grabbed and raised again."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from composer_gui.core.song import Note
from tests.ui.conftest import click, drag, notes_of, point, song_with

TPB = 480


def head_y(lane, velocity):
    h = lane.height()
    return h - velocity * (h - 4) // 127


def test_a_lowered_chord_note_stays_visible_and_grabbable(window, qtbot):
    low, high = Note(60, 0, TPB, 100), Note(64, 0, TPB, 100)
    window.document.replace_song(song_with([low, high]))
    roll, lane = window.roll, window.editor.velocity_lane
    x = round(roll.geom.x_of(0)) + 1
    # select the upper note and pull its velocity down in the lane
    click(roll, point(roll, 10, 64))
    drag(lane, QPoint(x, head_y(lane, 100)), QPoint(x, head_y(lane, 30)))
    soft = next(n for n in notes_of(window) if n.pitch == 64)
    assert 25 <= soft.velocity <= 35
    # nothing selected any more: the softer note is behind the louder one's stalk ...
    QTest.keyClick(roll, Qt.Key.Key_Escape)
    assert not window.document.state.selection
    lane.repaint()
    image = lane.grab().toImage()
    y = head_y(lane, soft.velocity)
    # ... but its head is drawn (a light mark on the louder note's stalk)
    assert image.pixelColor(x, y).lightness() > 200
    assert image.pixelColor(x, y - 6).lightness() < 200
    # ... and pressing on it raises that note alone
    drag(lane, QPoint(x, y), QPoint(x, head_y(lane, 70)))
    after = {n.pitch: n.velocity for n in notes_of(window)}
    assert after[60] == 100
    assert 65 <= after[64] <= 75
