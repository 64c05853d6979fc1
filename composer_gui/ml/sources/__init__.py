"""Dataset readers that turn special collections into plain songs (numpy only, no torch).

* :mod:`composer_gui.ml.sources.pop909` — POP909 songs with bar lines from the beat
  annotation and the PIANO track split into bass and piano parts.
* :mod:`composer_gui.ml.sources.groove` — the Groove MIDI Dataset: its index, drum songs,
  bar windows with conditioning labels, and drum statistics.

Nothing here imports torch, so the data side can be tested and benchmarked without it.
"""

from composer_gui.ml.sources.groove import (
    DrumWindow,
    GrooveError,
    GrooveRow,
    aggregate_drum_stats,
    drum_bar_stats,
    drum_roll,
    drum_windows,
    groove_split_counts,
    load_groove_index,
    load_groove_song,
    meter_bar_starts,
    quantization_stats,
    song_drum_stats,
)
from composer_gui.ml.sources.pop909 import (
    BeatAnnotation,
    Pop909Error,
    Pop909Meter,
    find_pop909_songs,
    load_pop909_beats,
    load_pop909_song,
    pop909_meter,
    pop909_meter_supported,
    split_piano,
)

__all__ = [
    "DrumWindow",
    "GrooveError",
    "GrooveRow",
    "aggregate_drum_stats",
    "drum_bar_stats",
    "drum_roll",
    "drum_windows",
    "groove_split_counts",
    "load_groove_index",
    "load_groove_song",
    "meter_bar_starts",
    "quantization_stats",
    "song_drum_stats",
    "Pop909Error",
    "Pop909Meter",
    "find_pop909_songs",
    "BeatAnnotation",
    "load_pop909_beats",
    "load_pop909_song",
    "pop909_meter",
    "pop909_meter_supported",
    "split_piano",
]
