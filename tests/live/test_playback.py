"""Playback to a MIDI port, the built-in engine, the mixer and the WAV render."""

from __future__ import annotations

import threading
import time
import wave

import numpy as np
import pytest

from composer_gui.audio.engine import Engine
from composer_gui.audio.mixer import Mixer, plan_channels
from composer_gui.audio.playback import EnginePlayer, PortPlayer
from composer_gui.audio.render import render_song, render_wav
from composer_gui.audio.timeline import build_timeline
from composer_gui.core.song import Event, Note, Song, TempoChange, Track

SR = 44100


def _song(tempo_bpm=240.0):
    melody = Track(name="melody", program=0, channel=0,
                   notes=[Note(60 + 2 * i, i * 240, 200, 70 + i) for i in range(8)])
    bass = Track(name="bass", program=33, channel=1, notes=[Note(36, 0, 960, 90),
                                                            Note(43, 960, 960, 90)])
    return Song(tempos=[TempoChange(0, round(60_000_000 / tempo_bpm))], tracks=[melody, bass])


def _collect(sink, n, timeout=5.0):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got += [r for r in sink.drain() if r.data[0] & 0xF0 in (0x80, 0x90)]
        time.sleep(0.005)
    return got


# ------------------------------------------------------------------ MIDI port


def test_port_playback_sends_every_note_in_order_on_time(jack_server, unique):
    from composer_gui.midi.ports import MidiInput, MidiOutput

    song = _song()
    timeline = build_timeline(song, plan_channels(song, own_channels=False))
    expected = [(t, m) for t, m in zip(timeline.times, timeline.messages) if m[0] & 0xE0 == 0x80]
    with MidiInput(virtual=True, client_name=unique, port_name="sink") as sink:
        with MidiOutput(f"{unique}:sink") as out:
            time.sleep(0.15)
            player = PortPlayer(out, song)
            try:
                sink.drain()
                t0 = time.perf_counter()
                player.play(0.0)
                got = _collect(sink, len(expected))
            finally:
                player.close()
    got = sink.retime(got)
    assert [r.data for r in got] == [m for _, m in expected]
    errors = np.array([abs((r.time - t0) - t) for r, (t, _) in zip(got, expected)])
    assert np.median(errors) < 0.005, errors


def test_stop_releases_sounding_notes_with_all_notes_off(jack_server, unique):
    from composer_gui.midi.ports import MidiInput, MidiOutput

    song = Song(tracks=[Track(notes=[Note(60, 0, 4800, 100)], channel=3)])  # a 5 s note
    with MidiInput(virtual=True, client_name=unique, port_name="sink") as sink:
        with MidiOutput(f"{unique}:sink") as out:
            time.sleep(0.15)
            player = PortPlayer(out, song)
            player.play(0.0)
            assert _collect(sink, 1)[0].data == (0x93, 60, 100)
            player.stop()
            time.sleep(0.1)
            after = [r.data for r in sink.drain()]
            player.close()
    assert (0x83, 60, 0) in after
    assert all((0xB0 | ch, 123, 0) in after for ch in range(16))
    assert not player.state().playing and player.state().seconds == 0.0


class _TimedOutput:
    """Forwards to a real port and notes when each message left the scheduler."""

    def __init__(self, port) -> None:
        self.port = port
        self.sent: list[tuple[float, tuple[int, ...]]] = []

    def send(self, data) -> None:
        self.sent.append((time.perf_counter(), tuple(data)))
        self.port.send(data)

    def all_notes_off(self) -> None:
        self.port.all_notes_off()


def test_gui_thread_stall_does_not_delay_port_notes(jack_server, unique):
    """A 200 ms busy main thread (a stalled GUI) while notes are due: the scheduler
    thread still sends each note on time (timed where it leaves the scheduler, so the
    JACK server's own jitter on a loaded machine does not count)."""
    from composer_gui.midi.ports import MidiOutput

    notes = [Note(60 + i, i * 48, 40, 100) for i in range(20)]  # every 50 ms at 120 bpm
    song = Song(tracks=[Track(notes=notes)])
    with MidiOutput(virtual=True, client_name=unique, port_name="out") as port:
        out = _TimedOutput(port)
        player = PortPlayer(out, song)
        t0 = time.perf_counter()
        player.play(0.0)
        time.sleep(0.3)
        stall_start = time.perf_counter() - t0
        stall_end = time.perf_counter() + 0.2
        x = 0
        while time.perf_counter() < stall_end:  # pure-Python stall holding the GIL
            x += 1
        time.sleep(0.6)
        player.close()
    ons = [t for t, m in out.sent if m[0] == 0x90]
    assert len(ons) == 20
    errors = [abs((t - t0) - i * 0.05) for i, t in enumerate(ons)]
    assert np.median(errors) < 0.005, errors
    # Notes due during the stall went out during it, not bunched up at its end.
    during = [i for i in range(20) if stall_start <= i * 0.05 <= stall_end - t0 - 0.06]
    assert len(during) >= 2
    assert all(ons[i] < stall_end - 0.03 for i in during), errors


# ------------------------------------------------------------------ built-in engine


def test_engine_loop_range_repeats(synth):
    synth.reset()
    song = Song(tracks=[Track(notes=[Note(72, 0, 240, 100), Note(48, 960, 240, 100)])])
    engine = Engine(synth)
    player = EnginePlayer(engine, song)
    player.set_loop(0.0, 0.4)  # only the first note, again and again
    player.play(0.0)
    audio = np.concatenate([engine.render(512) for _ in range(int(1.5 * SR / 512))])
    assert player.state().playing and player.state().seconds < 0.4
    # The note's attack comes back every 0.4 s: find the jumps of a 10 ms envelope.
    env = np.abs(audio[: len(audio) // 441 * 441, 0]).reshape(-1, 441).max(axis=1)
    onsets = np.flatnonzero((env[1:] > 0.02) & (env[1:] > 3 * env[:-1])) + 1
    assert len(onsets) >= 3
    assert np.allclose(np.diff(onsets[:3]), 40, atol=2)


def test_live_note_sounds_in_the_next_buffer(synth):
    synth.reset()
    engine = Engine(synth)
    engine.render(256)
    engine.send((0x90, 60, 100), time.perf_counter())
    block = engine.render(256)
    assert np.abs(block).max() > 0.005
    (waited, _), = engine.live_latencies
    assert waited < 0.1


def test_mixer_mute_solo_and_pan(synth):
    song = _song()
    rms = lambda a: float(np.sqrt((a ** 2).mean()))  # noqa: E731
    full = render_song(song, synth=synth)
    muted = render_song(song, Mixer.from_song(song).with_strip(0, mute=True)
                        .with_strip(1, mute=True), synth=synth)
    solo = render_song(song, Mixer.from_song(song).with_strip(1, solo=True), synth=synth)
    left = render_song(song, Mixer.from_song(song).with_strip(0, pan=-1.0)
                       .with_strip(1, pan=-1.0), synth=synth)
    quiet = render_song(song, Mixer(Mixer.from_song(song).tracks, master=0.25), synth=synth)
    assert rms(muted) < 1e-4 < rms(full)
    energy = lambda a: float((a.astype(np.float64) ** 2).sum())  # noqa: E731
    assert 0 < energy(solo) < energy(full)
    melody_muted = render_song(song, Mixer.from_song(song).with_strip(0, mute=True), synth=synth)
    n = min(len(solo), len(melody_muted))
    assert np.allclose(solo[:n], melody_muted[:n], atol=1e-4)  # solo bass = melody muted
    assert rms(left[:, 1]) < 0.05 * rms(left[:, 0])
    assert rms(quiet) == pytest.approx(0.25 * rms(full), rel=0.05)


def test_sustain_pedal_in_the_song_holds_notes(synth):
    staccato = Track(notes=[Note(60, 0, 48, 100)])
    pedal = Track(notes=[Note(60, 0, 48, 100)],
                  events=[Event.make(0, "control_change", control=64, value=127),
                          Event.make(960, "control_change", control=64, value=0)])
    a = render_song(Song(tracks=[staccato, Track(notes=[Note(20, 960, 10, 1)])]), synth=synth)
    b = render_song(Song(tracks=[pedal, Track(notes=[Note(20, 960, 10, 1)])]), synth=synth)
    window = slice(int(0.5 * SR), int(0.9 * SR))  # after the key is up, before pedal up
    assert np.abs(b[window]).max() > 10 * np.abs(a[window]).max()


# ------------------------------------------------------------------ WAV render


def test_wav_render_length_level_and_pitches(synth, tmp_path):
    # A4 (440 Hz) then E5 (659 Hz), each one second, on a clean sine-like organ? Use the
    # flute (GM 73): few overtones, so the spectrum peak is the played pitch.
    song = Song(tracks=[Track(program=73, notes=[Note(69, 0, 960, 100),
                                                 Note(76, 960, 960, 100)])])
    started = time.perf_counter()
    info = render_wav(song, tmp_path / "out.wav", synth=synth)
    assert info.render_seconds < info.seconds  # faster than real time (by far)
    del started
    with wave.open(str(tmp_path / "out.wav")) as w:
        assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (44100, 2, 2)
        frames = w.getnframes()
        pcm = np.frombuffer(w.readframes(frames), dtype="<i2").reshape(-1, 2) / 32768.0
    last_off = 2.0
    assert last_off <= frames / SR <= last_off + 2.0
    assert np.abs(pcm).max() > 0.05  # not silent

    def peak_hz(part):
        mono = part.mean(axis=1) * np.hanning(len(part))
        spectrum = np.abs(np.fft.rfft(mono))
        return np.fft.rfftfreq(len(part), 1 / SR)[np.argmax(spectrum)]

    assert peak_hz(pcm[int(0.2 * SR): int(0.9 * SR)]) == pytest.approx(440, rel=0.02)
    assert peak_hz(pcm[int(1.2 * SR): int(1.9 * SR)]) == pytest.approx(659.3, rel=0.02)


def test_render_of_empty_song_is_a_user_error(synth):
    from composer_gui.core.errors import UserError

    with pytest.raises(UserError, match="no notes"):
        render_song(Song(tracks=[Track()]), synth=synth)


def test_engine_player_runs_from_the_audio_thread(synth, jack_server):
    """Playback through a real (JACK) audio device reaches the end by itself."""
    from composer_gui.audio.device import AudioOutput

    synth.reset()
    engine = Engine(synth)
    song = Song(tracks=[Track(notes=[Note(60, 0, 96, 100)])])  # 0.1 s
    done = threading.Event()
    with AudioOutput(engine, backend="jack"):
        player = EnginePlayer(engine, song)
        player.play(0.0)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not done.is_set():
            if player.state().finished:
                done.set()
            time.sleep(0.02)
    assert done.is_set()


# ------------------------------------------------------------------ missing pieces


def test_missing_synth_package_is_named(monkeypatch):
    import sys

    from composer_gui.audio.synth import SoundFontSynth, SoundUnavailable, synth_available

    monkeypatch.setitem(sys.modules, "tinysoundfont", None)  # as if not installed
    assert "pip install --no-deps tinysoundfont" in synth_available()
    with pytest.raises(SoundUnavailable, match="tinysoundfont"):
        SoundFontSynth()


def test_missing_audio_device_is_a_clear_error(monkeypatch):
    from composer_gui.audio.device import AudioOutput
    from composer_gui.audio.synth import SoundUnavailable

    monkeypatch.setenv("JACK_DEFAULT_SERVER", "no-such-server")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    engine = Engine.__new__(Engine)  # the device never gets to render
    engine.sample_rate = SR
    with pytest.raises(SoundUnavailable, match="audio backend jack is not available"):
        AudioOutput(engine, backend="jack")


def test_missing_soundfont_file_is_named(tmp_path):
    from composer_gui.audio.synth import SoundUnavailable, find_soundfont

    with pytest.raises(SoundUnavailable, match="nothing.sf2: SoundFont not found"):
        find_soundfont(tmp_path / "nothing.sf2")


def test_restruck_notes_under_the_pedal_all_end_at_pedal_up(synth):
    """Each re-strike under the pedal must release the previous sound (the synthesizer
    ends one note-on per note-off; an orphan would ring and cost CPU for ever)."""
    repeated = Track(
        program=48,  # strings: a looping sample that rings while its voice lives
        notes=[Note(60, i * 96, 48, 100) for i in range(20)],  # 20 strikes in 2 s
        events=[Event.make(0, "control_change", control=64, value=127),
                Event.make(1920, "control_change", control=64, value=0)],
    )
    marker = Track(notes=[Note(20, 5760, 10, 1)])  # keeps the render going to 6 s
    audio = render_song(Song(tracks=[repeated, marker]), synth=synth)
    assert np.abs(audio[int(0.5 * SR): int(1.5 * SR)]).max() > 0.01  # it did sound
    assert np.abs(audio[int(4.5 * SR): int(5.9 * SR)]).max() < 1e-3  # and it all ended
