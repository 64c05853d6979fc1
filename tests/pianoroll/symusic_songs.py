"""Build Songs from real files with symusic (an independent parser), for bridge tests.

Used until the project's own reader (composer_gui.midi) lands on this branch.
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
