"""Fixtures for the window tests: a throwaway home, a main window, mouse helpers.

Every test here fails on Qt warnings (pytest-qt's ``qt_log_level_fail``), except the
offscreen platform's harmless note about size hints.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from composer_gui import settings
from composer_gui.core.song import Note, Song, Track


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/ui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore("propagateSizeHints"))


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory):
    """A models folder holding ``tiny``: chorale parts, seeded untrained tiny networks
    (the Fine-tune window's base)."""
    from tests.conftest import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("models"))


@pytest.fixture
def env(isolated_home, tiny_base, monkeypatch):
    """A throwaway home whose only model is ``tiny`` (the fine-tune tests)."""
    monkeypatch.setenv("COMPOSER_GUI_MODELS", str(tiny_base))
    monkeypatch.setenv("COMPOSER_GUI_THREADS", "1")
    settings.use_settings_file(None)
    yield isolated_home
    settings.use_settings_file(None)


@pytest.fixture
def home(isolated_home, tmp_path):
    """A throwaway home; the settings file lives inside it."""
    settings.use_settings_file(None)
    yield isolated_home
    settings.use_settings_file(None)


@pytest.fixture
def window(home, qtbot):
    """A shown main window with a fixed zoom: 0.1 px/tick (48 px a beat), 12 px rows."""
    from composer_gui.ui.mainwindow import MainWindow

    win = MainWindow()
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()  # window shortcuts need an active window (Xvfb has no WM)
    qtbot.waitUntil(win.isActiveWindow)
    roll = win.roll
    roll.set_zoom(px_per_tick=0.1, row_height=12)
    roll.horizontalScrollBar().setValue(0)
    roll.scroll_to_pitch(60)
    win.document.state.set_grid(grid="1/16", snap=True, note_length="1/8")
    yield win
    win.document.undo_stack.setClean()  # no save prompt on close
    win.close()
    win.deleteLater()


def song_with(notes, name="Melody") -> Song:
    return Song(tracks=[Track(name=name, role="melody", notes=sorted(
        notes, key=lambda n: (n.start, n.pitch)))])


def point(roll, tick: float, pitch: int) -> QPoint:
    """Viewport point inside the cell of (tick, pitch)."""
    g = roll.geom
    return QPoint(round(g.x_of(tick)) + 1, g.y_of(pitch) + g.row_height // 2)


def click(roll, pos: QPoint, mods=Qt.KeyboardModifier.NoModifier,
          button=Qt.MouseButton.LeftButton) -> None:
    QTest.mouseClick(roll.viewport(), button, mods, pos)


def drag(widget, start: QPoint, end: QPoint, mods=Qt.KeyboardModifier.NoModifier,
         button=Qt.MouseButton.LeftButton, steps: int = 4) -> None:
    """Press at ``start``, move in a few steps, release at ``end`` (real QTest events)."""
    QTest.mousePress(widget, button, mods, start)
    for i in range(1, steps + 1):
        QTest.mouseMove(widget, QPoint(start.x() + (end.x() - start.x()) * i // steps,
                                       start.y() + (end.y() - start.y()) * i // steps))
    QTest.mouseRelease(widget, button, mods, end)


def notes_of(win, track: int = 0) -> list[Note]:
    return list(win.document.song.tracks[track].notes)


def answer_next_dialog(button=None, seen: list | None = None, act=None, tries: int = 300):
    """When the next modal dialog opens, record its text, run ``act(dialog)`` or click
    ``button`` (a QMessageBox standard button; default: accept)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    def poll(left=tries):
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            if left:
                QTimer.singleShot(10, lambda: poll(left - 1))
            return
        if seen is not None:
            seen.append(dialog.text() if isinstance(dialog, QMessageBox) else dialog)
        if act is not None:
            act(dialog)
        elif button is not None:
            dialog.button(button).click()
        else:
            dialog.accept()

    QTimer.singleShot(0, poll)
