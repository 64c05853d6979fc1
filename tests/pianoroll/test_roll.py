"""Song <-> piano-roll arrays: layout, round trips on the grid, real files."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from composer_gui.core.edits import Quantize
from composer_gui.core.song import Note, Song, SongError, TimeSignature, Track, normalize_notes
from composer_gui.pianoroll.roll import (
    roll_to_notes,
    rolls_to_notes,
    song_to_roll,
    song_to_roll_bars,
    song_to_roll_with_onsets,
    step_to_tick,
    tick_to_step,
)
from tests.pianoroll.real_songs import song_from_file


def merge_touching(notes: list[Note]) -> list[Note]:
    """What a roll without onsets makes of notes: same-pitch notes that touch become one."""
    by_pitch: dict[int, list[Note]] = {}
    for n in sorted(notes, key=lambda n: (n.pitch, n.start)):
        run = by_pitch.setdefault(n.pitch, [])
        if run and run[-1].end == n.start:
            run[-1] = run[-1].replace(duration=n.end - run[-1].start)
        else:
            run.append(n)
    return sorted((n for run in by_pitch.values() for n in run), key=lambda n: (n.start, n.pitch))


@st.composite
def grid_songs(draw):
    tpb = draw(st.sampled_from([96, 480, 1024]))
    spb = draw(st.sampled_from([4, 12]))
    raw = draw(
        st.lists(
            st.tuples(
                st.integers(40, 52), st.integers(0, 64), st.integers(1, 12), st.integers(1, 127)
            ),
            max_size=40,
        )
    )
    notes = []
    for pitch, k0, length, vel in raw:
        a = step_to_tick(k0, 0, tpb, spb)
        b = step_to_tick(k0 + length, 0, tpb, spb)
        notes.append(Note(pitch, a, b - a, vel))
    return Song(ticks_per_beat=tpb, tracks=[Track(notes=normalize_notes(notes))]), spb


@given(case=grid_songs())
@settings(max_examples=150, deadline=None)
def test_grid_notes_round_trip_exactly(case):
    song, spb = case
    tpb = song.ticks_per_beat
    notes = song.tracks[0].notes
    end = step_to_tick(80, 0, tpb, spb)
    roll, onsets = song_to_roll_with_onsets(song, [0], 0, end, spb)
    assert roll.shape == (1, 80, 128) and roll.dtype == np.uint8
    assert roll_to_notes(roll[0], 0, tpb, spb, onsets=onsets[0]) == notes
    assert roll_to_notes(roll[0], 0, tpb, spb) == merge_touching(notes)
    binary = song_to_roll(song, [0], 0, end, spb, binary=True)
    assert binary.dtype == bool and np.array_equal(binary, roll > 0)
    back = roll_to_notes(binary[0], 0, tpb, spb, velocity=77, onsets=onsets[0])
    assert back == [n.replace(velocity=77) for n in notes]


@given(
    starts=st.lists(st.integers(0, 5000), min_size=1, max_size=20, unique=True),
    spb=st.sampled_from([4, 12]),
)
@settings(max_examples=100, deadline=None)
def test_off_grid_notes_land_on_the_nearest_step(starts, spb):
    tpb = 480
    step = tpb // spb
    notes = normalize_notes(Note(40 + i, s, 1 + (s % 700)) for i, s in enumerate(starts))
    song = Song(tracks=[Track(notes=notes)])
    roll, onsets = song_to_roll_with_onsets(song, [0], 0, 6000, spb)
    back = roll_to_notes(roll[0], 0, tpb, spb, onsets=onsets[0])
    assert len(back) == len(notes)  # distinct pitches: every note survives, >= 1 step
    for a, b in zip(sorted(notes, key=lambda n: n.pitch), sorted(back, key=lambda n: n.pitch)):
        assert abs(a.start - b.start) <= step // 2
        assert b.start % step == 0 and b.duration >= step


def test_range_clips_and_continuations_have_no_onset():
    notes = [Note(60, 0, 960), Note(62, 900, 300), Note(64, 1900, 200)]
    song = Song(tracks=[Track(notes=notes)])
    roll, onsets = song_to_roll_with_onsets(song, [0], 480, 1920, 4)
    assert roll.shape == (1, 12, 128)
    assert roll[0, :4, 60].all() and not roll[0, 4:, 60].any()
    assert not onsets[0, :, 60].any()  # began before the window
    assert onsets[0, 4, 62] and roll[0, 4:6, 62].all()  # 900 -> step 3.5, rounds up to 4
    assert not roll[0, 6:, 62].any()  # 1200 -> step 6
    assert not roll[0, :, 64].any()  # starts after the window ends
    back = roll_to_notes(roll[0], 480, 480, 4, onsets=onsets[0])
    assert back == [Note(60, 480, 480), Note(62, 960, 240)]


def test_collisions_after_rounding_keep_the_later_note():
    # Two notes of one pitch 30 ticks apart fall on the same 1/16 step.
    song = Song(tracks=[Track(notes=[Note(60, 0, 30, 20), Note(60, 30, 200, 90)])])
    roll, onsets = song_to_roll_with_onsets(song, [0], 0, 480, 4)
    assert roll[0, :, 60].tolist()[:3] == [90, 90, 0]
    assert onsets[0, :, 60].sum() == 1


def test_velocity_threshold_and_min_steps():
    probs = np.zeros((8, 128), dtype=np.float32)
    probs[0:4, 60] = 0.9
    probs[5, 60] = 0.7  # a one-step blip
    probs[2:6, 64] = 0.3  # below the threshold
    vel = np.full((8, 128), 64.4)
    assert roll_to_notes(probs, 0, 480, 4, threshold=0.5, velocity=vel) == [
        Note(60, 0, 480, 64),
        Note(60, 600, 120, 64),
    ]
    assert roll_to_notes(probs, 0, 480, 4, min_steps=2, threshold=0.5) == [Note(60, 0, 480, 100)]
    with pytest.raises(SongError):
        roll_to_notes(probs[None], 0, 480, 4)
    with pytest.raises(SongError):
        roll_to_notes(probs, 0, 480, 4, velocity=vel[:4])


def test_bar_windows_follow_the_meter_map():
    song = Song(
        ticks_per_beat=480,
        time_signatures=[TimeSignature(0, 3, 4), TimeSignature(2880, 6, 8)],
        tracks=[Track(notes=[Note(60, 2880, 1440), Note(67, 4320, 240)])],
    )
    roll, ons, start = song_to_roll_bars(song, [0], 2, 2, 12, onsets=True)
    assert start == 2880 and roll.shape == (1, 72, 128)  # two 6/8 bars = 6 beats
    assert rolls_to_notes(roll, start, 480, 12, onsets=ons) == [song.tracks[0].notes]


def test_tick_step_helpers_are_inverse_on_the_grid():
    ks = np.arange(-50, 500)
    for tpb, spb in ((480, 4), (1024, 12), (96, 12), (100, 3)):
        ticks = step_to_tick(ks, 17, tpb, spb)
        assert np.array_equal(tick_to_step(ticks, 17, tpb, spb), ks)


def real_files(datasets_dir, per_folder: int = 3):
    rng = random.Random(2024)
    out = []
    for folder in ("pop909", "bach_chorales", "nottingham", "groove"):
        found = sorted((datasets_dir / folder).rglob("*.mid"))
        out += rng.sample(found, min(per_folder, len(found)))
    return out


@pytest.mark.parametrize("spb", [4, 12])
def test_real_files_round_trip_on_the_grid(datasets_dir, spb):
    """Real songs, snapped to the step grid by the Quantize edit, survive the bridge."""
    for path in real_files(datasets_dir):
        song = song_from_file(path)
        tpb = song.ticks_per_beat
        grid = tpb / spb
        for i in range(len(song.tracks)):
            Quantize(i, grid, 1.0, ends=True).apply(song)
        indices = list(range(len(song.tracks)))
        end = song.end_tick
        rolls, onsets = song_to_roll_with_onsets(song, indices, 0, end, spb)
        back = rolls_to_notes(rolls, 0, tpb, spb, onsets=onsets)
        plain = rolls_to_notes(rolls, 0, tpb, spb)
        assert song.note_count > 0, path
        for i, track in enumerate(song.tracks):
            assert back[i] == track.notes, f"{path} track {i}"
            assert plain[i] == merge_touching(track.notes), f"{path} track {i}"


def test_real_files_already_on_the_grid_need_no_quantizing(datasets_dir):
    """Bach chorales are written on a 1/16 grid: they round-trip untouched at 4 and 12."""
    rng = random.Random(5)
    files = rng.sample(sorted((datasets_dir / "bach_chorales").glob("*.mid")), 3)
    for path in files:
        song = song_from_file(path)
        for spb in (4, 12):
            rolls, onsets = song_to_roll_with_onsets(
                song, range(len(song.tracks)), 0, song.end_tick, spb
            )
            back = rolls_to_notes(rolls, 0, song.ticks_per_beat, spb, onsets=onsets)
            assert back == [t.notes for t in song.tracks], path
