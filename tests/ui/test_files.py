"""Files: save and reload, bad files, the modified prompt, autosave, crash recovery."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from composer_gui import settings
from composer_gui.core.song import Note, TempoChange
from composer_gui.midi.smf import read_midi, write_midi
from composer_gui.ui import files
from tests.ui.conftest import answer_next_dialog, drag, notes_of, point, song_with

TPB = 480
REPO = Path(__file__).resolve().parents[2]


def test_drawn_song_saved_with_ctrl_s_and_read_back(window, tmp_path, monkeypatch):
    roll = window.roll
    roll.set_tool("draw")
    drag(roll.viewport(), point(roll, 0, 60), point(roll, 2 * TPB - 30, 60))
    drag(roll.viewport(), point(roll, 2 * TPB, 67), point(roll, 3 * TPB - 30, 67))
    target = tmp_path / "song.mid"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(target), ""))
    assert window.windowTitle().startswith("Untitled")
    QTest.keyClick(roll, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert target.exists()
    assert not window.document.modified
    assert window.windowTitle().startswith("song.mid")
    song = read_midi(target)
    assert [(n.pitch, n.start, n.duration, n.velocity) for n in song.tracks[0].notes] == [
        (60, 0, 2 * TPB, 100), (67, 2 * TPB, TPB, 100)]
    assert settings.get(settings.RECENT_FILES)[0] == str(target.resolve())
    assert window.recent_menu.actions()[0].text() == "song.mid"


def test_open_file_then_bad_file_dialog_keeps_current_song(window, tmp_path):
    good = tmp_path / "good.mid"
    write_midi(song_with([Note(62, 0, TPB, 80)]), good)
    assert window.open_file(str(good), ask=False)
    assert notes_of(window) == [Note(62, 0, TPB, 80)]
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06garbage that is not midi")
    seen: list[str] = []
    answer_next_dialog(QMessageBox.StandardButton.Ok, seen)
    assert not window.open_file(str(bad), ask=False)
    assert len(seen) == 1 and "broken.mid" in seen[0]
    assert notes_of(window) == [Note(62, 0, TPB, 80)]
    assert window.document.path == str(good.resolve())


def test_failed_save_shows_error_and_stays_modified(window, tmp_path):
    window.document.replace_notes(0, [], [Note(60, 0, TPB, 90)], "Draw note")
    seen: list[str] = []
    answer_next_dialog(QMessageBox.StandardButton.Ok, seen)
    assert not window._write(str(tmp_path / "no" / "such" / "dir" / "x.mid"))
    assert seen and "x.mid" in seen[0]
    assert window.document.modified


def test_failed_write_keeps_previous_file(window, tmp_path, monkeypatch):
    target = tmp_path / "keep.mid"
    write_midi(song_with([Note(60, 0, TPB, 90)]), target)
    before = target.read_bytes()
    window.document.replace_notes(0, [], [Note(61, 0, TPB, 90)], "Draw note")

    def broken(song, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "write_song", broken)
    answer_next_dialog(QMessageBox.StandardButton.Ok)
    assert not window._write(str(target))
    assert target.read_bytes() == before


def test_modified_prompt_cancel_keeps_window_discard_closes(window):
    window.document.replace_notes(0, [], [Note(60, 0, TPB, 90)], "Draw note")
    seen: list[str] = []
    answer_next_dialog(QMessageBox.StandardButton.Cancel, seen)
    window.close()
    assert window.isVisible() and seen
    answer_next_dialog(QMessageBox.StandardButton.Discard)
    window.close()
    assert not window.isVisible()


def test_drop_a_midi_file_opens_it(window, tmp_path):
    path = tmp_path / "dropped.mid"
    write_midi(song_with([Note(70, TPB, TPB, 60)]), path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPoint(300, 300)
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    assert notes_of(window) == [Note(70, TPB, TPB, 60)]


def test_export_selected_tracks(window, tmp_path):
    song = song_with([Note(60, 0, TPB, 90)])
    second = song.tracks[0].copy()
    second.name, second.role, second.notes = "Bass", "bass", [Note(36, 0, TPB, 90)]
    song.tracks.append(second)
    window.document.replace_song(song)
    out = tmp_path / "bass.mid"
    assert window.export_tracks_to([1], str(out))
    back = read_midi(out)
    assert [t.name for t in back.tracks] == ["Bass"]
    assert [n.pitch for n in back.tracks[0].notes] == [36]


def test_autosave_writes_while_modified_and_clears_after_save(window, tmp_path):
    saver = window.autosaver
    assert not saver.save_now()  # unmodified: nothing to write
    window.document.replace_notes(0, [], [Note(60, 0, TPB, 90)], "Draw note")
    assert saver.save_now()
    assert saver.song_path.parent.parent == settings.app_data_dir()
    assert [n.pitch for n in read_midi(saver.song_path).tracks[0].notes] == [60]
    window._write(str(tmp_path / "saved.mid"))
    assert not saver.song_path.exists()


def test_recovery_after_kill_9(window, home, qtbot):
    script = textwrap.dedent("""
        import os, signal
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from composer_gui.core.song import Note
        from composer_gui.ui.mainwindow import MainWindow
        w = MainWindow()
        w.document.replace_notes(0, [], [Note(65, 960, 480, 77)], "Draw note")
        assert w.autosaver.save_now()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "-c", script], env=env, timeout=60,
                          capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    assert files.find_recoverable()
    seen: list[str] = []
    answer_next_dialog(QMessageBox.StandardButton.Yes, seen)
    assert window.offer_recovery()
    assert "Recover" in seen[0] or "recover" in seen[0].lower()
    assert notes_of(window) == [Note(65, 960, 480, 77)]
    assert window.document.modified  # recovered, not yet saved
    assert not files.find_recoverable()


def test_unexpected_error_goes_to_log_with_traceback(window, home):
    from composer_gui.ui import app

    path = app.setup_logging()
    app._install_excepthook(lambda: window)
    seen: list[str] = []
    answer_next_dialog(QMessageBox.StandardButton.Ok, seen)
    try:
        raise RuntimeError("boom in a slot")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    sys.excepthook = sys.__excepthook__
    for handler in list(app.log.handlers):
        handler.flush()
        app.log.removeHandler(handler)
        handler.close()
    text = path.read_text()
    assert "Traceback" in text and "boom in a slot" in text
    assert seen and "boom in a slot" in seen[0] and "Traceback" not in seen[0]


def test_tempo_written_to_file(window, tmp_path):
    window.document.replace_song(song_with([Note(60, 0, TPB, 90)]))
    window.document.song.tempos = [TempoChange(0, 400_000)]
    out = tmp_path / "t.mid"
    window._write(str(out))
    assert read_midi(out).tempos[0].bpm == 150


def test_autosave_timer_fires_while_modified(home, qtbot):
    from composer_gui.ui.mainwindow import MainWindow

    settings.put(settings.AUTOSAVE_SECONDS, 1)
    win = MainWindow()
    try:
        assert win.autosaver.timer.interval() == 1000
        win.document.replace_notes(0, [], [Note(60, 0, TPB, 90)], "Draw note")
        with qtbot.waitSignal(win.autosaver.autosaved, timeout=3000):
            pass
        assert win.autosaver.song_path.exists()
        answer_next_dialog(QMessageBox.StandardButton.Discard)
        win.close()  # a clean exit (changes discarded) leaves no autosave behind
        assert not win.isVisible()
        assert not win.autosaver.song_path.exists()
    finally:
        win.document.undo_stack.setClean()
        win.close()


def test_new_asks_first_and_open_recent_reopens(window, tmp_path):
    path = tmp_path / "recent.mid"
    write_midi(song_with([Note(72, 0, TPB, 90)]), path)
    window.open_file(str(path), ask=False)
    window.document.replace_notes(0, [], [Note(50, 0, TPB, 90)], "Draw note")
    answer_next_dialog(QMessageBox.StandardButton.Discard)
    window.act_new.trigger()
    assert notes_of(window) == [] and window.document.path == ""
    assert not window.document.modified
    window.recent_menu.actions()[0].trigger()
    assert notes_of(window) == [Note(72, 0, TPB, 90)]
