"""Fixtures for the live MIDI and sound tests: a real JACK server (dummy driver, 64 frames),
virtual ports, a melody player with exact timing, and one loaded synthesizer."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

# Imported here, not inside play(): a first import there costs ~0.2 s and would make the
# first note of a melody late.
from composer_gui.midi.live import sleep_until

JACK_PERIOD = 64
JACK_RATE = 48000


def _jack_ready() -> bool:
    import rtmidi

    from composer_gui.sysutil import quiet_stderr as _quiet_stderr

    try:
        with _quiet_stderr():
            probe = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="probe")
            probe.delete()
        return True
    except (rtmidi.RtMidiError, OSError):
        return False


def _realtime_allowed() -> bool:
    import resource

    if os.environ.get("COMPOSER_GUI_TEST_JACK_RT") == "0":
        return False
    try:
        os.sched_get_priority_min(os.SCHED_FIFO)
    except (AttributeError, OSError):
        return False
    return os.geteuid() == 0 or resource.getrlimit(resource.RLIMIT_RTPRIO)[0] > 0


@pytest.fixture(scope="session")
def jack_server():
    """A private JACK server (``jackd --no-realtime -d dummy -r 48000 -p 64``) for the
    whole session; the MIDI layer is pointed at it through the environment."""
    jackd = shutil.which("jackd")
    if jackd is None:
        pytest.skip("jackd not installed (apt-get install jackd2): no real MIDI path to test")
    name = f"composer-gui-test-{uuid.uuid4().hex[:8]}"
    saved = {k: os.environ.get(k) for k in ("JACK_DEFAULT_SERVER", "JACK_NO_START_SERVER",
                                            "COMPOSER_GUI_MIDI_API")}
    os.environ.update(JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER="1",
                      COMPOSER_GUI_MIDI_API="jack")
    proc = subprocess.Popen(
        # Not --sync: with the dummy driver it stalls the server ("ProcessWriteSlaves
        # error") on a loaded machine. The asynchronous default can drop an event of a
        # client that missed a cycle; tests that must see every event use `Witness`.
        # Real-time scheduling where allowed (CI runs as root): without it a loaded
        # machine delays JACK's cycles by tens of ms, and timed takes must be replayed.
        [jackd, "-n", name, "--realtime" if _realtime_allowed() else "--no-realtime",
         "-d", "dummy",
         "-r", str(JACK_RATE), "-p", str(JACK_PERIOD)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _jack_ready():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"jackd did not start (exit code {proc.poll()})")
            time.sleep(0.05)
        yield name
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def unique():
    """A fresh client name per test (JACK keeps a dead client's ports for a while)."""
    return f"t{uuid.uuid4().hex[:6]}"


class VirtualKeyboard:
    """A virtual MIDI output port standing in for a USB keyboard, with exact timing."""

    def __init__(self, client: str) -> None:
        import rtmidi

        self.client = client
        self._out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=client)
        self._out.open_virtual_port("keys")
        self.port = f"{client}:keys"
        self.sent: list[tuple[float, tuple[int, ...]]] = []
        self.late = 0.0  # how late the latest message of the last play() went out (s)

    def send(self, data) -> float:
        t = time.perf_counter()
        self._out.send_message(list(data))
        self.sent.append((t, tuple(data)))
        return t

    def play(self, events, t0: float) -> None:
        """Send ``(seconds_after_t0, message)`` pairs on time (sleep, then spin).

        ``sent`` then holds what really went out and when; ``late`` says by how much the
        worst message missed its time (a loaded machine can hold this thread back)."""
        self.sent = []
        self.late = 0.0
        for at, data in sorted(events, key=lambda e: e[0]):
            sleep_until(t0 + at)
            sent = self.send(data)
            self.late = max(self.late, sent - (t0 + at))

    def close(self) -> None:
        if self._out is not None:
            self._out.close_port()
            self._out.delete()
            self._out = None


WITNESS_SLACK_S = 0.004
"""How far the test rig (player thread, JACK server) may stray before a take is played
again: the app is judged to 10 ms and must not be blamed for the rig's lateness."""


class Witness:
    """A second listener on the keyboard port: tells whether the rig itself delivered
    every event on time, so a test can tell the rig's faults (the asynchronous dummy
    server dropping or delaying an event, the player thread held back on a loaded
    machine) from an app bug, and play the take again only in the first case."""

    def __init__(self, port: str, client: str) -> None:
        from composer_gui.midi.ports import MidiInput

        self._input = MidiInput(port, client_name=client)

    def rig_fault(self, keyboard: VirtualKeyboard) -> str | None:
        """Why the last ``keyboard.play`` cannot judge the app, or None when every note
        message went out on time and reached this listener with one steady latency
        (closes the witness)."""
        time.sleep(0.05)
        seen = [r for r in self._input.drain() if r.data[0] & 0xE0 == 0x80]
        self._input.close()
        sent = [(t, data) for t, data in keyboard.sent if data[0] & 0xE0 == 0x80]
        if len(seen) != len(sent):
            return f"JACK delivered {len(seen)} of {len(sent)} note messages"
        if keyboard.late > WITNESS_SLACK_S:
            return f"the player thread sent a message {keyboard.late * 1000:.1f} ms late"
        if [r.data for r in seen] != [tuple(d) for _, d in sent]:
            return "JACK delivered the note messages out of order"
        # The driver's own stamps (a running sum of its deltas), not the app's anchored
        # times: the rig is judged without the code under test.
        latency = [r.stamp - t for r, (t, _) in zip(seen, sent)]
        spread = max(latency) - min(latency)
        if spread > WITNESS_SLACK_S:
            return f"JACK's delivery time varied by {spread * 1000:.1f} ms"
        return None


@pytest.fixture
def keyboard(jack_server, unique):
    kb = VirtualKeyboard(unique + "kb")
    yield kb
    kb.close()


@pytest.fixture(scope="session")
def synth():
    """The built-in synthesizer with the shipped SoundFont (loaded once: ~2-5 s)."""
    from composer_gui.audio.synth import SoundFontSynth, synth_available

    missing = synth_available()
    if missing is not None:
        pytest.skip(missing)
    return SoundFontSynth()


def melody_events(notes, *, tempo=120.0):
    """(seconds, message) pairs for (pitch, start_beat, length_beats, velocity) notes."""
    beat = 60.0 / tempo
    out = []
    for pitch, start, length, velocity in notes:
        out.append((start * beat, (0x90, pitch, velocity)))
        out.append(((start + length) * beat, (0x80, pitch, 0)))
    return out


REPO = Path(__file__).resolve().parents[2]
