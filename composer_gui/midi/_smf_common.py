"""Pieces shared by the SMF reader and writer modules: the error type, the import report
and byte-level tables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from composer_gui.core.errors import UserError

#: Manufacturer ID of the app's sequencer-specific meta event (0x7D: "non-commercial").
APP_MANUFACTURER_ID = 0x7D
APP_DATA_KEY = "composer_gui"


class MidiFileError(UserError):
    """A file that cannot be read or written as a Standard MIDI File.

    The message names the file and the problem; ``path`` holds the file's name.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass
class ImportReport:
    """What an import changed on the way in (filled by :func:`~composer_gui.midi.smf.read_midi_bytes`).

    Notes are ``(pitch, start, duration, velocity)`` tuples as they came from the file's
    note-on / note-off pairs (``trimmed`` holds (before, after) pairs).
    """

    closed_at_track_end: list[tuple[int, int, int, int]] = field(default_factory=list)
    dropped_same_start: list[tuple[int, int, int, int]] = field(default_factory=list)
    zero_length: list[tuple[int, int, int, int]] = field(default_factory=list)  # given 1 tick
    trimmed: list[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]] = field(
        default_factory=list
    )


# -- key signatures ------------------------------------------------------------------

_MAJOR_KEYS = ("Cb", "Gb", "Db", "Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#")
_MINOR_KEYS = ("Ab", "Eb", "Bb", "F", "C", "G", "D", "A", "E", "B", "F#", "C#", "G#", "D#", "A#")
KEY_BY_SF_MI = {(i - 7, 0): k for i, k in enumerate(_MAJOR_KEYS)}
KEY_BY_SF_MI.update({(i - 7, 1): k + "m" for i, k in enumerate(_MINOR_KEYS)})
KEY_TO_SF_MI = {name: sf_mi for sf_mi, name in KEY_BY_SF_MI.items()}

# -- meta event names (as mido spells them) -------------------------------------------

TEXT_META = {
    0x01: "text",
    0x02: "copyright",
    0x03: "track_name",
    0x04: "instrument_name",
    0x05: "lyrics",
    0x06: "marker",
    0x07: "cue_marker",
    0x08: "program_name",
    0x09: "device_name",
}
TEXT_META_TYPES = {name: byte for byte, name in TEXT_META.items()}
# Meta kinds that, in the first track, belong to the song rather than to a part.
CONDUCTOR_KINDS = frozenset({"marker", "cue_marker", "copyright", "text"})
