"""numpy bridge between songs and piano-roll arrays [tracks, steps, pitches]; no Qt, no torch.

See :mod:`composer_gui.pianoroll.roll` for the array layout and the tick/step mapping.
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
