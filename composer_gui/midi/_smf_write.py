"""Standard MIDI File export (format 1); see :mod:`composer_gui.midi.smf` for the rules."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from composer_gui.core.song import DRUM_CHANNEL, Event, Song, SongError, Track
from composer_gui.midi._smf_common import (
    APP_DATA_KEY,
    APP_MANUFACTURER_ID,
    KEY_TO_SF_MI,
    TEXT_META_TYPES,
    MidiFileError,
)

_END_OF_TRACK = b"\xff\x2f\x00"

# Order of items on one tick inside a track (lower first).
_NAME, _PROGRAM, _APP, _NOTE_OFF, _EVENT, _NOTE_ON = range(6)


def _vlq(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def _meta(mtype: int, data: bytes) -> bytes:
    return b"\xff" + bytes((mtype,)) + _vlq(len(data)) + data


def _seven_bit(value: object, what: str, event: Event) -> int:
    if not isinstance(value, int) or not 0 <= value <= 127:
        raise SongError(f"{event.kind} at tick {event.tick}: {what} {value!r} outside 0-127")
    return value


def _bytes_param(event: Event) -> bytes:
    data = event.get("data", ())
    try:
        return bytes(data)
    except (TypeError, ValueError):
        raise SongError(f"{event.kind} at tick {event.tick}: data is not a byte list") from None


def _event_bytes(event: Event, channel: int) -> bytes:
    """The bytes of one kept event (after its delta time)."""
    kind = event.kind
    if kind == "control_change":
        control = _seven_bit(event.get("control"), "control", event)
        value = _seven_bit(event.get("value"), "value", event)
        return bytes((0xB0 | channel, control, value))
    if kind == "pitchwheel":
        pitch = event.get("pitch")
        if not isinstance(pitch, int) or not -8192 <= pitch <= 8191:
            raise SongError(f"pitchwheel at tick {event.tick}: pitch {pitch!r} outside -8192-8191")
        value = pitch + 8192
        return bytes((0xE0 | channel, value & 0x7F, value >> 7))
    if kind == "program_change":
        return bytes((0xC0 | channel, _seven_bit(event.get("program"), "program", event)))
    if kind == "aftertouch":
        return bytes((0xD0 | channel, _seven_bit(event.get("value"), "value", event)))
    if kind == "polytouch":
        note = _seven_bit(event.get("note"), "note", event)
        value = _seven_bit(event.get("value"), "value", event)
        return bytes((0xA0 | channel, note, value))
    if kind == "sysex":
        data = _bytes_param(event) + b"\xf7"
        return b"\xf0" + _vlq(len(data)) + data
    if kind == "sysex_escape":
        data = _bytes_param(event)
        return b"\xf7" + _vlq(len(data)) + data
    mtype = TEXT_META_TYPES.get(kind)
    if mtype is not None:
        return _meta(mtype, str(event.get("text", "")).encode("utf-8"))
    if kind == "sequence_number":
        number = event.get("number", 0)
        return _meta(0x00, int(number).to_bytes(2, "big"))
    if kind == "channel_prefix":
        return _meta(0x20, bytes((event.get("channel", 0) & 0x0F,)))
    if kind == "midi_port":
        return _meta(0x21, bytes((_seven_bit(event.get("port", 0), "port", event),)))
    if kind == "sequencer_specific":
        return _meta(0x7F, _bytes_param(event))
    if kind == "unknown_meta":
        mtype = event.get("type_byte")
        if not isinstance(mtype, int) or not 0 <= mtype <= 0x7F or mtype == 0x2F:
            raise SongError(f"unknown_meta at tick {event.tick}: bad type byte {mtype!r}")
        return _meta(mtype, _bytes_param(event))
    raise SongError(f"cannot write an event of kind {kind!r} (tick {event.tick})")


def _chunk(items: list[tuple[int, bytes]]) -> bytes:
    """An MTrk chunk from (sort key, bytes) items; the key is tick * 8 + order."""
    items.sort(key=lambda item: item[0])
    body = bytearray()
    last = 0
    for key, msg in items:
        tick = key >> 3
        delta = tick - last
        if delta < 0x80:
            body.append(delta)
        elif delta < 0x1000_0000:
            body += _vlq(delta)
        else:  # delta times have at most 4 bytes (28 bits) in a MIDI file
            raise SongError(f"tick {tick} is too far from tick {last} for a MIDI file")
        body += msg
        last = tick
    body += b"\x00" + _END_OF_TRACK
    return b"MTrk" + len(body).to_bytes(4, "big") + bytes(body)


def _conductor_chunk(song: Song) -> bytes:
    items: list[tuple[int, bytes]] = [(0, _meta(0x03, song.title.encode("utf-8")))]
    for tempo in song.tempos:
        us = tempo.us_per_beat
        if not 0 < us < 1 << 24:
            raise SongError(f"tempo at tick {tempo.tick}: {us} microseconds per beat is invalid")
        items.append((tempo.tick * 8 + 1, _meta(0x51, us.to_bytes(3, "big"))))
    for ts in song.time_signatures:
        den = ts.denominator
        if not 0 < ts.numerator < 256 or den < 1 or den & (den - 1) or den > 128:
            raise SongError(f"time signature at tick {ts.tick}: {ts.numerator}/{den} is invalid")
        data = bytes((ts.numerator, den.bit_length() - 1, 24, 8))
        items.append((ts.tick * 8 + 2, _meta(0x58, data)))
    for ks in song.key_signatures:
        sf_mi = KEY_TO_SF_MI.get(ks.key)
        if sf_mi is None:
            raise SongError(f"key signature at tick {ks.tick}: unknown key {ks.key!r}")
        items.append((ks.tick * 8 + 3, _meta(0x59, bytes((sf_mi[0] & 0xFF, sf_mi[1])))))
    for event in sorted(song.conductor_events, key=lambda e: e.tick):
        items.append((event.tick * 8 + 4, _event_bytes(event, 0)))
    return _chunk(items)


def _track_chunk(track: Track) -> bytes:
    ch = DRUM_CHANNEL if track.is_drum else track.channel
    if not 0 <= ch <= 15:
        raise SongError(f"track {track.name!r}: channel {ch} outside 0-15")
    if not 0 <= track.program <= 127:
        raise SongError(f"track {track.name!r}: program {track.program} outside 0-127")
    app = {
        APP_DATA_KEY: 1,
        "role": track.role,
        "color": track.color,
        "muted": track.muted,
        "solo": track.solo,
        "locked": track.locked,
    }
    app_bytes = bytes((APP_MANUFACTURER_ID,)) + json.dumps(app, ensure_ascii=False).encode()
    items: list[tuple[int, bytes]] = [
        (_NAME, _meta(0x03, track.name.encode("utf-8"))),
        (_PROGRAM, bytes((0xC0 | ch, track.program))),
        (_APP, _meta(0x7F, app_bytes)),
    ]
    for event in sorted(track.events, key=lambda e: e.tick):
        items.append((event.tick * 8 + _EVENT, _event_bytes(event, ch)))
    on, off = 0x90 | ch, 0x80 | ch
    append = items.append
    for note in track.notes:
        append((note.start * 8 + _NOTE_ON, bytes((on, note.pitch, note.velocity))))
        append(((note.start + note.duration) * 8 + _NOTE_OFF, bytes((off, note.pitch, 64))))
    return _chunk(items)


def song_to_bytes(song: Song) -> bytes:
    """The song as a format 1 Standard MIDI File (raises SongError for invalid values)."""
    tpb = song.ticks_per_beat
    if not 0 < tpb < 0x8000:
        raise SongError(f"ticks per beat {tpb} outside 1-32767")
    chunks = [_conductor_chunk(song)] + [_track_chunk(t) for t in song.tracks]
    if len(chunks) > 0xFFFF:
        raise SongError(f"too many tracks for a MIDI file ({len(chunks) - 1})")
    header = b"MThd" + (6).to_bytes(4, "big") + bytes((0, 1))
    header += len(chunks).to_bytes(2, "big") + tpb.to_bytes(2, "big")
    return header + b"".join(chunks)


def write_midi(song: Song, path: str | os.PathLike[str]) -> None:
    """Export the song to ``path`` atomically.

    The bytes go to a temporary file in the same folder, which then replaces ``path``;
    if anything fails, an existing file at ``path`` is left as it was.
    """
    path = Path(path)
    data = song_to_bytes(song)  # invalid songs fail before the disk is touched
    if path.is_dir():
        raise MidiFileError(path, "is a folder")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise MidiFileError(path, f"cannot write: {exc.strerror or exc}") from None
