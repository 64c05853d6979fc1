"""Immutable MIDI message records: what crosses from a driver thread to the rest.

Plain Python (no rtmidi, no mido, no Qt), so the recorder, the audio engine and the
on-screen keyboard all speak the same small type.
"""

from __future__ import annotations

from dataclasses import dataclass

NOTE_OFF = 0x80
NOTE_ON = 0x90
CONTROL_CHANGE = 0xB0
SUSTAIN_CC = 64


@dataclass(frozen=True, slots=True)
class MidiRecord:
    """One MIDI message and when it arrived.

    ``time`` is on the :func:`time.perf_counter` clock (seconds). ``stamp`` is the
    driver's own running time for messages from a port (seconds since the port's first
    message; None for messages made in the app, such as on-screen key presses).
    """

    time: float
    data: tuple[int, ...]
    stamp: float | None = None

    @property
    def status(self) -> int:
        """The message type without its channel (0x90 for any note-on ...)."""
        return self.data[0] & 0xF0 if self.data and self.data[0] < 0xF0 else (self.data or (0,))[0]

    @property
    def channel(self) -> int:
        return self.data[0] & 0x0F if self.data else 0

    @property
    def is_note_on(self) -> bool:
        """A note-on with velocity > 0 (velocity 0 means note-off in MIDI)."""
        return len(self.data) >= 3 and self.status == NOTE_ON and self.data[2] > 0

    @property
    def is_note_off(self) -> bool:
        return len(self.data) >= 3 and (
            self.status == NOTE_OFF or (self.status == NOTE_ON and self.data[2] == 0)
        )


def note_on(time: float, pitch: int, velocity: int, channel: int = 0) -> MidiRecord:
    """A record for a note-on made inside the app (on-screen or computer keyboard)."""
    return MidiRecord(time, (NOTE_ON | channel, pitch, velocity))


def note_off(time: float, pitch: int, channel: int = 0) -> MidiRecord:
    """A record for a note-off made inside the app."""
    return MidiRecord(time, (NOTE_OFF | channel, pitch, 0))
