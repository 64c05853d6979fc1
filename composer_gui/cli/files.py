"""File subcommands: ``info`` (human-readable or ``--json``) and ``convert``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

_INFO_HELP = "show the tracks, tempo, meter, key and length of a MIDI file"
_CONVERT_HELP = "import a MIDI file and export it again (format 1, with the app's track data)"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``info`` and ``convert`` to the ``composer-gui`` command line."""
    info = subparsers.add_parser("info", help=_INFO_HELP, description=_INFO_HELP + ".")
    info.add_argument("file", help="a Standard MIDI File (.mid)")
    info.add_argument("--json", action="store_true", help="print the song as JSON")
    info.set_defaults(func=run_info)
    convert = subparsers.add_parser("convert", help=_CONVERT_HELP, description=_CONVERT_HELP + ".")
    convert.add_argument("input", help="the MIDI file to read")
    convert.add_argument("output", help="the MIDI file to write (replaced atomically)")
    convert.set_defaults(func=run_convert)


def song_to_json(song) -> dict[str, Any]:
    """The ``info --json`` document (issue 2, item 9); the conductor track is not listed.
    ``program`` is the file's 0-127 value, ``instrument`` what a person reads ("74 Flute")."""
    from composer_gui.core.gm import instrument_label
    from composer_gui.core.song import note_sort_key

    return {
        "ticks_per_beat": song.ticks_per_beat,
        "tempos": [
            {"tick": t.tick, "bpm": t.bpm, "us_per_beat": t.us_per_beat} for t in song.tempos
        ],
        "time_signatures": [
            {"tick": ts.tick, "numerator": ts.numerator, "denominator": ts.denominator}
            for ts in song.time_signatures
        ],
        "key_signatures": [{"tick": k.tick, "key": k.key} for k in song.key_signatures],
        "tracks": [
            {
                "name": t.name,
                "role": t.role,
                "program": t.program,
                "instrument": instrument_label(t.program, t.is_drum),
                "channel": t.channel,
                "is_drum": t.is_drum,
                "notes": [
                    [n.pitch, n.start, n.duration, n.velocity]
                    for n in sorted(t.notes, key=note_sort_key)
                ],
            }
            for t in song.tracks
        ],
    }


_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def _pitch_name(pitch: int) -> str:
    return f"{_NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)}:{secs:04.1f}"


def _changes(items: list[str], limit: int = 6) -> str:
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit]) + f" ... ({len(items)} in all)"


def format_info(song, path: str) -> str:
    """The human-readable ``info`` text."""
    from composer_gui.core.gm import instrument_label
    from composer_gui.core.timing import TimeMap

    end = song.end_tick
    time_map = TimeMap.of(song)
    tempo = _changes(
        [f"{t.bpm:.6g} bpm" + (f" at tick {t.tick}" if t.tick else "") for t in song.tempos]
    )
    meter = _changes(
        [
            f"{m.numerator}/{m.denominator}" + (f" at tick {m.tick}" if m.tick else "")
            for m in song.time_signatures
        ]
    )
    key = (
        _changes([k.key + (f" at tick {k.tick}" if k.tick else "") for k in song.key_signatures])
        or "not given"
    )
    lines = [
        f"File:    {path}",
        *([f"Title:   {song.title}"] if song.title else []),
        f"Tempo:   {tempo}",
        f"Meter:   {meter}",
        f"Key:     {key}",
        f"Length:  {time_map.bar_count(end)} bars, {_clock(time_map.tick_to_seconds(end))} "
        f"({time_map.tick_to_seconds(end):.1f} s; {end} ticks at {song.ticks_per_beat} per beat)",
        f"Tracks:  {len(song.tracks)}, {song.note_count} notes",
    ]
    rows = [("#", "name", "role", "instrument (GM)", "ch", "drums", "notes", "range")]
    for i, t in enumerate(song.tracks, 1):
        if t.notes:
            low = min(n.pitch for n in t.notes)
            high = max(n.pitch for n in t.notes)
            span = f"{_pitch_name(low)}-{_pitch_name(high)} ({low}-{high})"
        else:
            span = "-"
        rows.append(
            (
                str(i),
                t.name or "(unnamed)",
                t.role or "-",
                instrument_label(t.program, t.is_drum),
                str(t.channel + 1),
                "yes" if t.is_drum else "no",
                str(len(t.notes)),
                span,
            )
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for r in rows:
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    return "\n".join(lines)


def run_info(args: argparse.Namespace) -> int:
    from composer_gui.midi.smf import read_midi

    song = read_midi(args.file)
    if args.json:
        json.dump(song_to_json(song), sys.stdout)  # ASCII escapes: safe on any console
        sys.stdout.write("\n")
    else:
        print(format_info(song, args.file))
    return 0


def run_convert(args: argparse.Namespace) -> int:
    from composer_gui.midi.smf import read_midi, write_midi

    song = read_midi(args.input)
    write_midi(song, args.output)
    print(f"wrote {args.output}: {len(song.tracks)} tracks, {song.note_count} notes")
    return 0
