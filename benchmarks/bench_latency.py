"""Latency of the live path, over a real JACK MIDI connection.

1. MIDI message sent by a (virtual) keyboard -> note in the take recorder, with the
   recorder drained every 10 ms as the GUI's timer does (and the reader thread alone).
2. Key press -> first audio frame: a MIDI note-on arriving at the input, monitored
   through the built-in synthesizer, until the engine renders the buffer that starts the
   note; plus the device buffer length (what the sound card still has to play first).

Starts its own JACK server (dummy driver, 64 frames at 48 kHz) unless $JACK_DEFAULT_SERVER
names a running one. Prints medians and 99th percentiles over several runs.

    python benchmarks/bench_latency.py [--notes 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GUI_TIMER_S = 0.010


def _start_jack():
    if os.environ.get("JACK_DEFAULT_SERVER"):
        return None
    jackd = shutil.which("jackd")
    if jackd is None:
        sys.exit("jackd not found (apt-get install jackd2)")
    name = f"bench-{uuid.uuid4().hex[:6]}"
    os.environ.update(JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1")
    proc = subprocess.Popen([jackd, "-n", name, "--no-realtime", "-d", "dummy", "-r", "48000",
                             "-p", "64"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    return proc


def _keyboard(name):
    import rtmidi

    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=name)
    out.open_virtual_port("keys")
    return out


def bench_recorder(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(reader-thread latency, note-in-recorder latency) in seconds per note."""
    from composer_gui.core.song import Song
    from composer_gui.core.timing import TimeMap
    from composer_gui.midi.ports import MidiInput
    from composer_gui.midi.recorder import TakeRecorder

    name = f"kb{uuid.uuid4().hex[:6]}"
    kb = _keyboard(name)
    reader, visible = [], []
    with MidiInput(f"{name}:keys", api="jack", client_name=name + "app") as midi_in:
        time.sleep(0.2)
        rec = TakeRecorder(TimeMap.of(Song()), start_time=time.perf_counter())
        next_drain = time.perf_counter()
        for i in range(n):
            pitch = 36 + i % 60
            sent = time.perf_counter()
            kb.send_message([0x90, pitch, 100])
            seen = None
            while seen is None:
                now = time.perf_counter()
                if now >= next_drain:  # the GUI timer: a fixed 10 ms grid
                    while next_drain <= now:
                        next_drain += GUI_TIMER_S
                    records = midi_in.drain()
                    for r in records:
                        if r.data[:2] == (0x90, pitch):
                            reader.append(r.time - sent)
                    rec.feed(records)
                    if pitch in rec.held_pitches:
                        seen = time.perf_counter()
                time.sleep(0.0005)
            visible.append(seen - sent)
            kb.send_message([0x80, pitch, 0])
            time.sleep(random.uniform(0.005, 0.03))
    kb.close_port()
    return np.array(reader), np.array(visible)


def bench_screen(n: int) -> np.ndarray:
    """MIDI in -> the on-screen keyboard repainted with the key lit (offscreen Qt),
    through the app's LiveInput worker (10 ms drain timer) and a real event loop."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from composer_gui.ui.keyboard_widget import PianoKeyboard
    from composer_gui.workers.recording import LiveInput

    app = QApplication.instance() or QApplication([])
    name = f"kb{uuid.uuid4().hex[:6]}"
    kb = _keyboard(name)
    piano = PianoKeyboard(36, 96)
    piano.show()
    live = LiveInput(api="jack")
    shown: dict[int, float] = {}

    def on_started(pitch: int, _velocity: int) -> None:
        piano.set_note_active(pitch, True)
        piano.repaint()  # paint now, synchronously: the key is on screen after this
        shown[pitch] = time.perf_counter()

    live.note_started.connect(on_started)
    live.note_stopped.connect(lambda p: piano.set_note_active(p, False))
    assert live.open_port(f"{name}:keys")
    lat = []
    state = {"i": 0, "sent": 0.0, "pitch": None}

    def step() -> None:
        pitch = state["pitch"]
        if pitch is not None:
            if pitch not in shown:
                QTimer.singleShot(1, step)
                return
            lat.append(shown.pop(pitch) - state["sent"])
            kb.send_message([0x80, pitch, 0])
            state["pitch"] = None
            # Next note at a random phase of the drain timer, as a player would.
            QTimer.singleShot(random.randint(5, 30), step)
            return
        if state["i"] >= n:
            app.quit()
            return
        pitch = 36 + state["i"] % 60
        state.update(i=state["i"] + 1, pitch=pitch, sent=time.perf_counter())
        kb.send_message([0x90, pitch, 100])
        QTimer.singleShot(1, step)

    QTimer.singleShot(300, step)
    app.exec()
    live.shutdown()
    kb.close_port()
    return np.array(lat)


def bench_audio(n: int, buffer_ms: int) -> tuple[np.ndarray, float, str]:
    """(arrival -> rendered latencies, device buffer seconds, backend)."""
    from composer_gui.audio.device import AudioOutput
    from composer_gui.audio.engine import Engine
    from composer_gui.audio.synth import SoundFontSynth
    from composer_gui.midi.ports import MidiInput

    engine = Engine(SoundFontSynth())
    name = f"kb{uuid.uuid4().hex[:6]}"
    kb = _keyboard(name)

    def monitor(record):
        engine.send(record.data, record.time)

    with AudioOutput(engine, backend="jack", buffer_ms=buffer_ms) as out, MidiInput(
        f"{name}:keys", api="jack", client_name=name + "app", listener=monitor
    ):
        time.sleep(0.3)
        engine.live_latencies.clear()
        sent_times = []
        for i in range(n):
            sent_times.append(time.perf_counter())
            kb.send_message([0x90, 48 + i % 36, 100])
            time.sleep(random.uniform(0.01, 0.04))
            kb.send_message([0x80, 48 + i % 36, 0])
        time.sleep(0.2)
        rendered = [applied for _, applied in engine.live_latencies]
        buffer_s, backend = out.buffer_seconds, out.backend
    kb.close_port()
    lat = np.array([r - s for r, s in zip(rendered, sent_times)])
    return lat, buffer_s, backend


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--buffer-ms", type=int, default=5)
    args = parser.parse_args()
    jack = _start_jack()
    try:
        ms = lambda a: f"median {np.median(a) * 1000:6.2f} ms  p99 {np.percentile(a, 99) * 1000:6.2f} ms"  # noqa: E731
        for run in range(args.runs):
            reader, visible = bench_recorder(args.notes)
            print(f"run {run + 1}: MIDI in -> reader thread       {ms(reader)}")
            print(f"run {run + 1}: MIDI in -> note in recorder    {ms(visible)}"
                  f"  (GUI timer {GUI_TIMER_S * 1000:.0f} ms)")
            screen = bench_screen(args.notes)
            print(f"run {run + 1}: MIDI in -> key lit on screen   {ms(screen)}")
            lat, buffer_s, backend = bench_audio(args.notes, args.buffer_ms)
            total = lat + buffer_s
            print(f"run {run + 1}: MIDI in -> first audio frame   {ms(lat)}  ({backend})")
            print(f"run {run + 1}: ... + device buffer {buffer_s * 1000:.1f} ms      {ms(total)}")
    finally:
        if jack is not None:
            jack.terminate()
            jack.wait()


if __name__ == "__main__":
    main()
