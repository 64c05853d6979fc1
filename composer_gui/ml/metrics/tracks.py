"""Per-track measures of accompaniment (numpy only): empty bars, pitch classes, qualified
notes, drum pattern, tonal distance to the melody, polyphony, melody doubling, note
overlap, and :func:`track_metrics` that gathers them under their names.

Every rate is in [0, 1]; a measure with nothing to measure is ``nan``. Roll conventions:
:mod:`composer_gui.ml.metrics.rolls`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from composer_gui.ml.metrics.keys import estimate_key, in_scale_rate
from composer_gui.ml.metrics.rolls import (
    BarSpec,
    TrackRoll,
    bar_starts,
    bar_sums,
    notes_from_roll,
    pitch_class_counts,
    sounding,
)

EMPTY_BAR_RATE = "empty_bar_rate"
USED_PITCH_CLASSES = "used_pitch_classes"
QUALIFIED_NOTE_RATE = "qualified_note_rate"
DRUM_PATTERN_RATE = "drum_pattern_rate"
TONAL_DISTANCE = "tonal_distance"
TONAL_DISTANCE_SHUFFLED = "tonal_distance_shuffled"
IN_SCALE_RATE = "in_scale_rate"
POLYPHONY_RATE = "polyphony_rate"
MELODY_DOUBLING_RATE = "melody_doubling_rate"

#: Short labels for tables, in display order.
METRIC_LABELS: dict[str, str] = {
    EMPTY_BAR_RATE: "EB",
    USED_PITCH_CLASSES: "UPC",
    QUALIFIED_NOTE_RATE: "QN",
    DRUM_PATTERN_RATE: "DP",
    TONAL_DISTANCE: "TD to melody",
    TONAL_DISTANCE_SHUFFLED: "TD to melody, shuffled",
    IN_SCALE_RATE: "in-scale",
    POLYPHONY_RATE: "polyphony",
    MELODY_DOUBLING_RATE: "melody doubling",
}


# --------------------------------------------------------------------------- metrics


def empty_bar_rate(track: TrackRoll, steps_per_bar: BarSpec) -> float:
    """EB: the share of bars in which the track sounds no note at all (a note held
    over from the previous bar counts as sounding). ``nan`` for a roll with no bars."""
    held = sounding(track)
    starts = bar_starts(held.shape[0], steps_per_bar)
    if starts.size == 0:
        return float("nan")
    per_bar = bar_sums(held.any(axis=1).astype(np.int64), starts)
    return float(np.mean(per_bar == 0))


def used_pitch_classes(track: TrackRoll, steps_per_bar: BarSpec) -> float:
    """UPC: the mean number of distinct pitch classes sounding in a bar, over the bars
    where the track sounds. ``nan`` when every bar is empty."""
    held = sounding(track)
    starts = bar_starts(held.shape[0], steps_per_bar)
    per_bar = bar_sums(pitch_class_counts(held), starts) > 0
    used = per_bar.sum(axis=1)
    used = used[used > 0]
    return float(used.mean()) if used.size else float("nan")


def qualified_note_rate(track: TrackRoll, steps_per_beat: int) -> float:
    """QN: the share of notes at least a 1/32 note (an eighth of a quarter) long.

    A note of ``n`` steps qualifies when ``n / steps_per_beat >= 1/8``. On a grid of fewer
    than 8 steps per quarter every note is at least one step, hence at least a 1/32
    note, and QN is 1 by construction. ``nan`` for a track with no notes.
    """
    if steps_per_beat < 1:
        raise ValueError(f"steps_per_beat must be at least 1, got {steps_per_beat}")
    notes = notes_from_roll(track)
    if notes.shape[0] == 0:
        return float("nan")
    return float(np.mean(notes[:, 2] * 8 >= steps_per_beat))


def drum_pattern_rate(
    track: TrackRoll,
    steps_per_beat: int,
    steps_per_bar: BarSpec | None = None,
    tolerance_steps: int = 0,
) -> float:
    """DP: the share of drum notes that start on the 16th-note grid.

    MuseGAN's "ratio of notes in 8- or 16-beat patterns": every 8th-note position is
    also a 16th-note position, so a note is in pattern when its onset lies on a 16th
    note, counted from the start of its bar (from step 0 when ``steps_per_bar`` is
    None), within ``tolerance_steps`` steps. A step ``s`` after the bar start lies on
    the grid when ``4 * s`` is a multiple of ``steps_per_beat``. Each onset of each
    drum pitch is one note. On a grid of 4 or fewer steps per quarter every step is on
    the 16th grid and DP is 1 by construction: measure it on a finer grid (MuseGAN used
    24 steps per quarter, where triplet and swung onsets fall off the grid).
    ``nan`` for a track with no notes.
    """
    if steps_per_beat < 1:
        raise ValueError(f"steps_per_beat must be at least 1, got {steps_per_beat}")
    notes = notes_from_roll(track)
    if notes.shape[0] == 0:
        return float("nan")
    onset = notes[:, 1]
    if steps_per_bar is not None:
        starts = bar_starts(int(onset.max()) + 1, steps_per_bar)
        onset = onset - starts[np.searchsorted(starts, onset, side="right") - 1]
    # Distance (in steps) from the onset to the nearest 16th-note grid point.
    phase = (4 * onset) % steps_per_beat
    distance = np.minimum(phase, steps_per_beat - phase) / 4
    return float(np.mean(distance <= tolerance_steps))


# Harte, Sandler & Gasser (2006): the 6-D tonal centroid projects a chroma vector onto
# three circles: fifths (r=1), minor thirds (r=1) and major thirds (r=0.5).
_PC = np.arange(12)
_TONNETZ = np.stack(
    [
        np.sin(_PC * 7 * np.pi / 6),
        np.cos(_PC * 7 * np.pi / 6),
        np.sin(_PC * 3 * np.pi / 2),
        np.cos(_PC * 3 * np.pi / 2),
        0.5 * np.sin(_PC * 2 * np.pi / 3),
        0.5 * np.cos(_PC * 2 * np.pi / 3),
    ]
)


def tonal_centroid(chroma: np.ndarray) -> np.ndarray:
    """Harte et al.'s 6-D tonal centroid of chroma vectors ``[..., 12]`` (L1-normalized
    first; an all-zero chroma gives the origin)."""
    chroma = np.asarray(chroma, dtype=np.float64)
    total = chroma.sum(axis=-1, keepdims=True)
    normalized = np.divide(chroma, total, out=np.zeros_like(chroma), where=total > 0)
    return normalized @ _TONNETZ.T


def tonal_distance(a: TrackRoll, b: TrackRoll, steps_per_bar: BarSpec) -> float:
    """TD: per bar, the Euclidean distance between the tonal centroids of the two
    tracks' chroma (each pitch weighted by the steps it sounds in the bar), averaged
    over the bars where both tracks sound. ``nan`` when there is no such bar.
    Both tracks must have the same number of steps."""
    held_a, held_b = sounding(a), sounding(b)
    if held_a.shape != held_b.shape:
        raise ValueError(f"tracks of different lengths: {held_a.shape} and {held_b.shape}")
    starts = bar_starts(held_a.shape[0], steps_per_bar)
    chroma_a = bar_sums(pitch_class_counts(held_a), starts)
    chroma_b = bar_sums(pitch_class_counts(held_b), starts)
    both = (chroma_a.sum(axis=1) > 0) & (chroma_b.sum(axis=1) > 0)
    if not both.any():
        return float("nan")
    gap = tonal_centroid(chroma_a[both]) - tonal_centroid(chroma_b[both])
    return float(np.linalg.norm(gap, axis=1).mean())


def polyphony_rate(track: TrackRoll) -> float:
    """The share of sounding steps (steps where the track sounds at all) at which at
    least two pitches sound together. ``nan`` for a silent track."""
    count = sounding(track).sum(axis=1)
    active = count > 0
    return float(np.mean(count[active] >= 2)) if active.any() else float("nan")


def melody_doubling_rate(track: TrackRoll, melody: TrackRoll) -> float:
    """The share of the track's notes that start on the same step as a melody note of
    the same pitch class (unison or octave doubling of the melody).
    ``nan`` for a track with no notes."""
    notes = notes_from_roll(track)
    if notes.shape[0] == 0:
        return float("nan")
    melody_notes = notes_from_roll(melody)
    steps = max(int(notes[:, 1].max()), int(melody_notes[:, 1].max(initial=0))) + 1
    melody_onset_class = np.zeros((steps, 12), dtype=bool)
    melody_onset_class[melody_notes[:, 1], melody_notes[:, 0] % 12] = True
    return float(np.mean(melody_onset_class[notes[:, 1], notes[:, 0] % 12]))


# --------------------------------------------------------------------------- overlap


def note_overlap(a: TrackRoll, b: TrackRoll) -> float:
    """How many notes two tracks share, identified by (pitch, onset step), as a share of
    both: ``2 |A & B| / (|A| + |B|)`` (1 for the same notes, 0 for none in common; with
    as many notes on each side it is the share of one's notes found in the other).
    Also takes multi-track arrays ``[tracks, steps, 128]`` (notes match within the same
    track). Two silent tracks overlap fully (1.0)."""
    keys_a, keys_b = _note_keys(a), _note_keys(b)
    if not keys_a and not keys_b:
        return 1.0
    return 2 * len(keys_a & keys_b) / (len(keys_a) + len(keys_b))


def _note_keys(track: TrackRoll | np.ndarray) -> set[tuple[int, int, int]]:
    if not isinstance(track, tuple) and np.ndim(track) == 3:
        return {key for index, roll in enumerate(track) for key in _note_keys_one(roll, index)}
    return _note_keys_one(track, 0)


def _note_keys_one(track: TrackRoll, index: int) -> set[tuple[int, int, int]]:
    return {(index, int(pitch), int(start)) for pitch, start, _ in notes_from_roll(track)}


def median_note_overlap(
    first: Sequence[TrackRoll | np.ndarray], second: Sequence[TrackRoll | np.ndarray]
) -> float:
    """The median of :func:`note_overlap` over pairs ``(first[i], second[i])``, e.g. the
    accompaniments of the same melodies sampled with two seeds. The sampler's target:
    under 0.70."""
    if len(first) != len(second) or not first:
        raise ValueError("need two equally long, non-empty sequences of tracks")
    return float(np.median([note_overlap(a, b) for a, b in zip(first, second)]))


# --------------------------------------------------------------------------- per track


def track_metrics(
    track: TrackRoll,
    *,
    steps_per_bar: BarSpec,
    steps_per_beat: int,
    melody: TrackRoll | None = None,
    key: str | None = None,
    is_drum: bool = False,
) -> dict[str, float]:
    """Every metric that applies to one track, keyed by the names in
    :data:`METRIC_LABELS`.

    All tracks: EB, QN, polyphony. Drum tracks: DP (pitch metrics do not apply to
    drums). Pitched tracks: UPC, in-scale (in ``key``, or the key estimated from the
    melody and this track when ``key`` is None), and with a melody also TD to it and
    melody doubling. The melody must have as many steps as the track.
    """
    result = {
        EMPTY_BAR_RATE: empty_bar_rate(track, steps_per_bar),
        QUALIFIED_NOTE_RATE: qualified_note_rate(track, steps_per_beat),
        POLYPHONY_RATE: polyphony_rate(track),
    }
    if is_drum:
        result[DRUM_PATTERN_RATE] = drum_pattern_rate(track, steps_per_beat, steps_per_bar)
        return result
    result[USED_PITCH_CLASSES] = used_pitch_classes(track, steps_per_bar)
    if key is None:
        key = estimate_key(track) if melody is None else estimate_key(melody, track)
    result[IN_SCALE_RATE] = in_scale_rate(track, key)
    if melody is not None:
        result[TONAL_DISTANCE] = tonal_distance(melody, track, steps_per_bar)
        result[MELODY_DOUBLING_RATE] = melody_doubling_rate(track, melody)
    return result
