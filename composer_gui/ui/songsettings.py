"""Song settings: tempo, meter and key, edited where the playhead is or added at a bar.

The dialog shows the values in effect at the playhead. Applying either changes those
values where they are set, or (with "add a change at bar N") inserts a new change at the
start of that bar. Everything the dialog does is one undo step.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from composer_gui.core.song import Song
from composer_gui.ui import edits_bridge as eb
from composer_gui.ui.document import Document
from composer_gui.ui.rollrender import bar_at, time_map

KEYS = (
    "", "C", "G", "D", "A", "E", "B", "F#", "C#", "F", "Bb", "Eb", "Ab", "Db", "Gb", "Cb",
    "Am", "Em", "Bm", "F#m", "C#m", "G#m", "D#m", "A#m", "Dm", "Gm", "Cm", "Fm", "Bbm",
    "Ebm", "Abm",
)  # fmt: skip


def _in_effect(items, tick: int):
    found = None
    for item in items:
        if item.tick <= tick:
            found = item
    return found


def bar_start_tick(song: Song, bar: int) -> int:
    """Tick where bar number ``bar`` (from 1) starts."""
    return time_map(song).bar_to_tick(max(0, bar - 1))


def song_settings_edits(doc: Document, *, bpm: float, numerator: int, denominator: int,
                        key: str, at_bar: int | None) -> list:
    """The edits that make the song's settings match, at the playhead or at a new bar."""
    song = doc.song
    tick = doc.state.playhead if at_bar is None else bar_start_tick(song, at_bar)
    edits = []
    tempo = _in_effect(song.tempos, tick)
    if at_bar is not None and (tempo is None or tempo.tick != tick):
        if tempo is None or abs(tempo.bpm - bpm) > 1e-6:
            edits.append(eb.AddTempoChange(tick, bpm=bpm))
    elif tempo is None or abs(tempo.bpm - bpm) > 1e-6:
        edits.append(eb.SetTempo(tick, bpm=bpm))
    meter = _in_effect(song.time_signatures, tick)
    new_meter = (numerator, denominator)
    if meter is None or (meter.numerator, meter.denominator) != new_meter:
        if at_bar is not None and (meter is None or meter.tick != tick):
            edits.append(eb.AddTimeSignature(tick, numerator, denominator))
        else:
            edits.append(eb.SetTimeSignature(tick, numerator, denominator))
    current_key = _in_effect(song.key_signatures, tick)
    old_key = current_key.key if current_key else ""
    if key != old_key:
        key_tick = tick if at_bar is not None else (current_key.tick if current_key else 0)
        if key:
            edits.append(eb.SetKey(key, key_tick))
        elif current_key is not None:
            edits.append(eb.SetKey(None, current_key.tick))
    return edits


class SongSettingsDialog(QDialog):
    """Tempo, meter and key at the playhead, or as a new change at a bar."""

    def __init__(self, doc: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Song Settings")
        self.doc = doc
        song = doc.song
        tick = doc.state.playhead
        tempo = _in_effect(song.tempos, tick)
        meter = _in_effect(song.time_signatures, tick)
        key = _in_effect(song.key_signatures, tick)
        bar_no = bar_at(song, tick)[0]

        self.bpm = QDoubleSpinBox()
        self.bpm.setRange(10, 400)
        self.bpm.setDecimals(2)
        self.bpm.setValue(tempo.bpm if tempo else 120)
        self.numerator = QSpinBox()
        self.numerator.setRange(1, 32)
        self.numerator.setValue(meter.numerator if meter else 4)
        self.denominator = QComboBox()
        self.denominator.addItems(["1", "2", "4", "8", "16", "32"])
        self.denominator.setCurrentText(str(meter.denominator if meter else 4))
        self.key = QComboBox()
        self.key.addItems([k or "(none)" for k in KEYS])
        self.key.setCurrentIndex(KEYS.index(key.key) if key and key.key in KEYS else 0)
        self.add_change = QCheckBox("Add a change at bar")
        self.bar = QSpinBox()
        self.bar.setRange(1, 9999)
        self.bar.setValue(bar_no)
        self.bar.setEnabled(False)
        self.add_change.toggled.connect(self.bar.setEnabled)

        meter_row = QHBoxLayout()
        meter_row.addWidget(self.numerator)
        meter_row.addWidget(QLabel("/"))
        meter_row.addWidget(self.denominator)
        bar_row = QHBoxLayout()
        bar_row.addWidget(self.add_change)
        bar_row.addWidget(self.bar)
        form = QFormLayout(self)
        form.addRow(QLabel(f"Values in effect at bar {bar_no} (the playhead)."))
        form.addRow("Tempo (BPM)", self.bpm)
        form.addRow("Meter", meter_row)
        form.addRow("Key", self.key)
        form.addRow(bar_row)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def edits(self) -> list:
        key = KEYS[self.key.currentIndex()]
        return song_settings_edits(
            self.doc,
            bpm=self.bpm.value(),
            numerator=self.numerator.value(),
            denominator=int(self.denominator.currentText()),
            key=key,
            at_bar=self.bar.value() if self.add_change.isChecked() else None,
        )

    def apply(self) -> None:
        """Push the dialog's changes as one undo step."""
        self.doc.push_many(self.edits(), "Song settings")
