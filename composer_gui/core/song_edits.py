"""Reversible edits of a song's conductor maps (tempo, meter, key) and of its track list.

Part of the edit family described in :mod:`composer_gui.core.edits` (which re-exports
everything here). Map edits keep each map sorted by tick with one entry per tick and
never remove the entry at tick 0; ``revert`` puts the old list back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from composer_gui.core.edit_base import Edit, track_at
from composer_gui.core.song import (
    KeySignature,
    Song,
    SongError,
    TempoChange,
    TimeSignature,
    Track,
)

__all__ = [
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
    "bpm_to_us",
    "valid_key_names",
]


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
        track_at(song, self.index)
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
        track_at(song, self.source)
        track_at(song, self.target)
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
        track = track_at(song, self.index)
        self._old = {name: getattr(track, name) for name in self.changes}
        for name, value in self.changes.items():
            setattr(track, name, value)

    def revert(self, song: Song) -> None:
        if self._old is None:
            raise SongError(f"cannot revert {self.text!r}: it was not applied")
        track = track_at(song, self.index)
        for name, value in self._old.items():
            setattr(track, name, value)
        self._old = None
