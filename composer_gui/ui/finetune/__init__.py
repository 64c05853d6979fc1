"""The Fine-tune window (issue 9): scan your MIDI files, train a model in your style in a
subprocess with live plots and previews, then generate with it.

:func:`install` adds Tools > Fine-tune... to the main window; the window itself is built
on first use (:mod:`composer_gui.ui.finetune.window`).
"""

from __future__ import annotations

from PySide6.QtGui import QAction


class FineTuneHost:
    """The main window's handle on its Fine-tune window (built on first use)."""

    def __init__(self, window) -> None:
        self.main = window
        self.window = None

    def open(self):
        """Show (and build on first use) the Fine-tune window; returns it."""
        if self.window is None:
            from composer_gui.ui.finetune.window import FineTuneWindow

            self.window = FineTuneWindow(self.main)
        elif not self.window.isVisible():
            self.window.follow_main_style()
        if self.window.isVisible():
            self.window.raise_()  # behind the main window: bring it to the front
        self.window.show()
        self.window.activateWindow()
        return self.window

    def shutdown(self) -> None:
        if self.window is not None:
            self.window.shutdown()


def install(window) -> FineTuneHost:
    """Add Tools > Fine-tune... to ``window`` (a MainWindow)."""
    host = FineTuneHost(window)
    action = QAction("&Fine-tune on Your MIDI Files\u2026", window)
    action.setObjectName("action_finetune")
    action.setStatusTip("Train a model in your style on a folder of your MIDI files")
    action.triggered.connect(lambda: host.open())
    menu = next((a.menu() for a in window.menuBar().actions()
                 if a.menu() is not None and a.text() == "&Tools"), None)
    if menu is not None:
        menu.addSeparator()
        menu.addAction(action)
    window.addAction(action)
    window.act_finetune = action
    return host
