"""Timed MIDI records -> the notes of one take (Qt-free, driver-free).

A :class:`TakeRecorder` is told when the take's first tick happens on the
:func:`time.perf_counter` clock (the first beat after the count-in) and fed the records
as they arrive. It keeps velocity, lets the sustain pedal (CC 64) hold released notes
until the pedal comes up, closes notes still held when the take stops (or when the
source port disappears) at that moment, and converts seconds to ticks through the
song's tempo map. Quantize is optional and off by default: unquantized onsets and
lengths keep the played timing to the tick (about 1 ms at 480 ticks per beat, 120 bpm).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from composer_gui.core.quantize import quantize_span
from composer_gui.core.song import Note, normalize_notes
from composer_gui.core.timing import TimeMap
from composer_gui.midi.records import CONTROL_CHANGE, SUSTAIN_CC, MidiRecord

__all__ = ["TakeRecorder", "PlayedNote"]


@dataclass(frozen=True, slots=True)
class PlayedNote:
    """A note as played: times in seconds on the perf_counter clock."""

    pitch: int
    velocity: int
    on: float
    off: float


@dataclass(slots=True)
class _State:
    """The running interpretation of the records so far."""

    held: dict[int, tuple[float, int]] = field(default_factory=dict)  # pitch -> (on, vel)
    sustained: dict[int, tuple[float, int]] = field(default_factory=dict)
    pedal: bool = False
    done: list[PlayedNote] = field(default_factory=list)

    def close(self, pitch: int, start: tuple[float, int], at: float) -> None:
        self.done.append(PlayedNote(pitch, start[1], start[0], max(at, start[0])))

    def feed(self, record: MidiRecord) -> None:
        t = record.time
        if record.is_note_on:
            pitch, velocity = record.data[1], record.data[2]
            # A re-struck key ends its earlier sound (held or only kept by the pedal).
            for pool in (self.held, self.sustained):
                if pitch in pool:
                    self.close(pitch, pool.pop(pitch), t)
            self.held[pitch] = (t, velocity)
        elif record.is_note_off:
            pitch = record.data[1]
            if pitch in self.held:
                start = self.held.pop(pitch)
                if self.pedal:
                    self.sustained[pitch] = start
                else:
                    self.close(pitch, start, t)
        elif (
            record.status == CONTROL_CHANGE
            and len(record.data) >= 3
            and record.data[1] == SUSTAIN_CC
        ):
            down = record.data[2] >= 64
            if self.pedal and not down:
                for pitch, start in list(self.sustained.items()):
                    self.close(pitch, start, t)
                self.sustained.clear()
            self.pedal = down

    def close_all(self, at: float) -> None:
        for pool in (self.held, self.sustained):
            for pitch, start in list(pool.items()):
                self.close(pitch, start, at)
            pool.clear()


class TakeRecorder:
    """Collects one take.

    ``time_map`` is the song's :class:`TimeMap`; ``start_tick`` the tick where the take
    begins (bar 1 for a new song) and ``start_time`` when that tick happens on the
    perf_counter clock. ``channel`` keeps only one MIDI channel (None: all).
    ``quantize`` is a grid in ticks (None: off); ``quantize_ends`` snaps note ends too.
    """

    def __init__(
        self,
        time_map: TimeMap,
        *,
        start_time: float,
        start_tick: int = 0,
        channel: int | None = None,
        quantize: float | None = None,
        quantize_ends: bool = False,
    ) -> None:
        self.time_map = time_map
        self.start_time = start_time
        self.start_tick = start_tick
        self.channel = channel
        self.quantize = quantize
        self.quantize_ends = quantize_ends
        self._origin_seconds = time_map.tick_to_seconds(start_tick)
        self._records: list[MidiRecord] = []
        self._state = _State()
        self.stopped_at: float | None = None
        self.source_lost_at: float | None = None

    # ------------------------------------------------------------------ feeding

    def _wanted(self, record: MidiRecord) -> bool:
        if not record.data or record.data[0] >= 0xF0:
            return False
        return self.channel is None or record.channel == self.channel

    def feed(self, records: Iterable[MidiRecord]) -> None:
        """Add records (in arrival order) to the take."""
        if self.stopped_at is not None:
            return
        for record in records:
            if self._wanted(record):
                self._records.append(record)
                self._state.feed(record)

    @property
    def held_pitches(self) -> tuple[int, ...]:
        """Pitches sounding now (held keys and pedal-held notes)."""
        return tuple(sorted({*self._state.held, *self._state.sustained}))

    def source_lost(self, at: float) -> None:
        """The input port vanished at ``at``: notes still held end there; the take stops."""
        self.source_lost_at = at
        self.stop(at)

    def stop(self, at: float) -> None:
        """End the take at ``at``: notes still held (or pedal-held) end there."""
        if self.stopped_at is None:
            self.stopped_at = at
            self._state.close_all(at)

    # ------------------------------------------------------------------ results

    def tick_at(self, t: float) -> float:
        """The (fractional) song tick at perf_counter time ``t``."""
        return self.time_map.seconds_to_tick_float(self._origin_seconds + (t - self.start_time))

    def played(self, now: float | None = None) -> list[PlayedNote]:
        """The notes so far in seconds; open ones end at ``now`` (or are left out)."""
        out = list(self._state.done)
        if now is not None and self.stopped_at is None:
            for pool in (self._state.held, self._state.sustained):
                out.extend(PlayedNote(p, v, on, max(on, now)) for p, (on, v) in pool.items())
        return out

    def notes(self, now: float | None = None) -> list[Note]:
        """The take as song notes (ticks), sorted; for the live roll pass ``now``."""
        return self._to_notes(self.played(now))

    def finish(self, records: Sequence[MidiRecord] | None = None) -> list[Note]:
        """The final notes of a stopped take.

        ``records`` replaces the fed records with re-stamped ones
        (:meth:`MidiInput.retime`), re-read from scratch with the same stop time.
        """
        if self.stopped_at is None:
            raise RuntimeError("stop() the take before finish()")
        if records is None:
            return self._to_notes(self._state.done)
        state = _State()
        for record in records:
            if self._wanted(record) and record.time < self.stopped_at:
                state.feed(record)
        state.close_all(self.stopped_at)
        return self._to_notes(state.done)

    @property
    def records(self) -> list[MidiRecord]:
        """Every record kept for the take (copies of the list, records are immutable)."""
        return list(self._records)

    def _to_notes(self, played: Iterable[PlayedNote]) -> list[Note]:
        notes = []
        first = self.start_tick
        last = None if self.stopped_at is None else self.tick_at(self.stopped_at)
        for p in played:
            start = int(self.tick_at(p.on) + 0.5)
            end = int(self.tick_at(p.off) + 0.5)
            if end <= first or (last is not None and start >= int(last + 0.5)):
                continue  # wholly in the count-in, or after the end
            # A note struck just before the downbeat (during the count-in) starts the take.
            start = max(start, first)
            if self.quantize:
                start, end = quantize_span(
                    start, end, self.quantize, ends=self.quantize_ends, origin=0
                )
                start = max(start, first)
            notes.append(Note(p.pitch, start, max(1, end - start), max(1, min(127, p.velocity))))
        return normalize_notes(notes)
