"""Qt-free, torch-free song model (see :mod:`composer_gui.core.song`)."""

from composer_gui.core.song import (
    DEFAULT_TICKS_PER_BEAT,
    DRUM_CHANNEL,
    Event,
    KeySignature,
    Note,
    Song,
    SongError,
    TempoChange,
    TimeSignature,
    Track,
    normalize_notes,
    note_sort_key,
)

__all__ = [
    "DEFAULT_TICKS_PER_BEAT",
    "DRUM_CHANNEL",
    "Event",
    "KeySignature",
    "Note",
    "Song",
    "SongError",
    "TempoChange",
    "TimeSignature",
    "Track",
    "normalize_notes",
    "note_sort_key",
]
