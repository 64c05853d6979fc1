"""Where file dialogs start (issue 21, item 5): the last folder the user used or their
music folder, never the app's own sample melodies, which open as templates."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from composer_gui import settings
from composer_gui.assets import melodies_dir
from composer_gui.ui.sample_melodies import sample_melodies


def test_dialogs_never_start_in_the_bundled_samples(window, home, tmp_path, monkeypatch):
    sample = next(p for p in sample_melodies() if p.stem == "ode_to_joy")
    bundled = sample.read_bytes()
    # an older version remembered the samples' folder: a restart must not start there
    settings.put(settings.LAST_FOLDER, str(melodies_dir()))
    assert window.open_file(str(sample), ask=False)
    starts: list[str] = []
    mine = tmp_path / "mine"
    mine.mkdir()

    def save_dialog(parent, caption, start, *rest, **kw):
        starts.append(start)
        return str(mine / "ode"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    QTest.keyClick(window.roll, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    # Ctrl+S on a sample asks where (the sample opens as a template) ...
    assert len(starts) == 1
    start = Path(starts[0])
    assert melodies_dir().resolve() not in start.resolve().parents
    assert start.parent == home  # no Music folder here: the home folder
    assert start.name == "Ode To Joy.mid"  # named after the song's title
    # ... and the sample itself is untouched; the copy is where the user said
    assert sample.read_bytes() == bundled
    assert (mine / "ode.mid").exists()
    assert window.document.path == str((mine / "ode.mid").resolve())

    # the next dialog (Export Piano Roll Image) starts where the user saved last
    window.act_export_png.trigger()
    assert Path(starts[1]).parent == mine

    # and so does Save As after reopening the sample
    assert window.open_file(str(sample), ask=False)
    assert window.document.path == ""
    QTest.keyClick(window.roll, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert Path(starts[2]).parent == mine
