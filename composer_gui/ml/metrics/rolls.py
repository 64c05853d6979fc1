"""Piano rolls as the measures read them: conventions, notes, bars, pitch classes.

This module must not import torch: the command line (``evaluate``) and the window's
training plots use it without loading the network.

Input conventions
-----------------
* A *roll* is an array ``[steps, 128]`` (time x MIDI pitch), bool, int or float; any
  nonzero cell means "this pitch sounds at this step". Binarize a generator's output
  (e.g. ``probs > 0.5``) before measuring it. A roll that covers fewer pitches can be
  widened with :func:`to_full_range`.
* A *track* (:data:`TrackRoll`) is either a roll, or an onset-aware pair
  ``(onsets, held)`` of two such arrays of the same shape: ``onsets`` marks the step
  where each note starts, ``held`` every step where it sounds. Use the pair where note
  boundaries matter (two repeated notes of one pitch). From a plain roll, a note is a
  maximal run of sounding steps of one pitch. See :func:`notes_from_roll`.
* ``steps_per_bar`` is an int (every bar that long; a last, shorter bar at the end of
  the roll counts as a bar), or an increasing sequence of the steps where bars start
  (songs with meter changes or pickups). Steps before the first listed start form a
  bar of their own (a pickup); starts at or past the end of the roll are ignored.
* ``steps_per_beat`` is steps per quarter note.

Every rate is in [0, 1]. A metric that has nothing to measure (no notes, no
non-empty bar ...) is ``nan``; aggregation skips those.

Metric names (dictionary keys) and their short labels for tables are in
:data:`composer_gui.ml.metrics.tracks.METRIC_LABELS`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: A track: a roll ``[steps, 128]``, or an ``(onsets, held)`` pair of such rolls.
TrackRoll = np.ndarray | tuple[np.ndarray, np.ndarray]
#: Either one bar length in steps, or the steps where bars start.
BarSpec = int | Sequence[int] | np.ndarray

N_PITCHES = 128

# --------------------------------------------------------------------------- rolls


def as_roll(array: np.ndarray, what: str = "roll") -> np.ndarray:
    roll = np.asarray(array)
    if roll.ndim != 2 or roll.shape[1] != N_PITCHES:
        raise ValueError(f"{what} must have shape [steps, 128], got {roll.shape}")
    return roll if roll.dtype == np.bool_ else roll != 0


def split_track(track: TrackRoll) -> tuple[np.ndarray | None, np.ndarray]:
    """(onsets or None, sounding) as bool arrays; an onset always sounds."""
    if isinstance(track, tuple):
        if len(track) != 2:
            raise ValueError("an onset-aware track is a pair (onsets, held)")
        onsets = as_roll(track[0], "onset roll")
        held = as_roll(track[1], "held roll")
        if onsets.shape != held.shape:
            raise ValueError(f"onset roll {onsets.shape} and held roll {held.shape} differ")
        return onsets, held | onsets
    return None, as_roll(track)


def sounding(track: TrackRoll) -> np.ndarray:
    """Bool ``[steps, 128]``: where the track sounds (held, or at an onset)."""
    return split_track(track)[1]


def to_full_range(roll: np.ndarray, lowest_pitch: int) -> np.ndarray:
    """Widen a roll ``[steps, P]`` whose column 0 is MIDI pitch ``lowest_pitch`` to
    ``[steps, 128]`` (zeros outside), so that pitch classes are right."""
    roll = np.asarray(roll)
    if roll.ndim != 2 or lowest_pitch < 0 or lowest_pitch + roll.shape[1] > N_PITCHES:
        raise ValueError(f"cannot place a {roll.shape} roll at pitch {lowest_pitch}")
    full = np.zeros((roll.shape[0], N_PITCHES), dtype=roll.dtype)
    full[:, lowest_pitch : lowest_pitch + roll.shape[1]] = roll
    return full


def notes_from_roll(track: TrackRoll) -> np.ndarray:
    """The notes of a track as an int array ``[n, 3]`` of (pitch, start, length) in
    steps, sorted by (start, pitch).

    From a plain roll a note is a maximal run of sounding steps of one pitch. From an
    ``(onsets, held)`` pair a note starts at each onset (or where a pitch starts
    sounding without one) and lasts while the pitch is held, up to the next onset.
    """
    onsets, held = split_track(track)
    previous = np.zeros_like(held)
    previous[1:] = held[:-1]
    starts = held & ~previous
    if onsets is not None:
        starts |= onsets
    following_start = np.ones_like(held)  # the roll's end closes every note
    following_start[:-1] = starts[1:] | ~held[1:]
    ends = held & following_start
    # Per pitch, starts and ends alternate in time: pair them in pitch-major order.
    start_step, start_pitch = np.nonzero(starts)
    end_step, end_pitch = np.nonzero(ends)
    by_start = np.argsort(start_pitch, kind="stable")  # nonzero is time-major
    by_end = np.argsort(end_pitch, kind="stable")
    notes = np.stack(
        [start_pitch[by_start], start_step[by_start], end_step[by_end] - start_step[by_start] + 1],
        axis=1,
    )
    order = np.lexsort((notes[:, 0], notes[:, 1]))
    return notes[order].astype(np.int64).reshape(-1, 3)


# --------------------------------------------------------------------------- bars


def bar_starts(n_steps: int, steps_per_bar: BarSpec) -> np.ndarray:
    """The first step of each bar of a roll ``n_steps`` long (see the module notes)."""
    if np.ndim(steps_per_bar) == 0:
        length = int(steps_per_bar)
        if length < 1:
            raise ValueError(f"steps_per_bar must be at least 1, got {length}")
        return np.arange(0, n_steps, length, dtype=np.int64)
    starts = np.asarray(steps_per_bar, dtype=np.int64).ravel()
    if starts.size and (np.any(np.diff(starts) <= 0) or starts[0] < 0):
        raise ValueError("bar starts must be non-negative and strictly increasing")
    starts = starts[starts < n_steps]
    if n_steps > 0 and (starts.size == 0 or starts[0] > 0):
        starts = np.concatenate([[0], starts])  # the steps before the first bar: a pickup
    return starts


def bar_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum ``values`` (steps first) over each bar."""
    if starts.size == 0:
        return np.zeros((0,) + values.shape[1:], dtype=values.dtype)
    return np.add.reduceat(values, starts, axis=0)


def pitch_class_counts(held: np.ndarray) -> np.ndarray:
    """``[steps, 12]``: how many pitches of each pitch class sound at each step."""
    padded = np.zeros((held.shape[0], 132), dtype=np.int64)
    padded[:, :N_PITCHES] = held
    return padded.reshape(held.shape[0], 11, 12).sum(axis=1)
