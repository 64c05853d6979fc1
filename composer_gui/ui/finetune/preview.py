"""Training previews: the latest preview MIDI as a small piano roll, to see and hear.

Each ``preview`` record names a MIDI file (the current generator accompanying a fixed
validation melody) and the base model's preview of the same melody. :class:`PreviewPanel`
shows one of them as a roll (melody in grey, each generated part in its colour: one
numpy raster, stretched by numpy indexing, one ``drawPixmap``), switches between "This run"
and "Base model", and plays the shown one through the window's playback path (the built-in
sound or the MIDI output the user chose).

The files are read and rastered on a short-lived thread of their own (a preview is a few
milliseconds of parsing, more for long songs, and arrives while training keeps the cores
busy); the result comes back through a queued signal, and only the newest preview is
shown when several overlap.
"""

from __future__ import annotations

import logging
import threading

import numpy as np
from PySide6.QtCore import QObject, QSize, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from composer_gui.core.song import Song
from composer_gui.ui.files import read_song  # imported here: ~0.3 s on first use

log = logging.getLogger(__name__)

PART_COLOURS = ("#8e44ad", "#16a085", "#c0392b", "#2980b9", "#d35400", "#7f8c8d")
MELODY_COLOUR = "#555555"
BACKGROUND = "#fbfbfb"
#: Tallest the roll gets (8 bars need no more; a bigger stretch costs more per preview).
MAX_HEIGHT = 300


def roll_pixels(song: Song, max_columns: int = 1200) -> np.ndarray | None:
    """The song as RGB pixels ``[rows, columns, 3]``: one row per pitch (highest on top)
    between the lowest and highest note, one column per sixteenth note (fewer on long
    songs); None for a song without pitched notes."""
    notes = [(i, n.pitch, n.start, n.start + n.duration)
             for i, t in enumerate(song.tracks) if not t.is_drum for n in t.notes]
    if not notes:
        return None
    a = np.array(notes, dtype=np.int64)
    lo, hi = int(a[:, 1].min()) - 1, int(a[:, 1].max()) + 1
    end = int(a[:, 3].max())
    tick_per_col = max(song.ticks_per_beat / 4, end / max_columns)
    cols = max(1, int(np.ceil(end / tick_per_col)))
    image = np.empty((hi - lo + 1, cols, 3), np.uint8)
    image[:] = QColor(BACKGROUND).getRgb()[:3]
    melody = next((i for i, t in enumerate(song.tracks) if t.role == "melody"), 0)
    palette = {}
    k = 0
    for i, _t in enumerate(song.tracks):
        if i == melody:
            palette[i] = QColor(MELODY_COLOUR).getRgb()[:3]
        else:
            palette[i] = QColor(PART_COLOURS[k % len(PART_COLOURS)]).getRgb()[:3]
            k += 1
    for track, pitch, start, stop in a.tolist():
        c0 = int(start / tick_per_col)
        c1 = max(c0 + 1, int(np.ceil(stop / tick_per_col)))
        image[hi - pitch, c0:c1] = palette[track]
        if c1 - c0 > 2:
            image[hi - pitch, c0] = (0, 0, 0)  # mark the onset of a long note
    return image


def to_qimage(pixels: np.ndarray) -> QImage:
    """An RGB888 QImage owning a copy of ``pixels`` ``[rows, columns, 3]``."""
    pixels = np.ascontiguousarray(pixels)
    rows, cols = pixels.shape[:2]
    return QImage(pixels.data, cols, rows, 3 * cols, QImage.Format.Format_RGB888).copy()


def roll_image(song: Song, max_columns: int = 1200) -> QImage | None:
    """:func:`roll_pixels` as a QImage."""
    pixels = roll_pixels(song, max_columns)
    return None if pixels is None else to_qimage(pixels)


class RollView(QWidget):
    """Draws :func:`roll_pixels` stretched to the widget: the stretched pixels are made
    once per preview and size with numpy indexing (Qt's image scaling took 5-10 ms per
    repaint here), then only copied."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pixels: np.ndarray | None = None
        self.image: QImage | None = None  # the unstretched roll
        self._scaled: QPixmap | None = None
        self.setMinimumHeight(120)
        self.setMaximumHeight(MAX_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_song(self, song: Song | None, pixels: np.ndarray | None = None) -> None:
        """Show ``song`` (its :func:`roll_pixels` when already made)."""
        if pixels is None and song is not None:
            pixels = roll_pixels(song)
        self.pixels = pixels
        self.image = None if self.pixels is None else to_qimage(self.pixels)
        self._scaled = None
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(480, 160)

    def _stretched(self) -> QPixmap:
        h, w = max(1, self.height()), max(1, self.width())
        rows = np.arange(h) * self.pixels.shape[0] // h
        cols = np.arange(w) * self.pixels.shape[1] // w
        return QPixmap.fromImage(to_qimage(self.pixels[rows][:, cols]))

    def paintEvent(self, _event) -> None:  # noqa: N802
        painter = QPainter(self)
        if self.pixels is not None:
            if self._scaled is None or self._scaled.size() != self.size():
                self._scaled = self._stretched()
            painter.drawPixmap(0, 0, self._scaled)
        else:
            painter.fillRect(self.rect(), QColor(BACKGROUND))
            painter.drawText(self.rect().adjusted(8, 8, -8, -8), 0, "No preview yet")
        painter.end()


class _Relay(QObject):
    """Carries a loader thread's result to the GUI thread (a queued connection)."""

    done = Signal(int, object)  # generation, (record, {which: (path, song, pixels) | None})


class PreviewPanel(QWidget):
    """The latest preview with Play / Stop and a This run / Base model switch."""

    play_requested = Signal(object)  # Song
    stop_requested = Signal()
    #: The files of the newest ``preview`` record are read and shown (True: the run's file
    #: could be read; False: it could not, and the last one stays).
    loaded = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.songs: dict[str, Song | None] = {"run": None, "base": None}
        self.pixels: dict[str, np.ndarray | None] = {"run": None, "base": None}
        self.paths: dict[str, str] = {"run": "", "base": ""}
        self.shown = "run"
        self._generation = 0
        self._threads: list[threading.Thread] = []
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_loaded)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("Previews appear here while the model trains.")
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.roll = RollView()
        layout.addWidget(self.roll)
        row = QHBoxLayout()
        self.run_button = QPushButton("This run")
        self.base_button = QPushButton("Base model")
        group = QButtonGroup(self)
        for b in (self.run_button, self.base_button):
            b.setCheckable(True)
            group.addButton(b)
            row.addWidget(b)
        self.run_button.setChecked(True)
        self.run_button.clicked.connect(lambda: self.show_version("run"))
        self.base_button.clicked.connect(lambda: self.show_version("base"))
        row.addStretch(1)
        self.play_button = QPushButton("Play Preview")
        self.play_button.setObjectName("preview_play")
        self.play_button.clicked.connect(self._on_play_clicked)
        self.stop_button = QPushButton("Stop Preview")
        self.stop_button.setToolTip("Stop playing the preview (training goes on)")
        self.stop_button.clicked.connect(self.stop_requested)
        row.addWidget(self.play_button)
        row.addWidget(self.stop_button)
        layout.addLayout(row)
        layout.addStretch(1)
        self._update_buttons()

    def set_preview(self, record: dict) -> None:
        """Read the files of a ``preview`` record off the GUI thread; :attr:`loaded`
        follows. The base model's file is read once."""
        wanted = {}
        for which, key in (("run", "path"), ("base", "base_path")):
            path = record.get(key) or ""
            if path and not (which == "base" and path == self.paths["base"]
                             and self.songs["base"] is not None):
                wanted[which] = path
        self._generation += 1
        generation, relay = self._generation, self._relay

        def read() -> None:
            out: dict = {}
            for which, path in wanted.items():
                try:
                    song = read_song(path)
                    out[which] = (path, song, roll_pixels(song))
                except Exception as exc:  # a half-written or missing file: keep the last
                    log.info("preview %s unreadable: %s", path, exc)
                    out[which] = None
            try:
                relay.done.emit(generation, (record, out))
            except RuntimeError:  # the window is gone
                pass

        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=read, name="preview-read", daemon=True)
        self._threads.append(thread)
        thread.start()

    def wait(self, timeout: float = 2.0) -> bool:
        """Wait (bounded) for files being read; True when none is left."""
        for thread in self._threads:
            thread.join(timeout)
        self._threads = [t for t in self._threads if t.is_alive()]
        return not self._threads

    def _on_loaded(self, generation: int, payload) -> None:
        if generation != self._generation:
            return  # a newer preview is on its way
        record, out = payload
        for which, got in out.items():
            if got is not None:
                self.paths[which], self.songs[which], self.pixels[which] = got
        melody = record.get("melody") or ""
        self.title.setText(f"Step {record.get('step', 0):,}: accompaniment of "
                           f"{melody or 'a validation melody'}")
        self.show_version(self.shown)
        self.loaded.emit(out.get("run", True) is not None)

    def show_version(self, which: str) -> None:
        self.shown = which
        (self.run_button if which == "run" else self.base_button).setChecked(True)
        self.roll.set_song(self.songs[which], self.pixels[which])
        self._update_buttons()

    def current_song(self) -> Song | None:
        return self.songs[self.shown]

    def _update_buttons(self) -> None:
        self.play_button.setEnabled(self.current_song() is not None)
        self.base_button.setEnabled(self.songs["base"] is not None)

    def _on_play_clicked(self) -> None:
        song = self.current_song()
        if song is not None:
            self.play_requested.emit(song)
