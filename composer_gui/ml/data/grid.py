"""Notes <-> the model's step grid (numpy only, no torch).

A part on the grid is an ``int8`` array ``[steps, pitches]`` of codes: 0 silent,
1 sounding (held from an earlier step), 2 onset (a note starts here). Keeping the onset
apart from the hold makes repeated notes of one pitch distinct. The model sees two
channels per part: frame (code > 0) and onset (code == 2).

Bar lines come from the song's time-signature map: a bar starts at every whole bar of a
meter and at every meter change (a change in mid-bar starts a new, short bar).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from composer_gui.core.song import Note, Song

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
        return int(round(tick * self.steps_per_beat / self.ticks_per_beat))

    def step_to_tick(self, step: int) -> int:
        return int(round(step * self.ticks_per_beat / self.steps_per_beat))

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
    from composer_gui.core.timing import TimeMap

    tpb = song.ticks_per_beat
    end = max(1, song.end_tick if end_tick is None else end_tick)
    tmap = TimeMap.of(song)
    tick_starts = tmap.bar_starts(end)
    last = tmap.bar_of(end - 1)
    n_ticks = max(end, tmap.bar_to_tick(last + 1))
    meters = [tmap.meter_at(int(t)) for t in tick_starts]
    step_of = {}
    for t, m in zip(tick_starts, meters):  # bars shorter than a step merge into the next
        step_of[int(round(int(t) * steps_per_beat / tpb))] = f"{m.numerator}/{m.denominator}"
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


def channels(codes: np.ndarray) -> np.ndarray:
    """Codes ``[..., steps, pitches]`` -> float32 ``[..., 2, steps, pitches]``
    (frame, onset)."""
    frame = (codes > 0).astype(np.float32)
    onset = (codes == ONSET).astype(np.float32)
    return np.stack([frame, onset], axis=-3)


def position_features(
    grid_bar_starts: np.ndarray,
    n_steps: int,
    steps_per_beat: int,
    max_bar_steps: int,
    song_steps: int | None = None,
    offset: int = 0,
) -> np.ndarray:
    """Per-step position inputs ``[n_steps, max_bar_steps + steps_per_beat + 3]`` for
    steps ``offset .. offset+n_steps``: step in bar (one-hot), step in beat (one-hot),
    bar start, beat start, and "past the song's end" (padding)."""
    feats = np.zeros((n_steps, max_bar_steps + steps_per_beat + 3), dtype=np.float32)
    steps = np.arange(offset, offset + n_steps)
    idx = np.searchsorted(grid_bar_starts, steps, side="right") - 1
    idx = np.clip(idx, 0, len(grid_bar_starts) - 1)
    in_bar = steps - grid_bar_starts[idx]
    in_bar = np.clip(in_bar, 0, max_bar_steps - 1)
    rows = np.arange(n_steps)
    feats[rows, in_bar] = 1.0
    feats[rows, max_bar_steps + (in_bar % steps_per_beat)] = 1.0
    base = max_bar_steps + steps_per_beat
    feats[:, base] = in_bar == 0
    feats[:, base + 1] = in_bar % steps_per_beat == 0
    if song_steps is not None:
        feats[:, base + 2] = steps >= song_steps
    return feats


def onset_grid_coverage(onset_ticks: np.ndarray, ticks_per_beat: np.ndarray, steps_per_beat: int,
                        tolerance: float = 0.0) -> float:
    """Share of onsets that fall on a grid of ``steps_per_beat`` (within ``tolerance``
    of a step, as a fraction of the step)."""
    if len(onset_ticks) == 0:
        return 1.0
    pos = onset_ticks * steps_per_beat / ticks_per_beat
    return float(np.mean(np.abs(pos - np.round(pos)) <= tolerance + 1e-9))
