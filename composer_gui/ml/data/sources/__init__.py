"""Dataset readers that turn special collections into plain songs (numpy only, no torch).

* :mod:`composer_gui.ml.data.sources.pop909` — POP909 songs with bar lines from the beat
  annotation and the PIANO track split into bass and piano parts.
* :mod:`composer_gui.ml.data.sources.groove` — the Groove MIDI Dataset: its index, drum songs,
  bar windows with conditioning labels, and drum statistics.
* :mod:`composer_gui.ml.data.sources.nottingham` — Nottingham folk tunes: melody, chords and
  a bass line from the chords' lowest voice; an unmarked pickup padded to a whole bar.

Nothing here imports torch, so the data side can be tested and benchmarked without it.
:func:`read_song` reads any MIDI file the way training should see it.
"""

from __future__ import annotations

from pathlib import Path

from composer_gui.ml.data.sources.groove import (
    DRUM_CLASSES,
    DrumWindow,
    GrooveError,
    GrooveRow,
    aggregate_drum_stats,
    drum_bar_stats,
    drum_class_pitches,
    drum_class_roll,
    drum_roll,
    drum_windows,
    groove_row_for_file,
    groove_split_counts,
    load_groove_index,
    load_groove_song,
    meter_bar_starts,
    quantization_stats,
    song_drum_stats,
)
from composer_gui.ml.data.sources.nottingham import (
    is_nottingham_file,
    load_nottingham_song,
    lowest_voice,
    nottingham_song,
)
from composer_gui.ml.data.sources.pop909 import (
    BeatAnnotation,
    Pop909Error,
    Pop909Meter,
    find_pop909_songs,
    is_pop909_file,
    load_pop909_beats,
    load_pop909_song,
    pop909_meter,
    pop909_meter_supported,
    split_piano,
)

__all__ = [
    "DRUM_CLASSES",
    "drum_class_pitches",
    "drum_class_roll",
    "DrumWindow",
    "GrooveError",
    "GrooveRow",
    "aggregate_drum_stats",
    "drum_bar_stats",
    "drum_roll",
    "drum_windows",
    "groove_row_for_file",
    "groove_split_counts",
    "load_groove_index",
    "load_groove_song",
    "meter_bar_starts",
    "quantization_stats",
    "song_drum_stats",
    "is_nottingham_file",
    "load_nottingham_song",
    "lowest_voice",
    "nottingham_song",
    "Pop909Error",
    "Pop909Meter",
    "find_pop909_songs",
    "is_pop909_file",
    "read_song",
    "BeatAnnotation",
    "load_pop909_beats",
    "load_pop909_song",
    "pop909_meter",
    "pop909_meter_supported",
    "split_piano",
]


def read_song(path: str | Path, pop909_meters: tuple[str, ...] | None = None):
    """Read a MIDI file for training: a POP909 song file through :func:`load_pop909_song`
    (annotated bar lines, Bass/Piano/Strings parts; ``pop909_meters`` as there), a file
    listed in a Groove ``info.csv`` through :func:`load_groove_song` (one GM "Drums"
    track), a Nottingham tune through :func:`load_nottingham_song` (Melody, Chords, Bass),
    any other file with the project's reader unchanged."""
    path = Path(path)
    if is_pop909_file(path):
        return load_pop909_song(path.parent, meters=pop909_meters)
    if is_nottingham_file(path):
        return load_nottingham_song(path)
    row = groove_row_for_file(path)
    if row is not None:
        return load_groove_song(row)
    from composer_gui.midi.smf import read_midi

    return read_midi(path)
