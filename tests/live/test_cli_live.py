"""``composer-gui ports | record | play`` as a user runs them (subprocesses, real JACK)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import wave

import numpy as np
import pytest

from composer_gui.core.song import Note, Song, TempoChange, TimeSignature, Track
from composer_gui.midi.smf import read_midi, write_midi

from .conftest import REPO, Witness, melody_events


def _cli(*args, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "composer_gui", *args],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, **kw,
    )


def test_ports_lists_inputs_and_outputs(jack_server, keyboard):
    proc = _cli("ports")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "MIDI system: jack" in out
    inputs = out.split("inputs:")[1].split("outputs:")[0]
    assert keyboard.port in inputs


def test_record_writes_the_take_with_tempo_and_meter(jack_server, keyboard, tmp_path, unique):
    take = tmp_path / "take.mid"
    tempo = 150.0
    played = [(60, 0.0, 1.0, 100), (64, 1.0, 0.5, 80), (67, 1.5, 1.5, 60), (72, 3.0, 2.0, 110)]
    events = melody_events(played, tempo=tempo)
    faults = []
    for _attempt in range(4):
        witness = Witness(keyboard.port, unique + "w")
        proc = _cli("record", "--port", keyboard.client.upper(), "--bars", "3", "--tempo",
                    "150", "--meter", "3/4", "--count-in", "1", "-o", str(take))
        lines = []
        while True:  # wait for the downbeat of bar 1
            line = proc.stderr.readline()
            assert line, f"record ended early: {''.join(lines)}"
            lines.append(line)
            if line.strip() == "recording":
                break
        downbeat = time.perf_counter()
        keyboard.play(events, downbeat)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, "".join(lines) + err
        # The asynchronous JACK server can drop or delay an event of a client that missed
        # a cycle on a loaded machine: judge the take only when the rig was on time.
        fault = witness.rig_fault(keyboard)
        if fault is None:
            break
        faults.append(fault)
    else:
        pytest.fail("the test rig failed in every take: " + "; ".join(faults))
    assert any(line.startswith("count-in") for line in lines)
    assert "recorded 4 notes" in err
    sent = [(round(t - downbeat, 4), d) for t, d in keyboard.sent]

    song = read_midi(take)
    assert song.tempos[0].bpm == tempo and song.tempos[0].tick == 0
    sig = song.time_signatures[0]
    assert (sig.tick, sig.numerator, sig.denominator) == (0, 3, 4)
    notes = [n for t in song.tracks for n in t.notes]
    assert [(n.pitch, n.velocity) for n in notes] == [(p, v) for p, _, _, v in played]
    tick_s = 60.0 / tempo / song.ticks_per_beat
    # The downbeat is known here only as when "recording" was read from the pipe, so
    # onsets are compared relative to the first note; lengths directly.
    first = notes[0].start
    for note, (_, beat, length, _) in zip(notes, played):
        assert abs((note.start - first) * tick_s - beat * 60 / tempo) < 0.010, (notes, sent)
        assert abs(note.duration * tick_s - length * 60 / tempo) < 0.010, (notes, sent)
    assert first * tick_s < 0.050
    assert max(n.end for n in notes) <= 3 * 3 * song.ticks_per_beat


def test_record_unknown_port_is_a_clear_error(jack_server, tmp_path):
    proc = _cli("record", "--port", "No Such Keyboard", "--bars", "1", "-o",
                str(tmp_path / "x.mid"))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert err.startswith("composer-gui: error: no MIDI input port matches 'No Such Keyboard'")
    assert "Traceback" not in err and not (tmp_path / "x.mid").exists()


def _two_note_file(path):
    song = Song(tempos=[TempoChange(0, 250_000)],  # 240 bpm: 8th notes of 62.5 ms
                time_signatures=[TimeSignature(0, 4, 4)],
                tracks=[Track(name="m", program=73, channel=2,
                              notes=[Note(69, 0, 480, 100), Note(76, 480, 480, 90),
                                     Note(81, 960, 240, 80)])])
    write_midi(song, path)
    return song


def test_play_to_port_delivers_every_note(jack_server, unique, tmp_path):
    from composer_gui.midi.ports import MidiInput

    path = tmp_path / "song.mid"
    _two_note_file(path)
    with MidiInput(virtual=True, client_name=unique, port_name="synth") as sink:
        proc = _cli("play", str(path), "--port", f"{unique}:synth")
        out, err = proc.communicate(timeout=30)
        time.sleep(0.05)
        got = [r.data for r in sink.drain()]
    assert proc.returncode == 0, err
    notes = [d for d in got if d[0] & 0xF0 in (0x80, 0x90) and d[1] != 123]
    assert notes == [(0x92, 69, 100), (0x82, 69, 0), (0x92, 76, 90), (0x82, 76, 0),
                     (0x92, 81, 80), (0x82, 81, 0)]
    assert (0xC2, 73) in got  # the track's program


def test_play_through_built_in_sound(jack_server, synth, tmp_path):
    """No --port, no --wav: the built-in synthesizer to the sound card (here JACK)."""
    path = tmp_path / "song.mid"
    _two_note_file(path)
    started = time.perf_counter()
    proc = _cli("play", str(path))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "playing" in err
    assert time.perf_counter() - started > 0.75  # it played in real time


def test_play_to_wav(synth, tmp_path):
    path = tmp_path / "song.mid"
    _two_note_file(path)
    wav = tmp_path / "song.wav"
    proc = _cli("play", str(path), "--wav", str(wav))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    with wave.open(str(wav)) as w:
        assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (44100, 2, 2)
        seconds = w.getnframes() / 44100
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert 0.75 <= seconds <= 0.75 + 2.0
    assert np.abs(pcm).max() > 1000


def test_play_bad_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not a midi file")
    proc = _cli("play", str(bad), "--wav", str(tmp_path / "x.wav"))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "bad.mid" in err and "Traceback" not in err
