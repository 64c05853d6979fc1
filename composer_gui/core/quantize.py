"""Grid and snap arithmetic in ticks (pure functions, no song needed).

A grid is a step in ticks. It may be fractional (a triplet grid in a resolution not
divisible by three: 1/8 triplets at 100 ticks per beat are 33.33 ticks); grid points are
``origin + k * grid`` rounded half up to whole ticks. Rounding is always half up
(``floor(x + 0.5)``), never Python's banker's rounding, so that snapping is monotonic and
the same on every platform.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from composer_gui.core.song import SongError

#: Note values a grid can be built from: 1 = whole note ... 32 = 1/32 note.
NOTE_DIVISIONS = (1, 2, 4, 8, 16, 32, 64)


def round_half_up(x: float) -> int:
    """Round to the nearest integer, halves upwards (2.5 -> 3, -2.5 -> -2)."""
    return math.floor(x + 0.5)


def grid_ticks(
    ticks_per_beat: int, division: int, *, triplet: bool = False, dotted: bool = False
) -> float:
    """The length of one grid step in ticks for a note value.

    ``division`` is the note value's denominator (4 = quarter note, 16 = sixteenth),
    where a beat is a quarter note (MIDI's ticks per beat are per quarter note).
    ``triplet`` takes two thirds of it, ``dotted`` one and a half times it. The result is
    an ``int`` when it is a whole number of ticks, else a ``float``.
    """
    if division <= 0:
        raise SongError(f"grid division {division} must be positive")
    if triplet and dotted:
        raise SongError("a grid cannot be both triplet and dotted")
    value = Fraction(4 * ticks_per_beat, division)
    if triplet:
        value *= Fraction(2, 3)
    if dotted:
        value *= Fraction(3, 2)
    if value.denominator == 1:
        return int(value)
    return float(value)


def _check_grid(grid: float) -> None:
    if not grid > 0:
        raise SongError(f"grid {grid} must be a positive number of ticks")


def snap(tick: int, grid: float, origin: int = 0, mode: str = "nearest") -> int:
    """The grid point nearest to ``tick`` (``mode`` "nearest", "floor" or "ceil")."""
    _check_grid(grid)
    k = (tick - origin) / grid
    if mode == "nearest":
        steps = round_half_up(k)
    elif mode == "floor":
        steps = math.floor(k + 1e-9)
    elif mode == "ceil":
        steps = math.ceil(k - 1e-9)
    else:
        raise ValueError(f"unknown snap mode {mode!r}")
    return origin + round_half_up(steps * grid)


def quantize_tick(tick: int, grid: float, strength: float = 1.0, origin: int = 0) -> int:
    """Move ``tick`` towards its nearest grid point by ``strength`` (0 = stay, 1 = onto it)."""
    if not 0.0 <= strength <= 1.0:
        raise SongError(f"quantize strength {strength} outside 0..1")
    target = snap(tick, grid, origin)
    return tick + round_half_up(strength * (target - tick))


def quantize_span(
    start: int,
    end: int,
    grid: float,
    strength: float = 1.0,
    *,
    ends: bool = False,
    origin: int = 0,
) -> tuple[int, int]:
    """Quantize a note's (start, end).

    With ``ends=False`` the start moves and the length is kept. With ``ends=True`` the end
    is quantized too; an end that would snap onto or before the start snaps up to the next
    grid point after it instead, so a note never vanishes (its length stays >= 1 tick).
    """
    new_start = quantize_tick(start, grid, strength, origin)
    if not ends:
        return new_start, new_start + (end - start)
    target_start = snap(start, grid, origin)
    target_end = snap(end, grid, origin)
    if target_end <= target_start:
        target_end = snap(target_start + 1, grid, origin, "ceil")
    new_end = end + round_half_up(strength * (target_end - end))
    if new_end <= new_start:
        new_end = new_start + 1
    return new_start, new_end


def quantize_spans_array(
    starts: np.ndarray,
    ends: np.ndarray,
    grid: float,
    strength: float = 1.0,
    *,
    quantize_ends: bool = False,
    origin: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`quantize_span` for int arrays of starts and ends (same results, vectorised)."""
    _check_grid(grid)
    if not 0.0 <= strength <= 1.0:
        raise SongError(f"quantize strength {strength} outside 0..1")
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)

    def nearest(t: np.ndarray) -> np.ndarray:
        steps = np.floor((t - origin) / grid + 0.5)
        return origin + np.floor(steps * grid + 0.5).astype(np.int64)

    target_start = nearest(starts)
    new_start = starts + np.floor(strength * (target_start - starts) + 0.5).astype(np.int64)
    if not quantize_ends:
        return new_start, new_start + (ends - starts)
    target_end = nearest(ends)
    short = target_end <= target_start
    if short.any():
        k = np.ceil((target_start[short] + 1 - origin) / grid - 1e-9)
        target_end[short] = origin + np.floor(k * grid + 0.5).astype(np.int64)
    new_end = ends + np.floor(strength * (target_end - ends) + 0.5).astype(np.int64)
    new_end = np.maximum(new_end, new_start + 1)
    return new_start, new_end
