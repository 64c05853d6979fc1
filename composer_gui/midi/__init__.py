"""The only package that imports mido / rtmidi: SMF read/write, ports, live input."""

from composer_gui.midi.smf import (
    MidiFileError,
    read_midi,
    read_midi_bytes,
    song_to_bytes,
    write_midi,
)

__all__ = ["MidiFileError", "read_midi", "read_midi_bytes", "song_to_bytes", "write_midi"]
