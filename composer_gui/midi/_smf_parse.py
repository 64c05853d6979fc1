"""Byte-level parsing of one MTrk chunk, the hot loop of the SMF reader.

:func:`parse_track` walks a track's events once (running status, note pairing, meta and
SysEx events) and returns a :class:`TrackData`: per-channel note tuples, the kept events,
the program of each channel, the app's own track data, and the track's tempo, meter and
key entries. Turning those into a :class:`~composer_gui.core.song.Song` is
:mod:`composer_gui.midi._smf_assemble`'s job; the rules are in :mod:`composer_gui.midi.smf`.
"""

from __future__ import annotations

import json
from collections import deque

from composer_gui.core.song import Event
from composer_gui.midi._smf_common import (
    APP_DATA_KEY,
    APP_MANUFACTURER_ID,
    KEY_BY_SF_MI,
    TEXT_META,
    ImportReport,
    MidiFileError,
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


class TrackData:
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


def parse_track(
    data: bytes, pos: int, end: int, index: int, name: str, report: ImportReport | None
) -> TrackData:
    """Parse the events of one MTrk chunk ``data[pos:end]``.

    Raises IndexError when an event runs past the end of ``data`` (the caller turns
    it into a MidiFileError), MidiFileError for anything else malformed.
    """
    td = TrackData(index)
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
