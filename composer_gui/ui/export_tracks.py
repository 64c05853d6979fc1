"""File > Export Tracks: a list of the song's tracks, every one ticked (All / None flip
them), then where to save; the file gets ``.mid`` when the typed name has no MIDI suffix,
and the status bar says what was written where (as a DAW's export confirms).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from composer_gui.core.song import Song
from composer_gui.ui import files


class ExportTracksDialog(QDialog):
    """Pick the tracks to export: all ticked at first; All / None."""

    def __init__(self, song: Song, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("export_tracks")
        self.setWindowTitle("Export Tracks")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Tracks to put in the MIDI file:"))
        self.listing = QListWidget()
        for i, track in enumerate(song.tracks):
            item = QListWidgetItem(track.name or f"Track {i + 1}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.listing.addItem(item)
        layout.addWidget(self.listing)
        row = QHBoxLayout()
        self.all_button = QPushButton("All")
        self.none_button = QPushButton("None")
        self.all_button.clicked.connect(lambda: self._tick_all(True))
        self.none_button.clicked.connect(lambda: self._tick_all(False))
        row.addWidget(self.all_button)
        row.addWidget(self.none_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export\u2026")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.listing.itemChanged.connect(lambda _i: self._update_ok())

    def _tick_all(self, on: bool) -> None:
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        for i in range(self.listing.count()):
            self.listing.item(i).setCheckState(state)

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.chosen()))

    def chosen(self) -> list[int]:
        return [i for i in range(self.listing.count())
                if self.listing.item(i).checkState() == Qt.CheckState.Checked]


def export_tracks_dialog(window) -> None:
    """Ask which tracks and where, then write them (``window``: the MainWindow)."""
    song = window.document.song
    if not song.tracks:
        return
    dialog = ExportTracksDialog(song, window)
    if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.chosen():
        return
    chosen = dialog.chosen()
    title = song.title.strip() or "tracks"
    path, _ = QFileDialog.getSaveFileName(window, "Export tracks",
                                          str(files.start_folder() / f"{title}.mid"),
                                          files.MIDI_FILTER)
    if not path:
        return
    if not path.lower().endswith(files.MIDI_SUFFIXES):
        path += ".mid"
    files.remember_folder(path)
    if window.export_tracks_to(chosen, path):
        n = len(chosen)
        window.statusBar().showMessage(
            f"Exported {n} track{'s' if n != 1 else ''} to {path}", 8000)
