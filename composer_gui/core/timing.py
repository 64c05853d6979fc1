"""Ticks <-> seconds <-> bars and beats, through a song's tempo and meter maps.

:class:`TimeMap` is an immutable snapshot of the maps (build a new one after a tempo or
meter edit; :meth:`TimeMap.of` caches the last few by their contents, so calling it on
every repaint is cheap). Scalar methods take and return Python ints/floats; the
``*_array`` variants take numpy arrays of ticks or seconds (the audio scheduler and the
ML data pipeline convert thousands of notes at once).

Conventions
-----------
* Bars and beats are counted from 0 internally (bar 0 starts at tick 0).
  :meth:`TimeMap.format_position` shows them 1-based as ``"bar.beat.tick"``, the way
  musicians and other sequencers count ("1.1.000" is the very start); the tick part is
  0-based within the beat.
* A beat is one denominator unit of the meter in effect: a quarter in 4/4, an eighth in
  6/8 (``4 * ticks_per_beat / denominator`` ticks, since MIDI's ticks per beat count
  quarter notes).
* A meter change starts a new bar where it is, even in the middle of a bar: the bar it
  interrupts is cut short. (Files with a pickup or a mis-placed change stay readable,
  and every bar line lies at or after the change that governs it.)
* Ticks and bars before 0 extrapolate the first tempo and meter (count-in).
* Where a bar or beat length is not a whole number of ticks (7/32 at 96 ticks per beat),
  bar and beat starts are rounded half up to whole ticks, each from the start of its
  meter segment, so rounding never accumulates.
* ``seconds_to_tick(tick_to_seconds(t)) == t`` exactly for every integer tick (float64
  keeps far more than half a tick of precision for any song length).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache

import numpy as np

from composer_gui.core.quantize import snap as snap_to
from composer_gui.core.song import (
    DEFAULT_US_PER_BEAT,
    Song,
    SongError,
    TempoChange,
    TimeSignature,
)

__all__ = ["TimeMap", "Position"]


class Position(tuple):
    """(bar, beat, tick) counted from 0; ``str()`` gives the 1-based display form."""

    __slots__ = ()

    def __new__(cls, bar: int, beat: int, tick: int) -> Position:
        return super().__new__(cls, (bar, beat, tick))

    @property
    def bar(self) -> int:
        return self[0]

    @property
    def beat(self) -> int:
        return self[1]

    @property
    def tick(self) -> int:
        return self[2]

    def __str__(self) -> str:
        return f"{self[0] + 1}.{self[1] + 1}.{self[2]:03d}"


def _last_per_tick(items: Sequence, default) -> list:
    """Sorted by tick, one entry per tick (the last listed wins), starting at tick 0."""
    by_tick = {}
    for item in sorted(items, key=lambda x: x.tick):
        by_tick[item.tick] = item
    out = [by_tick[t] for t in sorted(by_tick) if t >= 0]
    if not out or out[0].tick != 0:
        # MIDI's defaults (120 bpm, 4/4) hold until the first change.
        out.insert(0, default)
    return out


def _count_below(offset, length_num, length_den):
    """Largest k with round_half_up(k * num / den) <= offset (works on ints and arrays)."""
    return ((2 * offset + 1) * length_den - 1) // (2 * length_num)


def _start_of(k, length_num, length_den):
    """round_half_up(k * num / den) for ints and arrays."""
    return (2 * k * length_num + length_den) // (2 * length_den)


class TimeMap:
    """The time axis of one song (tempo and meter maps at a resolution)."""

    def __init__(
        self,
        ticks_per_beat: int,
        tempos: Sequence[TempoChange] = (),
        time_signatures: Sequence[TimeSignature] = (),
    ) -> None:
        if ticks_per_beat < 1:
            raise SongError(f"ticks per beat {ticks_per_beat} must be positive")
        self.ticks_per_beat = tpb = int(ticks_per_beat)
        self.tempos: tuple[TempoChange, ...] = tuple(
            _last_per_tick(tempos, TempoChange(0, DEFAULT_US_PER_BEAT))
        )
        self.time_signatures: tuple[TimeSignature, ...] = tuple(
            _last_per_tick(time_signatures, TimeSignature(0, 4, 4))
        )
        for ts in self.time_signatures:
            if ts.numerator < 1 or ts.denominator < 1:
                raise SongError(f"bad time signature {ts.numerator}/{ts.denominator}")

        for t in self.tempos:
            if t.us_per_beat < 1:
                raise SongError(f"tempo of {t.us_per_beat} microseconds per beat at tick {t.tick}")
        # Tempo segments: start tick, microseconds per beat, seconds at the start.
        self._t_ticks = np.array([t.tick for t in self.tempos], dtype=np.int64)
        self._t_us = np.array([t.us_per_beat for t in self.tempos], dtype=np.float64)
        sec_per_tick = self._t_us / (1e6 * tpb)
        spans = np.diff(self._t_ticks).astype(np.float64) * sec_per_tick[:-1]
        self._t_secs = np.concatenate([[0.0], np.cumsum(spans)])
        self._t_sec_per_tick = sec_per_tick

        # Meter segments: a bar is num * 4 * tpb / den ticks, a beat 4 * tpb / den.
        sigs = self.time_signatures
        self._m_ticks = np.array([s.tick for s in sigs], dtype=np.int64)
        self._m_num = np.array([s.numerator for s in sigs], dtype=np.int64)
        self._m_den = np.array([s.denominator for s in sigs], dtype=np.int64)
        self._m_bar_num = self._m_num * 4 * tpb  # bar length = _m_bar_num / _m_den
        first_bars = [0]
        for i in range(len(sigs) - 1):
            span = int(self._m_ticks[i + 1] - self._m_ticks[i])
            bars = int(_count_below(span - 1, int(self._m_bar_num[i]), int(self._m_den[i]))) + 1
            first_bars.append(first_bars[-1] + bars)
        self._m_first_bar = np.array(first_bars, dtype=np.int64)

    @classmethod
    def of(cls, song: Song) -> TimeMap:
        """The time map of a song (cached by the maps' contents)."""
        return _cached(song.ticks_per_beat, tuple(song.tempos), tuple(song.time_signatures))

    # ------------------------------------------------------------------ seconds

    def tick_to_seconds(self, tick: float) -> float:
        """Seconds from the start of the song to ``tick``."""
        i = max(0, int(np.searchsorted(self._t_ticks, tick, side="right")) - 1)
        return float(self._t_secs[i] + (tick - self._t_ticks[i]) * self._t_sec_per_tick[i])

    def seconds_to_tick(self, seconds: float) -> int:
        """The tick nearest to a time in seconds (halves round up)."""
        return int(np.floor(self.seconds_to_tick_float(seconds) + 0.5))

    def seconds_to_tick_float(self, seconds: float) -> float:
        """The exact (fractional) tick at a time in seconds."""
        i = max(0, int(np.searchsorted(self._t_secs, seconds, side="right")) - 1)
        return float(self._t_ticks[i] + (seconds - self._t_secs[i]) / self._t_sec_per_tick[i])

    def ticks_to_seconds_array(self, ticks: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`tick_to_seconds` (float64 array of the same shape)."""
        t = np.asarray(ticks)
        i = np.maximum(np.searchsorted(self._t_ticks, t, side="right") - 1, 0)
        return self._t_secs[i] + (t - self._t_ticks[i]) * self._t_sec_per_tick[i]

    def seconds_to_ticks_array(self, seconds: np.ndarray, *, rounded: bool = True) -> np.ndarray:
        """Vectorised :meth:`seconds_to_tick` (int64; float64 with ``rounded=False``)."""
        s = np.asarray(seconds, dtype=np.float64)
        i = np.maximum(np.searchsorted(self._t_secs, s, side="right") - 1, 0)
        t = self._t_ticks[i] + (s - self._t_secs[i]) / self._t_sec_per_tick[i]
        return np.floor(t + 0.5).astype(np.int64) if rounded else t

    def tempo_at(self, tick: int) -> TempoChange:
        """The tempo change in effect at ``tick``."""
        i = max(0, int(np.searchsorted(self._t_ticks, tick, side="right")) - 1)
        return self.tempos[i]

    # ------------------------------------------------------------------ bars and beats

    def meter_at(self, tick: int) -> TimeSignature:
        """The time signature in effect at ``tick``."""
        return self.time_signatures[self._meter_index(tick)]

    def _meter_index(self, tick: int) -> int:
        return max(0, int(np.searchsorted(self._m_ticks, tick, side="right")) - 1)

    def beat_length(self, tick: int) -> int | float:
        """Ticks per beat (denominator unit) of the meter at ``tick``; int when whole."""
        ts = self.meter_at(tick)
        value = Fraction(4 * self.ticks_per_beat, ts.denominator)
        return int(value) if value.denominator == 1 else float(value)

    def bar_length(self, bar: int) -> int:
        """The length of bar ``bar`` in ticks (a bar cut short by a meter change is shorter)."""
        return self.bar_to_tick(bar + 1) - self.bar_to_tick(bar)

    def bar_of(self, tick: int) -> int:
        """The bar (0-based) that ``tick`` lies in."""
        i = self._meter_index(tick)
        off = int(tick - self._m_ticks[i])
        k = _count_below(off, int(self._m_bar_num[i]), int(self._m_den[i]))
        return int(self._m_first_bar[i] + k)

    def bar_to_tick(self, bar: int) -> int:
        """The tick where bar ``bar`` (0-based) starts."""
        i = max(0, int(np.searchsorted(self._m_first_bar, bar, side="right")) - 1)
        k = bar - int(self._m_first_bar[i])
        return int(self._m_ticks[i] + _start_of(k, int(self._m_bar_num[i]), int(self._m_den[i])))

    def tick_to_bar_beat(self, tick: int) -> Position:
        """(bar, beat, tick within the beat), all 0-based; ``str()`` of it is 1-based."""
        bar = self.bar_of(tick)
        bar_start = self.bar_to_tick(bar)
        den = int(self.meter_at(bar_start).denominator)
        off = tick - bar_start
        beat = int(_count_below(off, 4 * self.ticks_per_beat, den))
        return Position(bar, beat, int(off - _start_of(beat, 4 * self.ticks_per_beat, den)))

    def bar_beat_to_tick(self, bar: int, beat: int = 0, tick: int = 0) -> int:
        """Inverse of :meth:`tick_to_bar_beat` (0-based bar and beat)."""
        bar_start = self.bar_to_tick(bar)
        den = int(self.meter_at(bar_start).denominator)
        return bar_start + int(_start_of(beat, 4 * self.ticks_per_beat, den)) + tick

    def format_position(self, tick: int) -> str:
        """``"bar.beat.tick"`` with bar and beat counted from 1 ("1.1.000" is tick 0)."""
        return str(self.tick_to_bar_beat(tick))

    def parse_position(self, text: str) -> int:
        """The tick of a 1-based ``"bar"``, ``"bar.beat"`` or ``"bar.beat.tick"`` string."""
        parts = text.strip().split(".")
        try:
            values = [int(p) for p in parts]
        except ValueError:
            values = []
        if not 1 <= len(values) <= 3 or any(v < 0 for v in values) or 0 in values[:2]:
            raise SongError(f"position {text!r} is not bar.beat.tick counted from 1")
        bar = values[0] - 1
        beat = values[1] - 1 if len(values) > 1 else 0
        tick = values[2] if len(values) > 2 else 0
        return self.bar_beat_to_tick(bar, beat, tick)

    def bar_count(self, end_tick: int) -> int:
        """How many bars it takes to cover ``[0, end_tick)`` (0 for an empty song)."""
        return self.bar_of(end_tick - 1) + 1 if end_tick > 0 else 0

    def bar_range_to_ticks(self, first_bar: int, end_bar: int) -> tuple[int, int]:
        """``(start, end)`` ticks of bars ``[first_bar, end_bar)`` (0-based)."""
        return self.bar_to_tick(first_bar), self.bar_to_tick(end_bar)

    def bar_starts(self, end_tick: int, start_tick: int = 0) -> np.ndarray:
        """Start ticks of the bars that start in ``[start_tick, end_tick)`` (int64 array)."""
        if end_tick <= start_tick:
            return np.zeros(0, dtype=np.int64)
        first = self.bar_of(start_tick)
        if self.bar_to_tick(first) < start_tick:
            first += 1
        last = self.bar_of(end_tick - 1)
        return self.bars_to_ticks_array(np.arange(first, last + 1, dtype=np.int64))

    def beat_starts(self, end_tick: int, start_tick: int = 0) -> np.ndarray:
        """Start ticks of the beats that start in ``[start_tick, end_tick)`` (int64 array).

        Bar starts are beats too; a bar cut short by a meter change has fewer beats.
        """
        if end_tick <= start_tick:
            return np.zeros(0, dtype=np.int64)
        bars = np.arange(self.bar_of(start_tick), self.bar_of(end_tick - 1) + 1, dtype=np.int64)
        starts = self.bars_to_ticks_array(bars)
        ends = self.bars_to_ticks_array(bars + 1)
        seg = np.maximum(np.searchsorted(self._m_ticks, starts, side="right") - 1, 0)
        num = self._m_num[seg]
        den = self._m_den[seg]
        # A cut-short bar can have fewer beats, never more: num is an upper bound.
        which = np.repeat(np.arange(len(bars)), num)
        j = np.arange(int(num.sum())) - np.repeat(np.cumsum(num) - num, num)
        ticks = starts[which] + _start_of(j, 4 * self.ticks_per_beat, den[which])
        keep = (ticks < ends[which]) & (ticks >= start_tick) & (ticks < end_tick)
        return ticks[keep]

    def grid_starts(self, end_tick: int, grid: float, start_tick: int = 0) -> np.ndarray:
        """Ticks of the snap-grid lines in ``[start_tick, end_tick)`` (int64 array).

        The grid of ``grid`` ticks (may be fractional) restarts at every bar line, like
        :meth:`snap`, so every tick returned is one that :meth:`snap` can produce.
        """
        if not grid > 0:
            raise SongError(f"grid {grid} must be a positive number of ticks")
        if end_tick <= start_tick:
            return np.zeros(0, dtype=np.int64)
        bars = np.arange(self.bar_of(start_tick), self.bar_of(end_tick - 1) + 1, dtype=np.int64)
        starts = self.bars_to_ticks_array(bars)
        ends = self.bars_to_ticks_array(bars + 1)
        per_bar = np.ceil((ends - starts) / grid - 1e-9).astype(np.int64)
        which = np.repeat(np.arange(len(bars)), per_bar)
        k = np.arange(int(per_bar.sum())) - np.repeat(np.cumsum(per_bar) - per_bar, per_bar)
        ticks = starts[which] + np.floor(k * grid + 0.5).astype(np.int64)
        keep = (ticks < ends[which]) & (ticks >= start_tick) & (ticks < end_tick)
        return ticks[keep]

    def bars_of_array(self, ticks: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`bar_of` (int64)."""
        t = np.asarray(ticks, dtype=np.int64)
        i = np.maximum(np.searchsorted(self._m_ticks, t, side="right") - 1, 0)
        k = _count_below(t - self._m_ticks[i], self._m_bar_num[i], self._m_den[i])
        return self._m_first_bar[i] + k

    def bars_to_ticks_array(self, bars: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`bar_to_tick` (int64)."""
        b = np.asarray(bars, dtype=np.int64)
        i = np.maximum(np.searchsorted(self._m_first_bar, b, side="right") - 1, 0)
        k = b - self._m_first_bar[i]
        return self._m_ticks[i] + _start_of(k, self._m_bar_num[i], self._m_den[i])

    def ticks_to_bar_beat_array(
        self, ticks: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vectorised :meth:`tick_to_bar_beat`: (bars, beats, ticks within beat), 0-based."""
        t = np.asarray(ticks, dtype=np.int64)
        bars = self.bars_of_array(t)
        starts = self.bars_to_ticks_array(bars)
        seg = np.maximum(np.searchsorted(self._m_ticks, starts, side="right") - 1, 0)
        den = self._m_den[seg]
        off = t - starts
        beats = _count_below(off, 4 * self.ticks_per_beat, den)
        return bars, beats, off - _start_of(beats, 4 * self.ticks_per_beat, den)

    def snap(self, tick: int, grid: float, mode: str = "nearest") -> int:
        """Snap ``tick`` to a grid of ``grid`` ticks laid from the start of its bar.

        ``mode`` is "nearest", "floor" or "ceil". Counting from the bar start keeps the
        grid on the bar lines after a meter change in mid-bar. A snapped tick may be the
        next bar's start (which is on the grid of that bar too).
        """
        bar_start = self.bar_to_tick(self.bar_of(tick))
        result = snap_to(tick, grid, bar_start, mode)
        next_bar = self.bar_to_tick(self.bar_of(tick) + 1)
        # A grid that does not divide the bar: never snap past the next bar line.
        if result > next_bar:
            result = next_bar
        return result


@lru_cache(maxsize=16)
def _cached(tpb: int, tempos: tuple, time_signatures: tuple) -> TimeMap:
    return TimeMap(tpb, tempos, time_signatures)
