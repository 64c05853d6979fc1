"""Reversible edits of a :class:`~composer_gui.core.song.Song`.

Every change the editor, the recorder or the generator makes to a song is one of these
small objects: ``edit.apply(song)`` performs it, ``edit.revert(song)`` undoes it exactly
(``song`` compares equal to its state before ``apply``), and ``edit.text`` names it for
the undo menu ("Move 3 notes"). An undo stack calls ``apply`` for do/redo and ``revert``
for undo, always in stack order; edits are planned afresh on each ``apply`` from the song
they are given, so redo after undo gives the same result.

Note edits address a track by index and its notes by value (notes are immutable and,
thanks to the no-overlap invariant, unique within a track). They keep ``Track.notes``
sorted by (start, pitch) and keep the invariant: where a moved, resized, pasted or
quantized note would overlap a note of the same pitch, the importer's rule applies
(see :mod:`composer_gui.core.notediff`): the earlier note is cut where the later one
starts, and of two notes starting together only the edited one survives. Whatever was
cut or dropped comes back on ``revert``.

After ``apply`` a note edit exposes ``result_notes`` (the edited or added notes as they
are now in the track, sorted; an editor selects them), ``change`` (the exact
:class:`~composer_gui.core.notediff.NoteChange` of the apply) and ``last_change`` (that
change, or its inverse after ``revert``), so a view can redraw only what changed.

Range checks (a pitch above 127, a start before tick 0) raise :class:`SongError`; clamping
a drag to the valid range is the caller's job. ``apply`` leaves the song untouched when it
raises.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import attrgetter

import numpy as np

from composer_gui.core.edit_base import CompoundEdit, Edit, track_at
from composer_gui.core.notediff import (
    NoteChange,
    apply_change,
    check_present,
    plan_change,
    range_indices,
)
from composer_gui.core.quantize import quantize_spans_array
from composer_gui.core.song import Note, Song, SongError, Track
from composer_gui.core.song_edits import (
    AddTempoChange,
    AddTimeSignature,
    AddTrack,
    MoveTrack,
    RemoveTempoChange,
    RemoveTimeSignature,
    RemoveTrack,
    SetKey,
    SetTempo,
    SetTimeSignature,
    SetTrackProperties,
    bpm_to_us,
    valid_key_names,
)

__all__ = [
    "Edit",
    "NoteEdit",
    "AddNotes",
    "RemoveNotes",
    "MoveNotes",
    "Transpose",
    "ResizeNotes",
    "SetVelocity",
    "Quantize",
    "ReplaceRange",
    "SetTempo",
    "AddTempoChange",
    "RemoveTempoChange",
    "SetTimeSignature",
    "AddTimeSignature",
    "RemoveTimeSignature",
    "SetKey",
    "AddTrack",
    "RemoveTrack",
    "MoveTrack",
    "SetTrackProperties",
    "CompoundEdit",
    "bpm_to_us",
    "valid_key_names",
    "track_at",
    "notes_in_track",
]


_duration = attrgetter("duration")
_start = attrgetter("start")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ----------------------------------------------------------------------------- notes


class NoteEdit(Edit):
    """Base of the edits that change one track's notes.

    Subclasses implement ``_plan(track) -> (notes to remove, notes to add)``; the base
    settles overlaps, applies the exact change and remembers it for ``revert``.
    """

    def __init__(self, track: int, text: str) -> None:
        self.track = track
        self.text = text
        self.change: NoteChange | None = None
        self.result_notes: list[Note] = []
        self._applied = False

    @property
    def last_change(self) -> NoteChange | None:
        """What the last ``apply`` or ``revert`` did to the track's notes (None before
        the first apply): a view redraws just these notes."""
        if self.change is None:
            return None
        return self.change if self._applied else self.change.inverse()

    def _plan(self, track: Track) -> tuple[Sequence[Note], Sequence[Note]]:
        raise NotImplementedError

    def apply(self, song: Song) -> None:
        track = track_at(song, self.track)
        remove, add = self._plan(track)
        change = plan_change(track.notes, remove, add)
        apply_change(track.notes, change)
        self.change = change
        self.result_notes = change.results
        self._applied = True

    def revert(self, song: Song) -> None:
        if not self._applied or self.change is None:
            raise SongError(f"cannot revert {self.text!r}: it was not applied")
        track = track_at(song, self.track)
        apply_change(track.notes, self.change.inverse())
        self._applied = False


def _notes_arg(notes: Iterable[Note] | None) -> list[Note] | None:
    return None if notes is None else list(notes)


class AddNotes(NoteEdit):
    """Add notes to a track (paste, draw, record); overlaps settle as described above."""

    def __init__(self, track: int, notes: Iterable[Note], text: str | None = None) -> None:
        self.notes = list(notes)
        super().__init__(track, text or f"Add {_plural(len(self.notes), 'note')}")

    def _plan(self, track: Track):
        return (), self.notes


class RemoveNotes(NoteEdit):
    """Remove notes (each must be in the track)."""

    def __init__(self, track: int, notes: Iterable[Note], text: str | None = None) -> None:
        self.notes = list(notes)
        super().__init__(track, text or f"Delete {_plural(len(self.notes), 'note')}")

    def _plan(self, track: Track):
        return self.notes, ()


class MoveNotes(NoteEdit):
    """Move notes by ``dt`` ticks and ``dpitch`` semitones.

    Raises SongError when a note would leave 0-127 or start before tick 0.
    """

    def __init__(
        self,
        track: int,
        notes: Iterable[Note],
        dt: int = 0,
        dpitch: int = 0,
        text: str | None = None,
    ) -> None:
        self.notes = list(notes)
        self.dt = int(dt)
        self.dpitch = int(dpitch)
        super().__init__(track, text or f"Move {_plural(len(self.notes), 'note')}")

    def _plan(self, track: Track):
        moved = [
            Note(n.pitch + self.dpitch, n.start + self.dt, n.duration, n.velocity)
            for n in self.notes
        ]
        return self.notes, moved


class Transpose(MoveNotes):
    """Transpose notes by ``semitones``; ``notes=None`` means every note of the track."""

    def __init__(
        self,
        track: int,
        semitones: int,
        notes: Iterable[Note] | None = None,
        text: str | None = None,
    ) -> None:
        self.all_notes = notes is None
        super().__init__(track, notes or (), 0, semitones, text)
        if text is None:
            what = "track" if self.all_notes else _plural(len(self.notes), "note")
            self.text = f"Transpose {what} by {semitones:+d}"

    def _plan(self, track: Track):
        if self.all_notes:
            self.notes = list(track.notes)
        return super()._plan(track)


class ResizeNotes(NoteEdit):
    """Give notes new starts and/or ends (ticks; ``None`` keeps the old value).

    ``starts`` and ``ends`` are sequences aligned with ``notes`` (or None for "all kept").
    Each result must last at least one tick (SongError otherwise).
    """

    def __init__(
        self,
        track: int,
        notes: Iterable[Note],
        starts: Sequence[int | None] | None = None,
        ends: Sequence[int | None] | None = None,
        text: str | None = None,
    ) -> None:
        self.notes = list(notes)
        n = len(self.notes)
        self.starts = list(starts) if starts is not None else [None] * n
        self.ends = list(ends) if ends is not None else [None] * n
        if len(self.starts) != n or len(self.ends) != n:
            raise SongError("resize needs one start and one end (or None) per note")
        super().__init__(track, text or f"Resize {_plural(n, 'note')}")

    @classmethod
    def by_delta(
        cls,
        track: int,
        notes: Iterable[Note],
        d_start: int = 0,
        d_end: int = 0,
        text: str | None = None,
    ) -> ResizeNotes:
        """Move every note's start by ``d_start`` and end by ``d_end`` (edge drags)."""
        notes = list(notes)
        return cls(
            track,
            notes,
            [n.start + d_start for n in notes],
            [n.end + d_end for n in notes],
            text,
        )

    def _plan(self, track: Track):
        new = []
        for n, s, e in zip(self.notes, self.starts, self.ends):
            start = n.start if s is None else int(s)
            end = n.end if e is None else int(e)
            if end - start < 1:
                raise SongError(f"a note from tick {start} to {end} would be shorter than one tick")
            new.append(Note(n.pitch, start, end - start, n.velocity))
        return self.notes, new


def _clamp_velocity(v: float) -> int:
    return max(1, min(127, int(round(v))))


class SetVelocity(NoteEdit):
    """Set the velocity of notes: one value for all, or one per note (1-127)."""

    def __init__(
        self,
        track: int,
        notes: Iterable[Note],
        velocity: int | Sequence[int],
        text: str | None = None,
    ) -> None:
        self.notes = list(notes)
        if isinstance(velocity, int):
            self.velocities = [velocity] * len(self.notes)
        else:
            self.velocities = [int(v) for v in velocity]
            if len(self.velocities) != len(self.notes):
                raise SongError("set velocity needs one value per note")
        for v in self.velocities:
            if not 1 <= v <= 127:
                raise SongError(f"velocity {v} outside 1-127")
        super().__init__(
            track, text or f"Set velocity of {_plural(len(self.notes), 'note')}"
        )

    @classmethod
    def scaled(
        cls,
        track: int,
        notes: Iterable[Note],
        factor: float = 1.0,
        offset: float = 0.0,
        text: str | None = None,
    ) -> SetVelocity:
        """``velocity * factor + offset`` for each note, rounded and clamped to 1-127."""
        notes = list(notes)
        values = [_clamp_velocity(n.velocity * factor + offset) for n in notes]
        return cls(track, notes, values, text or f"Scale velocity of {_plural(len(notes), 'note')}")

    def _plan(self, track: Track):
        new = [
            Note(n.pitch, n.start, n.duration, v) for n, v in zip(self.notes, self.velocities)
        ]
        return self.notes, new


class Quantize(NoteEdit):
    """Pull notes towards a grid.

    ``grid`` is the grid step in ticks (may be fractional for triplets: see
    :func:`composer_gui.core.quantize.grid_ticks`), anchored at ``origin``. ``strength``
    0..1 is how far each start moves towards its nearest grid point (0.5: halfway).
    ``ends=True`` quantizes note ends the same way (a note never shrinks below one tick;
    see :func:`~composer_gui.core.quantize.quantize_span`), else lengths are kept.
    ``notes=None`` quantizes the whole track.
    """

    def __init__(
        self,
        track: int,
        grid: float,
        strength: float = 1.0,
        notes: Iterable[Note] | None = None,
        *,
        ends: bool = False,
        origin: int = 0,
        text: str | None = None,
    ) -> None:
        if not grid > 0:
            raise SongError(f"quantize grid {grid} must be positive")
        if not 0.0 <= strength <= 1.0:
            raise SongError(f"quantize strength {strength} outside 0..1")
        self.notes = _notes_arg(notes)
        self.grid = grid
        self.strength = float(strength)
        self.ends = ends
        self.origin = origin
        what = "track" if self.notes is None else _plural(len(self.notes), "note")
        super().__init__(track, text or f"Quantize {what}")

    def _plan(self, track: Track):
        notes = list(track.notes) if self.notes is None else self.notes
        if not notes:
            return notes, []
        starts = np.fromiter(map(_start, notes), dtype=np.int64, count=len(notes))
        ends = starts + np.fromiter(map(_duration, notes), dtype=np.int64, count=len(notes))
        new_starts, new_ends = quantize_spans_array(
            starts, ends, self.grid, self.strength, quantize_ends=self.ends, origin=self.origin
        )
        # A grid origin after tick 0 can pull a note before the song: keep it at 0.
        shift = np.minimum(new_starts, 0)
        new_starts -= shift
        new_ends -= shift
        new = [
            Note(n.pitch, s, e - s, n.velocity)
            for n, s, e in zip(notes, new_starts.tolist(), new_ends.tolist())
        ]
        return notes, new


class ReplaceRange(NoteEdit):
    """Replace a track's notes in ``[start, end)`` by ``notes`` (recording, regeneration).

    Removed: every note that starts inside the range. Notes that start before the range
    and still sound into it are cut at ``start`` when ``trim_crossing`` (the default), so
    the range holds only the new material. The new notes are added as given (notes
    reaching past ``end`` settle against what follows by the usual overlap rule).
    """

    def __init__(
        self,
        track: int,
        start: int,
        end: int,
        notes: Iterable[Note],
        *,
        trim_crossing: bool = True,
        text: str | None = None,
    ) -> None:
        if end < start or start < 0:
            raise SongError(f"bad range [{start}, {end})")
        self.start = start
        self.end = end
        self.notes = list(notes)
        self.trim_crossing = trim_crossing
        super().__init__(track, text or f"Replace {_plural(len(self.notes), 'note')}")

    def _plan(self, track: Track):
        notes = track.notes
        i, j = range_indices(notes, self.start, self.end)
        remove = list(notes[i:j])
        add: list[Note] = []
        if self.trim_crossing and self.start > 0 and i > 0:
            # Only notes starting within the longest note's length before the range can
            # reach into it (one C-level pass finds that length).
            longest = max(map(_duration, notes))
            lo = range_indices(notes, self.start - longest, self.start)[0]
            for n in notes[lo:i]:
                if n.start + n.duration > self.start:
                    remove.append(n)
                    add.append(Note(n.pitch, n.start, self.start - n.start, n.velocity))
        return remove, add + self.notes

    def apply(self, song: Song) -> None:
        super().apply(song)
        # The trimmed neighbours are not what the caller added.
        if self.change is not None:
            wanted = {(n.start, n.pitch) for n in self.notes}
            self.result_notes = [n for n in self.change.results if (n.start, n.pitch) in wanted]


def notes_in_track(song: Song, track: int, notes: Iterable[Note]) -> None:
    """Raise SongError unless every note is in the track (a check for callers)."""
    check_present(track_at(song, track).notes, list(notes))
