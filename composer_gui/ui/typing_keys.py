"""Musical typing: the computer keyboard plays notes anywhere in the main window, not only
while the Keyboard panel has focus (as GarageBand's Musical Typing and Ableton's computer
MIDI keyboard do). Plain letter keys of the Keyboard panel's layout (A-; white keys, W-P
black keys, Z/X octave, C/V velocity) go to the panel, unless a text field has the focus
or a modifier is held (Ctrl+Z stays Undo). Play > Play Notes from the Computer Keyboard
(Ctrl+K) turns it on and off; the setting is remembered, and the Keyboard panel's title
and its key labels say which keys play.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from composer_gui import settings
from composer_gui.ui.keyboard_widget import KEY_LAYOUT

TYPING = settings.declare("live/musical_typing", bool, True,
                          "the computer keyboard plays notes anywhere in the window")
KEYS = set(KEY_LAYOUT) | {Qt.Key.Key_Z, Qt.Key.Key_X, Qt.Key.Key_C, Qt.Key.Key_V}
_TEXT = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)


def _typing_text(widget) -> bool:
    return isinstance(widget, _TEXT) or (isinstance(widget, QComboBox) and widget.isEditable())


class MusicalTyping(QObject):
    """Routes the note keys typed in ``window`` to ``keyboard`` (a PianoKeyboard)."""

    def __init__(self, window, keyboard, dock=None) -> None:
        super().__init__(window)
        self.window = window
        self.keyboard = keyboard
        self.dock = dock
        self.action = QAction("Play &Notes from the Computer Keyboard", window)
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence("Ctrl+K"))
        self.action.setStatusTip("Letter keys A-; and W-P play notes, Z/X change the octave")
        self.action.toggled.connect(self.set_enabled)
        window.addAction(self.action)
        self.enabled = False
        self.action.setChecked(settings.get(TYPING))
        self._show()
        QApplication.instance().installEventFilter(self)

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        settings.put(TYPING, self.enabled)
        if not self.enabled:
            self.keyboard.release_all()
        self._show()

    def _show(self) -> None:
        self.keyboard.show_letters = True
        self.keyboard.update()
        if self.dock is not None:
            self.dock.setWindowTitle("Keyboard \u2014 typing A\u2013; plays notes (Ctrl+K: off)"
                                     if self.enabled else
                                     "Keyboard \u2014 click it to play from the computer "
                                     "keyboard (Ctrl+K: anywhere)")

    def shutdown(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        kind = event.type()
        if kind == QEvent.Type.WindowDeactivate and obj is self.window:
            self.keyboard.release_all()  # a key let go elsewhere must not hang
            return False
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) or not self.enabled:
            return False
        if not isinstance(obj, QWidget) or obj.window() is not self.window:
            return False
        if obj is self.keyboard or QApplication.focusWidget() is self.keyboard:
            return False  # it plays its own keys
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if mods or event.key() not in KEYS or _typing_text(QApplication.focusWidget()):
            return False
        if kind == QEvent.Type.KeyPress:
            self.keyboard.keyPressEvent(event)
        else:
            self.keyboard.keyReleaseEvent(event)
        return True
