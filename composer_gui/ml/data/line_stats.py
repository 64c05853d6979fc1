"""How the real one-voice parts move, counted on songs (numpy only).

The generator gives, at every step, how likely each pitch is; the decoder then picks one
note at a time. Drawn independently, note after note, those picks leap where a singer
steps: on the chorale's validation songs the generated bass moved 5.0 semitones between
notes on average against Bach's 3.1, and a two-sample classifier told generated bars from
real ones mostly by that. The network's marginals at one step carry no memory of the
note just chosen; a line needs one.

:func:`line_counts` counts, per one-voice part, over the notes of some songs:

* ``steps``: how often the next note lies ``-12..+12`` semitones from the last one (a
  larger leap counts at the octave);
* ``register``: how often a note has each pitch (the model's pitch axis);
* ``melody``: how often a note lies 0..11 semitones (mod 12) above the melody's note
  sounding where it starts;
* ``onsets``: per position inside the beat (``steps_per_beat`` positions), how many notes
  start there, with ``positions`` counting the steps at each position;
* ``key``: how many notes lie in the song's key and how many outside it.

The decoder weights each candidate pitch by the product of a weight per step, per pitch
and per interval to the melody (:class:`composer_gui.ml.generate.decode.LinePrior`): the
network's choice times a model of the line, as a hidden Markov model decodes. The weights
are fitted so that decoded training songs move, sit and sound against their melody as the
real ones do (:mod:`composer_gui.ml.generate.fit_lines`); the onsets say where notes may
start at all (Bach's sixteenth-note offbeats carry 0.2% of the bass's notes).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from composer_gui.pianoroll.grid import ONSET

#: Steps (semitones) counted one by one; a larger leap counts at the octave.
MAX_STEP = 12
STEP_BINS = 2 * MAX_STEP + 1
#: The kinds of counts a line has, besides its onsets.
KINDS = ("steps", "register", "melody")
#: A melody pitch that means "the melody rests" (pitches may lie below the model's range).
SILENT = -10_000


def note_line(onsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(steps, pitches) of the notes of a one-voice part, in time order (the top note
    where several start at once)."""
    steps, pitches = np.nonzero(onsets)
    if len(steps) == 0:
        return steps, pitches
    order = np.lexsort((-pitches, steps))
    steps, pitches = steps[order], pitches[order]
    first = np.r_[True, steps[1:] != steps[:-1]]
    return steps[first], pitches[first]


def beat_positions(bar_starts: np.ndarray, n_steps: int, steps_per_beat: int) -> np.ndarray:
    """``[n_steps]``: each step's position inside its beat, counted from its bar line."""
    bars = np.asarray(bar_starts)
    idx = np.clip(np.searchsorted(bars, np.arange(n_steps), side="right") - 1, 0, len(bars) - 1)
    return (np.arange(n_steps) - bars[idx]) % steps_per_beat


def empty_counts(n_pitches: int, steps_per_beat: int) -> dict[str, np.ndarray]:
    return {"steps": np.zeros(STEP_BINS), "register": np.zeros(n_pitches),
            "melody": np.zeros(12), "onsets": np.zeros(steps_per_beat),
            "positions": np.zeros(steps_per_beat), "key": np.zeros(2)}


def add_counts(counts: dict[str, np.ndarray], part_onsets: np.ndarray, melody_top: np.ndarray,
               positions: np.ndarray, in_key: np.ndarray) -> None:
    """Add one song's part to ``counts`` (:func:`empty_counts`): ``part_onsets``
    ``[S, P]`` (bool), ``melody_top`` ``[S]`` the melody's top pitch on the same pitch
    axis (:data:`SILENT`: resting), ``positions`` ``[S]`` (:func:`beat_positions`),
    ``in_key`` ``[P]`` which pitches lie in the song's key."""
    n_pitches = part_onsets.shape[1]
    counts["positions"] += np.bincount(positions, minlength=len(counts["positions"]))
    steps, pitches = note_line(part_onsets)
    if len(steps) == 0:
        return
    counts["onsets"] += np.bincount(positions[steps], minlength=len(counts["onsets"]))
    moves = np.clip(np.diff(pitches), -MAX_STEP, MAX_STEP) + MAX_STEP
    counts["steps"] += np.bincount(moves, minlength=STEP_BINS)
    counts["register"] += np.bincount(pitches, minlength=n_pitches)[:n_pitches]
    mel = melody_top[steps]
    heard = mel > SILENT
    counts["melody"] += np.bincount((pitches[heard] - mel[heard]) % 12, minlength=12)
    inside = int(in_key[pitches].sum())
    counts["key"] += [inside, len(pitches) - inside]


def shares(counts: np.ndarray, prior: float = 1.0) -> np.ndarray:
    """Counts as shares, each bin with ``prior`` added (no bin is impossible)."""
    c = np.asarray(counts, dtype=np.float64) + prior
    return c / c.sum()


def onset_rates(counts: dict[str, np.ndarray]) -> list[float]:
    """Notes started per step at each position in the beat, relative to the busiest."""
    rate = counts["onsets"] / np.maximum(counts["positions"], 1)
    rate = rate / rate.max() if rate.max() > 0 else np.ones(len(rate))
    return [round(float(v), 5) for v in rate]


def key_mask(song, lowest_ext: int) -> np.ndarray:
    """``[P_ext]``: which pitches of a song's extended axis (starting at MIDI pitch
    ``lowest_ext``) lie in its key, the key estimated from all its pitched notes."""
    from composer_gui.ml.metrics.keys import key_of_chroma, scale_pitch_classes

    held = (song.codes > 0).sum(axis=(0, 1)).astype(np.float64)
    pcs = (lowest_ext + np.arange(song.codes.shape[2])) % 12
    key = key_of_chroma(np.bincount(pcs, weights=held, minlength=12))
    return np.isin(pcs, list(scale_pitch_classes(key)))


def line_counts(songs: Iterable, role_indices: Iterable[int], steps_per_beat: int,
                margin: int, n_pitches: int,
                lowest: int) -> tuple[dict[int, dict[str, np.ndarray]], list[np.ndarray]]:
    """Counts per role over ``songs`` (:class:`composer_gui.ml.data.dataset.SongArrays`:
    codes melody first on the extended pitch axis, ``margin`` pitches wider each side
    than the model's ``n_pitches`` from MIDI pitch ``lowest``; role ``r`` is
    ``codes[1 + r]``), and each song's key mask on the model's pitch axis."""
    from composer_gui.ml.metrics.harmony import top_line

    roles = list(role_indices)
    out = {r: empty_counts(n_pitches, steps_per_beat) for r in roles}
    keys = []
    for song in songs:
        n = song.codes.shape[1]
        positions = beat_positions(song.bar_starts, n, steps_per_beat)
        top = top_line(song.codes[0] > 0)
        melody = np.where(top >= 0, top - margin, SILENT)
        keys.append(key_mask(song, lowest - margin)[margin:margin + n_pitches])
        for r in roles:
            part = song.codes[1 + r, :, margin:margin + n_pitches] == ONSET
            add_counts(out[r], part, melody, positions, keys[-1])
    return out, keys
