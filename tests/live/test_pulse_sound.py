"""The built-in synthesizer heard through a real desktop sound server.

Notes played through :class:`AudioOutput` on PulseAudio (or PipeWire's PulseAudio
server) are recorded from the default sink's monitor with ``parec``; each recorded note
must sound at its pitch (the spectrum's peak within a quarter tone of the note's
fundamental). CI starts a PulseAudio server with a null sink
(``.ci/pulse``); without a reachable server the test skips and says so.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import numpy as np
import pytest

RATE = 44100
#: GM ocarina: its fundamental is the spectrum's peak on every key (a piano's or a flute's
#: octave or second octave is louder on some), so the peak names the pitch.
OCARINA = 79
#: (MIDI pitch, fundamental in Hz): A3, E4, A4, E5
NOTES = ((57, 220.00), (64, 329.63), (69, 440.00), (76, 659.26))
NOTE_S = 0.5
GAP_S = 0.25
LOUD = 1e-3


def _pulse_sink() -> str:
    """The default sink's name, or skip with the reason there is none to record."""
    for tool in ("pactl", "parec"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (apt-get install pulseaudio-utils)")
    info = subprocess.run(["pactl", "get-default-sink"], capture_output=True, text=True,
                          timeout=10)
    if info.returncode != 0 or not info.stdout.strip():
        pytest.skip("no PulseAudio/PipeWire server reachable (CI starts one: .ci/pulse)")
    return info.stdout.strip()


def _sounding_runs(audio: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) sample of each stretch of sound; a tenth of a second of silence
    (the synthesizer is cut between notes) separates two."""
    loud = np.flatnonzero(np.abs(audio) > LOUD)
    if not loud.size:
        return []
    breaks = np.flatnonzero(np.diff(loud) > RATE // 10)
    starts = np.concatenate(([loud[0]], loud[breaks + 1]))
    ends = np.concatenate((loud[breaks], [loud[-1]]))
    return list(zip(starts.tolist(), ends.tolist()))


def _heard_all(raw) -> bool:
    """Whether the recording holds as many notes as were played, the last one ended."""
    audio = np.fromfile(raw, dtype=np.float32)
    runs = _sounding_runs(audio)
    return len(runs) >= len(NOTES) and len(audio) - runs[-1][1] > RATE // 5


def _peak_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)), n=1 << 17))
    freqs = np.fft.rfftfreq(1 << 17, 1 / RATE)
    band = (freqs > 60) & (freqs < 5000)
    return float(freqs[band][np.argmax(spectrum[band])])


def test_notes_sound_at_their_pitch_through_the_sound_server(tmp_path):
    pytest.importorskip("tinysoundfont", reason="built-in synthesizer not installed")
    sink = _pulse_sink()
    from composer_gui.audio.device import AudioOutput
    from composer_gui.audio.engine import Engine
    from composer_gui.audio.synth import SoundFontSynth

    engine = Engine(SoundFontSynth())
    raw = tmp_path / "monitor.raw"
    with raw.open("wb") as out_file:
        recorder = subprocess.Popen(
            ["parec", f"--device={sink}.monitor", "--format=float32le", f"--rate={RATE}",
             "--channels=1", "--raw", "--latency-msec=10"],
            stdout=out_file,
        )
        try:
            # parec takes a while to connect: play only once it records
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and raw.stat().st_size < 4 * RATE // 10:
                time.sleep(0.05)
            # 20 ms periods, not the app's 5: this checks the sound's pitch, not latency
            # (benchmarks/sound_latency.py), and CI's two cores are busy with other work
            with AudioOutput(engine, backend="pulseaudio", buffer_ms=20) as output:
                assert output.backend.lower().startswith("pulse")
                engine.send((0xC0, OCARINA))
                time.sleep(0.5)
                for pitch, _hz in NOTES:
                    engine.send((0x90, pitch, 100))
                    time.sleep(NOTE_S)
                    engine.send((0x80, pitch, 0))
                    engine.panic()  # cut the release, so the next note starts clean
                    time.sleep(GAP_S)
                # The server plays (and parec writes) what it was given a little later,
                # later still after an underrun: keep the stream open until the file
                # holds every note (at most 10 s).
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and not _heard_all(raw):
                    time.sleep(0.1)
        finally:
            recorder.terminate()
            recorder.wait(timeout=10)
    audio = np.fromfile(raw, dtype=np.float32)
    notes = _sounding_runs(audio)
    assert len(notes) == len(NOTES), (
        f"heard {len(notes)} separate notes, played {len(NOTES)} "
        f"(sounding at {[round(a / RATE, 2) for a, _ in notes]} s)"
    )
    heard = []
    for start, end in notes:
        assert (end - start) / RATE > NOTE_S - 0.1, "a note was cut short"
        heard.append(_peak_hz(audio[start + int(0.05 * RATE):start + int(0.4 * RATE)]))
    # a quarter tone is 2.9 %: each note is heard at its own pitch, not a neighbour's
    for (pitch, hz), got in zip(NOTES, heard):
        assert abs(got / hz - 1) < 0.029, f"MIDI {pitch}: expected {hz} Hz, heard {got:.1f} Hz"
