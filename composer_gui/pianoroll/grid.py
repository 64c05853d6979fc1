"""A song's bar-aware step grid and the note codes the models read and write (numpy only).

:class:`Grid` lays a song's bars (from its time-signature map, as the editor draws them:
a bar starts at every whole bar of a meter and at every meter change, a change in
mid-bar starting a new, short bar) on steps of ``ticks_per_beat / steps_per_beat``
ticks, with the tick <-> step mapping of :mod:`composer_gui.pianoroll.roll`.

A part on the grid is an ``int8`` array ``[steps, pitches]`` of codes: 0 silent,
1 sounding (held from an earlier step), 2 onset (a note starts here). Keeping the onset
apart from the hold makes repeated notes of one pitch distinct (as the onset rolls of
:func:`~composer_gui.pianoroll.roll.song_to_roll_with_onsets` do for velocity rolls).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from composer_gui.core.song import Note, Song
from composer_gui.core.timing import TimeMap
from composer_gui.pianoroll.roll import step_to_tick, tick_to_step

SILENT, HOLD, ONSET = 0, 1, 2


@dataclass
class Grid:
    """A song's step grid: bar starts (steps), each bar's meter and the total length."""

    ticks_per_beat: int
    steps_per_beat: int
    bar_starts: np.ndarray  # int64 [bars]
    bar_meters: list[str]
    n_steps: int

    def tick_to_step(self, tick: int) -> int:
        return tick_to_step(tick, 0, self.ticks_per_beat, self.steps_per_beat)

    def step_to_tick(self, step: int) -> int:
        return step_to_tick(step, 0, self.ticks_per_beat, self.steps_per_beat)

    def bar_of_step(self, step: int) -> int:
        return int(np.searchsorted(self.bar_starts, step, side="right") - 1)

    def bar_range_steps(self, first_bar: int, last_bar: int) -> tuple[int, int]:
        """Steps [start, end) of 0-based bars first..last inclusive."""
        start = int(self.bar_starts[first_bar])
        end = int(self.bar_starts[last_bar + 1]) if last_bar + 1 < len(self.bar_starts) else self.n_steps
        return start, end


def song_grid(song: Song, steps_per_beat: int, end_tick: int | None = None) -> Grid:
    """Bars of ``song`` on a grid of ``steps_per_beat`` steps, up to ``end_tick`` (the
    song's end by default; the grid runs to the end of the last bar). Bar lines are the
    editor's (:class:`composer_gui.core.timing.TimeMap`), so "bars 5-8" mean the same here
    and in the window."""
    tpb = song.ticks_per_beat
    end = max(1, song.end_tick if end_tick is None else end_tick)
    tmap = TimeMap.of(song)
    tick_starts = tmap.bar_starts(end)
    last = tmap.bar_of(end - 1)
    n_ticks = max(end, tmap.bar_to_tick(last + 1))
    meters = [tmap.meter_at(int(t)) for t in tick_starts]
    step_of = {}
    for t, m in zip(tick_starts, meters):  # bars shorter than a step merge into the next
        step_of[tick_to_step(int(t), 0, tpb, steps_per_beat)] = f"{m.numerator}/{m.denominator}"
    steps = np.array(sorted(step_of), dtype=np.int64)
    n_steps = max(int(np.ceil(n_ticks * steps_per_beat / tpb)), int(steps[-1]) + 1)
    return Grid(tpb, steps_per_beat, steps, [step_of[int(s)] for s in steps], n_steps)


def notes_to_codes(
    notes: Iterable[Note],
    grid: Grid,
    lowest: int,
    highest: int,
    fold: bool = False,
    n_steps: int | None = None,
) -> np.ndarray:
    """Rasterize notes into codes ``[steps, highest-lowest+1]``.

    Notes outside the pitch range are dropped, or with ``fold`` moved by octaves into
    it (used for the melody, which only conditions the model). Every note occupies at
    least one step.
    """
    steps = grid.n_steps if n_steps is None else n_steps
    width = highest - lowest + 1
    codes = np.zeros((steps, width), dtype=np.int8)
    for note in sorted(notes, key=lambda n: n.start):
        pitch = note.pitch
        if fold:
            while pitch < lowest:
                pitch += 12
            while pitch > highest:
                pitch -= 12
        if not lowest <= pitch <= highest:
            continue
        start = grid.tick_to_step(note.start)
        end = max(start + 1, grid.tick_to_step(note.end))
        if start >= steps:
            continue
        col = pitch - lowest
        codes[start:min(end, steps), col] = np.maximum(codes[start:min(end, steps), col], HOLD)
        codes[start, col] = ONSET
    return codes


def codes_to_spans(codes: np.ndarray, lowest: int) -> list[tuple[int, int, int]]:
    """Decode codes ``[steps, pitches]`` to (pitch, start_step, end_step) spans.

    A note starts at an onset, or where a pitch starts sounding without one, and lasts
    while the pitch keeps sounding with no new onset.
    """
    spans: list[tuple[int, int, int]] = []
    steps, width = codes.shape
    for col in np.nonzero((codes > 0).any(axis=0))[0]:
        column = codes[:, col]
        start = None
        for t in range(steps):
            c = column[t]
            if c == ONSET or (c == HOLD and start is None):
                if start is not None:
                    spans.append((lowest + int(col), start, t))
                start = t
            elif c == SILENT and start is not None:
                spans.append((lowest + int(col), start, t))
                start = None
        if start is not None:
            spans.append((lowest + int(col), start, steps))
    spans.sort(key=lambda s: (s[1], s[0]))
    return spans


def spans_to_notes(
    spans: Iterable[tuple[int, int, int]], grid: Grid, velocity: int = 80
) -> list[Note]:
    """Grid spans back to notes in the song's ticks."""
    out = []
    for pitch, start, end in spans:
        t0, t1 = grid.step_to_tick(start), grid.step_to_tick(end)
        out.append(Note(pitch, t0, max(1, t1 - t0), velocity))
    return out
