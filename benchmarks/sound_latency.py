"""Key press to sound, through a real sound server (PulseAudio or PipeWire's pulse).

A note-on goes to the engine as a key press does (``Engine.send`` with its time); the
built-in synthesizer plays it through :class:`AudioOutput` on the server's default sink,
and ``parec`` records that sink's monitor in small fragments. The reader thread stamps
each fragment as it arrives; the sound's first sample is dated back from the stamp of
its fragment by the samples that follow it there. Latency = that date - key press. It
includes the app's wait for the next audio callback, the device buffer, the server's
mixing and the sink's block, and (a small upper-bound error) parec's own transport.

Uses $PULSE_SERVER / the running server; without one it starts a private PulseAudio
with a null sink (Debian: pulseaudio, pulseaudio-utils). Prints medians over runs.

    python benchmarks/sound_latency.py [--notes 40] [--runs 3] [--buffer-ms 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RATE = 48000
LOUD = 1e-3


def _server_reachable() -> bool:
    return subprocess.run(["pactl", "info"], capture_output=True).returncode == 0


def _start_private_server() -> subprocess.Popen | None:
    if _server_reachable():
        return None
    if shutil.which("pulseaudio") is None:
        sys.exit("no sound server reachable and pulseaudio not installed "
                 "(apt-get install pulseaudio pulseaudio-utils)")
    runtime = tempfile.mkdtemp(prefix="sound-latency-")
    os.makedirs(f"{runtime}/home")
    env = dict(os.environ, HOME=f"{runtime}/home", XDG_RUNTIME_DIR=runtime)
    proc = subprocess.Popen(
        ["pulseaudio", "-n", "--exit-idle-time=-1", "--disallow-exit",
         "--load=module-null-sink sink_name=bench_null",
         f"--load=module-native-protocol-unix socket={runtime}/native auth-anonymous=1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["PULSE_SERVER"] = f"unix:{runtime}/native"
    for _ in range(50):
        if _server_reachable():
            subprocess.run(["pactl", "set-default-sink", "bench_null"], check=True)
            return proc
        time.sleep(0.1)
    proc.kill()
    sys.exit("the private PulseAudio server did not start")


class MonitorReader:
    """Reads the sink's monitor in a thread; reports when sound starts after arm()."""

    def __init__(self, sink: str) -> None:
        self.proc = subprocess.Popen(
            ["parec", f"--device={sink}.monitor", "--format=float32le", f"--rate={RATE}",
             "--channels=1", "--raw", "--latency-msec=1", "--process-time-msec=1"],
            stdout=subprocess.PIPE, bufsize=0)
        self.samples = 0
        self._armed = False
        self.onset: float | None = None
        self._event = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        fd = self.proc.stdout.fileno()
        pending = b""
        while True:
            data = os.read(fd, 4096)
            now = time.perf_counter()
            if not data:
                return
            data = pending + data
            usable = len(data) // 4 * 4
            pending = data[usable:]
            chunk = np.frombuffer(data[:usable], dtype=np.float32)
            self.samples += len(chunk)
            if self._armed:
                loud = np.flatnonzero(np.abs(chunk) > LOUD)
                if loud.size:
                    self.onset = now - (len(chunk) - loud[0]) / RATE
                    self._armed = False
                    self._event.set()

    def arm(self) -> None:
        self.onset = None
        self._event.clear()
        self._armed = True

    def wait(self, timeout: float) -> float | None:
        self._event.wait(timeout)
        self._armed = False
        return self.onset

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def _stream_latencies() -> str:
    """What the server says of our playback stream (buffer and sink latency)."""
    out = subprocess.run(["pactl", "list", "sink-inputs"], capture_output=True,
                         text=True).stdout
    return ", ".join(ln.strip() for ln in out.splitlines() if "Latency" in ln) or "?"


def run(notes: int, buffer_ms: int) -> tuple[np.ndarray, np.ndarray, int, str]:
    """(key -> sound at the monitor, key -> rendered by the engine, notes missed, what
    the server reports of the stream's latencies)."""
    from composer_gui.audio.device import AudioOutput
    from composer_gui.audio.engine import Engine
    from composer_gui.audio.synth import SoundFontSynth

    sink = subprocess.run(["pactl", "get-default-sink"], capture_output=True, text=True,
                          check=True).stdout.strip()
    engine = Engine(SoundFontSynth())
    reader = MonitorReader(sink)
    to_sound, to_render, missed = [], [], 0
    try:
        while reader.samples < RATE // 5:  # parec connected and delivering
            time.sleep(0.01)
        with AudioOutput(engine, buffer_ms=buffer_ms, backend="pulseaudio"):
            time.sleep(0.5)
            server_says = _stream_latencies()
            engine.live_latencies.clear()
            for i in range(notes):
                time.sleep(random.uniform(0.15, 0.25))  # silence, at a random phase
                reader.arm()
                pressed = time.perf_counter()
                engine.send((0x90, 60 + i % 24, 110), pressed)
                onset = reader.wait(1.0)
                engine.panic()  # cut the note and its release: silence again
                if onset is None:
                    missed += 1
                    continue
                to_sound.append(onset - pressed)
                if engine.live_latencies:
                    to_render.append(engine.live_latencies[-1][0])
    finally:
        reader.close()
    return np.array(to_sound), np.array(to_render), missed, server_says


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--buffer-ms", type=int, default=5, help="the app's default: 5")
    args = parser.parse_args()
    server = _start_private_server()
    info = subprocess.run(["pactl", "info"], capture_output=True, text=True).stdout
    name = next((ln.split(":", 1)[1].strip() for ln in info.splitlines()
                 if ln.startswith("Server Name")), "?")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; server: {name}; buffer {args.buffer_ms} ms")
    medians = []
    try:
        for r in range(args.runs):
            sound, render, missed, server_says = run(args.notes, args.buffer_ms)
            medians.append(np.median(sound) * 1000)
            print(f"run {r + 1}: key -> sound at the sink {np.median(sound) * 1000:6.1f} ms "
                  f"median, p90 {np.percentile(sound, 90) * 1000:6.1f} ms "
                  f"({len(sound)} notes, {missed} missed); "
                  f"key -> rendered {np.median(render) * 1000:5.1f} ms median")
            print(f"       the server on the stream: {server_says}")
    finally:
        if server is not None:
            server.terminate()
    print(f"median of run medians: {np.median(medians):.1f} ms (target < 20 ms); a sound "
          "card adds its own output buffer after the sink (its 'Sink Latency')")


if __name__ == "__main__":
    main()
