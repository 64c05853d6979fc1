"""Typing melodies as text: pitch names ("C4", "F#3", "Bb4") and "name beats" lists.

Used by the sample melodies (``resources/make_melodies.py``), the hand-typed test tunes and
the listening benchmarks, so a tune is written the same way everywhere.
"""

from __future__ import annotations

from composer_gui.core.song import Note

_STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def note_number(name: str) -> int:
    """MIDI note number of a pitch name: letter, any ``#``/``b``, octave (C4 = 60)."""
    letter, rest = name[0].upper(), name[1:]
    shift = 0
    while rest and rest[0] in "#b":
        shift += 1 if rest[0] == "#" else -1
        rest = rest[1:]
    if letter not in _STEPS or not rest.lstrip("-").isdigit():
        raise ValueError(f"not a pitch name: {name!r}")
    return 12 * (int(rest) + 1) + _STEPS[letter] + shift


def notes_from_text(text: str, ticks_per_beat: int = 480, gap: int = 24,
                    velocity: int = 90) -> tuple[list[Note], int]:
    """Notes from ``"E4 1 D4 .5 r 2 ..."`` (pitch name or ``r`` for a rest, then the length
    in beats), each sounding ``gap`` ticks shorter than its length; and the end tick."""
    items = text.split()
    notes, tick = [], 0
    for name, beats in zip(items[::2], items[1::2]):
        length = round(float(beats) * ticks_per_beat)
        if name != "r":
            notes.append(Note(note_number(name), tick, max(1, length - gap), velocity))
        tick += length
    return notes, tick
