"""Assembly of a Song from parsed MTrk chunks, the second half of the SMF reader.

:func:`assemble_song` turns the :class:`~composer_gui.midi._smf_parse.TrackData` of every
track into a :class:`~composer_gui.core.song.Song`: one :class:`Track` per channel used
(its notes sorted and same-pitch overlaps trimmed by :func:`build_notes`, the app's own
track data applied), the tempo, meter and key maps, and the conductor events. The rules
are in :mod:`composer_gui.midi.smf`.
"""

from __future__ import annotations

from operator import itemgetter

from composer_gui.core.song import (
    DEFAULT_US_PER_BEAT,
    DRUM_CHANNEL,
    Event,
    KeySignature,
    Note,
    Song,
    TempoChange,
    TimeSignature,
    Track,
)
from composer_gui.midi._smf_common import CONDUCTOR_KINDS, ImportReport
from composer_gui.midi._smf_parse import TrackData

_START_PITCH = itemgetter(0, 1)


def build_notes(
    raw: list[tuple[int, int, int, int, int]], report: ImportReport | None
) -> list[Note]:
    """Sort and trim same-pitch overlaps by the rule of core.song.normalize_notes (the
    earlier note ends where the later starts; of two on one tick the later-listed stays),
    on tuples (start, pitch, duration, velocity, channel) so that each Note is built once.
    """
    raw.sort(key=_START_PITCH)
    ends = [-1] * 128  # end tick of the last kept note of each pitch
    where = [0] * 128  # its index in raw
    dropped = False
    for idx, item in enumerate(raw):
        start = item[0]
        p = item[1]
        if ends[p] > start:
            prev = raw[where[p]]
            if start > prev[0]:
                raw[where[p]] = (prev[0], p, start - prev[0], prev[3], prev[4])
                if report is not None:
                    before = (p, prev[0], prev[2], prev[3])
                    report.trimmed.append((before, (p, prev[0], start - prev[0], prev[3])))
            else:
                raw[where[p]] = None  # type: ignore[call-overload]
                dropped = True
                if report is not None:
                    report.dropped_same_start.append((p, prev[0], prev[2], prev[3]))
        ends[p] = start + item[2]
        where[p] = idx
    # Slots filled directly (see _NOTE_SETTERS), inline: a call per note is measurable.
    new, set_pitch, set_start, set_duration, set_velocity = _NOTE_SETTERS
    notes: list[Note] = []
    append = notes.append
    for s, p, d, v, _ in filter(None, raw) if dropped else raw:
        note = new(Note)
        set_pitch(note, p)
        set_start(note, s)
        set_duration(note, d)
        set_velocity(note, v)
        append(note)
    return notes


# Building a Note through its frozen-dataclass __init__ costs about twice as much as
# setting its four slots directly, and note building is a third of an import's time.
# The parser has already checked every value (pitch and velocity are 7-bit data bytes,
# velocity > 0, start >= 0, duration >= 1), so the reader fills the slots itself.
_NOTE_SETTERS = (
    object.__new__,
    Note.__dict__["pitch"].__set__,
    Note.__dict__["start"].__set__,
    Note.__dict__["duration"].__set__,
    Note.__dict__["velocity"].__set__,
)


def _map(entries: list[tuple], default: tuple | None) -> list[tuple]:
    """Sort by tick (stable); of several on one tick the last wins; default at 0."""
    entries = sorted(entries, key=lambda e: e[0])
    out: list[tuple] = []
    for e in entries:
        if out and out[-1][0] == e[0]:
            out[-1] = e
        else:
            out.append(e)
    if default is not None and (not out or out[0][0] != 0):
        out.insert(0, default)
    return out


def assemble_song(parsed: list[TrackData], tpb: int, report: ImportReport | None) -> Song:
    song = Song(ticks_per_beat=tpb, tempos=[], time_signatures=[])
    tempos: list[tuple] = []
    meters: list[tuple] = []
    keys: list[tuple] = []
    conductor: list[Event] = []
    for td in parsed:
        tempos += td.tempos
        meters += td.meters
        keys += td.keys
        if not td.channels:
            if td.index == 0 and td.name is not None:
                song.title = td.name
            conductor.extend(ev for _, ev in td.events)
            continue
        tracks: dict[int, Track] = {}
        for ch in td.channels:
            track = Track(
                name=td.name or "",
                program=td.programs[ch] or 0,
                channel=ch,
                is_drum=ch == DRUM_CHANNEL,
                notes=build_notes(td.notes[ch], report),
            )
            if td.app_data is not None:
                _apply_app_data(track, td.app_data)
            tracks[ch] = track
        first = tracks[td.channels[0]]
        for ch, ev in td.events:
            if ch < 0:
                if td.index == 0 and ev.kind in CONDUCTOR_KINDS:
                    conductor.append(ev)
                else:
                    first.events.append(ev)
            else:
                tracks[ch].events.append(ev)
        song.tracks.extend(tracks.values())
    song.tempos = [TempoChange(t, us) for t, us in _map(tempos, (0, DEFAULT_US_PER_BEAT))]
    song.time_signatures = [TimeSignature(t, n, d) for t, n, d in _map(meters, (0, 4, 4))]
    song.key_signatures = [KeySignature(t, k) for t, k in _map(keys, None)]
    conductor.sort(key=lambda e: e.tick)
    song.conductor_events = conductor
    return song


def _apply_app_data(track: Track, app: dict) -> None:
    role = app.get("role")
    track.role = role if isinstance(role, str) else None
    color = app.get("color")
    track.color = color if isinstance(color, str) else None
    for flag in ("muted", "solo", "locked"):
        value = app.get(flag)
        if isinstance(value, bool):
            setattr(track, flag, value)
