"""Tick <-> seconds <-> bar/beat conversions through the tempo and meter maps."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from composer_gui.core.song import Song, SongError, TempoChange, TimeSignature
from composer_gui.core.timing import TimeMap
from tests.core.strategies import songs

ticks = st.integers(0, 20_000)


def exact_seconds(song: Song, tick: int) -> Fraction:
    """Independent reference: walk the tempo map in exact fractions."""
    total = Fraction(0)
    tempos = song.tempos
    for i, t in enumerate(tempos):
        end = tempos[i + 1].tick if i + 1 < len(tempos) else None
        if tick <= t.tick:
            break
        span = (min(tick, end) if end is not None else tick) - t.tick
        total += Fraction(span * t.us_per_beat, 1_000_000 * song.ticks_per_beat)
    return total


@given(song=songs(max_notes=0), tick=ticks)
@settings(max_examples=200, deadline=None)
def test_seconds_match_exact_reference_and_round_trip(song, tick):
    tm = TimeMap.of(song)
    secs = tm.tick_to_seconds(tick)
    assert secs == pytest.approx(float(exact_seconds(song, tick)), abs=1e-9)
    assert tm.seconds_to_tick(secs) == tick


@given(song=songs(max_notes=0), data=st.lists(ticks, min_size=1, max_size=50))
@settings(max_examples=100, deadline=None)
def test_vectorised_equals_scalar(song, data):
    tm = TimeMap.of(song)
    arr = np.array(data, dtype=np.int64)
    secs = tm.ticks_to_seconds_array(arr)
    assert secs.tolist() == [tm.tick_to_seconds(t) for t in data]
    assert tm.seconds_to_ticks_array(secs).tolist() == data
    bars, beats, rest = tm.ticks_to_bar_beat_array(arr)
    assert list(zip(bars.tolist(), beats.tolist(), rest.tolist())) == [
        tuple(tm.tick_to_bar_beat(t)) for t in data
    ]
    assert tm.bars_to_ticks_array(bars).tolist() == [tm.bar_to_tick(b) for b in bars.tolist()]


@given(song=songs(max_notes=0), tick=ticks)
@settings(max_examples=200, deadline=None)
def test_bars_and_beats_are_consistent(song, tick):
    tm = TimeMap.of(song)
    bar = tm.bar_of(tick)
    assert tm.bar_to_tick(bar) <= tick < tm.bar_to_tick(bar + 1)
    pos = tm.tick_to_bar_beat(tick)
    assert pos.bar == bar
    assert tm.bar_beat_to_tick(*pos) == tick
    assert tm.parse_position(tm.format_position(tick)) == tick
    meter = tm.meter_at(tick)
    assert 0 <= pos.beat < meter.numerator
    assert 0 <= pos.tick < tm.beat_length(tick)
    assert tm.beat_length(tick) == song.ticks_per_beat * 4 / meter.denominator


@given(song=songs(max_notes=0))
@settings(max_examples=100, deadline=None)
def test_meter_changes_start_bars_and_bars_have_their_length(song):
    tm = TimeMap.of(song)
    tpb = song.ticks_per_beat
    changes = [ts.tick for ts in song.time_signatures]
    starts = tm.bar_starts(12_000).tolist()
    assert starts[0] == 0 and starts == sorted(set(starts))
    assert set(changes) <= set(starts)  # each meter change starts a bar, even mid-bar
    for a, b in zip(starts, starts[1:]):
        nominal = tm.meter_at(a).numerator * tpb * 4 / tm.meter_at(a).denominator
        cut = any(a < c <= b for c in changes)
        assert b - a == nominal or (cut and b - a < nominal and b in changes)
    assert tm.bar_count(12_000) == len(starts)
    beats = tm.beat_starts(12_000)
    assert set(starts) <= set(beats.tolist())
    assert all(tm.tick_to_bar_beat(int(t)).tick == 0 for t in beats)


def test_six_eight_and_mid_bar_change():
    song = Song(
        ticks_per_beat=480,
        time_signatures=[TimeSignature(0, 6, 8), TimeSignature(2160, 2, 4)],
    )
    tm = TimeMap.of(song)
    assert tm.beat_length(0) == 240  # the beat of 6/8 is an eighth
    assert tm.format_position(240 * 7) == "2.2.000"
    # 2160 is 1.5 bars of 6/8 in: bar 2 is cut to 720 ticks and 2/4 starts bar 3.
    assert tm.bar_starts(4000).tolist() == [0, 1440, 2160, 3120]
    assert tm.bar_length(1) == 720
    assert tm.format_position(2160) == "3.1.000"
    assert tm.bar_range_to_ticks(1, 3) == (1440, 3120)
    assert tm.snap(1500, 480) == 1440 and tm.snap(2200, 480, "ceil") == 2640


def test_missing_start_entries_take_midi_defaults():
    tm = TimeMap(480, [TempoChange(960, 1_000_000)], [TimeSignature(1920, 3, 4)])
    assert tm.tick_to_seconds(960) == 1.0  # 120 bpm before the first change
    assert tm.meter_at(0).numerator == 4
    with pytest.raises(SongError):
        tm.parse_position("0.1")
    with pytest.raises(SongError):
        tm.parse_position("bar 3")


def test_fractional_bar_lengths_do_not_drift():
    # 7/32 at 100 ticks per beat: a bar is 87.5 ticks.
    tm = TimeMap(100, [], [TimeSignature(0, 7, 32)])
    starts = tm.bar_starts(100_000)
    assert starts[-1] == round(87.5 * (len(starts) - 1) + 0.25)  # half up, no drift
    assert set(np.diff(starts).tolist()) == {87, 88}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_against_pretty_midi_on_real_files(datasets_dir):
    """Seconds and bar lines agree with pretty_midi on real files with tempo/meter changes."""
    mido = pytest.importorskip("mido")
    pretty_midi = pytest.importorskip("pretty_midi")
    rng = random.Random(7)
    files = []
    for folder in ("nottingham", "groove", "bach_chorales"):
        found = sorted((datasets_dir / folder).rglob("*.mid"))
        files += rng.sample(found, min(3, len(found)))
    for path in files:
        mid = mido.MidiFile(path)
        tempos, metres, tick = [], [], 0
        for track in mid.tracks:
            tick = 0
            for msg in track:
                tick += msg.time
                if msg.type == "set_tempo":
                    tempos.append(TempoChange(tick, msg.tempo))
                elif msg.type == "time_signature":
                    metres.append(TimeSignature(tick, msg.numerator, msg.denominator))
        tm = TimeMap(mid.ticks_per_beat, tempos, metres)
        pm = pretty_midi.PrettyMIDI(str(path))
        end = max((n.end for i in pm.instruments for n in i.notes), default=0.0)
        probe = [0, 1, mid.ticks_per_beat * 3 + 7, int(pm.time_to_tick(end))]
        for t in probe:
            assert tm.tick_to_seconds(t) == pytest.approx(pm.tick_to_time(t), abs=1e-6), path
        # pretty_midi counts a meter repeated on one tick (Bach files repeat it per
        # track) as several zero-length bars; keep one per tick, as the reader does.
        pm.time_signature_changes = list(
            {ts.time: ts for ts in pm.time_signature_changes}.values()
        )
        downbeats = pm.get_downbeats()
        ours = tm.ticks_to_seconds_array(tm.bar_starts(int(pm.time_to_tick(end))))
        n = min(len(downbeats), len(ours))
        assert n > 0
        np.testing.assert_allclose(ours[:n], downbeats[:n], atol=2e-3, err_msg=str(path))


@given(song=songs(max_notes=0), grid=st.sampled_from([30, 120, 160, 100 / 3, 250]))
@settings(max_examples=60, deadline=None)
def test_grid_lines_are_snap_points(song, grid):
    tm = TimeMap.of(song)
    lines = tm.grid_starts(10_000, grid)
    assert lines.tolist() == sorted(set(lines.tolist()))
    assert set(tm.bar_starts(10_000).tolist()) <= set(lines.tolist())
    for t in lines.tolist()[::7]:
        assert tm.snap(t, grid) == t
    probe = np.arange(0, 10_000, 97)
    line_set = set(tm.grid_starts(10_500, grid).tolist())
    for t in probe.tolist():
        assert tm.snap(t, grid) in line_set


def test_bad_tempo_is_refused():
    with pytest.raises(SongError):
        TimeMap(480, [TempoChange(0, 0)])


def test_typed_tunes_parse_pitch_names_and_beats():
    from composer_gui.core.notation import note_number, notes_from_text

    assert [note_number(n) for n in ("C4", "F#3", "Bb4", "Ebb5", "A0")] == [60, 54, 70, 74, 21]
    notes, end = notes_from_text("E4 1 r .5 D4 .5", ticks_per_beat=480)
    assert [(n.pitch, n.start, n.duration) for n in notes] == [(64, 0, 456), (62, 720, 216)]
    assert end == 960
    with pytest.raises(ValueError):
        note_number("H4")
