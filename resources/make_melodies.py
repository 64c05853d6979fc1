"""Write the sample melodies into the package, ``composer_gui/assets/melodies/`` (public-domain
tunes, typed in here note by note, so the files carry no one else's arrangement).
``resources/melodies`` is a link to that folder.

Run from the repository root: ``python resources/make_melodies.py``.
Each tune is a list of (pitch name, length in beats); ``"r"`` is a rest.
"""

from __future__ import annotations

from composer_gui.core.notation import notes_from_text
from composer_gui.core.song import Song, TempoChange, TimeSignature, Track

TUNES = {
    # Beethoven, Symphony No. 9 (1824), "Ode to Joy" theme: 8 bars of 4/4.
    "ode_to_joy": (4, 4, 112, "E4 1 E4 1 F4 1 G4 1 G4 1 F4 1 E4 1 D4 1 C4 1 C4 1 D4 1 E4 1 "
                               "E4 1.5 D4 .5 D4 2 E4 1 E4 1 F4 1 G4 1 G4 1 F4 1 E4 1 D4 1 "
                               "C4 1 C4 1 D4 1 E4 1 D4 1.5 C4 .5 C4 2"),
    # "Twinkle, Twinkle, Little Star" (French folk tune, 18th century): 8 bars of 4/4.
    "twinkle_twinkle": (4, 4, 100, "C4 1 C4 1 G4 1 G4 1 A4 1 A4 1 G4 2 F4 1 F4 1 E4 1 E4 1 "
                                   "D4 1 D4 1 C4 2 G4 1 G4 1 F4 1 F4 1 E4 1 E4 1 D4 2 "
                                   "G4 1 G4 1 F4 1 F4 1 E4 1 E4 1 D4 2"),
    # "Frère Jacques" (French round, 18th century): 8 bars of 4/4.
    "frere_jacques": (4, 4, 104, "F4 1 G4 1 A4 1 F4 1 F4 1 G4 1 A4 1 F4 1 A4 1 Bb4 1 C5 2 "
                                 "A4 1 Bb4 1 C5 2 C5 .5 D5 .5 C5 .5 Bb4 .5 A4 1 F4 1 "
                                 "C5 .5 D5 .5 C5 .5 Bb4 .5 A4 1 F4 1 F4 1 C4 1 F4 2 "
                                 "F4 1 C4 1 F4 2"),
    # "Amazing Grace" ("New Britain", American hymn tune, 1829): 3/4, pickup on beat 3.
    "amazing_grace": (3, 4, 84, "r 2 G3 1 C4 2 E4 .5 C4 .5 E4 2 D4 1 C4 2 A3 1 G3 2 G3 1 "
                                "C4 2 E4 .5 C4 .5 E4 2 D4 1 G4 3 r 2"),
}


def tune_song(title: str, numerator: int, denominator: int, bpm: int, text: str) -> Song:
    tpb = 480
    notes, _end = notes_from_text(text, tpb)
    return Song(ticks_per_beat=tpb, tempos=[TempoChange(0, round(60_000_000 / bpm))],
                time_signatures=[TimeSignature(0, numerator, denominator)],
                tracks=[Track(name="Melody", program=73, channel=0, role="melody", notes=notes)],
                title=title.replace("_", " ").title())


def main() -> None:
    from composer_gui.assets import melodies_dir
    from composer_gui.midi.smf import write_midi

    out = melodies_dir()
    out.mkdir(exist_ok=True)
    for name, (num, den, bpm, text) in TUNES.items():
        write_midi(tune_song(name, num, den, bpm, text), out / f"{name}.mid")
        print(out / f"{name}.mid")


if __name__ == "__main__":
    main()
