"""Recording: messages -> notes, and takes over a real JACK MIDI path."""

from __future__ import annotations

import time

import pytest

from composer_gui.core.quantize import grid_ticks
from composer_gui.core.song import Song, TempoChange, TimeSignature
from composer_gui.core.timing import TimeMap
from composer_gui.midi.recorder import TakeRecorder
from composer_gui.midi.records import MidiRecord

from .conftest import melody_events

TPB = 480


def _song(bpm=120.0, meter=(4, 4)):
    return Song(
        tempos=[TempoChange(0, round(60_000_000 / bpm))],
        time_signatures=[TimeSignature(0, *meter)],
    )


def _rec(t, *data):
    return MidiRecord(t, tuple(data))


def _recorder(**kw):
    return TakeRecorder(TimeMap.of(_song(**kw)), start_time=100.0)


# ------------------------------------------------------------------ messages -> notes


def test_notes_keep_pitch_velocity_and_timing():
    r = _recorder()  # 120 bpm: one beat = 0.5 s = 480 ticks
    r.feed([_rec(100.0, 0x90, 60, 90), _rec(100.25, 0x80, 60, 0),
            _rec(100.5, 0x90, 64, 30), _rec(101.0, 0x90, 64, 0)])  # note-on vel 0 = off
    r.stop(102.0)
    notes = r.finish()
    assert [(n.pitch, n.start, n.duration, n.velocity) for n in notes] == [
        (60, 0, 240, 90), (64, 480, 480, 30)]


def test_sustain_pedal_lengthens_released_notes_until_pedal_up():
    r = _recorder()
    r.feed([_rec(100.0, 0x90, 60, 80), _rec(100.1, 0xB0, 64, 127),
            _rec(100.2, 0x80, 60, 0),   # released under the pedal
            _rec(100.5, 0x90, 62, 80), _rec(100.6, 0x80, 62, 0),
            _rec(101.0, 0xB0, 64, 0),   # pedal up: both end here
            _rec(101.5, 0x90, 64, 80), _rec(101.75, 0x80, 64, 0)])  # after: normal
    r.stop(103.0)
    ends = {n.pitch: n.end for n in r.finish()}
    assert ends == {60: 960, 62: 960, 64: 1440 + 240}


def test_restruck_note_under_pedal_ends_the_earlier_one():
    r = _recorder()
    r.feed([_rec(100.0, 0xB0, 64, 127), _rec(100.0, 0x90, 60, 80), _rec(100.1, 0x80, 60, 0),
            _rec(100.5, 0x90, 60, 70), _rec(100.6, 0x80, 60, 0), _rec(101.0, 0xB0, 64, 0)])
    r.stop(102.0)
    notes = r.finish()
    assert [(n.start, n.end, n.velocity) for n in notes] == [(0, 480, 80), (480, 960, 70)]


def test_notes_held_at_stop_end_at_stop():
    r = _recorder()
    r.feed([_rec(100.0, 0x90, 60, 80), _rec(100.5, 0xB0, 64, 100),
            _rec(100.5, 0x90, 67, 80), _rec(100.7, 0x80, 67, 0)])
    r.stop(101.0)
    assert {(n.pitch, n.end) for n in r.finish()} == {(60, 960), (67, 960)}
    assert r.held_pitches == ()


def test_count_in_notes_dropped_and_early_downbeat_clamped():
    r = _recorder()
    r.feed([_rec(98.0, 0x90, 50, 80), _rec(98.3, 0x80, 50, 0),   # wholly in the count-in
            _rec(99.98, 0x90, 60, 80), _rec(100.5, 0x80, 60, 0)])  # 20 ms early
    r.stop(101.0)
    notes = r.finish()
    assert [(n.pitch, n.start, n.end) for n in notes] == [(60, 0, 480)]


def test_tempo_map_and_start_tick_are_honoured():
    song = _song(bpm=60.0)  # 1 beat = 1 s
    song.tempos.append(TempoChange(4 * TPB, 250_000))  # 240 bpm from bar 2
    r = TakeRecorder(TimeMap.of(song), start_time=10.0, start_tick=2 * TPB)
    # tick 960 at t=10; bar 2 (tick 1920) at t=12; then 0.25 s per beat
    r.feed([_rec(12.25, 0x90, 72, 100), _rec(12.5, 0x80, 72, 0)])
    r.stop(13.0)
    (note,) = r.finish()
    assert (note.start, note.duration) == (4 * TPB + TPB, TPB)


def test_quantize_is_off_by_default_and_snaps_when_asked():
    events = [_rec(100.03, 0x90, 60, 80), _rec(100.4, 0x80, 60, 0)]
    plain = _recorder()
    plain.feed(events)
    plain.stop(101)
    assert plain.finish()[0].start == round(0.03 * 960)
    snapped = TakeRecorder(TimeMap.of(_song()), start_time=100.0,
                           quantize=grid_ticks(TPB, 16))
    snapped.feed(events)
    snapped.stop(101)
    assert snapped.finish()[0].start == 0


def test_live_notes_show_open_notes_up_to_now():
    r = _recorder()
    r.feed([_rec(100.0, 0x90, 60, 80)])
    (open_note,) = r.notes(now=100.25)
    assert (open_note.start, open_note.duration) == (0, 240)


# ------------------------------------------------------------------ real MIDI path

MELODY = [  # pitch, start beat, length beats, velocity: staccato, legato, a chord
    (60, 0.0, 0.5, 100), (62, 0.5, 0.25, 64), (64, 1.0, 0.9, 30), (65, 2.0, 0.1, 127),
    (67, 2.5, 1.0, 80), (72, 2.5, 1.0, 81), (71, 3.75, 0.2, 90), (69, 4.0, 0.5, 70),
]


def test_take_from_virtual_keyboard_matches_what_was_played(jack_server, keyboard, unique):
    from composer_gui.midi.live import LiveTake
    from composer_gui.midi.ports import MidiInput, PortWatcher

    from .conftest import Witness

    bpm = 180.0
    song = _song(bpm=bpm)
    events = melody_events(MELODY, tempo=bpm)
    faults = []
    for _attempt in range(4):
        watcher = PortWatcher()
        witness = Witness(keyboard.port, unique + "w")
        with MidiInput(keyboard.port, client_name=unique) as midi_in:
            time.sleep(0.15)  # JACK connects asynchronously
            take = LiveTake(midi_in, song, bars=2, count_in_bars=1,
                            begin=time.perf_counter(), watcher=watcher)
            keyboard.play(events, take.start_time)
            while take.poll():
                time.sleep(0.005)
            result = take.result()
        watcher.close()
        fault = witness.rig_fault(keyboard)
        if fault is None:
            break  # the rig played and delivered everything on time: judge the take
        faults.append(fault)
    else:
        pytest.fail("the test rig failed in every take: " + "; ".join(faults))
    assert not result.source_lost
    got = sorted((n.pitch, n.start, n.duration, n.velocity) for n in result.notes)
    want = sorted(MELODY)
    assert [g[0] for g in got] == [w[0] for w in want]
    assert [g[3] for g in got] == [w[3] for w in want]
    beat_s = 60.0 / bpm
    tick_s = beat_s / TPB
    for (pitch, start, dur, _), (_, beat, length, _) in zip(got, want):
        assert abs(start * tick_s - beat * beat_s) < 0.010, f"onset of {pitch}"
        assert abs(dur * tick_s - length * beat_s) < 0.010, f"length of {pitch}"
    assert result.end_tick == 2 * 4 * TPB


def test_source_port_vanishing_mid_take_keeps_notes(jack_server, keyboard, unique):
    from composer_gui.midi.live import LiveTake
    from composer_gui.midi.ports import MidiInput, PortWatcher

    watcher = PortWatcher()
    with MidiInput(keyboard.port, client_name=unique) as midi_in:
        time.sleep(0.15)
        take = LiveTake(midi_in, _song(bpm=240.0), bars=8, count_in_bars=0,
                        begin=time.perf_counter(), watcher=watcher)
        first = [(60, 0, 0.5, 90), (62, 1, 0.5, 91), (64, 2, 0.5, 92)]
        keyboard.play(melody_events(first, tempo=240.0), take.start_time)
        keyboard.send((0x90, 67, 93))  # held when the keyboard is pulled
        deadline = time.perf_counter() + 2
        while 67 not in take.recorder.held_pitches and time.perf_counter() < deadline:
            take.poll()  # until the app has seen the key go down
            time.sleep(0.005)
        keyboard.close()
        pulled = time.perf_counter()
        while take.poll():
            time.sleep(0.005)
            assert time.perf_counter() - pulled < 3, "the lost port was not noticed"
        result = take.result()
    watcher.close()
    assert result.source_lost
    assert "disappeared" in result.message and "kept the 4 notes" in result.message
    assert [(n.pitch, n.velocity) for n in result.notes] == [(60, 90), (62, 91), (64, 92), (67, 93)]
    assert result.end_tick < 8 * 4 * TPB


def test_unplugged_keyboard_gives_clear_error(jack_server):
    from composer_gui.midi.ports import MidiInput, NoSuchPortError

    with pytest.raises(NoSuchPortError, match="no MIDI input port matches 'Nonexistent"):
        MidiInput("Nonexistent Keyboard 88")
