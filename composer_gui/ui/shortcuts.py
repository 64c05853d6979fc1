"""Help > Keyboard Shortcuts: one table of every shortcut, built when it opens from the
window's own actions (each menu, in menu order, with the keys the action answers to), so
it cannot drift from them; then the keys and gestures that widgets handle themselves:
the piano roll's, the mouse's, and the Keyboard panel's notes (from its own key layout).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from composer_gui.ui.keyboard_widget import KEY_LAYOUT

#: Keys the piano roll handles itself (while it has focus).
ROLL_KEYS = (
    ("Left / Right", "Move the selected notes by a grid step"),
    ("Shift+Left / Shift+Right", "Move the selected notes by a bar"),
    ("Up / Down", "Move the selected notes by a semitone"),
    ("Shift+Up / Shift+Down", "Move the selected notes by an octave"),
    ("Esc", "Cancel the drag in progress, else clear the selection"),
)
#: What the mouse does in the piano roll and its ruler.
MOUSE = (
    ("Click a note", "Select it; Shift+click adds, Ctrl+click toggles"),
    ("Drag on empty space", "Select the notes in the box"),
    ("Drag a note", "Move it (Shift locks time or pitch); drag an edge to resize"),
    ("Right-click", "Erase, in every tool"),
    ("Ctrl+wheel / Shift+wheel", "Zoom time / pitch"),
    ("Click the ruler", "Move the playhead"),
    ("Shift+drag in the ruler", "Set the loop range"),
    ("Double-click the ruler", "Tempo, meter and key at that bar"),
    ("Drag in the velocity lane", "Set the velocity of the notes there"),
)
#: The Keyboard panel's keys besides the notes.
KEYBOARD_KEYS = (("Z / X", "Octave down / up"), ("C / V", "Softer / louder"))

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def _clean(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("\u2026.")


def _keys(action: QAction) -> str:
    return " or ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                       for k in action.shortcuts() if not k.isEmpty())


def action_rows(window) -> list[tuple[str, str, str]]:
    """(menu, command, keys) of every action of ``window`` with a shortcut: those in the
    menus in menu order, then any others the window or its editor answers to."""
    rows: list[tuple[str, str, str]] = []
    seen: set[int] = set()

    def walk(menu, path: str) -> None:
        for act in menu.actions():
            if act.menu() is not None:
                walk(act.menu(), f"{path} > {_clean(act.text())}")
                continue
            keys = _keys(act)
            if keys and id(act) not in seen:
                seen.add(id(act))
                rows.append((path, _clean(act.text()), keys))

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu(), _clean(top.text()))
    owners = [window, getattr(window, "editor", None)]
    for owner in owners:
        for act in owner.actions() if owner is not None else ():
            keys = _keys(act)
            if keys and id(act) not in seen:
                seen.add(id(act))
                rows.append(("Window", _clean(act.text()), keys))
    return rows


def note_keys() -> str:
    """The computer keys that play notes, from the Keyboard panel's layout."""
    parts = []
    for key, semitone in sorted(KEY_LAYOUT.items(), key=lambda kv: kv[1]):
        letter = QKeySequence(key).toString()
        octave = "+" if semitone >= 12 else ""
        parts.append(f"{letter} {NOTE_NAMES[semitone % 12]}{octave}")
    return ", ".join(parts)


def all_rows(window) -> list[tuple[str, str, str]]:
    """Every row of the table: (where, what, keys)."""
    rows = action_rows(window)
    rows += [("Piano roll", what, keys) for keys, what in ROLL_KEYS]
    rows += [("Mouse", what, keys) for keys, what in MOUSE]
    rows.append(("Keyboard panel", "Play notes (C = the octave's C; + the octave above)",
                 note_keys()))
    rows += [("Keyboard panel", what, keys) for keys, what in KEYBOARD_KEYS]
    return rows


class ShortcutsDialog(QDialog):
    """The table of :func:`all_rows`."""

    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setObjectName("shortcuts")
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(760, 620)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Every shortcut of this window, from the menus' own commands."))
        rows = all_rows(window)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Where", "Command", "Keys"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        for r, (where, what, keys) in enumerate(rows):
            for c, text in enumerate((where, what, keys)):
                item = QTableWidgetItem(text)
                if c == 2:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)

    def rows(self) -> list[tuple[str, str, str]]:
        return [tuple(self.table.item(r, c).text() for c in range(3))
                for r in range(self.table.rowCount())]
