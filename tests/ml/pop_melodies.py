"""Melodies typed in by hand for trying the pop model as a new user would (issue 6, item 6).

None comes from a dataset: two public-domain tunes and a hymn typed in note by note, and a
minor-key riff written for this test. Each tune is (meter, bpm, key, notes) where notes
are (pitch name, length in beats) pairs; ``"r"`` is a rest. A meter string with a ``+``
("1/4+4/4") starts with a short first bar (a pickup) of the first meter, as notation
programs write an upbeat.

Used by ``tests/ml/test_pop.py`` and ``benchmarks/pop_listening.py``.
"""

from __future__ import annotations

from composer_gui.core.notation import notes_from_text
from composer_gui.core.song import KeySignature, Song, TempoChange, TimeSignature, Track

TUNES: dict[str, tuple[str, int, str, str]] = {
    # Nursery tune: "Mary Had a Little Lamb" (Sarah Josepha Hale, 1830), G major, 8 bars.
    "nursery_mary_lamb": ("4/4", 108, "G", (
        "B4 1 A4 1 G4 1 A4 1 B4 1 B4 1 B4 2 A4 1 A4 1 A4 2 B4 1 D5 1 D5 2 "
        "B4 1 A4 1 G4 1 A4 1 B4 1 B4 1 B4 1 B4 1 A4 1 A4 1 B4 1 A4 1 G4 4")),
    # Hymn: "Old Hundredth" (Genevan Psalter, 1551), G major, half and whole notes, 16 bars.
    "hymn_old_hundredth": ("4/4", 84, "G", (
        "G4 2 G4 1 F#4 1 E4 2 D4 2 G4 2 A4 2 B4 4 "
        "B4 2 B4 1 B4 1 A4 2 G4 2 C5 2 B4 2 A4 4 "
        "G4 2 A4 1 B4 1 A4 2 G4 2 E4 2 F#4 2 G4 4 "
        "D5 2 B4 1 G4 1 A4 2 C5 2 B4 2 A4 2 G4 4")),
    # Minor-key riff (written for this test): A natural minor, eighth notes, 8 bars.
    "minor_riff_a": ("4/4", 100, "Am", (
        "A4 .5 C5 .5 E5 .5 A4 .5 G4 .5 A4 .5 C5 .5 E5 .5 "
        "D5 1 C5 .5 B4 .5 A4 2 "
        "A4 .5 C5 .5 E5 .5 A4 .5 G4 .5 A4 .5 C5 .5 E5 .5 "
        "F5 1 E5 .5 D5 .5 E5 2 "
        "F5 .5 E5 .5 D5 .5 C5 .5 D5 .5 C5 .5 B4 .5 G4 .5 "
        "A4 1 C5 1 E5 2 "
        "F5 .5 E5 .5 D5 .5 C5 .5 B4 .5 C5 .5 D5 .5 B4 .5 "
        "A4 4")),
    # Pickup: "Auld Lang Syne" (Scottish tune, 18th century), F major, one-beat upbeat.
    "pickup_auld_lang_syne": ("1/4+4/4", 96, "F", (
        "C4 1 "
        "F4 1.5 F4 .5 F4 1 A4 1 G4 1.5 F4 .5 G4 1 A4 .5 G4 .5 "
        "F4 1.5 F4 .5 A4 1 C5 1 D5 3 D5 1 "
        "C5 1.5 A4 .5 A4 1 F4 1 G4 1.5 F4 .5 G4 1 A4 .5 G4 .5 "
        "F4 1.5 D4 .5 D4 1 C4 1 F4 3")),
}


def tune_song(name: str) -> Song:
    """The tune as a one-track song (480 ticks per beat, tempo, meter and key set)."""
    meter, bpm, key, text = TUNES[name]
    tpb = 480
    notes, _end = notes_from_text(text, tpb)
    sigs = []
    at = 0
    parts = meter.split("+")
    for i, m in enumerate(parts):
        num, den = (int(x) for x in m.split("/"))
        sigs.append(TimeSignature(at, num, den))
        if i + 1 < len(parts):
            at += num * tpb * 4 // den
    return Song(ticks_per_beat=tpb, tempos=[TempoChange(0, round(60_000_000 / bpm))],
                time_signatures=sigs, key_signatures=[KeySignature(0, key)],
                tracks=[Track(name="Melody", program=73, channel=0, role="melody",
                              notes=notes)],
                title=name.replace("_", " ").title())


def three_four_song() -> Song:
    """A waltz-time phrase (3/4), for the pop model's refusal."""
    song = tune_song("nursery_mary_lamb")
    song.time_signatures = [TimeSignature(0, 3, 4)]
    return song
