"""Editing notes on the roll with real mouse and keyboard events; each step undoable."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from composer_gui.core.song import Note
from tests.ui.conftest import click, drag, notes_of, point, song_with

TPB = 480
SIXTEENTH = TPB // 4
EIGHTH = TPB // 2


def load(win, notes):
    win.document.replace_song(song_with(notes))


def undo(win):
    QTest.keyClick(win.roll, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)


def redo(win):
    QTest.keyClick(win.roll, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


def test_draw_click_adds_note_of_preset_length_snapped_and_undo_redo(window, qtbot):
    roll = window.roll
    roll.set_tool("draw")
    heard = []
    window.document.note_auditioned.connect(lambda p, v: heard.append(p))
    with qtbot.waitSignal(window.document.notes_changed):
        click(roll, point(roll, TPB + 50, 64))  # 50 ticks into beat 2: floor to the grid
    assert notes_of(window) == [Note(64, TPB, EIGHTH, 100)]
    assert heard == [64]
    assert window.document.modified
    undo(window)
    assert notes_of(window) == []
    redo(window)
    assert notes_of(window) == [Note(64, TPB, EIGHTH, 100)]


def test_draw_drag_sizes_the_note_in_one_undo_step(window):
    roll = window.roll
    roll.set_tool("draw")
    drag(roll.viewport(), point(roll, 0, 60), point(roll, 3 * TPB - 30, 60))
    assert notes_of(window) == [Note(60, 0, 3 * TPB, 100)]
    assert window.document.undo_stack.count() == 1
    undo(window)
    assert notes_of(window) == []


def test_click_selects_and_shift_adds_and_ctrl_toggles(window):
    a, b, c = Note(60, 0, TPB, 90), Note(62, TPB, TPB, 90), Note(64, 2 * TPB, TPB, 90)
    load(window, [a, b, c])
    roll, state = window.roll, window.document.state
    click(roll, point(roll, 100, 60))
    assert state.selection == {a}
    click(roll, point(roll, TPB + 100, 62), Qt.KeyboardModifier.ShiftModifier)
    assert state.selection == {a, b}
    click(roll, point(roll, 100, 60), Qt.KeyboardModifier.ControlModifier)
    assert state.selection == {b}
    click(roll, point(roll, 8 * TPB, 70))  # empty space clears
    assert state.selection == set()
    assert "selected" not in window.selection_label.text()


def test_rubber_band_selects_notes_inside_the_box(window):
    inside = [Note(60, 0, TPB, 90), Note(62, TPB, TPB, 90)]
    outside = [Note(72, 0, TPB, 90), Note(60, 6 * TPB, TPB, 90)]
    load(window, inside + outside)
    roll = window.roll
    drag(roll.viewport(), point(roll, 0, 64) - QPoint(0, 0), point(roll, 2 * TPB + 100, 58))
    assert window.document.state.selection == set(inside)
    assert "2 selected" in window.selection_label.text()
    # Ctrl+A then Escape
    QTest.keyClick(roll, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(window.document.state.selection) == 4
    QTest.keyClick(roll, Qt.Key.Key_Escape)
    assert window.document.state.selection == set()


def test_drag_moves_selection_snapped_and_undo_restores(window):
    a, b = Note(60, 0, TPB, 90), Note(64, 0, TPB, 80)
    load(window, [a, b])
    roll = window.roll
    window.document.state.set_selection({a, b})
    drag(roll.viewport(), point(roll, 100, 60), point(roll, 100 + TPB + 40, 62))
    assert notes_of(window) == [Note(62, TPB, TPB, 90), Note(66, TPB, TPB, 80)]
    assert window.document.undo_stack.count() == 1
    undo(window)
    assert notes_of(window) == [a, b]
    assert window.document.state.selection == {a, b}
    redo(window)
    assert notes_of(window) == [Note(62, TPB, TPB, 90), Note(66, TPB, TPB, 80)]


def test_shift_drag_locks_to_time(window):
    a = Note(60, 0, TPB, 90)
    load(window, [a])
    roll = window.roll
    drag(roll.viewport(), point(roll, 100, 60), point(roll, 100 + 2 * TPB, 61),
         Qt.KeyboardModifier.ShiftModifier)
    assert notes_of(window) == [Note(60, 2 * TPB, TPB, 90)]


def test_drag_right_edge_resizes_and_left_edge_moves_start(window):
    a = Note(60, TPB, TPB, 90)
    load(window, [a])
    roll = window.roll
    g = roll.geom
    y = g.y_of(60) + g.row_height // 2
    right = QPoint(round(g.x_of(a.end)) - 1, y)
    drag(roll.viewport(), right, right + QPoint(round(TPB * g.px_per_tick), 0))
    assert notes_of(window) == [Note(60, TPB, 2 * TPB, 90)]
    left = QPoint(round(g.x_of(TPB)) + 1, y)
    drag(roll.viewport(), left, left - QPoint(round(TPB / 2 * g.px_per_tick), 0))
    assert notes_of(window) == [Note(60, TPB // 2, 2 * TPB + TPB // 2, 90)]
    undo(window)
    undo(window)
    assert notes_of(window) == [a]


def test_erase_by_click_and_by_dragging_across(window):
    notes = [Note(60, i * TPB, TPB // 2, 90) for i in range(4)]
    load(window, notes + [Note(67, 0, TPB, 90)])
    roll = window.roll
    roll.set_tool("erase")
    click(roll, point(roll, 100, 67))
    assert Note(67, 0, TPB, 90) not in notes_of(window)
    drag(roll.viewport(), point(roll, 10, 60), point(roll, 3 * TPB + 100, 60), steps=12)
    assert notes_of(window) == []
    assert window.document.undo_stack.count() == 2
    undo(window)
    assert notes_of(window) == notes


def test_right_click_erases_in_select_tool(window):
    a = Note(60, 0, TPB, 90)
    load(window, [a])
    click(window.roll, point(window.roll, 100, 60), button=Qt.MouseButton.RightButton)
    assert notes_of(window) == []


def test_velocity_lane_drag_sets_velocity_in_one_step(window):
    notes = [Note(60 + i, i * TPB, TPB // 2, 40) for i in range(3)]
    load(window, notes)
    lane = window.editor.velocity_lane
    g = window.roll.geom
    top = QPoint(round(g.x_of(0)), 2)
    drag(lane, top, QPoint(round(g.x_of(2 * TPB)) + 1, 2), steps=8)
    assert [n.velocity for n in notes_of(window)] == [127, 127, 127]
    assert window.document.undo_stack.count() == 1
    undo(window)
    assert notes_of(window) == notes


def test_velocity_tool_drag_on_note(window):
    a = Note(60, 0, TPB, 64)
    load(window, [a])
    roll = window.roll
    roll.set_tool("velocity")
    start = point(roll, 100, 60)
    drag(roll.viewport(), start, start - QPoint(0, 40))
    assert notes_of(window)[0].velocity == 84


def test_copy_paste_at_playhead_cut_and_duplicate(window):
    a, b = Note(60, 0, TPB, 90), Note(64, TPB, TPB, 90)
    load(window, [a, b])
    roll, doc = window.roll, window.document
    QTest.keyClick(roll, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(roll, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    doc.state.set_playhead(8 * TPB)
    QTest.keyClick(roll, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    pasted = [Note(60, 8 * TPB, TPB, 90), Note(64, 9 * TPB, TPB, 90)]
    assert notes_of(window) == [a, b] + pasted
    assert doc.state.selection == set(pasted)
    QTest.keyClick(roll, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert notes_of(window)[-2:] == [Note(60, 10 * TPB, TPB, 90), Note(64, 11 * TPB, TPB, 90)]
    QTest.keyClick(roll, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier)
    assert notes_of(window) == [a, b] + pasted
    undo(window)
    undo(window)
    undo(window)
    assert notes_of(window) == [a, b]


def test_quantize_key_pulls_starts_to_grid_and_undo(window):
    off = [Note(60, 130, 200, 90), Note(62, 470, 200, 90)]
    load(window, off)
    window.document.state.set_grid(grid="1/8")
    QTest.keyClick(window.roll, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(window.roll, Qt.Key.Key_Q)
    assert [n.start for n in notes_of(window)] == [240, 480]
    undo(window)
    assert notes_of(window) == off


def test_arrow_keys_move_by_grid_semitone_bar_octave_and_delete(window):
    a = Note(60, TPB, TPB, 90)
    load(window, [a])
    roll, doc = window.roll, window.document
    doc.state.set_selection({a})
    QTest.keyClick(roll, Qt.Key.Key_Right)
    QTest.keyClick(roll, Qt.Key.Key_Up)
    assert notes_of(window) == [Note(61, TPB + SIXTEENTH, TPB, 90)]
    QTest.keyClick(roll, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(roll, Qt.Key.Key_Up, Qt.KeyboardModifier.ShiftModifier)
    assert notes_of(window) == [Note(73, 5 * TPB + SIXTEENTH, TPB, 90)]
    QTest.keyClick(roll, Qt.Key.Key_Delete)
    assert notes_of(window) == []
    for _ in range(5):
        undo(window)
    assert notes_of(window) == [a]


def test_zoom_with_ctrl_and_shift_wheel_and_fit(window, qtbot):
    roll = window.roll
    ppt, row = roll.geom.px_per_tick, roll.geom.row_height
    pos = point(roll, TPB, 60)
    QTest.mouseMove(roll.viewport(), pos)
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    def wheel(mods):
        event = QWheelEvent(QPointF(pos), QPointF(roll.viewport().mapToGlobal(pos)),
                            QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton, mods,
                            Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(roll.viewport(), event)

    tick_before = roll.geom.tick_at(pos.x())
    wheel(Qt.KeyboardModifier.ControlModifier)
    assert roll.geom.px_per_tick > ppt
    # zoom around the mouse: the tick under it stays within a pixel
    assert abs(roll.geom.tick_at(pos.x()) - tick_before) <= 1 / roll.geom.px_per_tick
    wheel(Qt.KeyboardModifier.ShiftModifier)
    assert roll.geom.row_height > row
    window.document.replace_song(song_with([Note(40, 0, TPB, 90), Note(90, 200 * TPB, TPB, 9)]))
    roll.zoom_to_fit()
    g = roll.geom
    assert 0 <= g.x_of(200 * TPB + TPB) <= roll.viewport().width()
    assert 0 <= g.y_of(90) and g.y_of(40) + g.row_height <= roll.viewport().height()


def test_velocity_lane_changes_only_selected_notes_and_keeps_them_selected(window):
    notes = [Note(60 + i, i * TPB, TPB // 2, 40) for i in range(3)]
    load(window, notes)
    window.document.state.set_selection({notes[0], notes[2]})
    lane = window.editor.velocity_lane
    g = window.roll.geom
    drag(lane, QPoint(round(g.x_of(0)), lane.height() // 2),
         QPoint(round(g.x_of(2 * TPB)) + 1, lane.height() // 2), steps=8)
    after = notes_of(window)
    assert after[1] == notes[1]
    assert after[0].velocity == after[2].velocity != 40
    assert window.document.state.selection == {after[0], after[2]}


def test_dragging_past_the_edge_scrolls_and_keeps_moving(window, qtbot):
    a = Note(60, 0, TPB, 90)
    load(window, [a])
    roll = window.roll
    vp = roll.viewport()
    start = point(roll, 100, 60)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(vp, QPoint(vp.width() // 2, start.y()))
    outside = QPoint(vp.width() + 40, start.y())
    QTest.mouseMove(vp, outside)
    hbar = roll.horizontalScrollBar()
    qtbot.waitUntil(lambda: hbar.value() > 200, timeout=3000)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, outside)
    moved = notes_of(window)
    assert len(moved) == 1 and moved[0].pitch == 60
    # the note followed the mouse beyond the first screen
    assert moved[0].start > roll.geom.tick_at(0)
    assert window.document.undo_stack.count() == 1


def test_a_note_edit_repaints_only_its_columns(window, qtbot):
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    notes = [Note(60 + i % 12, i * TPB // 2, TPB // 2, 90) for i in range(64)]
    load(window, notes)
    roll = window.roll
    vp = roll.viewport()
    QApplication.processEvents()  # flush the full repaint of the new song
    painted = []

    class Spy(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt override
            if event.type() == QEvent.Type.Paint:
                painted.append(event.rect())
            return False

    spy = Spy()
    vp.installEventFilter(spy)
    try:
        target = notes[10]
        window.document.replace_notes(0, [target], [target.replace(pitch=target.pitch + 1)],
                                      "Move note")
        qtbot.waitUntil(lambda: bool(painted))
    finally:
        vp.removeEventFilter(spy)
    g = roll.geom
    assert all(r.width() <= g.px_per_tick * TPB + 8 for r in painted)  # about one note wide
    assert any(r.left() <= g.x_of(target.start) <= r.right() for r in painted)
