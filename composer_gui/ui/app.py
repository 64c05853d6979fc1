"""Start the window: ``composer-gui [FILE.mid]`` ends up in :func:`run_app`."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from composer_gui import APP_ID, APP_NAME, __version__, settings

log = logging.getLogger("composer_gui")


def log_path() -> Path:
    """The log file in the application-data folder."""
    return settings.app_data_dir() / "composer-gui.log"


def setup_logging() -> Path:
    """Log warnings and errors (with tracebacks) to the log file; returns its path."""
    path = log_path()
    root = logging.getLogger("composer_gui")
    if not any(isinstance(h, logging.handlers.RotatingFileHandler)
               and getattr(h, "baseFilename", "") == str(path) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000,
                                                       backupCount=2, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    return path


def _install_excepthook(window_getter) -> None:
    """Unexpected errors in slots: traceback to the log, a plain message to the user."""

    def hook(kind, value, tb):
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, value, tb)))
        window = window_getter()
        if window is not None:
            window.show_error("Unexpected error",
                              f"Something went wrong: {value}\n\nDetails are in {log_path()}")

    sys.excepthook = hook


def run_app(path: str | None, qt_args: Sequence[str] = ()) -> int:
    """Create the application and the main window, open ``path`` if given, run."""
    from PySide6.QtWidgets import QApplication

    from composer_gui.ui.mainwindow import MainWindow

    setup_logging()
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    window = MainWindow()
    _install_excepthook(lambda: window)
    window.show()
    window.live.start()  # built-in sound (own thread) and MIDI port watching
    if not window.offer_recovery():
        if path:
            window.open_file(path, ask=False)
        else:  # issue 8: a first-time user gets a sample melody to generate from
            from composer_gui.ui.sample_melodies import open_first_run_melody

            open_first_run_melody(window)
    code = app.exec()
    settings.sync()
    return int(code)
