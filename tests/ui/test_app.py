"""``composer-gui FILE.mid`` starts the window with the file; start-up stays light."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from composer_gui.core.song import Note
from composer_gui.midi.smf import write_midi
from tests.ui.conftest import song_with

REPO = Path(__file__).resolve().parents[2]


def test_run_app_opens_the_file_and_returns_when_closed(home, qtbot, tmp_path):
    from composer_gui.ui import app as app_module
    from composer_gui.ui.mainwindow import MainWindow

    path = tmp_path / "tune.mid"
    write_midi(song_with([Note(67, 0, 480, 90)]), path)
    seen = {}

    def check_and_close():
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            QTimer.singleShot(20, check_and_close)
            return
        window = windows[-1]
        seen["notes"] = list(window.document.song.tracks[0].notes)
        seen["title"] = window.windowTitle()
        window.close()

    QTimer.singleShot(0, check_and_close)
    hook = sys.excepthook
    try:
        assert app_module.run_app(str(path), []) == 0
    finally:
        sys.excepthook = hook
        for handler in list(app_module.log.handlers):
            app_module.log.removeHandler(handler)
            handler.close()
    assert seen["notes"] == [Note(67, 0, 480, 90)]
    assert seen["title"].startswith("tune.mid")
    assert app_module.log_path().exists()


def test_window_start_does_not_import_torch(home):
    script = textwrap.dedent("""
        import sys
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from composer_gui.ui.mainwindow import MainWindow
        w = MainWindow()
        w.show()
        app.processEvents()
        print("torch" in sys.modules)
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", script], env=env, timeout=60,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
