"""Settings persistence (never the real file) and the roll's note index."""

from __future__ import annotations

import random

import pytest

from composer_gui import settings
from composer_gui.core.song import Note, normalize_notes
from composer_gui.ui.noteindex import TrackIndex


def test_settings_live_in_the_redirected_home_and_keep_types(home):
    path = settings.config_path()
    assert str(path).startswith(str(home))
    assert settings.get(settings.SNAP_GRID) == "1/16"  # the declared default
    settings.put(settings.SNAP_ENABLED, False)
    settings.put(settings.ZOOM_Y, 20)
    settings.put(settings.RECENT_FILES, ["/a.mid", "/b.mid"])
    settings.put(settings.WINDOW_GEOMETRY, b"\x01\x02")
    settings.sync()
    settings.use_settings_file(None)  # a fresh QSettings reads the file again
    assert settings.get(settings.SNAP_ENABLED) is False
    assert settings.get(settings.ZOOM_Y) == 20
    assert settings.get(settings.RECENT_FILES) == ["/a.mid", "/b.mid"]
    assert settings.get(settings.WINDOW_GEOMETRY) == b"\x01\x02"


def test_a_setting_cannot_be_declared_twice():
    with pytest.raises(ValueError):
        settings.declare(settings.SNAP_GRID.key, str, "1/8")


def test_window_remembers_grid_zoom_and_layout(home, qtbot):
    from composer_gui.ui.mainwindow import MainWindow

    win = MainWindow()
    win.document.state.set_grid(grid="1/8T", snap=False, note_length="1/4")
    win.roll.set_zoom(px_per_tick=0.3, row_height=17)
    win.panels["tracks"].hide()
    win.close()
    again = MainWindow()
    try:
        assert (again.document.state.grid, again.document.state.snap) == ("1/8T", False)
        assert again.document.state.note_length == "1/4"
        assert again.grid_combo.currentText() == "1/8T"
        assert again.roll.geom.row_height == 17
        assert abs(again.roll.geom.px_per_tick - 0.3) < 1e-9
        assert not again.panels["tracks"].isVisibleTo(again)
    finally:
        again.close()


def _random_notes(rng, count):
    notes = [Note(rng.randrange(40, 80), rng.randrange(0, 20_000), rng.randrange(1, 900),
                  rng.randrange(1, 128)) for _ in range(count)]
    return normalize_notes(notes)


@pytest.mark.parametrize("seed", range(5))
def test_index_refresh_matches_a_rebuild_and_finds_visible_notes(seed):
    rng = random.Random(seed)
    notes = _random_notes(rng, 400)
    index = TrackIndex(notes)
    for _ in range(30):
        removed = rng.sample(notes, 3)
        added = [n.replace(start=n.start + rng.randrange(-300, 300) % 20_000) for n in removed]
        new = normalize_notes([n for n in notes if n not in removed] + added)
        changed = removed + added + [n for n in new if n not in set(notes)]
        changed += [n for n in notes if n not in set(new)]
        lo = min(n.start for n in changed)
        hi = max(n.end for n in changed)
        notes = new
        index.refresh(notes, lo, hi)
        fresh = TrackIndex(notes)
        for name in ("start", "duration", "pitch", "velocity"):
            assert getattr(index, name).tolist() == getattr(fresh, name).tolist()
    t0, t1 = 5_000, 6_000
    expected = [i for i, n in enumerate(notes) if n.start < t1 and n.end > t0]
    assert index.visible(t0, t1).tolist() == expected


def test_a_failing_edit_changes_neither_song_nor_undo_stack(home, qtbot):
    from composer_gui.core.song import SongError
    from composer_gui.ui import edits_bridge as eb
    from composer_gui.ui.document import Document
    from tests.ui.conftest import song_with

    doc = Document(song_with([Note(60, 0, 480, 90)]))
    with pytest.raises(SongError):
        doc.push(eb.RemoveNotes(0, [Note(61, 0, 480, 90)]))  # not in the track
    assert doc.undo_stack.count() == 0
    assert doc.song.tracks[0].notes == [Note(60, 0, 480, 90)]
    assert not doc.modified


def test_a_panel_added_after_start_gets_its_saved_place(home, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    from composer_gui.ui.mainwindow import MainWindow

    win = MainWindow()
    win.add_panel("transport", "Transport", QLabel("transport"),
                  Qt.DockWidgetArea.BottomDockWidgetArea)
    win.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, win.panels["transport"])
    win.close()
    again = MainWindow()
    try:
        dock = again.add_panel("transport", "Transport", QLabel("transport"),
                               Qt.DockWidgetArea.BottomDockWidgetArea)
        assert again.dockWidgetArea(dock) == Qt.DockWidgetArea.TopDockWidgetArea
        assert dock.toggleViewAction() in again.panels_menu.actions()
    finally:
        again.close()
