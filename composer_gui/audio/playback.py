"""Song playback: to the built-in synthesizer or to a MIDI output port.

Both players offer the same transport (:class:`Transport`): play / pause / stop / seek,
a loop range, a live mixer and a :class:`TransportState` snapshot to poll. Neither runs
on the GUI thread: the built-in one is driven by the audio device's callback (see
:class:`~composer_gui.audio.engine.Engine`), :class:`PortPlayer` by a thread of its own
that sleeps until each message is due. Stopping or pausing releases every sounding note
and sends all-notes-off. Qt-free.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from composer_gui.audio.engine import Engine, TransportState
from composer_gui.audio.mixer import Mixer, plan_channels
from composer_gui.audio.timeline import Timeline, build_timeline
from composer_gui.core.song import Song

__all__ = [
    "Transport",
    "EnginePlayer",
    "PortPlayer",
    "play_to_port",
    "play_built_in",
]

#: A MIDI port has no release tail to wait for, just a little grace after the last note.
_PORT_TAIL_S = 0.05


class Transport(Protocol):
    """What the transport bar needs from a player (times in song seconds)."""

    timeline: Timeline

    def play(self, seconds: float | None = None) -> None: ...
    def pause(self) -> None: ...
    def stop(self) -> None: ...
    def seek(self, seconds: float) -> None: ...
    def set_loop(self, start: float | None, end: float | None = None) -> None: ...
    def set_mixer(self, mixer: Mixer) -> None: ...
    def state(self) -> TransportState: ...
    def close(self) -> None: ...


class EnginePlayer:
    """Plays a song through an :class:`Engine` (its audio device runs the clock)."""

    def __init__(self, engine: Engine, song: Song, mixer: Mixer | None = None) -> None:
        self.engine = engine
        self.timeline = build_timeline(song, plan_channels(song, own_channels=True))
        engine.load(self.timeline, mixer or Mixer.from_song(song))
        engine.set_mixer(mixer or Mixer.from_song(song))

    def play(self, seconds: float | None = None) -> None:
        self.engine.play(seconds)

    def pause(self) -> None:
        self.engine.pause()

    def stop(self) -> None:
        self.engine.stop()

    def seek(self, seconds: float) -> None:
        self.engine.seek(seconds)

    def set_loop(self, start: float | None, end: float | None = None) -> None:
        self.engine.set_loop(start, end)

    def set_mixer(self, mixer: Mixer) -> None:
        self.engine.set_mixer(mixer)

    def state(self) -> TransportState:
        return self.engine.state()

    def close(self) -> None:
        self.engine.load(None)


class PortPlayer:
    """Plays a song to a MIDI output from a thread of its own.

    ``output`` needs ``send(bytes)`` and ``all_notes_off()``
    (:class:`composer_gui.midi.ports.MidiOutput`). Each track keeps its own channel.
    """

    def __init__(self, output, song: Song, mixer: Mixer | None = None) -> None:
        self.output = output
        self.timeline = build_timeline(song, plan_channels(song, own_channels=False))
        self._mixer = mixer or Mixer.from_song(song)
        self._cond = threading.Condition()
        self._playing = False
        self._finished = False
        self._pos = 0.0  # song seconds when paused; while playing see _origin
        self._origin = 0.0  # perf_counter time of song second 0 while playing
        self._cursor = 0
        self._loop: tuple[float, float] | None = None
        self._sounding: set[tuple[int, int]] = set()
        self._mix_dirty = False
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="midi-playback", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ control

    def play(self, seconds: float | None = None, *, at: float | None = None) -> None:
        """Play from ``seconds`` (default: where it paused); ``at`` is the perf_counter
        time at which that point should sound (default: now; may be in the future)."""
        with self._cond:
            if seconds is not None:
                self._pos = max(0.0, seconds)
            if not self._playing:
                for message in self.timeline.setup:
                    self.output.send(message)
                self._send_mix()
                self._cursor = self.timeline.index_at(self._pos)
                self._origin = (time.perf_counter() if at is None else at) - self._pos
                self._playing = True
                self._finished = False
            self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            if self._playing:
                self._pos = time.perf_counter() - self._origin
                self._halt()
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._halt()
            self._pos = 0.0
            self._cond.notify_all()

    def seek(self, seconds: float) -> None:
        with self._cond:
            was = self._playing
            self._halt()
            self._pos = max(0.0, seconds)
            if was:
                self._cursor = self.timeline.index_at(self._pos)
                self._origin = time.perf_counter() - self._pos
                self._playing = True
            self._cond.notify_all()

    def set_loop(self, start: float | None, end: float | None = None) -> None:
        with self._cond:
            ok = start is not None and end is not None and end - start >= 0.05
            self._loop = (max(0.0, start), end) if ok else None
            self._cond.notify_all()

    def set_mixer(self, mixer: Mixer) -> None:
        with self._cond:
            self._mixer = mixer
            self._mix_dirty = True
            self._cond.notify_all()

    def state(self) -> TransportState:
        with self._cond:
            pos = time.perf_counter() - self._origin if self._playing else self._pos
            return TransportState(self._playing, max(0.0, pos), self._finished)

    def close(self) -> None:
        """Stop (notes off) and end the thread."""
        with self._cond:
            self._halt()
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout=2.0)

    # ------------------------------------------------------------------ thread

    def _send_mix(self) -> None:
        for message in self.timeline.plan.channel_messages(self._mixer, master_in_volume=True):
            self.output.send(message)
        self._mix_dirty = False

    def _halt(self) -> None:
        """Release what sounds (caller holds the lock)."""
        if self._playing or self._sounding:
            for channel, pitch in self._sounding:
                self.output.send((0x80 | channel, pitch, 0))
            self._sounding.clear()
            self.output.all_notes_off()
        self._playing = False

    def _emit(self, message: tuple[int, ...]) -> None:
        kind = message[0] & 0xF0
        if kind == 0x90 and message[2] > 0:
            self._sounding.add((message[0] & 0x0F, message[1]))
        elif kind == 0x80 or kind == 0x90:
            self._sounding.discard((message[0] & 0x0F, message[1]))
        self.output.send(message)

    def _run(self) -> None:
        times, messages = self.timeline.times, self.timeline.messages
        with self._cond:
            while not self._closing:
                if self._mix_dirty:
                    self._send_mix()
                if not self._playing:
                    self._cond.wait()
                    continue
                now = time.perf_counter()
                pos = now - self._origin
                if self._loop is not None and self._loop[0] <= pos and pos >= self._loop[1]:
                    # Jump back: release what sounds, restart at the loop's start.
                    for channel, pitch in self._sounding:
                        self.output.send((0x80 | channel, pitch, 0))
                    self._sounding.clear()
                    overshoot = pos - self._loop[1]
                    self._origin = now - self._loop[0] - overshoot
                    self._cursor = self.timeline.index_at(self._loop[0])
                    continue
                if self._cursor >= len(times):
                    if pos >= self.timeline.end + _PORT_TAIL_S and self._loop is None:
                        self._halt()
                        self._pos = pos
                        self._finished = True
                        continue
                    due = self.timeline.end + _PORT_TAIL_S
                else:
                    due = times[self._cursor]
                if self._loop is not None and self._loop[0] <= pos < self._loop[1]:
                    due = min(due, self._loop[1])
                wait = due - pos
                if wait > 0.002:
                    # Sleep on the condition so commands wake us; keep 1 ms to fine-tune.
                    self._cond.wait(wait - 0.001)
                    continue
                if wait > 0:
                    self._cond.release()
                    try:
                        deadline = self._origin + due
                        while time.perf_counter() < deadline:
                            time.sleep(0.0002)
                    finally:
                        self._cond.acquire()
                    continue
                # Everything due by now goes out together (a loop's end is exclusive).
                limit = pos + 0.0005
                if self._loop is not None and self._loop[0] <= pos < self._loop[1]:
                    limit = min(limit, self._loop[1] - 1e-9)
                while self._cursor < len(times) and times[self._cursor] <= limit:
                    self._emit(messages[self._cursor])
                    self._cursor += 1


def _wait_finished(player, poll: float = 0.02) -> None:
    try:
        while not player.state().finished:
            time.sleep(poll)
    except KeyboardInterrupt:
        player.stop()  # all notes off before leaving
        raise


def play_to_port(
    song: Song,
    port: str,
    *,
    api: str | None = None,
    on_started: Callable[[], None] | None = None,
) -> None:
    """Play ``song`` to a MIDI output port in real time (blocks until the end)."""
    from composer_gui.midi.ports import MidiOutput

    with MidiOutput(port, api=api, port_name="playback") as output:
        time.sleep(0.1)  # JACK connects asynchronously
        player = PortPlayer(output, song)
        try:
            player.play(0.0)
            if on_started is not None:
                on_started()
            _wait_finished(player)
        finally:
            player.close()


def play_built_in(
    song: Song,
    *,
    soundfont: str | None = None,
    backend: str | None = None,
    on_started: Callable[[], None] | None = None,
) -> None:
    """Play ``song`` through the built-in synthesizer and the sound card (blocks)."""
    from composer_gui.audio.device import AudioOutput
    from composer_gui.audio.synth import SoundFontSynth

    engine = Engine(SoundFontSynth(soundfont))
    with AudioOutput(engine, backend=backend, buffer_ms=20):
        player = EnginePlayer(engine, song)
        player.play(0.0)
        if on_started is not None:
            on_started()
        _wait_finished(player)
