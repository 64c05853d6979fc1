"""Songs <-> piano-roll arrays (numpy only).

Array layout
------------
``song_to_roll`` returns ``[tracks, steps, 128]``: axis 1 is time in steps of
``ticks_per_beat / steps_per_beat`` ticks (a beat is a quarter note, as in MIDI), counted
from ``start_tick``; axis 2 is the MIDI pitch. Values are the note's velocity (``uint8``,
0 = silent) or, with ``binary=True``, ``bool``. The onset variant adds a second ``bool``
array of the same shape that is True on the first step of every note, so repeated notes
of one pitch stay apart (a velocity roll alone cannot tell one long note from two that
touch).

Tick <-> step mapping: a tick ``t`` falls on step ``round((t - start_tick) *
steps_per_beat / ticks_per_beat)`` and step ``k`` starts at tick ``start_tick + round(k
* ticks_per_beat / steps_per_beat)``, both rounded half to even in exact integer
arithmetic (as Python's ``round``): a note exactly between two steps goes to the even
one, which on the usual grids is the stronger beat position (a 32nd-note offset lands on
the eighth, not the weak sixteenth), and the models' data has always been read so. A
note covers the steps from its rounded start to its rounded end, at least one step (drum
hits and grace notes stay visible). Where rounding makes two notes of one pitch share
steps, the earlier one is cut where the later begins (the song model's overlap rule). A
note that starts before ``start_tick`` and still sounds there covers the first steps
without an onset.

Notes whose start and end lie on the step grid survive ``song_to_roll`` ->
``roll_to_notes`` exactly (with onsets; without onsets, notes of one pitch that touch
merge into one).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import numpy as np

from composer_gui.core.song import Note, Song, SongError, note_sort_key
from composer_gui.core.timing import TimeMap

__all__ = [
    "PITCHES",
    "tick_to_step",
    "step_to_tick",
    "steps_between",
    "notes_to_arrays",
    "song_to_roll",
    "song_to_roll_with_onsets",
    "roll_to_notes",
    "rolls_to_notes",
    "bar_range_ticks",
    "song_to_roll_bars",
]

PITCHES = 128
DEFAULT_VELOCITY = 100


def _check_resolution(ticks_per_beat: int, steps_per_beat: int) -> None:
    if ticks_per_beat < 1:
        raise SongError(f"ticks per beat {ticks_per_beat} must be positive")
    if steps_per_beat < 1:
        raise SongError(f"steps per beat {steps_per_beat} must be positive")


def _div_round(num, den):
    """``round(num / den)`` for integers (or int64 arrays) and ``den > 0``: exact,
    half to even."""
    if np.ndim(num) == 0:
        q, r = divmod(int(num), int(den))
        return q + (1 if 2 * r > den or (2 * r == den and q % 2) else 0)
    q, r = np.divmod(np.asarray(num, dtype=np.int64), den)
    return q + ((2 * r > den) | ((2 * r == den) & (q % 2 == 1)))


def tick_to_step(ticks, start_tick: int, ticks_per_beat: int, steps_per_beat: int):
    """The step a tick (or an int array of ticks) falls on, rounded half to even."""
    if np.ndim(ticks) == 0:
        return _div_round((int(ticks) - start_tick) * steps_per_beat, ticks_per_beat)
    offset = np.asarray(ticks, dtype=np.int64) - start_tick
    return _div_round(offset * steps_per_beat, ticks_per_beat)


def step_to_tick(steps, start_tick: int, ticks_per_beat: int, steps_per_beat: int):
    """The tick where a step (or an int array of steps) starts."""
    if np.ndim(steps) == 0:
        return start_tick + _div_round(int(steps) * ticks_per_beat, steps_per_beat)
    k = np.asarray(steps, dtype=np.int64)
    return start_tick + _div_round(k * ticks_per_beat, steps_per_beat)


def steps_between(start_tick: int, end_tick: int, ticks_per_beat: int, steps_per_beat: int) -> int:
    """How many steps ``[start_tick, end_tick)`` spans (the end rounded to a step)."""
    return max(0, tick_to_step(end_tick, start_tick, ticks_per_beat, steps_per_beat))


def notes_to_arrays(notes: Sequence[Note]) -> np.ndarray:
    """Notes as an int64 array ``[n, 4]`` of (pitch, start, end, velocity)."""
    if not notes:
        return np.zeros((0, 4), dtype=np.int64)
    flat = np.fromiter(
        (v for n in notes for v in (n.pitch, n.start, n.start + n.duration, n.velocity)),
        dtype=np.int64,
        count=4 * len(notes),
    )
    return flat.reshape(-1, 4)


def _note_steps(
    notes: Sequence[Note],
    start_tick: int,
    end_tick: int,
    ticks_per_beat: int,
    steps_per_beat: int,
    n_steps: int,
) -> tuple[np.ndarray, ...]:
    """(pitch, first step, end step, velocity, has onset) of the notes sounding in range."""
    # Notes are sorted by start: nothing from the first note starting at end_tick on.
    stop = bisect_left(notes, (end_tick, -1), key=note_sort_key)
    arr = notes_to_arrays(notes[:stop])
    arr = arr[arr[:, 2] > start_tick]
    pitch, start, end, vel = arr.T
    s0 = tick_to_step(start, start_tick, ticks_per_beat, steps_per_beat)
    s1 = tick_to_step(end, start_tick, ticks_per_beat, steps_per_beat)
    s1 = np.maximum(s1, s0 + 1)
    onset = s0 >= 0
    s0 = np.maximum(s0, 0)
    s1 = np.minimum(s1, n_steps)
    keep = (s0 < n_steps) & (s1 > s0)
    pitch, s0, s1, vel, onset, start = (x[keep] for x in (pitch, s0, s1, vel, onset, start))
    # Rounding can make notes of one pitch share steps: cut the earlier at the later's
    # first step; the earlier vanishes if both begin on one step.
    order = np.lexsort((start, pitch))
    pitch, s0, s1, vel, onset = (x[order] for x in (pitch, s0, s1, vel, onset))
    if len(pitch) > 1:
        same = pitch[1:] == pitch[:-1]
        nxt = np.where(same, s0[1:], np.iinfo(np.int64).max)
        s1[:-1] = np.minimum(s1[:-1], nxt)
        keep = s1 > s0
        pitch, s0, s1, vel, onset = (x[keep] for x in (pitch, s0, s1, vel, onset))
    return pitch, s0, s1, vel, onset


def _fill(plane: np.ndarray, pitch, s0, s1, values) -> None:
    lengths = s1 - s0
    total = int(lengths.sum())
    if total == 0:
        return
    base = np.repeat(s0 - (np.cumsum(lengths) - lengths), lengths)
    rows = base + np.arange(total)
    plane[rows, np.repeat(pitch, lengths)] = np.repeat(values, lengths)


def song_to_roll_with_onsets(
    song: Song,
    track_indices: Sequence[int],
    start_tick: int,
    end_tick: int,
    steps_per_beat: int,
    *,
    binary: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``(roll, onsets)``: the roll of :func:`song_to_roll` and a bool array of the same
    shape, True on the first step of each note."""
    tpb = song.ticks_per_beat
    _check_resolution(tpb, steps_per_beat)
    if end_tick < start_tick:
        raise SongError(f"bad tick range [{start_tick}, {end_tick})")
    n_steps = steps_between(start_tick, end_tick, tpb, steps_per_beat)
    shape = (len(track_indices), n_steps, PITCHES)
    roll = np.zeros(shape, dtype=bool if binary else np.uint8)
    onsets = np.zeros(shape, dtype=bool)
    for out, index in enumerate(track_indices):
        if not 0 <= index < len(song.tracks):
            raise SongError(f"there is no track {index} (the song has {len(song.tracks)})")
        notes = song.tracks[index].notes
        pitch, s0, s1, vel, onset = _note_steps(
            notes, start_tick, end_tick, tpb, steps_per_beat, n_steps
        )
        _fill(roll[out], pitch, s0, s1, np.ones_like(vel, dtype=bool) if binary else vel)
        onsets[out, s0[onset], pitch[onset]] = True
    return roll, onsets


def song_to_roll(
    song: Song,
    track_indices: Sequence[int],
    start_tick: int,
    end_tick: int,
    steps_per_beat: int,
    *,
    binary: bool = False,
) -> np.ndarray:
    """Tracks over ``[start_tick, end_tick)`` as ``[tracks, steps, 128]`` (see module notes).

    Values are velocities (``uint8``, 0 = silent), or ``bool`` with ``binary=True``.
    """
    return song_to_roll_with_onsets(
        song, track_indices, start_tick, end_tick, steps_per_beat, binary=binary
    )[0]


def roll_to_notes(
    roll: np.ndarray,
    start_tick: int,
    ticks_per_beat: int,
    steps_per_beat: int,
    min_steps: int = 1,
    velocity: int | np.ndarray | None = None,
    *,
    onsets: np.ndarray | None = None,
    threshold: float = 0.0,
) -> list[Note]:
    """Notes from one track's roll ``[steps, pitches]`` (pitch = column index).

    A step is on where ``roll > threshold`` (or where a bool roll is True). Consecutive
    on steps of a pitch merge into one note, except where ``onsets`` (same shape, bool)
    marks a new note. Notes shorter than ``min_steps`` steps are dropped (noise in
    generated rolls). ``velocity``: None takes the roll's value at the note's first step
    when the roll holds integers (a velocity roll) and 100 otherwise; an int sets every
    note; an array ``[steps, pitches]`` of MIDI velocities is read at each first step.
    Velocities are clipped to 1-127. Returns notes sorted by (start, pitch), free of
    overlaps.
    """
    _check_resolution(ticks_per_beat, steps_per_beat)
    roll = np.asarray(roll)
    if roll.ndim != 2 or roll.shape[1] > PITCHES:
        raise SongError(f"a roll must be [steps, <=128 pitches], not {list(roll.shape)}")
    if min_steps < 1:
        raise SongError(f"min_steps {min_steps} must be at least 1")
    active = roll if roll.dtype == bool else roll > threshold
    if not active.any():
        return []
    # Work pitch-major (contiguous rows per pitch): nonzero then walks each pitch in
    # time order, so the starts and ends it finds pair up one to one.
    n_steps, n_pitches = active.shape
    padded = np.zeros((n_pitches, n_steps + 2), dtype=bool)
    padded[:, 1:-1] = active.T
    on = padded[:, 1:-1]
    starts_mask = on & ~padded[:, :-2]
    ends_mask = on & ~padded[:, 2:]
    if onsets is not None:
        onsets = np.asarray(onsets, dtype=bool)
        if onsets.shape != active.shape:
            raise SongError("onsets must have the roll's shape")
        new_note = np.zeros((n_pitches, n_steps + 1), dtype=bool)
        new_note[:, :-1] = onsets.T
        new_note[:, :-1] &= on
        starts_mask |= new_note[:, :-1]
        ends_mask[:, :-1] |= new_note[:, 1:-1] & on[:, :-1]
    p_start, k_start = np.nonzero(starts_mask)
    _, k_end = np.nonzero(ends_mask)
    length = k_end - k_start + 1
    keep = length >= min_steps
    p, k0, k1 = p_start[keep], k_start[keep], k_end[keep] + 1

    if velocity is None:
        if np.issubdtype(roll.dtype, np.integer):
            vel = roll[k0, p].astype(np.int64)
        else:
            vel = np.full(len(p), DEFAULT_VELOCITY, dtype=np.int64)
    elif np.isscalar(velocity):
        vel = np.full(len(p), int(velocity), dtype=np.int64)
    else:
        varr = np.asarray(velocity)
        if varr.shape != roll.shape:
            raise SongError("a velocity array must have the roll's shape")
        vel = np.rint(varr[k0, p]).astype(np.int64)
    vel = np.clip(vel, 1, 127)

    t0 = step_to_tick(k0, start_tick, ticks_per_beat, steps_per_beat)
    t1 = step_to_tick(k1, start_tick, ticks_per_beat, steps_per_beat)
    if len(t0) and int(t0.min()) < 0:
        raise SongError(f"start tick {start_tick} puts notes before the song's start")
    order = np.lexsort((p, t0))
    return [
        Note(int(pp), int(a), int(b - a), int(v))
        for pp, a, b, v in zip(p[order], t0[order], t1[order], vel[order])
    ]


def rolls_to_notes(
    rolls: np.ndarray,
    start_tick: int,
    ticks_per_beat: int,
    steps_per_beat: int,
    min_steps: int = 1,
    velocity: int | np.ndarray | None = None,
    *,
    onsets: np.ndarray | None = None,
    threshold: float = 0.0,
) -> list[list[Note]]:
    """:func:`roll_to_notes` for each track of ``[tracks, steps, pitches]``.

    ``velocity`` and ``onsets``, when arrays, have the rolls' shape.
    """
    rolls = np.asarray(rolls)
    if rolls.ndim != 3:
        raise SongError(f"rolls must be [tracks, steps, pitches], not {list(rolls.shape)}")
    out = []
    for i in range(rolls.shape[0]):
        vel = velocity if velocity is None or np.isscalar(velocity) else np.asarray(velocity)[i]
        ons = None if onsets is None else np.asarray(onsets)[i]
        out.append(
            roll_to_notes(
                rolls[i], start_tick, ticks_per_beat, steps_per_beat, min_steps, vel,
                onsets=ons, threshold=threshold,
            )
        )
    return out


def bar_range_ticks(song: Song, first_bar: int, n_bars: int) -> tuple[int, int]:
    """``(start, end)`` ticks of ``n_bars`` bars from bar ``first_bar`` (0-based), from the
    song's meter map (see :class:`composer_gui.core.timing.TimeMap`)."""
    if n_bars < 0 or first_bar < 0:
        raise SongError(f"bad bar range: {n_bars} bars from bar {first_bar + 1}")
    return TimeMap.of(song).bar_range_to_ticks(first_bar, first_bar + n_bars)


def song_to_roll_bars(
    song: Song,
    track_indices: Sequence[int],
    first_bar: int,
    n_bars: int,
    steps_per_beat: int,
    *,
    binary: bool = False,
    onsets: bool = False,
):
    """:func:`song_to_roll` (or, with ``onsets=True``, the onset variant) over a bar range.

    Returns ``(roll, start_tick)`` or ``(roll, onsets, start_tick)``; ``start_tick`` is
    what :func:`roll_to_notes` needs to put the notes back in place.
    """
    start, end = bar_range_ticks(song, first_bar, n_bars)
    roll, ons = song_to_roll_with_onsets(
        song, track_indices, start, end, steps_per_beat, binary=binary
    )
    return (roll, ons, start) if onsets else (roll, start)
