"""The one bridge between songs and arrays (numpy only; no Qt, no torch).

* :mod:`composer_gui.pianoroll.roll`: tracks over a tick range as piano rolls
  ``[tracks, steps, 128]`` (velocities or bools, with onsets) and back to notes; the
  tick <-> step mapping everything here uses.
* :mod:`composer_gui.pianoroll.grid`: a song's bar-aware step grid (bars from its meter
  map) and the note codes (silent, held, onset) that the models read and write.
"""

from composer_gui.pianoroll.roll import (
    PITCHES,
    bar_range_ticks,
    notes_to_arrays,
    roll_to_notes,
    rolls_to_notes,
    song_to_roll,
    song_to_roll_bars,
    song_to_roll_with_onsets,
    step_to_tick,
    steps_between,
    tick_to_step,
)

__all__ = [
    "PITCHES",
    "bar_range_ticks",
    "notes_to_arrays",
    "roll_to_notes",
    "rolls_to_notes",
    "song_to_roll",
    "song_to_roll_bars",
    "song_to_roll_with_onsets",
    "step_to_tick",
    "steps_between",
    "tick_to_step",
]
