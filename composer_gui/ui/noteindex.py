"""A time-sorted numpy index of one track's notes, for drawing and hit-testing fast.

Position ``i`` of the index is ``track.notes[i]`` (both sorted by (start, pitch)), so a
hit found in the arrays maps straight back to the ``Note`` object. After an edit only the
notes starting inside the edited tick range are re-read (:meth:`TrackIndex.refresh`),
which keeps one edit in a 50,000-note track well under a millisecond.

No Qt here: the renderer and the tests use it directly.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

from composer_gui.core.song import Note


def _arrays(notes: Sequence[Note]) -> tuple[np.ndarray, ...]:
    count = len(notes)
    flat = np.fromiter(
        (v for n in notes for v in (n.start, n.duration, n.pitch, n.velocity)),
        dtype=np.int64,
        count=count * 4,
    ).reshape(count, 4)
    return flat[:, 0].copy(), flat[:, 1].copy(), flat[:, 2].copy(), flat[:, 3].copy()


class TrackIndex:
    """Arrays ``start``, ``duration``, ``pitch``, ``velocity`` (int64) in track order.

    ``max_duration`` bounds every note's length (it may overestimate after deletions),
    so the notes sounding in ``[t0, t1)`` are among those starting in
    ``[t0 - max_duration, t1)``: two binary searches.
    """

    __slots__ = ("start", "duration", "pitch", "velocity", "max_duration")

    def __init__(self, notes: Sequence[Note] = ()) -> None:
        self.rebuild(notes)

    def rebuild(self, notes: Sequence[Note]) -> None:
        """Re-read every note."""
        self.start, self.duration, self.pitch, self.velocity = _arrays(notes)
        self.max_duration = int(self.duration.max()) if len(notes) else 0

    def __len__(self) -> int:
        return len(self.start)

    @property
    def end(self) -> np.ndarray:
        return self.start + self.duration

    def refresh(self, notes: Sequence[Note], lo: int, hi: int) -> None:
        """Re-read the notes starting in ``[lo, hi]`` after an edit touched only those.

        ``notes`` is the track's (already edited) note list.
        """
        a_old = int(np.searchsorted(self.start, lo, side="left"))
        b_old = int(np.searchsorted(self.start, hi, side="right"))
        a_new = bisect.bisect_left(notes, lo, key=lambda n: n.start)
        b_new = bisect.bisect_right(notes, hi, lo=a_new, key=lambda n: n.start)
        new = _arrays(notes[a_new:b_new])
        names = ("start", "duration", "pitch", "velocity")
        for name, values in zip(names, new):
            old = getattr(self, name)
            setattr(self, name, np.concatenate((old[:a_old], values, old[b_old:])))
        if len(new[1]):
            self.max_duration = max(self.max_duration, int(new[1].max()))
        if len(self.start) != len(notes):  # the edit reached outside [lo, hi]: start over
            self.rebuild(notes)

    def visible(self, t0: float, t1: float) -> np.ndarray:
        """Indices of the notes sounding somewhere in ``[t0, t1)``, in track order."""
        a = int(np.searchsorted(self.start, t0 - self.max_duration, side="left"))
        b = int(np.searchsorted(self.start, t1, side="left"))
        if a >= b:
            return np.arange(0)
        ends = self.start[a:b] + self.duration[a:b]
        return np.nonzero(ends > t0)[0] + a

    def at(self, tick: float, pitch: int) -> int | None:
        """Index of the note of ``pitch`` sounding at ``tick`` (the latest-starting one)."""
        idx = self.visible(tick, tick + 1)
        if len(idx) == 0:
            return None
        hits = idx[self.pitch[idx] == pitch]
        return int(hits[-1]) if len(hits) else None

    def in_box(self, t0: float, t1: float, p_lo: int, p_hi: int) -> np.ndarray:
        """Indices of notes overlapping ticks ``[t0, t1)`` with pitch in ``[p_lo, p_hi]``."""
        idx = self.visible(t0, t1)
        pitches = self.pitch[idx]
        return idx[(pitches >= p_lo) & (pitches <= p_hi)]

    def position(self, note: Note) -> int | None:
        """Index of ``note`` (equal start and pitch), or ``None``."""
        a = int(np.searchsorted(self.start, note.start, side="left"))
        b = int(np.searchsorted(self.start, note.start, side="right"))
        for i in range(a, b):
            if self.pitch[i] == note.pitch:
                return i
        return None
