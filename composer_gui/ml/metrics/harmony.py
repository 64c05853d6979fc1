"""Harmony measures: what a listener hears between the melody and the accompaniment, and
inside the accompaniment (numpy only).

All take full-range tracks (:mod:`composer_gui.ml.metrics.rolls`) on one grid of
``steps_per_beat`` steps per quarter note; the accompaniment is the pitched parts
together (drums left out by the caller). A *beat* is a quarter note of steps.

* :func:`melody_clash`: of the beats on which the melody and the accompaniment sound
  together, the share where an accompaniment note lies 1 or 11 semitones (mod 12) from a
  melody note.
* :func:`inner_clash`: of the same beats, the share where two accompaniment pitch classes
  a semitone apart sound together.

Both are judged at the beat: what sounds at each beat's first step (a note held into the
beat counts). A passing note between beats is left alone: Bach's inner voices pass
through semitones on 6.5% of beats but hold one on the beat on 1.4% (withheld chorales),
and it is the dissonance on the beat that a listener hears as a wrong note.
* :func:`note_in_chord`: of the steps where the melody sounds, in beats where the
  accompaniment sounds, the share whose (top) melody pitch class is among the
  accompaniment's pitch classes sounding anywhere in that beat.
* :func:`parallels`: parallel perfect fifths, octaves and unisons between any two voices
  (the melody included; a polyphonic part counts with its top note), per 100 eighth-note
  steps in which at least one of the two voices moves.
* :func:`line_measures`: of one part's top line, the share of leaps of an octave or more
  and of repeated notes, and the notes per bar.

A measure with nothing to measure is ``nan``; counts come with them so that songs can be
pooled (:func:`pooled`) rather than averaged song by song.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from composer_gui.ml.metrics.rolls import (
    BarSpec,
    TrackRoll,
    bar_starts,
    notes_from_roll,
    pitch_class_counts,
    sounding,
)

MELODY_CLASH = "melody_clash"
INNER_CLASH = "inner_clash"
NOTE_IN_CHORD = "note_in_chord"
PARALLELS = "parallels_per_100"
LEAPS = "octave_leaps"
REPEATS = "repeated_notes"
NOTES_PER_BAR = "notes_per_bar"

#: Short labels for tables, in display order.
HARMONY_LABELS: dict[str, str] = {
    MELODY_CLASH: "melody clash",
    INNER_CLASH: "inner clash",
    NOTE_IN_CHORD: "note-in-chord",
    PARALLELS: "parallels /100",
}
LINE_LABELS: dict[str, str] = {
    LEAPS: "octave leaps",
    REPEATS: "repeated notes",
    NOTES_PER_BAR: "notes per bar",
}


def pitch_classes(held: np.ndarray) -> np.ndarray:
    """``[steps, 12]`` bool: which pitch classes sound at each step."""
    return pitch_class_counts(held) > 0


def _beats(n_steps: int, steps_per_beat: int) -> np.ndarray:
    """The beat index of every step."""
    return np.arange(n_steps) // max(1, steps_per_beat)


def _together(melody: TrackRoll, accompaniment: Sequence[TrackRoll]):
    mel = sounding(melody)
    acc = np.zeros_like(mel)
    for part in accompaniment:
        held = sounding(part)
        n = min(len(mel), len(held))
        acc[:n] |= held[:n]
    return mel, acc


def semitone_apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per step: a pitch class of ``a`` and one of ``b`` (``[steps, 12]``) a semitone
    apart."""
    return (a & np.roll(b, 1, axis=1)).any(axis=1) | (a & np.roll(b, -1, axis=1)).any(axis=1)


def clash_counts(melody: TrackRoll, accompaniment: Sequence[TrackRoll],
                 steps_per_beat: int) -> tuple[int, int, int]:
    """(beats on which melody and accompaniment sound together, of those with a melody
    clash, of those with an inner clash), judged at each beat's first step."""
    mel, acc = _together(melody, accompaniment)
    on_beat = slice(0, None, max(1, steps_per_beat))
    mpc, apc = pitch_classes(mel[on_beat]), pitch_classes(acc[on_beat])
    both = mpc.any(axis=1) & apc.any(axis=1)
    mclash = both & semitone_apart(mpc, apc)
    iclash = both & semitone_apart(apc, apc)
    return int(both.sum()), int(mclash.sum()), int(iclash.sum())


def melody_clash(melody: TrackRoll, accompaniment: Sequence[TrackRoll],
                 steps_per_beat: int) -> float:
    both, clash, _ = clash_counts(melody, accompaniment, steps_per_beat)
    return clash / both if both else float("nan")


def inner_clash(melody: TrackRoll, accompaniment: Sequence[TrackRoll],
                steps_per_beat: int) -> float:
    both, _, clash = clash_counts(melody, accompaniment, steps_per_beat)
    return clash / both if both else float("nan")


def top_line(held: np.ndarray) -> np.ndarray:
    """The highest sounding pitch (index on the last axis) at each step of ``held``
    ``[..., steps, pitches]``, -1 where silent."""
    on = held > 0
    top = on.shape[-1] - 1 - np.argmax(on[..., ::-1], axis=-1)
    return np.where(on.any(axis=-1), top, -1)


def chord_counts(melody: TrackRoll, accompaniment: Sequence[TrackRoll],
                 steps_per_beat: int) -> tuple[int, int]:
    """(melody steps in beats where the accompaniment sounds, of those whose top melody
    pitch class the accompaniment holds within the beat)."""
    mel, acc = _together(melody, accompaniment)
    beats = _beats(len(mel), steps_per_beat)
    n_beats = int(beats[-1]) + 1 if len(beats) else 0
    beat_pcs = np.zeros((n_beats, 12), dtype=bool)
    np.logical_or.at(beat_pcs, beats, pitch_classes(acc))
    top = top_line(mel)
    frames = (top >= 0) & beat_pcs[beats].any(axis=1)
    hit = frames & beat_pcs[beats, np.where(top >= 0, top, 0) % 12]
    return int(frames.sum()), int(hit.sum())


def note_in_chord(melody: TrackRoll, accompaniment: Sequence[TrackRoll],
                  steps_per_beat: int) -> float:
    frames, hit = chord_counts(melody, accompaniment, steps_per_beat)
    return hit / frames if frames else float("nan")


def parallel_counts(voices: Sequence[TrackRoll], steps_per_beat: int) -> tuple[int, int]:
    """(eighth-note steps of voice pairs in which at least one of the two moves, of those
    with a parallel fifth, octave or unison). Each voice is read by its top note at the
    start of every eighth note; a pair is judged only where both sound at both ends."""
    stride = max(1, round(steps_per_beat / 2))
    lines = [top_line(sounding(v))[::stride] for v in voices]
    n = min(len(line) for line in lines) if lines else 0
    moving = found = 0
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            a, b = lines[i][:n], lines[j][:n]
            ok = (a[:-1] >= 0) & (a[1:] >= 0) & (b[:-1] >= 0) & (b[1:] >= 0)
            da, db = np.diff(a), np.diff(b)
            moves = ok & ((da != 0) | (db != 0))
            before, after = np.abs(a[:-1] - b[:-1]) % 12, np.abs(a[1:] - b[1:]) % 12
            perfect = (before == after) & ((before == 0) | (before == 7))
            same_way = (np.sign(da) == np.sign(db)) & (da != 0)
            moving += int(moves.sum())
            found += int((moves & perfect & same_way).sum())
    return moving, found


def parallels(voices: Sequence[TrackRoll], steps_per_beat: int) -> float:
    moving, found = parallel_counts(voices, steps_per_beat)
    return 100.0 * found / moving if moving else float("nan")


def line_counts(track: TrackRoll, steps_per_bar: BarSpec) -> dict[str, int]:
    """Counts behind :func:`line_measures`: notes, bars, intervals of the top line,
    octave leaps and repeats among them."""
    notes = notes_from_roll(track)
    n_steps = len(sounding(track))
    bars = len(bar_starts(n_steps, steps_per_bar))
    if notes.shape[0] == 0:
        return {"notes": 0, "bars": bars, "intervals": 0, "leaps": 0, "repeats": 0}
    # the top line: at each onset step, the highest note starting there
    order = np.lexsort((-notes[:, 0], notes[:, 1]))
    starts = notes[order]
    first = np.r_[True, np.diff(starts[:, 1]) != 0]
    line = starts[first, 0]
    steps = np.diff(line)
    return {"notes": int(notes.shape[0]), "bars": bars, "intervals": int(len(steps)),
            "leaps": int((np.abs(steps) >= 12).sum()), "repeats": int((steps == 0).sum())}


def line_measures(track: TrackRoll, steps_per_bar: BarSpec) -> dict[str, float]:
    c = line_counts(track, steps_per_bar)
    return _line_rates(c)


def _line_rates(c: dict[str, int]) -> dict[str, float]:
    nan = float("nan")
    return {LEAPS: c["leaps"] / c["intervals"] if c["intervals"] else nan,
            REPEATS: c["repeats"] / c["intervals"] if c["intervals"] else nan,
            NOTES_PER_BAR: c["notes"] / c["bars"] if c["bars"] else nan}


def song_harmony(melody: TrackRoll, parts: Sequence[TrackRoll], steps_per_beat: int,
                 voices: Sequence[TrackRoll] | None = None) -> dict[str, int]:
    """The counts of one song, for :func:`pooled`: ``parts`` are the pitched
    accompaniment parts; ``voices`` the lines judged for parallels (default: the
    melody and every part)."""
    both, mclash, iclash = clash_counts(melody, parts, steps_per_beat)
    frames, hit = chord_counts(melody, parts, steps_per_beat)
    moving, found = parallel_counts(voices if voices is not None else [melody, *parts],
                                    steps_per_beat)
    return {"beats": both, "melody_clash": mclash, "inner_clash": iclash,
            "frames": frames, "in_chord": hit, "moving": moving, "parallels": found}


def pooled(counts: Sequence[dict[str, int]]) -> dict[str, float]:
    """The harmony measures over many songs, each beat, frame or step counted once."""
    total = {k: sum(c[k] for c in counts) for k in
             ("beats", "melody_clash", "inner_clash", "frames", "in_chord", "moving",
              "parallels")}
    nan = float("nan")
    return {
        MELODY_CLASH: total["melody_clash"] / total["beats"] if total["beats"] else nan,
        INNER_CLASH: total["inner_clash"] / total["beats"] if total["beats"] else nan,
        NOTE_IN_CHORD: total["in_chord"] / total["frames"] if total["frames"] else nan,
        PARALLELS: 100.0 * total["parallels"] / total["moving"] if total["moving"] else nan,
    }


def pooled_lines(counts: Sequence[dict[str, int]]) -> dict[str, float]:
    """:func:`line_measures` over many songs' :func:`line_counts` of one part."""
    total = {k: sum(c[k] for c in counts) for k in ("notes", "bars", "intervals", "leaps",
                                                   "repeats")}
    return _line_rates(total)
