"""Qt glue for playback and the built-in sound (no widgets).

:class:`SoundLoader` loads the SoundFont synthesizer on a thread of its own (a few
seconds for the shipped SF3) and opens the audio device; it reports
``sound_ready(engine)`` or ``sound_unavailable(message)``, so the window is never
blocked and starts without sound support at all.

:class:`PlaybackController` gives the transport bar its slots (play, pause, stop, loop,
mixer) over either player (built-in engine or a MIDI port) and polls the player 30 times
a second for the playhead. Scheduling itself never runs on the GUI thread.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QTimer, Signal

from composer_gui.audio.engine import Engine
from composer_gui.audio.mixer import Mixer
from composer_gui.audio.playback import EnginePlayer, PortPlayer
from composer_gui.core.errors import UserError
from composer_gui.core.song import Song
from composer_gui.core.timing import TimeMap

__all__ = ["SoundLoader", "PlaybackController", "POSITION_MS"]

POSITION_MS = 33


class _SilentOutput:
    """A MIDI output that drops everything: with no sound at all, the song still plays
    (silently) so the playhead follows it, as a DAW does with no audio device."""

    def send(self, _data) -> None:
        pass

    def all_notes_off(self) -> None:
        pass


class SoundLoader(QObject):
    """Loads the synthesizer and opens the audio output off the GUI thread."""

    sound_ready = Signal(object)  # Engine (``SoundLoader.output`` is its AudioOutput)
    sound_unavailable = Signal(str)  # what is missing and how to get it

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self.engine: Engine | None = None
        self.output = None

    def load(self, soundfont: str | None = None, backend: str | None = None,
             open_device: bool = True) -> None:
        """Start loading (returns at once; ignored while a load is still running)."""
        if self._thread is not None:
            self._thread.join(0.2)  # a load that just reported is about to end
            if self._thread.is_alive():
                return
        self._thread = threading.Thread(target=self._run, args=(soundfont, backend, open_device),
                                        name="sound-loader", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, soundfont, backend, open_device) -> None:
        # Signals emitted from this thread reach GUI-thread receivers as queued calls.
        try:
            from composer_gui.audio.synth import SoundFontSynth

            engine = Engine(SoundFontSynth(soundfont))
            if open_device:
                from composer_gui.audio.device import AudioOutput

                self.output = AudioOutput(engine, backend=backend)
        except UserError as exc:
            self.sound_unavailable.emit(str(exc))
            return
        self.engine = engine
        self.sound_ready.emit(engine)

    def shutdown(self) -> None:
        self.wait(10)
        if self.output is not None:
            self.output.close()
            self.output = None


class PlaybackController(QObject):
    """Transport over the current player; positions are song ticks."""

    position_changed = Signal(int)
    playing_changed = Signal(bool)
    finished = Signal()
    error_occurred = Signal(str)
    #: Something the user should know but need not act on (playing silently).
    noticed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._song: Song | None = None
        self._mixer: Mixer | None = None
        self._engine: Engine | None = None
        self._port_output = None
        self._player = None
        self._time_map: TimeMap | None = None
        self._loop: tuple[int, int] | None = None
        self._was_playing = False
        self._timer = QTimer(self, interval=POSITION_MS)
        self._timer.timeout.connect(self._on_position_timeout)

    # ------------------------------------------------------------------ setup

    def set_engine(self, engine: Engine | None) -> None:
        """Play through the built-in sound (when no MIDI output port is chosen)."""
        self._engine = engine
        self._rebuild()

    def set_port_output(self, output) -> None:
        """Play to a MIDI output (a :class:`~composer_gui.midi.ports.MidiOutput`), or
        None for the built-in sound."""
        self._port_output = output
        self._rebuild()

    def set_song(self, song: Song, mixer: Mixer | None = None) -> None:
        """A snapshot of the song to play. Call it again after edits: playback goes on
        from the same tick with the edited song."""
        resume = None
        if self._player is not None and self._time_map is not None:
            state = self._player.state()
            if state.playing:
                resume = self._time_map.seconds_to_tick(state.seconds)
        self._song = song.copy()
        self._mixer = mixer or self._mixer or Mixer.from_song(song)
        self._time_map = TimeMap.of(self._song)
        self._rebuild()
        if resume is not None and self._player is not None:
            self._player.play(self._time_map.tick_to_seconds(resume))

    def _rebuild(self) -> None:
        if self._player is not None:
            self._player.close()
            self._player = None
        if self._song is None:
            return
        if self._port_output is not None:
            self._player = PortPlayer(self._port_output, self._song, self._mixer)
        elif self._engine is not None:
            self._player = EnginePlayer(self._engine, self._song, self._mixer)
        else:
            self._player = PortPlayer(_SilentOutput(), self._song, self._mixer)
        if self._player is not None and self._loop is not None:
            self.set_loop(*self._loop)

    # ------------------------------------------------------------------ slots

    @property
    def silent(self) -> bool:
        """No built-in sound and no MIDI output: playing moves the playhead only."""
        return self._engine is None and self._port_output is None

    def play(self, from_tick: int | None = None) -> None:
        if self._player is None:
            return
        if self.silent:
            self.noticed.emit("Playing silently: the built-in sound is not available and "
                              "no MIDI output is chosen (choose one in the Transport panel)")
        seconds = None if from_tick is None else self._time_map.tick_to_seconds(from_tick)
        self._player.play(seconds)
        self._timer.start()
        self._set_playing(True)

    def pause(self) -> None:
        if self._player is not None:
            self._player.pause()
        self._set_playing(False)

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()
        self._set_playing(False)
        self.position_changed.emit(0)

    def set_loop(self, start_tick: int | None, end_tick: int | None = None) -> None:
        """Loop ``[start_tick, end_tick)``; None turns it off."""
        self._loop = None if start_tick is None or end_tick is None else (start_tick, end_tick)
        if self._player is None or self._time_map is None:
            return
        if self._loop is None:
            self._player.set_loop(None)
        else:
            tm = self._time_map
            self._player.set_loop(tm.tick_to_seconds(start_tick), tm.tick_to_seconds(end_tick))

    def set_mixer(self, mixer: Mixer) -> None:
        self._mixer = mixer
        if self._player is not None:
            self._player.set_mixer(mixer)

    def shutdown(self) -> None:
        self._timer.stop()
        if self._player is not None:
            self._player.close()
            self._player = None

    # ------------------------------------------------------------------ polling

    def _set_playing(self, playing: bool) -> None:
        if playing != self._was_playing:
            self._was_playing = playing
            self.playing_changed.emit(playing)
        if not playing:
            self._timer.stop()

    def _on_position_timeout(self) -> None:
        if self._player is None or self._time_map is None:
            return
        state = self._player.state()
        self.position_changed.emit(self._time_map.seconds_to_tick(state.seconds))
        if not state.playing:
            self._set_playing(False)
            if state.finished:
                self.finished.emit()
