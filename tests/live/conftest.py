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
        [jackd, "-n", name, "--no-realtime", "-d", "dummy",
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

    def send(self, data) -> float:
        t = time.perf_counter()
        self._out.send_message(list(data))
        self.sent.append((t, tuple(data)))
        return t

    def play(self, events, t0: float) -> None:
        """Send ``(seconds_after_t0, message)`` pairs on time (sleep, then spin)."""
        for at, data in sorted(events, key=lambda e: e[0]):
            sleep_until(t0 + at)
            self.send(data)

    def close(self) -> None:
        if self._out is not None:
            self._out.close_port()
            self._out.delete()
            self._out = None


class Witness:
    """A second listener on the keyboard port: tells whether JACK itself delivered every
    event, so a test can tell a dropped event (the asynchronous server under load) from
    an app bug, and play the take again only in the first case."""

    def __init__(self, port: str, client: str) -> None:
        from composer_gui.midi.ports import MidiInput

        self._input = MidiInput(port, client_name=client)

    def notes_seen(self) -> int:
        """Note messages delivered so far (closes the witness)."""
        time.sleep(0.05)
        seen = [r for r in self._input.drain() if r.data[0] & 0xE0 == 0x80]
        self._input.close()
        return len(seen)


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
