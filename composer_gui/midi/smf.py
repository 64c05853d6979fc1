"""Standard MIDI File import and export for the song model.

Public API: :func:`read_midi`, :func:`read_midi_bytes`, :func:`write_midi`,
:func:`song_to_bytes`, :class:`ImportReport` (what an import changed) and
:class:`MidiFileError` (the one exception for unreadable files; its message names the
file and the problem).

The reader is a byte-level parser written for speed: a 10k-note file takes ~22 ms here
where mido's parser takes ~140 ms (``benchmarks/bench_midi_import.py``). symusic (C++)
serves as the independent reference in the tests (``composer_gui/midi/crosscheck.py``).
This module reads the file's header and chunks; each track's bytes are parsed by
:mod:`composer_gui.midi._smf_parse`, the song is built by
:mod:`composer_gui.midi._smf_assemble`, and the writer is :mod:`composer_gui.midi._smf_write`.

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
import os
from contextlib import contextmanager
from pathlib import Path

from composer_gui.core.song import Song
from composer_gui.midi._smf_assemble import assemble_song
from composer_gui.midi._smf_common import ImportReport, MidiFileError
from composer_gui.midi._smf_parse import TrackData, parse_track
from composer_gui.midi._smf_write import song_to_bytes, write_midi

__all__ = [
    "MidiFileError",
    "ImportReport",
    "read_midi",
    "read_midi_bytes",
    "write_midi",
    "song_to_bytes",
]


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
    tracks: list[TrackData] = []
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
                tracks.append(parse_track(data, body, body + clen, len(tracks), name, report))
            except IndexError:
                raise MidiFileError(
                    name, f"track {len(tracks) + 1} is truncated (an event is cut short)"
                ) from None
        elif not cid.isascii() or not cid.isalnum():
            raise MidiFileError(name, f"corrupt chunk header at byte {pos}")
        pos = body + clen
    return assemble_song(tracks, division, report)


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
