"""Nottingham Music Database tunes as plain :class:`Song` objects (no torch, no Qt).

The cleaned MIDI set (jukedeck's conversion of the ABC collection, GPL-3.0) keeps each
tune in one file: track 0 the melody, track 1 block chords (MIDI 36-53, one chord per
onset, 3 or 4 notes), no names, no programs, 120 bpm. What the files look like, measured
on all 931 (``benchmarks/folk_data_report.py``):

Bars
    The converter pads a pickup (anacrusis) with silence to a whole first bar, so bar
    lines from the meter map are right for 930 of the 931 files (the first chord of 886 of
    the 920 tunes with chords sits on a bar line, the others are chords on the pickup
    itself). Meter changes are real time-signature events: 12 tunes switch (a 2/4 bar
    ending a 3/4 section after a pickup, 6/8 <-> 9/8 or 4/4 <-> 6/8 parts).

    One tune (``jigs129``) has an *unmarked* pickup: the melody and a pickup chord start
    at tick 0 and the chords change on the half bar all through the tune. The rule that
    finds it (:func:`unmarked_pickup`): the tune starts at tick 0 and, within the first
    meter, chord onsets at one phase other than the bar line outnumber those on the bar
    line at least three to one. Such a tune is padded like the others (every event moved
    later by the rest of the bar), so its bars come out right.

Parts
    "Melody" (role melody) is track 0. "Chords" (role chords, GM 25 Acoustic Guitar
    (steel)) is track 1 moved up an octave (MIDI 48-65, a guitar's comping register, clear
    of the bass). "Bass" (role bass, GM 32 Acoustic Bass) is the lowest voice of track 1 at
    its written pitch (MIDI 36-50): of the notes starting together, the lowest, held until
    the next chord starts. 11 tunes have no chords (one track); they come back with the
    melody only, and the training pipeline skips them for a missing role.

A file counts as Nottingham (:func:`is_nottingham_file`) when a folder above it is named
``nottingham`` (any case) or holds the collection's ``SOURCE_README.md``; it is then read
this way only if it is laid out like one (:func:`looks_like_nottingham`: one or two tracks
with notes, the second block chords below MIDI 61), otherwise as any other MIDI file.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

from composer_gui.core.song import KeySignature, Note, Song, TimeSignature, Track

CHORDS_PROGRAM = 25  # GM Acoustic Guitar (steel)
BASS_PROGRAM = 32  # GM Acoustic Bass
#: Semitones the chord part is moved (the files voice chords in the bass register).
CHORDS_SHIFT = 12
#: An unmarked pickup needs this many more off-bar chord onsets at one phase than on it.
PICKUP_RATIO = 3.0
_MARKER_TEXT = "nottingham"
#: Bumped when the parts or bars this module makes change (part of the data cache key).
SOURCE_VERSION = 1


@lru_cache(maxsize=64)
def _folder_is_nottingham(folder: str) -> bool:
    path = Path(folder)
    if _MARKER_TEXT in path.name.lower():
        return True
    readme = path / "SOURCE_README.md"
    try:
        return readme.is_file() and "Nottingham Music Database" in readme.read_text(
            encoding="utf-8", errors="replace")[:4000]
    except OSError:
        return False


def is_nottingham_file(path: str | Path) -> bool:
    """True for a MIDI file inside the Nottingham collection (see the module docstring)."""
    path = Path(path)
    if path.suffix.lower() not in (".mid", ".midi"):
        return False
    return any(_folder_is_nottingham(str(p)) for p in path.resolve().parents[:3])


def bar_ticks(song: Song, meter: TimeSignature) -> int:
    return song.ticks_per_beat * 4 * meter.numerator // meter.denominator


def unmarked_pickup(melody: list[Note], chords: list[Note], song: Song) -> int:
    """Ticks of an unmarked pickup (0 when the bars look right; see the module docstring)."""
    if not melody or not chords or min(n.start for n in melody) != 0:
        return 0
    sigs = song.time_signatures or [TimeSignature(0, 4, 4)]
    bar = bar_ticks(song, sigs[0])
    end = sigs[1].tick if len(sigs) > 1 else None
    onsets = {n.start for n in chords if end is None or n.start < end}
    phases = Counter(t % bar for t in onsets)
    phase, count = phases.most_common(1)[0]
    if phase == 0 or count < PICKUP_RATIO * max(1, phases.get(0, 0)):
        return 0
    return phase


def lowest_voice(chords: list[Note]) -> list[Note]:
    """The lowest note of each group of notes starting together, held at most until the
    next group starts."""
    groups: dict[int, Note] = {}
    for n in chords:
        low = groups.get(n.start)
        if low is None or n.pitch < low.pitch:
            groups[n.start] = n
    starts = sorted(groups)
    out = []
    for i, t in enumerate(starts):
        n = groups[t]
        end = n.end if i + 1 == len(starts) else min(n.end, starts[i + 1])
        out.append(Note(n.pitch, t, max(1, end - t), n.velocity))
    return out


def _moved(notes: list[Note], shift: int, transpose: int = 0) -> list[Note]:
    return [Note(n.pitch + transpose, n.start + shift, n.duration, n.velocity) for n in notes]


def nottingham_song(song: Song) -> Song:
    """Melody / Chords / Bass parts of a Nottingham tune read with the project's reader."""
    tracks = [t for t in song.tracks if t.notes]
    melody = tracks[0].notes if tracks else []
    chords = tracks[1].notes if len(tracks) > 1 else []
    pickup = unmarked_pickup(melody, chords, song)
    sigs = song.time_signatures or [TimeSignature(0, 4, 4)]
    shift = (bar_ticks(song, sigs[0]) - pickup) if pickup else 0
    out = Song(
        ticks_per_beat=song.ticks_per_beat,
        tempos=list(song.tempos),
        time_signatures=[TimeSignature(s.tick + shift if s.tick else 0, s.numerator,
                                       s.denominator) for s in sigs],
        key_signatures=[KeySignature(k.tick + shift if k.tick else 0, k.key)
                        for k in song.key_signatures],
        title=song.title,
    )
    out.tracks.append(Track(name="Melody", program=73, channel=0, role="melody",
                            notes=_moved(melody, shift)))
    if chords:
        out.tracks.append(Track(name="Chords", program=CHORDS_PROGRAM, channel=1, role="chords",
                                notes=_moved(chords, shift, CHORDS_SHIFT)))
        out.tracks.append(Track(name="Bass", program=BASS_PROGRAM, channel=2, role="bass",
                                notes=_moved(lowest_voice(chords), shift)))
    for t in out.tracks:
        t.sort()
    return out


def looks_like_nottingham(song: Song) -> bool:
    """One or two tracks with notes; the second (if any) mostly chords, all below 61."""
    tracks = [t for t in song.tracks if t.notes]
    if not 1 <= len(tracks) <= 2:
        return False
    if len(tracks) == 1:
        return True
    chords = tracks[1].notes
    sizes = Counter(n.start for n in chords)
    chordal = sum(1 for v in sizes.values() if v >= 2) >= 0.5 * len(sizes)
    return chordal and max(n.pitch for n in chords) <= 60


def load_nottingham_song(path: str | Path) -> Song:
    """Read one Nottingham file as Melody / Chords / Bass (see the module docstring); a
    file that is not laid out like one comes back as read."""
    from composer_gui.midi.smf import read_midi

    song = read_midi(Path(path))
    return nottingham_song(song) if looks_like_nottingham(song) else song
