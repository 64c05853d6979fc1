"""A take from a live MIDI input: count-in, recording, source-port watching.

:class:`LiveTake` holds the schedule of one take (count-in start, the downbeat of the
first recorded bar, the end) and a :class:`TakeRecorder`; its owner calls :meth:`poll`
regularly (the command line in :func:`record_take`'s loop, the GUI from a timer) and
never blocks in it. Everything here is Qt-free.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from composer_gui.core.song import Note, Song, TempoChange, TimeSignature, Track
from composer_gui.core.timing import TimeMap
from composer_gui.midi.ports import MidiInput, MidiPortError, PortWatcher
from composer_gui.midi.recorder import TakeRecorder

__all__ = ["LiveTake", "TakeResult", "Beat", "record_take", "sleep_until", "take_song"]

#: How often the take loop looks for the source port in the port list (seconds).
SOURCE_CHECK_S = 0.25


def sleep_until(deadline: float) -> None:
    """Sleep until ``perf_counter() >= deadline``, to within a fraction of a millisecond.

    ``time.sleep`` overshoots by up to a scheduler tick, so the last 2 ms are spun.
    """
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return
        if left > 0.002:
            time.sleep(left - 0.0015)


@dataclass(frozen=True, slots=True)
class Beat:
    """A metronome beat: ``bar`` counts from 0 at the take's start (negative in the
    count-in), ``beat`` from 0 within the bar; ``time`` on the perf_counter clock."""

    bar: int
    beat: int
    time: float

    @property
    def accented(self) -> bool:
        return self.beat == 0

    @property
    def count_in(self) -> bool:
        return self.bar < 0


@dataclass(frozen=True, slots=True)
class TakeResult:
    """A finished take."""

    notes: list[Note]
    start_tick: int
    end_tick: int
    source_lost: bool
    message: str  # one line for the user: what was recorded, or what went wrong


class _NoInput:
    """Stands in for a MIDI input when only the on-screen keys are recorded."""

    source = None
    name = "on-screen keyboard"

    def drain(self) -> list:
        return []

    def retime(self, records):
        return list(records)


class LiveTake:
    """The schedule and the notes of one take from ``midi_input``.

    ``start_tick`` is where recording begins (the first beat of a bar), ``bars`` how many
    bars to record (None: until :meth:`stop`), ``count_in_bars`` how many bars are
    counted before ``start_tick`` at the song's first tempo and meter. The clock starts
    at ``begin`` (perf_counter; default: now).
    """

    def __init__(
        self,
        midi_input: MidiInput | None,
        song: Song,
        *,
        start_tick: int = 0,
        bars: int | None = None,
        count_in_bars: int = 0,
        begin: float | None = None,
        quantize: float | None = None,
        watcher: PortWatcher | None = None,
    ) -> None:
        if count_in_bars < 0 or (bars is not None and bars < 1):
            raise MidiPortError("bars must be at least 1 and the count-in 0 or more")
        self.input = _NoInput() if midi_input is None else midi_input
        self.time_map = tm = TimeMap.of(song)
        self.start_tick = start_tick
        first_bar = tm.bar_of(start_tick)
        self.count_in_tick = tm.bar_to_tick(first_bar - count_in_bars)
        self.end_tick = None if bars is None else tm.bar_to_tick(first_bar + bars)
        begin = time.perf_counter() if begin is None else begin
        origin = tm.tick_to_seconds(self.count_in_tick)
        self.count_in_time = begin
        self.start_time = begin + tm.tick_to_seconds(start_tick) - origin
        self.end_time = (
            None if self.end_tick is None else begin + tm.tick_to_seconds(self.end_tick) - origin
        )
        self.recorder = TakeRecorder(
            tm, start_time=self.start_time, start_tick=start_tick, quantize=quantize
        )
        self._watcher = watcher
        self._next_check = begin
        self._first_bar = first_bar
        self.finished = False

    # ------------------------------------------------------------------ schedule

    def beats(self) -> list[Beat]:
        """Every metronome beat from the count-in to the end (needs ``bars``)."""
        tm = self.time_map
        end = self.end_tick if self.end_tick is not None else self.start_tick
        out = []
        for tick in tm.beat_starts(end, self.count_in_tick):
            pos = tm.tick_to_bar_beat(int(tick))
            out.append(Beat(pos.bar - self._first_bar, pos.beat, self.time_of(int(tick))))
        return out

    def time_of(self, tick: float) -> float:
        """perf_counter time at which ``tick`` sounds in this take."""
        tm = self.time_map
        return self.start_time + tm.tick_to_seconds(tick) - tm.tick_to_seconds(self.start_tick)

    # ------------------------------------------------------------------ running

    def poll(self, now: float | None = None, records=None) -> bool:
        """Take the waiting messages, watch the source; False once the take is over.

        ``records`` feeds these instead of draining the input (for an owner that drains
        the input itself, to show the notes and to record them).
        """
        if self.finished:
            return False
        now = time.perf_counter() if now is None else now
        self.recorder.feed(self.input.drain() if records is None else records)
        if self.end_time is not None and now >= self.end_time:
            self.stop(self.end_time)
            return False
        if self._watcher is not None and self.input.source and now >= self._next_check:
            self._next_check = now + SOURCE_CHECK_S
            self._watcher.poll()
            if self.input.source not in self._watcher.inputs:
                self.recorder.feed(self.input.drain())
                self.recorder.source_lost(now)
                self.finished = True
                return False
        return True

    def stop(self, at: float | None = None) -> None:
        """End the take now (or at ``at``); held notes end there."""
        if not self.finished:
            self.recorder.feed(self.input.drain())
            self.recorder.stop(time.perf_counter() if at is None else at)
            self.finished = True

    def result(self) -> TakeResult:
        """The notes of the stopped take, re-stamped on the input's final clock."""
        if not self.finished:
            self.stop()
        rec = self.recorder
        notes = rec.finish(self.input.retime(rec.records))
        end_tick = self.end_tick
        if end_tick is None or rec.source_lost_at is not None:
            end_tick = max(self.start_tick, int(rec.tick_at(rec.stopped_at) + 0.5))
        lost = rec.source_lost_at is not None
        if lost:
            bar = self.time_map.bar_of(end_tick) - self._first_bar + 1
            message = (
                f"MIDI input {self.input.source!r} disappeared during bar {bar}; "
                f"kept the {len(notes)} notes recorded before that"
            )
        else:
            message = f"recorded {len(notes)} notes"
        return TakeResult(notes, self.start_tick, end_tick, lost, message)


def record_take(
    take: LiveTake,
    *,
    on_recording: Callable[[], None] | None = None,
    on_beat: Callable[[Beat], None] | None = None,
    poll_interval: float = 0.005,
) -> TakeResult:
    """Run ``take`` to its end on the calling thread (the command line's loop).

    ``on_recording`` is called at the first beat of the take, ``on_beat`` at every
    metronome beat (count-in included), both as close to the beat as the clock allows.
    """
    beats = take.beats() if take.end_tick is not None else []
    announced = False
    i = 0
    while True:
        now = time.perf_counter()
        while i < len(beats) and beats[i].time <= now + 0.0005:
            if on_beat is not None:
                on_beat(beats[i])
            i += 1
        if not announced and now >= take.start_time - 0.0005:
            announced = True
            if on_recording is not None:
                on_recording()
        if not take.poll(now):
            break
        # Wake exactly on the next beat or the downbeat (spinning its last 2 ms), else
        # just sleep: a spinning loop would steal the CPU from the MIDI driver's thread.
        deadline = now + poll_interval
        exact = False
        if i < len(beats) and beats[i].time < deadline:
            deadline, exact = beats[i].time, True
        if not announced and take.start_time < deadline:
            deadline, exact = take.start_time, True
        if exact:
            sleep_until(deadline)
        else:
            time.sleep(poll_interval)
    return take.result()


def take_song(
    result: TakeResult,
    *,
    bpm: float,
    meter: tuple[int, int],
    ticks_per_beat: int = 480,
    name: str = "Take",
) -> Song:
    """A new song holding one take (tempo and meter at tick 0, one melody track)."""
    return Song(
        ticks_per_beat=ticks_per_beat,
        tempos=[TempoChange(0, round(60_000_000 / bpm))],
        time_signatures=[TimeSignature(0, meter[0], meter[1])],
        tracks=[Track(name=name, program=0, channel=0, role="melody", notes=list(result.notes))],
    )
