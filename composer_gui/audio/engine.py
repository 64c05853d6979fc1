"""The audio engine: one synthesizer, live input, and a song transport, block by block.

:meth:`Engine.render` is the only place that produces sound. The audio device calls it
from its own thread for every buffer; the WAV render calls it in a loop. So playback
and export go through the same code: the same mixer, the same sample-accurate event
timing (a message lands on the frame its time falls on, not on a buffer boundary).
Because the device thread drives the song, a stalled GUI thread cannot delay a note.

Every public method is thread-safe: one lock serialises the synthesizer (TinySoundFont
is not thread-safe). Live messages (keyboard, monitoring) go through a deque and are
applied at the start of the next buffer; the time they waited is recorded for the
latency benchmark.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from composer_gui.audio.mixer import Mixer
from composer_gui.audio.synth import SoundFontSynth
from composer_gui.audio.timeline import Timeline

__all__ = ["Engine", "TransportState"]

#: Extra time rendered after the last note-off so release tails are not cut (<= 2 s).
TAIL_S = 1.5


@dataclass(frozen=True, slots=True)
class TransportState:
    """A snapshot for the GUI: playing or not, where, and whether the song ran out."""

    playing: bool
    seconds: float
    finished: bool


class Engine:
    """Mixes live messages and a playing :class:`Timeline` through one synthesizer."""

    def __init__(self, synth: SoundFontSynth) -> None:
        self.synth = synth
        self.sample_rate = synth.sample_rate
        self._lock = threading.Lock()
        self._inbox: deque[tuple[float | None, tuple[int, ...]]] = deque()
        self._timeline: Timeline | None = None
        self._mixer = Mixer()
        self._playing = False
        self._finished = False
        self._pos = 0.0  # song seconds at the start of the next rendered frame
        self._cursor = 0
        self._loop: tuple[float, float] | None = None
        self._stop_at: float | None = None
        self.master = 1.0
        #: (seconds waited in the inbox, perf_counter when applied) per live note-on
        self.live_latencies: deque[tuple[float, float]] = deque(maxlen=4096)

    # ------------------------------------------------------------------ live input

    def send(self, data: tuple[int, ...], arrived: float | None = None) -> None:
        """Play one MIDI message as soon as possible (monitoring, on-screen keys).

        ``arrived`` is the message's perf_counter arrival time, for latency figures.
        """
        self._inbox.append((arrived, tuple(data)))

    def panic(self) -> None:
        """Silence everything now (sustain off, every voice cut)."""
        with self._lock:
            self._inbox.clear()
            self.synth.notes_off(immediately=True)

    # ------------------------------------------------------------------ transport

    def load(self, timeline: Timeline | None, mixer: Mixer | None = None) -> None:
        """Set the song to play (stops playback)."""
        with self._lock:
            self._stop_locked()
            self._timeline = timeline
            if mixer is not None:
                self._mixer = mixer
            self._pos = 0.0
            self._cursor = 0
            self._finished = False

    def set_mixer(self, mixer: Mixer) -> None:
        """Apply a mixer change now (also while playing)."""
        with self._lock:
            self._mixer = mixer
            self.master = mixer.master
            self._apply_mix_locked()

    def play(self, seconds: float | None = None, *, stop_at: float | None = None) -> None:
        """Start playing at ``seconds`` (default: where it stopped) until ``stop_at`` or
        the end of the song."""
        with self._lock:
            if self._timeline is None:
                return
            if seconds is not None:
                self._pos = max(0.0, seconds)
            tl = self._timeline
            for message in tl.setup:
                self.synth.handle(message)
            self._apply_mix_locked()
            self._cursor = tl.index_at(self._pos)
            self._stop_at = stop_at
            self._playing = True
            self._finished = False

    def pause(self) -> None:
        """Stop where we are (notes released); :meth:`play` without a time resumes."""
        with self._lock:
            self._stop_locked()

    def stop(self) -> None:
        """Stop and go back to the start."""
        with self._lock:
            self._stop_locked()
            self._pos = 0.0

    def seek(self, seconds: float) -> None:
        with self._lock:
            was = self._playing
            self._stop_locked()
            self._pos = max(0.0, seconds)
            if was and self._timeline is not None:
                self._cursor = self._timeline.index_at(self._pos)
                self._playing = True

    def set_loop(self, start: float | None, end: float | None = None) -> None:
        """Loop ``[start, end)`` in seconds; None turns looping off."""
        with self._lock:
            # A loop shorter than a few buffers would spin the renderer; ignore it.
            ok = start is not None and end is not None and end - start >= 0.05
            self._loop = (max(0.0, start), end) if ok else None

    def state(self) -> TransportState:
        with self._lock:
            return TransportState(self._playing, self._pos, self._finished)

    def _stop_locked(self) -> None:
        if self._playing:
            self._playing = False
            self.synth.notes_off()

    def _apply_mix_locked(self) -> None:
        tl = self._timeline
        if tl is None:
            return
        for message in tl.plan.channel_messages(self._mixer):
            self.synth.handle(message)

    # ------------------------------------------------------------------ rendering

    def render(self, frames: int) -> np.ndarray:
        """The next ``frames`` stereo frames (float32, shape (frames, 2))."""
        with self._lock:
            inbox = self._inbox
            if inbox:
                now = time.perf_counter()
                while inbox:
                    arrived, data = inbox.popleft()
                    self.synth.handle(data)
                    if arrived is not None and len(data) >= 3 and data[0] & 0xF0 == 0x90:
                        self.live_latencies.append((now - arrived, now))
            if not self._playing or self._timeline is None:
                out = self.synth.generate(frames)
            else:
                out = self._render_song_locked(frames)
            master = self.master
        if master != 1.0:
            out *= master
        np.clip(out, -1.0, 1.0, out=out)
        return out

    def _render_song_locked(self, frames: int) -> np.ndarray:
        tl = self._timeline
        sr = self.sample_rate
        parts = []
        done = 0
        while done < frames:
            block_end = self._pos + (frames - done) / sr
            limit = block_end
            wrap = False
            if self._loop is not None and self._loop[0] <= self._pos < self._loop[1] <= block_end:
                limit, wrap = self._loop[1], True
            if self._stop_at is not None and self._stop_at <= limit:
                limit, wrap = self._stop_at, False
            # Messages due in [pos, limit), each on its own frame.
            times, messages = tl.times, tl.messages
            while self._cursor < len(times) and times[self._cursor] < limit:
                at = int(round((times[self._cursor] - self._pos) * sr))
                if at > 0:
                    n = min(at, frames - done)
                    parts.append(self.synth.generate(n))
                    done += n
                    self._pos += n / sr
                self.synth.handle(messages[self._cursor])
                self._cursor += 1
            n = min(frames - done, max(0, int(round((limit - self._pos) * sr))))
            if n:
                parts.append(self.synth.generate(n))
                done += n
                self._pos += n / sr
            if wrap:
                self.synth.notes_off()
                self._pos = self._loop[0]
                self._cursor = tl.index_at(self._pos)
            elif self._stop_at is not None and self._pos >= self._stop_at - 0.5 / sr:
                self._playing = False
                self._finished = True
                self.synth.notes_off()
                if done < frames:
                    parts.append(self.synth.generate(frames - done))
                    done = frames
            elif self._stop_at is None and self._cursor >= len(times):
                if self._pos >= tl.end + TAIL_S:
                    self._playing = False
                    self._finished = True
                    if done < frames:
                        parts.append(self.synth.generate(frames - done))
                        done = frames
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts) if parts else np.zeros((0, 2), np.float32)
