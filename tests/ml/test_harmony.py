"""Harmony measures on hand-made rolls: what a listener would call a clash, a chord tone,
parallel fifths, an octave leap."""

from __future__ import annotations

import math

import numpy as np

from composer_gui.ml.metrics.harmony import (
    LEAPS,
    NOTES_PER_BAR,
    REPEATS,
    clash_counts,
    inner_clash,
    line_measures,
    melody_clash,
    note_in_chord,
    parallels,
    pooled,
    song_harmony,
)

SPB = 4  # sixteenths


def roll(*notes: tuple[int, int, int], steps: int = 16) -> np.ndarray:
    """A full-range bool roll from (pitch, start step, end step) notes."""
    r = np.zeros((steps, 128), dtype=bool)
    for pitch, a, b in notes:
        r[a:b, pitch] = True
    return r


def pair(*notes: tuple[int, int, int], steps: int = 16):
    onsets = np.zeros((steps, 128), dtype=bool)
    for pitch, a, _ in notes:
        onsets[a, pitch] = True
    return onsets, roll(*notes, steps=steps)


def test_a_triad_under_its_root_neither_clashes_nor_misses_the_chord():
    melody = roll((72, 0, 16))
    triad = roll((60, 0, 16), (64, 0, 16), (67, 0, 16))
    assert melody_clash(melody, [triad], SPB) == 0.0
    assert inner_clash(melody, [triad], SPB) == 0.0
    assert note_in_chord(melody, [triad], SPB) == 1.0


def test_a_semitone_against_the_melody_is_a_clash_only_on_the_beats_it_sounds():
    melody = roll((72, 0, 16))  # C for four beats
    bass = roll((48, 0, 8), (59, 8, 12), (48, 12, 16))  # C C B C: the B clashes on beat 3
    assert clash_counts(melody, [bass], SPB) == (4, 1, 0)
    assert melody_clash(melody, [bass], SPB) == 0.25
    # a major seventh (11 semitones) clashes too: the pitch class is what counts
    assert melody_clash(roll((72, 0, 4)), [roll((61, 0, 4))], SPB) == 1.0


def test_inner_clash_needs_two_accompaniment_notes_a_semitone_apart_at_once():
    melody = roll((76, 0, 16))
    at_once = [roll((64, 0, 4)), roll((65, 0, 4))]  # E and F together in the first beat
    one_after_other = [roll((64, 0, 4), (65, 4, 8))]
    assert clash_counts(melody, at_once, SPB)[2] == 1
    assert inner_clash(melody, one_after_other, SPB) == 0.0


def test_a_passing_note_between_beats_is_not_a_clash():
    melody = roll((72, 0, 8))
    passing = roll((60, 0, 2), (61, 2, 3), (62, 3, 4), (64, 4, 8))  # C C# D on the way to E
    assert melody_clash(melody, [passing], SPB) == 0.0
    held_into_the_beat = roll((71, 0, 8))  # a B held from beat 1 through beat 2
    assert melody_clash(melody, [held_into_the_beat], SPB) == 1.0


def test_note_in_chord_counts_melody_frames_and_skips_beats_without_accompaniment():
    melody = roll((64, 0, 8), (66, 8, 16))  # E for two beats, then F#
    chord = roll((60, 0, 8), (64, 0, 8), (67, 0, 8))  # C major, then silence
    assert note_in_chord(melody, [chord], SPB) == 1.0  # the F# beats have no chord
    chord2 = roll((60, 0, 16), (64, 0, 16), (67, 0, 16))
    assert note_in_chord(melody, [chord2], SPB) == 0.5


def test_parallel_fifths_are_found_and_contrary_motion_is_not():
    # eighth notes: C-D over F-G moves in parallel fifths; C-D over G-F is contrary
    upper = roll((67, 0, 2), (69, 2, 4))
    lower_parallel = roll((60, 0, 2), (62, 2, 4))
    lower_contrary = roll((60, 0, 2), (55, 2, 4))
    assert parallels([upper, lower_parallel], SPB) == 100.0
    assert parallels([upper, lower_contrary], SPB) == 0.0
    # octaves, and a polyphonic part judged by its top note
    chordal = roll((48, 0, 2), (60, 0, 2), (50, 2, 4), (62, 2, 4))
    assert parallels([roll((72, 0, 2), (74, 2, 4)), chordal], SPB) == 100.0
    # a voice that holds while the other moves is a moving step, not a parallel
    assert parallels([roll((67, 0, 4)), lower_parallel], SPB) == 0.0
    assert math.isnan(parallels([roll((67, 0, 4)), roll((60, 0, 4))], SPB))  # nothing moves


def test_line_measures_of_a_part_take_its_top_line():
    # C C c' (octave leap) then a chord whose top is e'
    part = pair((48, 0, 4), (48, 4, 8), (60, 8, 12), (52, 12, 16), (64, 12, 16), steps=32)
    m = line_measures(part, 16)
    assert m[REPEATS] == 1 / 3 and m[LEAPS] == 1 / 3
    assert m[NOTES_PER_BAR] == 5 / 2


def test_pooled_counts_every_beat_once_across_songs():
    melody = roll((72, 0, 16))
    clean = song_harmony(melody, [roll((60, 0, 16))], SPB)
    dirty = song_harmony(melody, [roll((61, 0, 4), (60, 4, 16))], SPB)
    assert pooled([clean, dirty])["melody_clash"] == 1 / 8
