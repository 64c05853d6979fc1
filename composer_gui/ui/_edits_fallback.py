"""Stand-ins for ``composer_gui.core.edits`` until the ``core`` branch lands in main.

TODO(core): delete this module once ``composer_gui.core.edits`` is merged; the names and
constructor signatures below follow that module so nothing else has to change.
Only what the editor uses is here, in the simplest form (an added note replaces the
same-pitch notes it overlaps; an earlier one is cut where it starts).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from composer_gui.core.song import (
    KeySignature,
    Note,
    Song,
    TempoChange,
    TimeSignature,
    Track,
    note_sort_key,
)


@dataclass
class NoteChange:
    removed: list[Note] = field(default_factory=list)
    added: list[Note] = field(default_factory=list)


def _apply(notes: list[Note], removed, added) -> None:
    drop = set(removed)
    if drop:
        notes[:] = [n for n in notes if n not in drop]
    for note in added:
        bisect.insort(notes, note, key=note_sort_key)


class _NoteEdit:
    def __init__(self, track: int, notes, text: str) -> None:
        self.track = track
        self.notes = list(notes)
        self.text = text
        self.change: NoteChange | None = None
        self.result_notes: list[Note] = []

    def revert(self, song: Song) -> None:
        _apply(song.tracks[self.track].notes, self.change.added, self.change.removed)
        self.change = None


class AddNotes(_NoteEdit):
    def __init__(self, track: int, notes, text: str | None = None) -> None:
        super().__init__(track, notes, text or "Add notes")

    def apply(self, song: Song) -> None:
        notes = song.tracks[self.track].notes
        removed, added = [], []
        for new in self.notes:
            for old in notes:
                if old.pitch == new.pitch and old.start < new.end and old.end > new.start:
                    removed.append(old)
                    if old.start < new.start:
                        added.append(old.replace(duration=new.start - old.start))
        added += self.notes
        _apply(notes, removed, added)
        self.change = NoteChange(removed, added)
        self.result_notes = sorted(self.notes, key=note_sort_key)


class RemoveNotes(_NoteEdit):
    def __init__(self, track: int, notes, text: str | None = None) -> None:
        super().__init__(track, notes, text or "Delete notes")

    def apply(self, song: Song) -> None:
        _apply(song.tracks[self.track].notes, self.notes, ())
        self.change = NoteChange(list(self.notes), [])


class CompoundEdit:
    def __init__(self, children, text: str) -> None:
        self.children = list(children)
        self.text = text

    @property
    def result_notes(self) -> list[Note]:
        for child in reversed(self.children):
            if getattr(child, "result_notes", None):
                return child.result_notes
        return []

    def apply(self, song: Song) -> None:
        for child in self.children:
            child.apply(song)

    def revert(self, song: Song) -> None:
        for child in reversed(self.children):
            child.revert(song)


class _MapEdit:
    attr = ""

    def apply(self, song: Song) -> None:
        old = list(getattr(song, self.attr))
        new = self._new_list(old)
        new.sort(key=lambda item: item.tick)
        setattr(song, self.attr, new)
        self._old = old

    def revert(self, song: Song) -> None:
        setattr(song, self.attr, self._old)


def _in_effect(items, tick):
    best = 0
    for i, item in enumerate(items):
        if item.tick <= tick:
            best = i
    return best


class SetTempo(_MapEdit):
    attr = "tempos"

    def __init__(self, tick: int, *, bpm: float):
        self.tick, self.us = tick, round(60_000_000 / bpm)
        self.text = f"Set tempo to {bpm:.6g} bpm"

    def _new_list(self, old):
        i = _in_effect(old, self.tick)
        old[i] = TempoChange(old[i].tick, self.us)
        return old


class AddTempoChange(SetTempo):
    def _new_list(self, old):
        return [t for t in old if t.tick != self.tick] + [TempoChange(self.tick, self.us)]


class SetTimeSignature(_MapEdit):
    attr = "time_signatures"

    def __init__(self, tick: int, numerator: int, denominator: int):
        self.tick, self.num, self.den = tick, numerator, denominator
        self.text = f"Set meter to {numerator}/{denominator}"

    def _new_list(self, old):
        i = _in_effect(old, self.tick)
        old[i] = TimeSignature(old[i].tick, self.num, self.den)
        return old


class AddTimeSignature(SetTimeSignature):
    def _new_list(self, old):
        return [t for t in old if t.tick != self.tick] + [
            TimeSignature(self.tick, self.num, self.den)
        ]


class SetKey(_MapEdit):
    attr = "key_signatures"

    def __init__(self, key: str | None, tick: int = 0) -> None:
        self.key, self.tick = key, tick
        self.text = f"Set key to {key}"

    def _new_list(self, old):
        kept = [x for x in old if x.tick != self.tick]
        return kept + ([KeySignature(self.tick, self.key)] if self.key else [])


class AddTrack:
    def __init__(self, track: Track, index: int | None = None, text: str | None = None):
        self.track, self.index, self.text = track, index, text or "Add track"

    def apply(self, song: Song) -> None:
        self._at = len(song.tracks) if self.index is None else self.index
        song.tracks.insert(self._at, self.track.copy())

    def revert(self, song: Song) -> None:
        song.tracks.pop(self._at)


class RemoveTrack:
    def __init__(self, index: int, text: str | None = None) -> None:
        self.index, self.text = index, text or "Delete track"

    def apply(self, song: Song) -> None:
        self._track = song.tracks.pop(self.index)

    def revert(self, song: Song) -> None:
        song.tracks.insert(self.index, self._track)


class MoveTrack:
    def __init__(self, source: int, target: int, text: str | None = None) -> None:
        self.source, self.target, self.text = source, target, text or "Move track"

    def apply(self, song: Song) -> None:
        song.tracks.insert(self.target, song.tracks.pop(self.source))

    def revert(self, song: Song) -> None:
        song.tracks.insert(self.source, song.tracks.pop(self.target))


class SetTrackProperties:
    def __init__(self, index: int, text: str | None = None, **changes: Any) -> None:
        self.index, self.changes, self.text = index, changes, text or "Track properties"

    def apply(self, song: Song) -> None:
        track = song.tracks[self.index]
        self._old = {k: getattr(track, k) for k in self.changes}
        for key, value in self.changes.items():
            setattr(track, key, value)

    def revert(self, song: Song) -> None:
        for key, value in self._old.items():
            setattr(song.tracks[self.index], key, value)
