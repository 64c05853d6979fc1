"""Build Songs from real files for the bridge tests.

The project's reader (``composer_gui.midi.smf.read_midi``) is used where this checkout
has it; until then symusic (an independent parser) builds the songs.
"""

from __future__ import annotations

from pathlib import Path

from composer_gui.core.song import (
    Note,
    Song,
    TempoChange,
    TimeSignature,
    Track,
    normalize_notes,
)


def song_from_file(path: Path) -> Song:
    try:
        from composer_gui.midi.smf import read_midi
    except ImportError:
        return song_from_symusic(path)
    return read_midi(path)


def song_from_symusic(path: Path) -> Song:
    import symusic

    score = symusic.Score(str(path))
    tracks = []
    for t in score.tracks:
        arr = t.notes.numpy()
        notes = [
            Note(int(p), int(s), int(d), max(1, min(127, int(v))))
            for p, s, d, v in zip(arr["pitch"], arr["time"], arr["duration"], arr["velocity"])
            if d >= 1
        ]
        tracks.append(
            Track(name=t.name, program=int(t.program), is_drum=bool(t.is_drum),
                  notes=normalize_notes(notes))
        )
    tempos = [TempoChange(int(x.time), int(x.mspq)) for x in score.tempos]
    metres = [
        TimeSignature(int(x.time), int(x.numerator), int(x.denominator))
        for x in score.time_signatures
    ]
    return Song(
        ticks_per_beat=int(score.ticks_per_quarter),
        tempos=tempos or [TempoChange(0, 500_000)],
        time_signatures=metres or [TimeSignature(0, 4, 4)],
        tracks=tracks,
    )
