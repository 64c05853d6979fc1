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

import re
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from composer_gui.core.notediff import (
    NoteChange,
    apply_change,
    check_present,
    plan_change,
    range_indices,
)
from composer_gui.core.quantize import quantize_spans_array
from composer_gui.core.song import (
    KeySignature,
    Note,
    Song,
    SongError,
    TempoChange,
    TimeSignature,
    Track,
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
]


_duration = attrgetter("duration")
_start = attrgetter("start")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class Edit:
    """A reversible change of a song. Subclasses implement ``apply`` and ``revert``."""

    text: str = "Edit"

    def apply(self, song: Song) -> None:
        raise NotImplementedError

    def revert(self, song: Song) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.text!r}>"


def _track(song: Song, index: int) -> Track:
    if not 0 <= index < len(song.tracks):
        raise SongError(f"there is no track {index} (the song has {len(song.tracks)})")
    return song.tracks[index]


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
        track = _track(song, self.track)
        remove, add = self._plan(track)
        change = plan_change(track.notes, remove, add)
        apply_change(track.notes, change)
        self.change = change
        self.result_notes = change.results
        self._applied = True

    def revert(self, song: Song) -> None:
        if not self._applied or self.change is None:
            raise SongError(f"cannot revert {self.text!r}: it was not applied")
        track = _track(song, self.track)
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


# ----------------------------------------------------------------------------- song maps


def bpm_to_us(bpm: float) -> int:
    """Microseconds per beat for a tempo in beats per minute (MIDI's tempo unit)."""
    if not bpm > 0:
        raise SongError(f"tempo {bpm} bpm must be positive")
    return _check_us(round(60_000_000 / bpm))


def _check_us(us: int) -> int:
    if not 1 <= us <= 0xFFFFFF:
        raise SongError(f"tempo of {us} microseconds per beat is outside MIDI's range")
    return int(us)


def _tempo_us(bpm: float | None, us_per_beat: int | None) -> int:
    if (bpm is None) == (us_per_beat is None):
        raise SongError("give either bpm or us_per_beat")
    return bpm_to_us(bpm) if bpm is not None else _check_us(us_per_beat)


def _check_tick(tick: int) -> int:
    if tick < 0:
        raise SongError(f"tick {tick} is negative")
    return int(tick)


def _in_effect(items: Sequence[Any], tick: int) -> int:
    """Index of the last map entry at or before ``tick`` (-1 if none)."""
    idx = -1
    for i, item in enumerate(items):
        if item.tick <= tick:
            idx = i
        else:
            break
    return idx


class _MapEdit(Edit):
    """Edits of one conductor map (a small list): revert restores the old list."""

    attr = ""

    def __init__(self, text: str) -> None:
        self.text = text
        self._old: list | None = None

    def _new_list(self, old: list) -> list:
        raise NotImplementedError

    def apply(self, song: Song) -> None:
        old = list(getattr(song, self.attr))
        new = self._new_list(old)
        new.sort(key=lambda item: item.tick)
        setattr(song, self.attr, new)
        self._old = old

    def revert(self, song: Song) -> None:
        if self._old is None:
            raise SongError(f"cannot revert {self.text!r}: it was not applied")
        setattr(song, self.attr, self._old)
        self._old = None


def _put_at(items: list, item: Any) -> list:
    """The list with ``item`` added, replacing any entry at the same tick."""
    return [x for x in items if x.tick != item.tick] + [item]


def _remove_at(items: list, tick: int, what: str) -> list:
    if tick == 0:
        raise SongError(f"the {what} at the start of the song cannot be removed")
    kept = [x for x in items if x.tick != tick]
    if len(kept) == len(items):
        raise SongError(f"there is no {what} at tick {tick}")
    return kept


class SetTempo(_MapEdit):
    """Change the tempo in effect at ``tick`` (the change itself stays where it is)."""

    attr = "tempos"

    def __init__(self, tick: int, *, bpm: float | None = None, us_per_beat: int | None = None):
        self.tick = _check_tick(tick)
        self.us_per_beat = _tempo_us(bpm, us_per_beat)
        super().__init__(f"Set tempo to {60_000_000 / self.us_per_beat:.6g} bpm")

    def _new_list(self, old):
        i = _in_effect(old, self.tick)
        if i < 0:
            return _put_at(old, TempoChange(0, self.us_per_beat))
        new = list(old)
        new[i] = TempoChange(old[i].tick, self.us_per_beat)
        return new


class AddTempoChange(_MapEdit):
    """Add a tempo change at ``tick`` (replacing one already there)."""

    attr = "tempos"

    def __init__(self, tick: int, *, bpm: float | None = None, us_per_beat: int | None = None):
        self.tick = _check_tick(tick)
        self.us_per_beat = _tempo_us(bpm, us_per_beat)
        super().__init__(f"Add tempo change ({60_000_000 / self.us_per_beat:.6g} bpm)")

    def _new_list(self, old):
        return _put_at(old, TempoChange(self.tick, self.us_per_beat))


class RemoveTempoChange(_MapEdit):
    """Remove the tempo change at ``tick`` (not the one at tick 0)."""

    attr = "tempos"

    def __init__(self, tick: int) -> None:
        self.tick = _check_tick(tick)
        super().__init__("Remove tempo change")

    def _new_list(self, old):
        return _remove_at(old, self.tick, "tempo change")


def _check_meter(numerator: int, denominator: int) -> None:
    if not 1 <= numerator <= 255:
        raise SongError(f"time signature numerator {numerator} outside 1-255")
    if denominator < 1 or denominator > 128 or denominator & (denominator - 1):
        raise SongError(f"time signature denominator {denominator} is not a power of two")


class SetTimeSignature(_MapEdit):
    """Change the meter in effect at ``tick`` (the change itself stays where it is)."""

    attr = "time_signatures"

    def __init__(self, tick: int, numerator: int, denominator: int) -> None:
        _check_meter(numerator, denominator)
        self.tick = _check_tick(tick)
        self.numerator, self.denominator = numerator, denominator
        super().__init__(f"Set time signature to {numerator}/{denominator}")

    def _new_list(self, old):
        i = _in_effect(old, self.tick)
        if i < 0:
            return _put_at(old, TimeSignature(0, self.numerator, self.denominator))
        new = list(old)
        new[i] = TimeSignature(old[i].tick, self.numerator, self.denominator)
        return new


class AddTimeSignature(_MapEdit):
    """Add a meter change at ``tick`` (replacing one already there).

    A change that falls inside a bar starts a new bar there (see
    :class:`composer_gui.core.timing.TimeMap`); editors normally add it at a bar line.
    """

    attr = "time_signatures"

    def __init__(self, tick: int, numerator: int, denominator: int) -> None:
        _check_meter(numerator, denominator)
        self.tick = _check_tick(tick)
        self.numerator, self.denominator = numerator, denominator
        super().__init__(f"Add time signature {numerator}/{denominator}")

    def _new_list(self, old):
        return _put_at(old, TimeSignature(self.tick, self.numerator, self.denominator))


class RemoveTimeSignature(_MapEdit):
    """Remove the meter change at ``tick`` (not the one at tick 0)."""

    attr = "time_signatures"

    def __init__(self, tick: int) -> None:
        self.tick = _check_tick(tick)
        super().__init__("Remove time signature")

    def _new_list(self, old):
        return _remove_at(old, self.tick, "time signature")


_MAJOR_KEYS = ("Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#")
_MINOR_KEYS = ("Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#", "G#", "D#", "A#")


def valid_key_names() -> tuple[str, ...]:
    """The key names a key signature may carry (mido's spelling: "C", "F#m", "Bb" ...)."""
    return _MAJOR_KEYS + tuple(k + "m" for k in _MINOR_KEYS)


class SetKey(_MapEdit):
    """Set the key signature at ``tick`` (replacing one there); ``key=None`` removes it."""

    attr = "key_signatures"

    def __init__(self, key: str | None, tick: int = 0) -> None:
        if key is not None and key not in valid_key_names():
            raise SongError(f"unknown key {key!r} (use names like C, F#m, Bb)")
        self.key = key
        self.tick = _check_tick(tick)
        super().__init__(f"Set key to {key}" if key else "Remove key signature")

    def _new_list(self, old):
        if self.key is None:
            kept = [x for x in old if x.tick != self.tick]
            if len(kept) == len(old):
                raise SongError(f"there is no key signature at tick {self.tick}")
            return kept
        return _put_at(old, KeySignature(self.tick, self.key))


# ----------------------------------------------------------------------------- tracks


class AddTrack(Edit):
    """Insert a track at ``index`` (default: at the end)."""

    def __init__(self, track: Track, index: int | None = None, text: str | None = None) -> None:
        self.track = track
        self.index = index
        self._at: int | None = None
        default = f"Add track {track.name!r}" if track.name else "Add track"
        self.text = text or default

    def apply(self, song: Song) -> None:
        at = len(song.tracks) if self.index is None else self.index
        if not 0 <= at <= len(song.tracks):
            raise SongError(f"cannot insert a track at position {at}")
        song.tracks.insert(at, self.track)
        self._at = at

    def revert(self, song: Song) -> None:
        if self._at is None:
            raise SongError(f"cannot revert {self.text!r}: it was not applied")
        song.tracks.pop(self._at)
        self._at = None


class RemoveTrack(Edit):
    """Delete the track at ``index``."""

    def __init__(self, index: int, text: str | None = None) -> None:
        self.index = index
        self.text = text or "Delete track"
        self._removed: Track | None = None

    def apply(self, song: Song) -> None:
        _track(song, self.index)
        self._removed = song.tracks.pop(self.index)

    def revert(self, song: Song) -> None:
        if self._removed is None:
            raise SongError(f"cannot revert {self.text!r}: it was not applied")
        song.tracks.insert(self.index, self._removed)
        self._removed = None


class MoveTrack(Edit):
    """Move the track at ``source`` so that it ends up at position ``target``."""

    def __init__(self, source: int, target: int, text: str | None = None) -> None:
        self.source = source
        self.target = target
        self.text = text or "Move track"

    def apply(self, song: Song) -> None:
        _track(song, self.source)
        _track(song, self.target)
        song.tracks.insert(self.target, song.tracks.pop(self.source))

    def revert(self, song: Song) -> None:
        song.tracks.insert(self.source, song.tracks.pop(self.target))


_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _check_property(name: str, value: Any) -> None:
    if name == "name" and not isinstance(value, str):
        raise SongError("a track name must be text")
    if name == "program" and not (isinstance(value, int) and 0 <= value <= 127):
        raise SongError(f"program {value} outside 0-127")
    if name == "channel" and not (isinstance(value, int) and 0 <= value <= 15):
        raise SongError(f"channel {value} outside 0-15")
    if name in ("is_drum", "muted", "solo", "locked") and not isinstance(value, bool):
        raise SongError(f"{name} must be true or false")
    if name == "role" and value is not None and not isinstance(value, str):
        raise SongError("a track role must be text or None")
    if name == "color" and value is not None and not (
        isinstance(value, str) and _COLOR.match(value)
    ):
        raise SongError(f"colour {value!r} is not #rrggbb")


class SetTrackProperties(Edit):
    """Change a track's properties: name, program, channel, is_drum, role, color, muted,
    solo, locked (keyword arguments; unknown names raise SongError)."""

    PROPERTIES = ("name", "program", "channel", "is_drum", "role", "color", "muted", "solo", "locked")

    def __init__(self, index: int, text: str | None = None, **changes: Any) -> None:
        for name, value in changes.items():
            if name not in self.PROPERTIES:
                raise SongError(f"a track has no property {name!r}")
            _check_property(name, value)
        self.index = index
        self.changes = changes
        self._old: dict[str, Any] | None = None
        self.text = text or self._describe()

    def _describe(self) -> str:
        if list(self.changes) == ["name"]:
            return "Rename track"
        if list(self.changes) == ["program"]:
            return "Change instrument"
        if len(self.changes) == 1:
            return f"Set track {next(iter(self.changes))}"
        return "Change track properties"

    def apply(self, song: Song) -> None:
        track = _track(song, self.index)
        self._old = {name: getattr(track, name) for name in self.changes}
        for name, value in self.changes.items():
            setattr(track, name, value)

    def revert(self, song: Song) -> None:
        if self._old is None:
            raise SongError(f"cannot revert {self.text!r}: it was not applied")
        track = _track(song, self.index)
        for name, value in self._old.items():
            setattr(track, name, value)
        self._old = None


# ----------------------------------------------------------------------------- compound


class CompoundEdit(Edit):
    """Several edits as one undo step: applied in order, reverted in reverse order.

    If a child fails while applying, the children already applied are reverted before
    the error propagates, so the song is left as it was.
    """

    def __init__(self, children: Iterable[Edit], text: str) -> None:
        self.children = list(children)
        self.text = text

    @property
    def result_notes(self) -> list[Note]:
        """The result notes of the last child that has some (an editor selects them)."""
        for child in reversed(self.children):
            notes = getattr(child, "result_notes", None)
            if notes:
                return notes
        return []

    def apply(self, song: Song) -> None:
        done: list[Edit] = []
        try:
            for child in self.children:
                child.apply(song)
                done.append(child)
        except BaseException:
            for child in reversed(done):
                child.revert(song)
            raise

    def revert(self, song: Song) -> None:
        for child in reversed(self.children):
            child.revert(song)


def notes_in_track(song: Song, track: int, notes: Iterable[Note]) -> None:
    """Raise SongError unless every note is in the track (a check for callers)."""
    check_present(_track(song, track).notes, list(notes))
