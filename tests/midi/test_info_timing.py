"""The timing behind ``info`` (core.timing.TimeMap) and the GM name table."""

from __future__ import annotations

import pytest

from composer_gui.core.gm import GM_DRUM_NAMES, GM_PROGRAM_NAMES, drum_name, program_name
from composer_gui.core.song import Song, TempoChange, TimeSignature
from composer_gui.core.timing import TimeMap


def seconds_at(song, tick):
    return TimeMap.of(song).tick_to_seconds(tick)


def bars_until(song, tick):
    return TimeMap.of(song).bar_count(tick)


def _song() -> Song:
    return Song(
        ticks_per_beat=100,
        tempos=[TempoChange(0, 500_000), TempoChange(400, 1_000_000)],
        time_signatures=[TimeSignature(0, 4, 4), TimeSignature(800, 6, 8)],
    )


@pytest.mark.parametrize(
    ("tick", "seconds"), [(0, 0.0), (100, 0.5), (400, 2.0), (450, 2.5), (1000, 8.0)]
)
def test_seconds_follow_the_tempo_map(tick, seconds):
    assert seconds_at(_song(), tick) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("tick", "bars"),
    [(0, 0), (1, 1), (400, 1), (401, 2), (800, 2), (801, 3), (1100, 3), (1101, 4)],
)
def test_bars_follow_the_meter_map(tick, bars):
    # 4/4 bars are 400 ticks; 6/8 bars from tick 800 are 300 ticks.
    assert bars_until(_song(), tick) == bars


def test_a_meter_change_inside_a_bar_starts_a_new_bar():
    song = Song(
        ticks_per_beat=100, time_signatures=[TimeSignature(0, 4, 4), TimeSignature(100, 3, 4)]
    )
    assert bars_until(song, 400) == 2  # the cut-short first bar, then one 3/4 bar


def test_gm_names():
    assert len(GM_PROGRAM_NAMES) == 128 and len(set(GM_PROGRAM_NAMES)) == 128
    assert program_name(0) == "Acoustic Grand Piano" and program_name(73) == "Flute"
    assert program_name(128) == "Program 128"
    assert sorted(GM_DRUM_NAMES) == list(range(35, 82))
    assert drum_name(36) == "Bass Drum 1" and drum_name(42) == "Closed Hi Hat"
