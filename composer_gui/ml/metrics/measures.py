"""Objective metrics for generated accompaniment, computed on piano rolls (numpy only).

This module must not import torch: the command line (``evaluate``) and the window's
training plots use it without loading the network.

Input conventions
-----------------
* A *roll* is an array ``[steps, 128]`` (time x MIDI pitch), bool, int or float; any
  nonzero cell means "this pitch sounds at this step". Binarize a generator's output
  (e.g. ``probs > 0.5``) before measuring it. A roll that covers fewer pitches can be
  widened with :func:`to_full_range`.
* A *track* (:data:`TrackRoll`) is either a roll, or an onset-aware pair
  ``(onsets, held)`` of two such arrays of the same shape: ``onsets`` marks the step
  where each note starts, ``held`` every step where it sounds. Use the pair where note
  boundaries matter (two repeated notes of one pitch). From a plain roll, a note is a
  maximal run of sounding steps of one pitch. See :func:`notes_from_roll`.
* ``steps_per_bar`` is an int (every bar that long; a last, shorter bar at the end of
  the roll counts as a bar), or an increasing sequence of the steps where bars start
  (songs with meter changes or pickups). Steps before the first listed start form a
  bar of their own (a pickup); starts at or past the end of the roll are ignored.
* ``steps_per_beat`` is steps per quarter note.

Every rate is in [0, 1]. A metric that has nothing to measure (no notes, no
non-empty bar ...) is ``nan``; aggregation skips those.

Metric names (dictionary keys) and their short labels for tables are in
:data:`METRIC_LABELS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

#: A track: a roll ``[steps, 128]``, or an ``(onsets, held)`` pair of such rolls.
TrackRoll = np.ndarray | tuple[np.ndarray, np.ndarray]
#: Either one bar length in steps, or the steps where bars start.
BarSpec = int | Sequence[int] | np.ndarray

N_PITCHES = 128

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

# Targets of the generator issue (item 7), shared by every shipped model.
EB_TOLERANCE = 0.10
UPC_TOLERANCE = 1.0
IN_SCALE_MAX_DROP = 0.05
DOUBLING_MAX_RISE = 0.10
QN_MINIMUM = 0.80

#: What each target asks, for the model card's table.
TARGET_TEXT: dict[str, str] = {
    EMPTY_BAR_RATE: f"within {EB_TOLERANCE:.2f} of data",
    USED_PITCH_CLASSES: f"within {UPC_TOLERANCE:.1f} of data",
    QUALIFIED_NOTE_RATE: f">= {QN_MINIMUM:.2f}",
    TONAL_DISTANCE: "<= midpoint of data and shuffled",
    IN_SCALE_RATE: f">= data - {IN_SCALE_MAX_DROP:.2f}",
    MELODY_DOUBLING_RATE: f"<= data + {DOUBLING_MAX_RISE:.2f}",
}


# --------------------------------------------------------------------------- rolls


def _as_roll(array: np.ndarray, what: str = "roll") -> np.ndarray:
    roll = np.asarray(array)
    if roll.ndim != 2 or roll.shape[1] != N_PITCHES:
        raise ValueError(f"{what} must have shape [steps, 128], got {roll.shape}")
    return roll if roll.dtype == np.bool_ else roll != 0


def _split(track: TrackRoll) -> tuple[np.ndarray | None, np.ndarray]:
    """(onsets or None, sounding) as bool arrays; an onset always sounds."""
    if isinstance(track, tuple):
        if len(track) != 2:
            raise ValueError("an onset-aware track is a pair (onsets, held)")
        onsets = _as_roll(track[0], "onset roll")
        held = _as_roll(track[1], "held roll")
        if onsets.shape != held.shape:
            raise ValueError(f"onset roll {onsets.shape} and held roll {held.shape} differ")
        return onsets, held | onsets
    return None, _as_roll(track)


def sounding(track: TrackRoll) -> np.ndarray:
    """Bool ``[steps, 128]``: where the track sounds (held, or at an onset)."""
    return _split(track)[1]


def to_full_range(roll: np.ndarray, lowest_pitch: int) -> np.ndarray:
    """Widen a roll ``[steps, P]`` whose column 0 is MIDI pitch ``lowest_pitch`` to
    ``[steps, 128]`` (zeros outside), so that pitch classes are right."""
    roll = np.asarray(roll)
    if roll.ndim != 2 or lowest_pitch < 0 or lowest_pitch + roll.shape[1] > N_PITCHES:
        raise ValueError(f"cannot place a {roll.shape} roll at pitch {lowest_pitch}")
    full = np.zeros((roll.shape[0], N_PITCHES), dtype=roll.dtype)
    full[:, lowest_pitch : lowest_pitch + roll.shape[1]] = roll
    return full


def notes_from_roll(track: TrackRoll) -> np.ndarray:
    """The notes of a track as an int array ``[n, 3]`` of (pitch, start, length) in
    steps, sorted by (start, pitch).

    From a plain roll a note is a maximal run of sounding steps of one pitch. From an
    ``(onsets, held)`` pair a note starts at each onset (or where a pitch starts
    sounding without one) and lasts while the pitch is held, up to the next onset.
    """
    onsets, held = _split(track)
    previous = np.zeros_like(held)
    previous[1:] = held[:-1]
    starts = held & ~previous
    if onsets is not None:
        starts |= onsets
    following_start = np.ones_like(held)  # the roll's end closes every note
    following_start[:-1] = starts[1:] | ~held[1:]
    ends = held & following_start
    # Per pitch, starts and ends alternate in time: pair them in pitch-major order.
    start_step, start_pitch = np.nonzero(starts)
    end_step, end_pitch = np.nonzero(ends)
    by_start = np.argsort(start_pitch, kind="stable")  # nonzero is time-major
    by_end = np.argsort(end_pitch, kind="stable")
    notes = np.stack(
        [start_pitch[by_start], start_step[by_start], end_step[by_end] - start_step[by_start] + 1],
        axis=1,
    )
    order = np.lexsort((notes[:, 0], notes[:, 1]))
    return notes[order].astype(np.int64).reshape(-1, 3)


# --------------------------------------------------------------------------- bars


def bar_starts(n_steps: int, steps_per_bar: BarSpec) -> np.ndarray:
    """The first step of each bar of a roll ``n_steps`` long (see the module notes)."""
    if np.ndim(steps_per_bar) == 0:
        length = int(steps_per_bar)
        if length < 1:
            raise ValueError(f"steps_per_bar must be at least 1, got {length}")
        return np.arange(0, n_steps, length, dtype=np.int64)
    starts = np.asarray(steps_per_bar, dtype=np.int64).ravel()
    if starts.size and (np.any(np.diff(starts) <= 0) or starts[0] < 0):
        raise ValueError("bar starts must be non-negative and strictly increasing")
    starts = starts[starts < n_steps]
    if n_steps > 0 and (starts.size == 0 or starts[0] > 0):
        starts = np.concatenate([[0], starts])  # the steps before the first bar: a pickup
    return starts


def _bar_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum ``values`` (steps first) over each bar."""
    if starts.size == 0:
        return np.zeros((0,) + values.shape[1:], dtype=values.dtype)
    return np.add.reduceat(values, starts, axis=0)


def _chroma(held: np.ndarray) -> np.ndarray:
    """``[steps, 12]``: how many pitches of each pitch class sound at each step."""
    padded = np.zeros((held.shape[0], 132), dtype=np.int64)
    padded[:, :N_PITCHES] = held
    return padded.reshape(held.shape[0], 11, 12).sum(axis=1)


# --------------------------------------------------------------------------- metrics


def empty_bar_rate(track: TrackRoll, steps_per_bar: BarSpec) -> float:
    """EB: the share of bars in which the track sounds no note at all (a note held
    over from the previous bar counts as sounding). ``nan`` for a roll with no bars."""
    held = sounding(track)
    starts = bar_starts(held.shape[0], steps_per_bar)
    if starts.size == 0:
        return float("nan")
    per_bar = _bar_sums(held.any(axis=1).astype(np.int64), starts)
    return float(np.mean(per_bar == 0))


def used_pitch_classes(track: TrackRoll, steps_per_bar: BarSpec) -> float:
    """UPC: the mean number of distinct pitch classes sounding in a bar, over the bars
    where the track sounds. ``nan`` when every bar is empty."""
    held = sounding(track)
    starts = bar_starts(held.shape[0], steps_per_bar)
    per_bar = _bar_sums(_chroma(held), starts) > 0
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
    chroma_a = _bar_sums(_chroma(held_a), starts)
    chroma_b = _bar_sums(_chroma(held_b), starts)
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


# --------------------------------------------------------------------------- keys

_NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
#: Natural minor plus the raised seventh (the leading tone of harmonic minor), which
#: minor-key music uses at every cadence; leaving it out would count most V chords as
#: out of key.
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
_MAJOR_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_NAMES = ("Cm", "C#m", "Dm", "Ebm", "Em", "Fm", "F#m", "Gm", "G#m", "Am", "Bbm", "Bm")


def parse_key(name: str) -> tuple[int, bool]:
    """(tonic pitch class, is_minor) of a mido key name such as ``"F#m"``, ``"Bb"``."""
    text = name.strip()
    if not text or text[0].upper() not in _NOTE_NAMES:
        raise ValueError(f"not a key name: {name!r}")
    tonic = _NOTE_NAMES[text[0].upper()]
    rest = text[1:]
    if rest[:1] in ("#", "b"):
        tonic += 1 if rest[0] == "#" else -1
        rest = rest[1:]
    if rest not in ("", "m"):
        raise ValueError(f"not a key name: {name!r}")
    return tonic % 12, rest == "m"


def scale_pitch_classes(key: str) -> frozenset[int]:
    """The pitch classes of a key's scale: major, or minor as in :data:`MINOR_SCALE`."""
    tonic, minor = parse_key(key)
    return frozenset((tonic + step) % 12 for step in (MINOR_SCALE if minor else MAJOR_SCALE))


def estimate_key(*tracks: TrackRoll) -> str:
    """The Krumhansl-Schmuckler key of some tracks together (e.g. the melody and the
    accompaniment): the major or minor key whose Krumhansl-Kessler profile correlates
    best with the tracks' duration-weighted pitch-class histogram. Returns a mido key
    name (``"C"``, ``"F#m"`` ...); ``"C"`` for silence."""
    histogram = np.zeros(12)
    for track in tracks:
        histogram += _chroma(sounding(track)).sum(axis=0)
    return key_of_chroma(histogram)


def key_of_chroma(histogram: np.ndarray) -> str:
    """The Krumhansl-Schmuckler key of a 12-bin pitch-class histogram (index 0 = C), as
    :func:`estimate_key` finds it; ``"C"`` for an empty histogram."""
    histogram = np.asarray(histogram, dtype=np.float64)
    if not histogram.any():
        return "C"
    scores = np.empty(24)
    for tonic in range(12):
        rotated = np.roll(histogram, -tonic)  # index 0 is now the candidate tonic
        scores[tonic] = np.corrcoef(rotated, _KK_MAJOR)[0, 1]
        scores[12 + tonic] = np.corrcoef(rotated, _KK_MINOR)[0, 1]
    scores = np.nan_to_num(scores, nan=-2.0)  # a flat histogram correlates with nothing
    best = int(np.argmax(scores))
    return _MAJOR_NAMES[best] if best < 12 else _MINOR_NAMES[best - 12]


def in_scale_rate(track: TrackRoll, key: str) -> float:
    """The share of the track's notes whose pitch class is in ``key``'s scale
    (see :func:`scale_pitch_classes`). ``nan`` for a track with no notes."""
    notes = notes_from_roll(track)
    if notes.shape[0] == 0:
        return float("nan")
    scale = np.zeros(12, dtype=bool)
    scale[list(scale_pitch_classes(key))] = True
    return float(np.mean(scale[notes[:, 0] % 12]))


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


# --------------------------------------------------------------------------- many songs


@dataclass(frozen=True)
class SongRolls:
    """One song to measure: its melody and accompaniment tracks by role, all with the
    same number of steps, on one grid.

    ``key`` is a mido key name; None estimates it from the melody and all ``tracks``.
    To compare generated with real accompaniment on equal terms, give both the same key
    (for instance the one estimated on the real song). Roles in ``drum_roles`` get the
    drum metrics.
    """

    melody: TrackRoll
    tracks: Mapping[str, TrackRoll]
    steps_per_bar: BarSpec
    steps_per_beat: int
    key: str | None = None
    drum_roles: frozenset[str] = field(default_factory=frozenset)
    name: str = ""


def song_metrics(song: SongRolls) -> dict[str, dict[str, float]]:
    """:func:`track_metrics` for every track of a song, by role."""
    pitched = [track for role, track in song.tracks.items() if role not in song.drum_roles]
    key = song.key or estimate_key(song.melody, *pitched)
    return {
        role: track_metrics(
            track,
            steps_per_bar=song.steps_per_bar,
            steps_per_beat=song.steps_per_beat,
            melody=song.melody,
            key=key,
            is_drum=role in song.drum_roles,
        )
        for role, track in song.tracks.items()
    }


def _truncate(track: TrackRoll, steps: int) -> TrackRoll:
    if isinstance(track, tuple):
        return (np.asarray(track[0])[:steps], np.asarray(track[1])[:steps])
    return np.asarray(track)[:steps]


def _n_steps(track: TrackRoll) -> int:
    return int(np.shape(track[1] if isinstance(track, tuple) else track)[0])


def shuffled_tonal_distances(
    songs: Sequence[SongRolls], *, seed: int = 0
) -> list[dict[str, float]]:
    """For each song, by pitched role: TD between its melody and the same role's track
    of a different song (a baseline for unrelated accompaniment). The partner songs are
    a random cycle over the songs that have the role, fixed by ``seed``; the pair is cut
    to the shorter of the two and measured on the melody's bars. A role found in only
    one song gets no value."""
    rng = np.random.default_rng(seed)
    result: list[dict[str, float]] = [{} for _ in songs]
    roles = sorted({role for song in songs for role in song.tracks})
    for role in roles:
        having = [i for i, song in enumerate(songs) if role in song.tracks]
        having = [i for i in having if role not in songs[i].drum_roles]
        if len(having) < 2:
            continue
        cycle = [having[i] for i in rng.permutation(len(having))]
        for position, index in enumerate(cycle):
            song, other = songs[index], songs[cycle[(position + 1) % len(cycle)]]
            steps = min(_n_steps(song.melody), _n_steps(other.tracks[role]))
            result[index][role] = tonal_distance(
                _truncate(song.melody, steps),
                _truncate(other.tracks[role], steps),
                song.steps_per_bar,
            )
    return result


def aggregate_metrics(
    songs: Sequence[SongRolls], *, seed: int = 0, shuffled: bool = True
) -> dict[str, dict[str, float]]:
    """The table for a model card: per role, per metric, the mean over the songs where
    the metric is defined (``nan`` where it is defined for none). With ``shuffled``,
    also ``tonal_distance_shuffled``, the mean of :func:`shuffled_tonal_distances`."""
    collected: dict[str, dict[str, list[float]]] = {}
    for song in songs:
        for role, values in song_metrics(song).items():
            bucket = collected.setdefault(role, {})
            for name, value in values.items():
                bucket.setdefault(name, []).append(value)
    if shuffled:
        for per_song in shuffled_tonal_distances(songs, seed=seed):
            for role, value in per_song.items():
                collected[role].setdefault(TONAL_DISTANCE_SHUFFLED, []).append(value)
    table: dict[str, dict[str, float]] = {}
    for role, metrics in collected.items():
        table[role] = {}
        for name in METRIC_LABELS:
            if name in metrics:
                values = np.asarray(metrics[name], dtype=np.float64)
                values = values[~np.isnan(values)]
                table[role][name] = float(values.mean()) if values.size else float("nan")
    return table


# --------------------------------------------------------------------------- targets


def targets_met(
    data_table: Mapping[str, Mapping[str, float]],
    gen_table: Mapping[str, Mapping[str, float]],
) -> dict[str, dict[str, bool]]:
    """Per role of ``gen_table``, per metric with a target (:data:`TARGET_TEXT`): does
    the generated value meet the generator issue's target against the data's value?

    EB within 0.10 of the data; UPC within 1.0; in-scale at most 0.05 under the data;
    melody doubling at most 0.10 over the data; QN at least 0.80; TD to the melody at
    most the midpoint of the data's TD and the data's shuffled TD (the generated
    table's shuffled TD when the data table has none). A metric missing or ``nan`` on
    either side fails; metrics without a target (DP, polyphony) are left out.
    """
    return {role: _role_targets(data_table.get(role, {}), gen) for role, gen in gen_table.items()}


def _role_targets(data: Mapping[str, float], gen: Mapping[str, float]) -> dict[str, bool]:
    def value(table: Mapping[str, float], name: str) -> float:
        return float(table.get(name, float("nan")))

    shuffled = value(data, TONAL_DISTANCE_SHUFFLED)
    if np.isnan(shuffled):
        shuffled = value(gen, TONAL_DISTANCE_SHUFFLED)
    rules = {
        EMPTY_BAR_RATE: lambda g, d: abs(g - d) <= EB_TOLERANCE,
        USED_PITCH_CLASSES: lambda g, d: abs(g - d) <= UPC_TOLERANCE,
        QUALIFIED_NOTE_RATE: lambda g, d: g >= QN_MINIMUM,
        IN_SCALE_RATE: lambda g, d: g >= d - IN_SCALE_MAX_DROP,
        MELODY_DOUBLING_RATE: lambda g, d: g <= d + DOUBLING_MAX_RISE,
        TONAL_DISTANCE: lambda g, d: g <= (d + shuffled) / 2,
    }
    # Comparisons with nan are False, so a missing value fails its target.
    return {
        name: bool(rule(value(gen, name), value(data, name)))
        for name, rule in rules.items()
        if name in gen
    }


def _cell(value: float | None) -> str:
    if value is None:
        return ""
    return "n/a" if np.isnan(value) else f"{value:.3f}"


def format_table(
    data_table: Mapping[str, Mapping[str, float]],
    gen_table: Mapping[str, Mapping[str, float]] | None = None,
    *,
    roles: Sequence[str] | None = None,
) -> str:
    """A markdown table for a model card: ``track | metric | data | generated | target |
    met?``, one row per role and metric (roles in ``roles`` order, else the data
    table's). Without a generated table only the data column is printed."""
    roles = list(roles) if roles is not None else list(data_table)
    if gen_table is None:
        lines = ["| track | metric | data |", "|---|---|---:|"]
    else:
        lines = [
            "| track | metric | data | generated | target | met? |",
            "|---|---|---:|---:|---|---|",
        ]
        met = targets_met(data_table, gen_table)
    for role in roles:
        data = data_table.get(role, {})
        gen = gen_table.get(role, {}) if gen_table is not None else {}
        for name, label in METRIC_LABELS.items():
            if name not in data and name not in gen:
                continue
            if gen_table is None:
                lines.append(f"| {role} | {label} | {_cell(data.get(name))} |")
                continue
            verdict = met.get(role, {}).get(name)
            lines.append(
                f"| {role} | {label} | {_cell(data.get(name))} | {_cell(gen.get(name))} "
                f"| {TARGET_TEXT.get(name, '')} "
                f"| {'' if verdict is None else ('yes' if verdict else 'no')} |"
            )
    return "\n".join(lines) + "\n"
