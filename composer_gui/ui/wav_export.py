"""Export the song as a WAV file (File > Export WAV): ask where to save it, render the song
with the mixer's levels through the built-in sound's SoundFont on a thread of its own (one
export at a time), and report progress, the end or the error through signals queued to the
GUI thread, so the window never waits for the render.
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from composer_gui.core.errors import UserError
from composer_gui.core.song import Song

log = logging.getLogger(__name__)


def ask_wav_path(parent: QWidget) -> str | None:
    """The file the user picks (``.wav`` added when missing); None when cancelled."""
    from composer_gui.ui.files import remember_folder, start_folder

    start = str(start_folder() / "song.wav")
    path, _ = QFileDialog.getSaveFileName(parent, "Export WAV", start, "WAV audio (*.wav)")
    if not path:
        return None
    if not path.lower().endswith(".wav"):
        path += ".wav"
    remember_folder(path)
    return path


class _RenderSignals(QObject):
    """Reports of the WAV render thread (queued to the GUI thread)."""

    progressed = Signal(float, float)
    finished = Signal(str, float)  # path, seconds of audio
    failed = Signal(str)


class WavExport(QObject):
    """Renders songs to WAV files on a worker thread, one at a time."""

    #: A status-bar message and how long it shows (ms; 0: until the next one).
    status = Signal(str, int)
    exported = Signal(str)  # the path written
    failed = Signal(str)  # why nothing was written

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rendering = False
        self._render_thread: threading.Thread | None = None

    def export(self, song: Song, path: str, mixer, engine) -> None:
        """Render ``song`` (copied now) with ``mixer`` to ``path`` through the SoundFont of
        ``engine`` (the built-in sound; None or none loaded: the default SoundFont)."""
        if self._rendering:
            self.status.emit("A WAV export is already running", 0)
            return
        song = song.copy()
        soundfont = None
        synth = getattr(engine, "synth", None)
        if synth is not None and getattr(synth, "path", None) is not None:
            soundfont = str(synth.path)
        signals = _RenderSignals(self)
        # Bound methods of this GUI-thread object: the thread's emits arrive queued.
        signals.progressed.connect(self._on_progress)
        signals.finished.connect(self._on_finished)
        signals.failed.connect(self._on_failed)
        self._rendering = True
        self.status.emit("Exporting WAV\u2026", 0)

        def run() -> None:
            from composer_gui.audio.render import render_wav

            last = [0.0]

            def progress(done: float, total: float) -> None:
                now = time.monotonic()
                if now - last[0] > 0.2:
                    last[0] = now
                    signals.progressed.emit(done, total)

            try:
                info = render_wav(song, path, mixer, soundfont=soundfont, progress=progress)
            except UserError as exc:
                signals.failed.emit(str(exc))
            except Exception as exc:  # reported, not lost in a thread
                log.exception("WAV export failed")
                signals.failed.emit(f"{path}: unexpected error ({type(exc).__name__})")
            else:
                signals.finished.emit(str(path), info.seconds)

        self._render_thread = threading.Thread(target=run, name="wav-export", daemon=True)
        self._render_thread.start()

    def _on_progress(self, done: float, total: float) -> None:
        self.status.emit(f"Exporting WAV\u2026 {100 * done / max(total, 1e-9):.0f}%", 0)

    def _on_finished(self, path: str, seconds: float) -> None:
        self._rendering = False
        self.status.emit(f"Exported {path} ({seconds:.1f} s)", 6000)
        self.exported.emit(path)

    def _on_failed(self, message: str) -> None:
        self._rendering = False
        self.status.emit("", 0)
        self.failed.emit(message)
