"""Standard MIDI File import and export for the song model.

Public API: :func:`read_midi`, :func:`read_midi_bytes`, :func:`write_midi`,
:func:`song_to_bytes` and :class:`MidiFileError` (the one exception for unreadable
files; its message names the file and the problem).

The reader is a byte-level parser written for speed: a 10k-note file takes ~22 ms here
where mido's parser takes ~140 ms (``benchmarks/bench_midi_import.py``). symusic (C++)
serves as the independent reference in the tests (``composer_gui/midi/crosscheck.py``).

Import rules
------------
* Formats 0 and 1. Format 2 (independent sequences) and SMPTE time division are refused.
  A RIFF ``RMID`` wrapper is unpacked.
* Running status; a note-on with velocity 0 is a note-off. A note-off with no open note is
  ignored. Stacked note-ons of one pitch on one channel are closed first-in first-out
  (the first note-off ends the earliest open note), as symusic does.
* Notes still open at the end of a track are closed at the track's end (the tick of its
  end-of-track event, else its last event). A note whose note-off comes on the tick of its
  note-on (zero length) gets a duration of 1 tick. symusic keeps zero-length notes with
  duration 0 and drops notes left open; these are the documented differences.
* Same-pitch overlaps in one track are trimmed by :func:`composer_gui.core.song.normalize_notes`'s
  rule: the earlier note ends where the later starts; two notes of one pitch starting on the
  same tick keep only the one whose note-off came later in the file.
* Each MIDI track becomes one :class:`Track` per channel it uses, in the order the channels
  first appear, each with the MIDI track's name; channel 10 (index 9) is the drum channel. A track holding no channel
  message makes no :class:`Track`: its meta and SysEx events go to
  ``Song.conductor_events`` and, for the first track, its name becomes ``Song.title``
  (the names of later such tracks are dropped).
* The first program change of a channel before its first note sets ``Track.program``;
  every other program change is kept as an ``program_change`` event.
* Tempo, time-signature and key-signature events (from any track) form the song's maps:
  sorted by tick; of several on one tick the last in track order wins; a map without an
  entry at tick 0 gets the default (120 bpm, 4/4; keys may stay empty). Tempo 0, or
  meter / key events with impossible values, are kept verbatim as ``unknown_meta``
  conductor events instead.
* Controllers, pitch bend, aftertouch, SysEx and meta events (lyrics, text, markers ...)
  are kept as :class:`Event` records (names and parameters as mido spells them; SysEx
  ``data`` excludes the F0/F7 framing). In the first track, markers, cue points, copyright
  and text go to ``Song.conductor_events``; elsewhere meta events without a channel stay
  with the first :class:`Track` of their MIDI track. Text is decoded as UTF-8, falling back
  to Latin-1, so any encoding imports.
* The app's own data about a track (role, colour, mute/solo/lock) is a sequencer-specific
  meta event (FF 7F) whose data is 0x7D followed by UTF-8 JSON; it is read back, not kept
  as an event.

Export rules
------------
Format 1: a conductor track (title as its name, tempos, meters, keys, conductor events),
then one MIDI track per :class:`Track`: name, program change, app data, the kept events
and the notes (at one tick: note-offs, then events, then note-ons). A drum track is
written on channel 10 (index 9), and any track on channel 10 reads back as drums.
``read_midi_bytes(song_to_bytes(song))`` equals a song that follows these rules.
"""

from __future__ import annotations

import gc
import json
import os
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

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
from composer_gui.midi._smf_common import (
    APP_DATA_KEY,
    APP_MANUFACTURER_ID,
    CONDUCTOR_KINDS,
    KEY_BY_SF_MI,
    TEXT_META,
    MidiFileError,
)
from composer_gui.midi._smf_write import song_to_bytes, write_midi

__all__ = [
    "MidiFileError",
    "ImportReport",
    "read_midi",
    "read_midi_bytes",
    "write_midi",
    "song_to_bytes",
    "APP_MANUFACTURER_ID",
]


@dataclass
class ImportReport:
    """What an import changed on the way in (filled by :func:`read_midi_bytes`).

    Notes are ``(pitch, start, duration, velocity)`` tuples as they came from the file's
    note-on / note-off pairs (``trimmed`` holds (before, after) pairs).
    """

    closed_at_track_end: list[tuple[int, int, int, int]] = field(default_factory=list)
    dropped_same_start: list[tuple[int, int, int, int]] = field(default_factory=list)
    zero_length: list[tuple[int, int, int, int]] = field(default_factory=list)  # given 1 tick
    trimmed: list[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]] = field(
        default_factory=list
    )


def _decode_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _meta_event(tick: int, mtype: int, raw: bytes) -> Event:
    """A kept meta event (not tempo / meter / key / track name / end of track)."""
    name = TEXT_META.get(mtype)
    if name is not None:
        return Event(tick, name, (("text", _decode_text(raw)),))
    n = len(raw)
    if mtype == 0x00 and n == 2:
        return Event(tick, "sequence_number", (("number", raw[0] << 8 | raw[1]),))
    if mtype == 0x20 and n == 1 and raw[0] < 16:
        return Event(tick, "channel_prefix", (("channel", raw[0]),))
    if mtype == 0x21 and n == 1:
        return Event(tick, "midi_port", (("port", raw[0]),))
    if mtype == 0x7F:
        return Event(tick, "sequencer_specific", (("data", tuple(raw)),))
    return Event(tick, "unknown_meta", (("data", tuple(raw)), ("type_byte", mtype)))


# -- the reader -----------------------------------------------------------------------


_START_PITCH = itemgetter(0, 1)


class _TrackData:
    """What one MTrk chunk holds, split by channel."""

    __slots__ = (
        "index",
        "name",
        "channels",
        "notes",
        "events",
        "programs",
        "app_data",
        "tempos",
        "meters",
        "keys",
        "end_tick",
    )

    def __init__(self, index: int) -> None:
        self.index = index
        self.name: str | None = None
        self.channels: list[int] = []  # in order of first appearance
        self.notes: list[list[tuple[int, int, int, int, int]] | None] = [None] * 16
        self.events: list[tuple[int, Event]] = []  # (channel or -1, event) in file order
        self.programs: list[int | None] = [None] * 16
        self.app_data: dict | None = None
        self.tempos: list[tuple[int, int]] = []
        self.meters: list[tuple[int, int, int]] = []
        self.keys: list[tuple[int, str]] = []
        self.end_tick = 0


def _parse_track(
    data: bytes, pos: int, end: int, index: int, name: str, report: ImportReport | None
) -> _TrackData:
    """Parse the events of one MTrk chunk ``data[pos:end]``.

    Raises IndexError when an event runs past the end of ``data`` (the caller turns
    it into a MidiFileError), MidiFileError for anything else malformed.
    """
    td = _TrackData(index)
    found: list[tuple[int, int, int, int, int]] = []  # (start, pitch, dur, vel, channel)
    emit = found.append
    programs = td.programs
    events = td.events
    seen = [False] * 16
    noted = [False] * 16  # a note-on has been seen on this channel
    channels = td.channels
    # Open notes: key (channel << 7 | pitch) -> start tick << 7 | velocity, -1 when none;
    # further note-ons of a sounding key wait in `stacked` (first in, first out).
    opened = [-1] * 2048
    stacked: dict[int, deque[int]] = {}
    tick = 0
    status = 0
    last_ch_status = -1
    ch = kbase = 0
    i = pos
    while i < end:
        b = data[i]
        i += 1
        if b < 0x80:
            tick += b
        else:
            d = b & 0x7F
            b = data[i]
            i += 1
            while b & 0x80:
                d = (d << 7) | (b & 0x7F)
                b = data[i]
                i += 1
            tick += (d << 7) | b
        s = data[i]
        if s & 0x80:
            i += 1
            if s < 0xF0:
                status = s
        elif status:
            s = status
        else:
            raise MidiFileError(name, f"track {index + 1}: data byte without a status byte")
        if s < 0xA0:  # note off (8n) / note on (9n): the hot path
            p = data[i]
            v = data[i + 1]
            i += 2
            if (p | v) & 0x80:
                raise MidiFileError(name, f"track {index + 1}: bad note data at tick {tick}")
            if s != last_ch_status:
                last_ch_status = s
                ch = s & 0x0F
                kbase = ch << 7
                if not seen[ch]:
                    seen[ch] = True
                    channels.append(ch)
            k = kbase | p
            if v and s >= 0x90:
                noted[ch] = True
                if opened[k] < 0:
                    opened[k] = tick << 7 | v
                else:
                    stacked.setdefault(k, deque()).append(tick << 7 | v)
            else:
                o = opened[k]
                if o >= 0:
                    start = o >> 7
                    if tick == start:
                        emit((start, p, 1, o & 0x7F, ch))
                        if report is not None:
                            report.zero_length.append((p, start, 1, o & 0x7F))
                    else:
                        emit((start, p, tick - start, o & 0x7F, ch))
                    if stacked and stacked.get(k):
                        opened[k] = stacked[k].popleft()
                    else:
                        opened[k] = -1
            continue
        hi = s & 0xF0
        if hi != 0xF0:
            if s != last_ch_status:
                last_ch_status = s
                ch = s & 0x0F
                kbase = ch << 7
                if not seen[ch]:
                    seen[ch] = True
                    channels.append(ch)
            a = data[i]
            if hi == 0xC0 or hi == 0xD0:
                i += 1
                if a & 0x80:
                    raise MidiFileError(name, f"track {index + 1}: bad data byte at tick {tick}")
                if hi == 0xC0:
                    if programs[ch] is None and not noted[ch]:
                        programs[ch] = a
                    else:
                        events.append((ch, Event(tick, "program_change", (("program", a),))))
                else:
                    events.append((ch, Event(tick, "aftertouch", (("value", a),))))
                continue
            c = data[i + 1]
            i += 2
            if (a | c) & 0x80:
                raise MidiFileError(name, f"track {index + 1}: bad data byte at tick {tick}")
            if hi == 0xB0:
                ev = Event(tick, "control_change", (("control", a), ("value", c)))
            elif hi == 0xE0:
                ev = Event(tick, "pitchwheel", (("pitch", (c << 7 | a) - 8192),))
            else:  # 0xA0
                ev = Event(tick, "polytouch", (("note", a), ("value", c)))
            events.append((ch, ev))
            continue
        # System messages: meta (FF), SysEx (F0) and SysEx escape (F7).
        if s == 0xFF:
            mtype = data[i]
            i += 1
        elif s == 0xF0 or s == 0xF7:
            mtype = -1
        else:
            raise MidiFileError(name, f"track {index + 1}: unexpected status byte 0x{s:02X}")
        b = data[i]
        i += 1
        ln = b & 0x7F
        while b & 0x80:
            b = data[i]
            i += 1
            ln = (ln << 7) | (b & 0x7F)
        if i + ln > end:
            raise MidiFileError(
                name, f"track {index + 1}: event at tick {tick} runs past the end of the track"
            )
        raw = data[i : i + ln]
        i += ln
        if mtype < 0:
            if s == 0xF0:
                body = raw[:-1] if raw.endswith(b"\xf7") else raw
                events.append((-1, Event(tick, "sysex", (("data", tuple(body)),))))
            else:
                events.append((-1, Event(tick, "sysex_escape", (("data", tuple(raw)),))))
            continue
        if mtype == 0x2F:  # end of track
            td.end_tick = tick
            break
        if mtype == 0x51 and ln == 3:
            us = raw[0] << 16 | raw[1] << 8 | raw[2]
            if us > 0:
                td.tempos.append((tick, us))
                continue
        elif mtype == 0x58 and ln >= 2:
            if raw[0] > 0 and raw[1] <= 7:
                td.meters.append((tick, raw[0], 1 << raw[1]))
                continue
        elif mtype == 0x59 and ln == 2:
            sf = raw[0] - 256 if raw[0] > 127 else raw[0]
            key = KEY_BY_SF_MI.get((sf, raw[1]))
            if key is not None:
                td.keys.append((tick, key))
                continue
        elif mtype == 0x03 and td.name is None:
            td.name = _decode_text(raw)
            continue
        elif mtype == 0x7F and ln > 1 and raw[0] == APP_MANUFACTURER_ID:
            app = _parse_app_data(raw[1:])
            if app is not None:
                td.app_data = app
                continue
        events.append((-1, _meta_event(tick, mtype, raw)))
    else:
        td.end_tick = tick
    if i > end:
        raise MidiFileError(
            name, f"track {index + 1}: the last event runs past the end of the track"
        )
    # Close the notes still held at the end of the track.
    end_tick = td.end_tick
    for k, o in enumerate(opened):
        if o < 0:
            continue
        ch, p = k >> 7, k & 0x7F
        for packed in (o, *stacked.get(k, ())):
            item = (packed >> 7, p, max(1, end_tick - (packed >> 7)), packed & 0x7F, ch)
            emit(item)
            if report is not None:
                report.closed_at_track_end.append((p, item[0], item[2], item[3]))
    if len(channels) == 1:
        td.notes[channels[0]] = found
    else:
        for c in channels:
            td.notes[c] = []
        for item in found:
            td.notes[item[4]].append(item)
    return td


def _parse_app_data(raw: bytes) -> dict | None:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if isinstance(value, dict) and APP_DATA_KEY in value:
        return value
    return None


def _build_notes(
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


def _unwrap_riff(data: bytes, name: str) -> bytes:
    """The SMF inside a RIFF RMID file."""
    pos = 12
    while pos + 8 <= len(data):
        cid = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if cid == b"data":
            return data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    raise MidiFileError(name, "RIFF file without a MIDI data chunk")


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector: an import allocates millions of objects none
    of which form cycles, and the collections they trigger cost a third of the time of a
    big file. Process-wide but harmless under threads: at worst a pause ends early."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_midi_bytes(data: bytes, name: str = "<bytes>", report: ImportReport | None = None) -> Song:
    """Import a Standard MIDI File held in memory; ``name`` is used in error messages.

    ``report``, when given, is filled with the notes the import rules changed.
    """
    data = bytes(data)
    if not data:
        raise MidiFileError(name, "the file is empty")
    if data[:4] == b"RIFF" and data[8:12] == b"RMID":
        data = _unwrap_riff(data, name)
    if data[:4] != b"MThd":
        raise MidiFileError(name, "not a MIDI file (no MThd header)")
    if len(data) < 14:
        raise MidiFileError(name, "truncated MIDI header")
    hlen = int.from_bytes(data[4:8], "big")
    if hlen < 6 or 8 + hlen > len(data):
        raise MidiFileError(name, f"bad MIDI header length {hlen}")
    fmt = data[8] << 8 | data[9]
    ntrks = data[10] << 8 | data[11]
    division = data[12] << 8 | data[13]
    if fmt == 2:
        raise MidiFileError(name, "format 2 MIDI files (independent sequences) are not supported")
    if fmt > 2:
        raise MidiFileError(name, f"unknown MIDI file format {fmt}")
    if division & 0x8000:
        raise MidiFileError(name, "SMPTE time division is not supported (only ticks per beat)")
    if division == 0:
        raise MidiFileError(name, "zero ticks per beat")
    if ntrks == 0:
        raise MidiFileError(name, "the file has no tracks")
    with _gc_paused():
        return _read_chunks(data, name, hlen, ntrks, division, report)


def _read_chunks(
    data: bytes,
    name: str,
    hlen: int,
    ntrks: int,
    division: int,
    report: ImportReport | None,
) -> Song:
    pos = 8 + hlen
    size = len(data)
    tracks: list[_TrackData] = []
    while len(tracks) < ntrks:
        if pos + 8 > size:
            if pos == size or not tracks:
                raise MidiFileError(
                    name, f"truncated: the header announces {ntrks} tracks, found {len(tracks)}"
                )
            raise MidiFileError(name, "truncated chunk header")
        cid = data[pos : pos + 4]
        clen = int.from_bytes(data[pos + 4 : pos + 8], "big")
        body = pos + 8
        if body + clen > size:
            raise MidiFileError(
                name,
                f"truncated: chunk {len(tracks) + 1} claims {clen} bytes, "
                f"only {size - body} remain",
            )
        if cid == b"MTrk":
            try:
                tracks.append(_parse_track(data, body, body + clen, len(tracks), name, report))
            except IndexError:
                raise MidiFileError(
                    name, f"track {len(tracks) + 1} is truncated (an event is cut short)"
                ) from None
        elif not cid.isascii() or not cid.isalnum():
            raise MidiFileError(name, f"corrupt chunk header at byte {pos}")
        pos = body + clen
    return _assemble(tracks, division, report)


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


def _assemble(parsed: list[_TrackData], tpb: int, report: ImportReport | None) -> Song:
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
                notes=_build_notes(td.notes[ch], report),
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


def read_midi(path: str | os.PathLike[str]) -> Song:
    """Import a Standard MIDI File from disk (rules in the module docstring)."""
    path = Path(path)
    if path.is_dir():
        raise MidiFileError(path, "is a folder, not a MIDI file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
            if head and head not in (b"MThd", b"RIFF"):
                # Say no at once, even to a large file that is something else.
                raise MidiFileError(path, "not a MIDI file (no MThd header)")
            data = head + handle.read()
    except FileNotFoundError:
        raise MidiFileError(path, "no such file") from None
    except OSError as exc:
        raise MidiFileError(path, f"cannot read: {exc.strerror or exc}") from None
    return read_midi_bytes(data, str(path))
