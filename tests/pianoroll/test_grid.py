"""The models' bar-aware grid on the shared bridge: bars from the meter map, note codes,
and the same tick <-> step rounding as the piano rolls."""

from __future__ import annotations

import numpy as np

from composer_gui.core.song import Note, Song, TimeSignature, Track
from composer_gui.pianoroll.grid import (
    HOLD,
    ONSET,
    codes_to_spans,
    notes_to_codes,
    song_grid,
    spans_to_notes,
)
from composer_gui.pianoroll.roll import song_to_roll_with_onsets

TPB = 480


def _song(notes, signatures=((0, 4, 4),)):
    return Song(ticks_per_beat=TPB, time_signatures=[TimeSignature(*s) for s in signatures],
                tracks=[Track(name="Melody", notes=list(notes))])


def test_bars_follow_the_meter_map_with_a_change_in_mid_bar():
    # two bars of 3/4, then 4/4 from a tick that is not a 3/4 bar line
    song = _song([Note(60, 0, 20 * TPB, 80)], [(0, 3, 4), (7 * TPB, 4, 4)])
    grid = song_grid(song, 4)
    assert grid.bar_starts[:5].tolist() == [0, 12, 24, 28, 44]  # the 3rd bar is cut short
    assert grid.bar_meters[:5] == ["3/4", "3/4", "3/4", "4/4", "4/4"]
    assert grid.bar_of_step(27) == 2 and grid.bar_of_step(28) == 3


def test_codes_keep_repeated_notes_apart_and_come_back_as_the_same_notes():
    notes = [Note(60, 0, TPB, 90), Note(60, TPB, TPB, 90), Note(64, 2 * TPB, TPB // 2, 90)]
    grid = song_grid(_song(notes), 4)
    codes = notes_to_codes(notes, grid, 48, 72)
    assert codes[0, 12] == ONSET and codes[3, 12] == HOLD and codes[4, 12] == ONSET
    back = spans_to_notes(codes_to_spans(codes, 48), grid, velocity=90)
    assert back == notes


def test_a_note_between_two_steps_lands_where_the_piano_roll_puts_it():
    # 60 ticks = half a sixteenth: ties go to the even step (the stronger position)
    notes = [Note(60, 60, 240, 80), Note(62, 180, 240, 80), Note(64, 300, 240, 80)]
    song = _song(notes)
    grid = song_grid(song, 4)
    codes = notes_to_codes(notes, grid, 48, 72)
    _, onsets = song_to_roll_with_onsets(song, [0], 0, song.end_tick, 4)
    grid_onsets = sorted((int(s), int(p) + 48) for s, p in zip(*np.nonzero(codes == ONSET)))
    roll_onsets = sorted((int(s), int(p)) for s, p in zip(*np.nonzero(onsets[0])))
    assert grid_onsets == roll_onsets == [(0, 60), (2, 62), (2, 64)]
