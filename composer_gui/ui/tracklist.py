"""The track list: name, GM instrument, mute, solo, colour, role; add/delete/duplicate/move.

Every change is one undo step through the document. Selecting a row makes that track
the one edited in the roll.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from composer_gui.core.gm import GM_PROGRAM_NAMES, instrument_label
from composer_gui.core.song import DRUM_CHANNEL, Track
from composer_gui.ui import edits_bridge as eb
from composer_gui.ui.document import Document
from composer_gui.ui.pianoroll import track_color

COL_COLOR, COL_NAME, COL_PROGRAM, COL_MUTE, COL_SOLO, COL_ROLE = range(6)


def _swatch(color: str) -> QIcon:
    pix = QPixmap(14, 14)
    pix.fill(QColor(color))
    return QIcon(pix)


class TrackList(QWidget):
    """Table of tracks with a row of buttons under it."""

    track_activated = Signal(int)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.table = QTableWidget(0, 6)
        self.table.setHorizontalHeaderLabels(["", "Track", "Instrument", "M", "S", "Role"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        # the instrument column fits the longest GM name ("25 Acoustic Guitar (nylon)")
        metrics = self.table.fontMetrics()
        program_width = 40 + max(metrics.horizontalAdvance(instrument_label(i))
                                 for i in range(len(GM_PROGRAM_NAMES)))
        for col, width in ((COL_COLOR, 24), (COL_PROGRAM, program_width), (COL_MUTE, 24),
                           (COL_SOLO, 24), (COL_ROLE, 64)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            self.table.setColumnWidth(col, width)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._on_row_selected)
        self.table.cellClicked.connect(self._on_cell_clicked)

        buttons = QHBoxLayout()
        self.buttons: dict[str, QToolButton] = {}
        for name, tip, slot in (
            ("+", "Add a track", self.add_track),
            ("Duplicate", "Duplicate the selected track", self.duplicate_track),
            ("\u2212", "Delete the selected track", self.delete_track),
            ("\u25b2", "Move the track up", lambda: self.move_track(-1)),
            ("\u25bc", "Move the track down", lambda: self.move_track(1)),
            ("\u2605 Melody", "Mark the selected track as the melody", self.mark_melody),
        ):
            button = QToolButton()
            button.setText(name)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)
            self.buttons[tip] = button
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.table)
        self.setMinimumWidth(400)
        layout.addLayout(buttons)

        document.tracks_changed.connect(self.refresh)
        document.song_replaced.connect(self.refresh)
        document.state.current_track_changed.connect(self._select_row)
        self._refreshing = False
        self.refresh()

    # -- view ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Rebuild the rows from the song."""
        self._refreshing = True
        song = self.document.song
        table = self.table
        table.setRowCount(len(song.tracks))
        for row, track in enumerate(song.tracks):
            color = QTableWidgetItem()
            color.setIcon(_swatch(track_color(song, row)))
            color.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            color.setToolTip("Click to change the colour")
            table.setItem(row, COL_COLOR, color)
            name = QTableWidgetItem(track.name or f"Track {row + 1}")
            if track.role == "melody":
                name.setText(f"\u2605 {name.text()}")
                name.setToolTip("The melody track")
            table.setItem(row, COL_NAME, name)
            combo = QComboBox()
            if track.is_drum or track.channel == DRUM_CHANNEL:
                combo.addItem("Drums")
                combo.setEnabled(False)
            else:
                combo.addItems([instrument_label(i) for i in range(len(GM_PROGRAM_NAMES))])
                combo.setCurrentIndex(track.program)
                combo.setToolTip(combo.currentText())
                combo.currentIndexChanged.connect(
                    lambda value, r=row: self._set(r, "Change instrument", program=value)
                )
            table.setCellWidget(row, COL_PROGRAM, combo)
            for col, attr, label in ((COL_MUTE, "muted", "M"), (COL_SOLO, "solo", "S")):
                item = QTableWidgetItem(label)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                on = getattr(track, attr)
                item.setBackground(QColor("#e0a030" if on else "#00000000"))
                item.setToolTip(("Unmute" if on else "Mute") if attr == "muted"
                                else ("Unsolo" if on else "Solo"))
                table.setItem(row, col, item)
            role = QTableWidgetItem(track.role or "")
            table.setItem(row, COL_ROLE, role)
        self._refreshing = False
        self._select_row(self.document.state.current_track)

    def _select_row(self, row: int) -> None:
        if 0 <= row < self.table.rowCount() and self.table.currentRow() != row:
            self._refreshing, was = True, self._refreshing
            self.table.selectRow(row)
            self._refreshing = was

    # -- edits --------------------------------------------------------------------------
    def current(self) -> int:
        return self.document.state.current_track

    def _set(self, row: int, text: str, **props) -> None:
        if self._refreshing or row >= len(self.document.song.tracks):
            return
        track = self.document.song.tracks[row]
        if all(getattr(track, k) == v for k, v in props.items()):
            return
        self.document.push(eb.SetTrackProperties(row, text, **props))

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._refreshing:
            return
        row, col = item.row(), item.column()
        if col == COL_NAME:
            text = item.text().removeprefix("\u2605 ").strip()
            self._set(row, "Rename track", name=text)
        elif col == COL_ROLE:
            self._set(row, "Set track role", role=item.text().strip() or None)

    def _on_cell_clicked(self, row: int, col: int) -> None:
        if row >= len(self.document.song.tracks):
            return
        track = self.document.song.tracks[row]
        if col == COL_MUTE:
            self._set(row, "Mute track" if not track.muted else "Unmute track",
                      muted=not track.muted)
        elif col == COL_SOLO:
            self._set(row, "Solo track" if not track.solo else "Unsolo track",
                      solo=not track.solo)
        elif col == COL_COLOR:
            color = QColorDialog.getColor(QColor(track_color(self.document.song, row)), self)
            if color.isValid():
                self._set(row, "Track colour", color=color.name())

    def _on_row_selected(self) -> None:
        if self._refreshing:
            return
        row = self.table.currentRow()
        if row >= 0:
            self.document.state.set_current_track(row)
            self.track_activated.emit(row)

    def add_track(self) -> None:
        song = self.document.song
        used = {t.channel for t in song.tracks}
        channel = next((c for c in range(16) if c not in used and c != DRUM_CHANNEL), 0)
        at = len(song.tracks)
        self.document.push(eb.AddTrack(Track(name=f"Track {at + 1}", channel=channel), at,
                                       "Add track"))
        self.document.state.set_current_track(at)

    def duplicate_track(self) -> None:
        song = self.document.song
        row = self.current()
        if not song.tracks:
            return
        copy = song.tracks[row].copy()
        copy.name = f"{copy.name} copy".strip()
        if copy.role == "melody":
            copy.role = None
        self.document.push(eb.AddTrack(copy, row + 1, "Duplicate track"))
        self.document.state.set_current_track(row + 1)

    def delete_track(self) -> None:
        if self.document.song.tracks:
            self.document.push(eb.RemoveTrack(self.current(), "Delete track"))

    def move_track(self, step: int) -> None:
        row = self.current()
        target = row + step
        if 0 <= target < len(self.document.song.tracks):
            self.document.push(eb.MoveTrack(row, target, "Move track"))
            self.document.state.set_current_track(target)

    def mark_melody(self) -> None:
        song = self.document.song
        row = self.current()
        if not song.tracks or song.tracks[row].role == "melody":
            return
        edits = [eb.SetTrackProperties(i, None, role=None)
                 for i, t in enumerate(song.tracks) if t.role == "melody"]
        edits.append(eb.SetTrackProperties(row, None, role="melody"))
        self.document.push_many(edits, "Mark melody track")
