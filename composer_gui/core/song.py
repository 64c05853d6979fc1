"""The song model: immutable notes and events inside mutable tracks and songs.

Everything here is plain Python (no Qt, no torch, no mido) so that the MIDI reader,
the piano-roll bridge, the ML pipeline and the editor all share one model.

Conventions
-----------
* Time is in integer ticks; ``Song.ticks_per_beat`` is the file's resolution
  (480 for new songs).
* :class:`Note` is immutable: (pitch, start, duration, velocity) with
  ``duration >= 1`` and ``1 <= velocity <= 127``.
* Invariant: within one track no two notes of the same pitch overlap. Importers
  enforce it by trimming the earlier note at the start of the later one (a note
  trimmed to nothing is dropped); :func:`normalize_notes` does exactly that.
* ``Track.notes`` is kept sorted by (start, pitch). Use :func:`note_sort_key`.
* Non-note channel data (controllers, pitch bend, aftertouch, later program
  changes, SysEx) and per-track meta events (lyrics, text, markers ...) are kept as
  :class:`Event` records so that open-and-save loses nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from composer_gui.core.errors import UserError

DEFAULT_TICKS_PER_BEAT = 480
DEFAULT_US_PER_BEAT = 500_000  # 120 bpm
DRUM_CHANNEL = 9  # 0-based; "channel 10" to musicians

#: Roles a track can play. Free strings are allowed too; these are the known ones.
KNOWN_ROLES = (
    "melody",
    "bass",
    "chords",
    "piano",
    "pad",
    "strings",
    "drums",
    "alto",
    "tenor",
    "counter",
)


class SongError(UserError, ValueError):
    """A value that breaks the song model's rules (bad pitch, negative tick ...)."""


@dataclass(frozen=True, slots=True, order=True)
class Note:
    """One note. Ordering compares (pitch, start, duration, velocity) field by field;
    use :func:`note_sort_key` for the track order (start, pitch)."""

    pitch: int
    start: int
    duration: int
    velocity: int = 100

    def __post_init__(self) -> None:
        if not (0 <= self.pitch <= 127):
            raise SongError(f"pitch {self.pitch} outside 0-127")
        if self.start < 0:
            raise SongError(f"note start {self.start} is negative")
        if self.duration < 1:
            raise SongError(f"note duration {self.duration} is shorter than one tick")
        if not (1 <= self.velocity <= 127):
            raise SongError(f"velocity {self.velocity} outside 1-127")

    @property
    def end(self) -> int:
        """The tick where the note stops sounding (exclusive)."""
        return self.start + self.duration

    def replace(self, **changes: int) -> Note:
        """A copy with some fields changed (validated)."""
        values = {
            "pitch": self.pitch,
            "start": self.start,
            "duration": self.duration,
            "velocity": self.velocity,
        }
        values.update(changes)
        return Note(**values)


def note_sort_key(note: Note) -> tuple[int, int]:
    """The order of notes inside a track: by start, then pitch."""
    return (note.start, note.pitch)


@dataclass(frozen=True, slots=True)
class Event:
    """A kept non-note event of a track.

    ``kind`` is the MIDI message or meta type name as mido spells it
    ("control_change", "pitchwheel", "aftertouch", "polytouch", "program_change",
    "sysex", "lyrics", "text", "marker", "cue_marker", "copyright", ...).
    ``params`` holds the remaining attributes as sorted (name, value) pairs, channel
    and time excluded (the track's channel and ``tick`` stand for them). Values are
    hashable: bytes-like data are tuples of ints.
    """

    tick: int
    kind: str
    params: tuple[tuple[str, Any], ...] = ()

    def get(self, name: str, default: Any = None) -> Any:
        """The value of one parameter."""
        for key, value in self.params:
            if key == name:
                return value
        return default

    @staticmethod
    def make(tick: int, kind: str, **params: Any) -> Event:
        """Build an event from keyword parameters (sorted for a canonical form)."""
        return Event(tick, kind, tuple(sorted(params.items())))


@dataclass(frozen=True, slots=True)
class TempoChange:
    tick: int
    us_per_beat: int

    @property
    def bpm(self) -> float:
        return 60_000_000 / self.us_per_beat


@dataclass(frozen=True, slots=True)
class TimeSignature:
    tick: int
    numerator: int
    denominator: int  # a power of two: 1, 2, 4, 8, 16 ...


@dataclass(frozen=True, slots=True)
class KeySignature:
    tick: int
    key: str  # mido key names: "C", "F#m", "Bb" ...


@dataclass(slots=True)
class Track:
    """A named part: one MIDI channel, one GM program, sorted notes and kept events."""

    name: str = ""
    program: int = 0  # GM program 0-127
    channel: int = 0  # 0-15; 9 is the drum channel
    is_drum: bool = False
    role: str | None = None
    notes: list[Note] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    color: str | None = None  # "#rrggbb", editor only
    muted: bool = False
    solo: bool = False
    locked: bool = False  # generation never overwrites a locked track

    def copy(self) -> Track:
        """A shallow copy with its own note and event lists (notes are immutable)."""
        return Track(
            name=self.name,
            program=self.program,
            channel=self.channel,
            is_drum=self.is_drum,
            role=self.role,
            notes=list(self.notes),
            events=list(self.events),
            color=self.color,
            muted=self.muted,
            solo=self.solo,
            locked=self.locked,
        )

    def sort(self) -> None:
        self.notes.sort(key=note_sort_key)
        self.events.sort(key=lambda e: e.tick)

    @property
    def end_tick(self) -> int:
        """The tick after the last note or event."""
        end = max((n.end for n in self.notes), default=0)
        if self.events:
            end = max(end, max(e.tick for e in self.events))
        return end


@dataclass(slots=True)
class Song:
    """A whole piece: resolution, conductor maps and tracks.

    The maps are sorted by tick; each starts at tick 0 (a default is inserted when
    the file has none at 0: 120 bpm, 4/4; key signatures may be empty).
    ``conductor_events`` keeps markers, text, copyright and other meta events that
    belong to the song rather than to one track.
    """

    ticks_per_beat: int = DEFAULT_TICKS_PER_BEAT
    tempos: list[TempoChange] = field(
        default_factory=lambda: [TempoChange(0, DEFAULT_US_PER_BEAT)]
    )
    time_signatures: list[TimeSignature] = field(
        default_factory=lambda: [TimeSignature(0, 4, 4)]
    )
    key_signatures: list[KeySignature] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    conductor_events: list[Event] = field(default_factory=list)
    title: str = ""

    def copy(self) -> Song:
        return Song(
            ticks_per_beat=self.ticks_per_beat,
            tempos=list(self.tempos),
            time_signatures=list(self.time_signatures),
            key_signatures=list(self.key_signatures),
            tracks=[t.copy() for t in self.tracks],
            conductor_events=list(self.conductor_events),
            title=self.title,
        )

    @property
    def end_tick(self) -> int:
        return max((t.end_tick for t in self.tracks), default=0)

    @property
    def note_count(self) -> int:
        return sum(len(t.notes) for t in self.tracks)

    def track_index_by_role(self, role: str) -> int | None:
        for i, t in enumerate(self.tracks):
            if t.role == role:
                return i
        return None


def normalize_notes(notes: Iterable[Note]) -> list[Note]:
    """Sort notes and enforce the no-overlap invariant per pitch.

    Where two notes of one pitch overlap, the earlier one is trimmed to end where the
    later starts; a note left with no length (two notes starting on the same tick)
    is dropped, the later-listed one kept. Returns a new list sorted by (start, pitch).
    """
    ordered = sorted(notes, key=note_sort_key)
    last_index: dict[int, int] = {}
    out: list[Note | None] = []
    for note in ordered:
        prev_i = last_index.get(note.pitch)
        if prev_i is not None:
            prev = out[prev_i]
            if prev is not None and prev.end > note.start:
                if note.start > prev.start:
                    out[prev_i] = Note(prev.pitch, prev.start, note.start - prev.start, prev.velocity)
                else:
                    out[prev_i] = None
        last_index[note.pitch] = len(out)
        out.append(note)
    return [n for n in out if n is not None]
