"""Keys at generation time (numpy only): the key guard's weights and the key signature
written to an output whose input names none."""

from __future__ import annotations

import numpy as np

from composer_gui.core.song import Song
from composer_gui.ml.model.config import ModelConfig


def key_guard_weights(config: ModelConfig, melody_held: np.ndarray,
                      probs: np.ndarray) -> np.ndarray:
    """Per-candidate, per-pitch weights ``[K, P]``: 1 in the key, ``config.key_guard``
    outside it. The key (Krumhansl-Schmuckler) is that of the melody's held steps per pitch
    (``melody_held`` ``[P]``, or ``[K, P]`` one per candidate) together with the expected
    notes of the parts that play throughout (not bar-gated: the pop piano; the harmony
    helps tell a major melody from its relative minor's) in ``probs`` ``[K, R, 2, T, P]``.
    ``key_guard`` 0 allows in-key pitches only (the pitch choice; how many notes sound
    stays the network's). Generation and training's validation both use it, so the
    metrics a training shows are those of what generation writes."""
    from composer_gui.ml.metrics.keys import key_of_chroma, scale_pitch_classes
    k_count = probs.shape[0]
    pcs = (config.lowest + np.arange(config.pitches)) % 12
    held = np.broadcast_to(np.asarray(melody_held, dtype=np.float64),
                           (k_count, config.pitches))
    weights = np.ones((k_count, config.pitches), np.float32)
    steady = [r for r, spec in enumerate(config.roles) if spec.bar_gate <= 0]
    for k in range(k_count):
        mass = held[k] + probs[k, steady, 0].sum(axis=(0, 1))
        if not mass.any():
            continue
        chroma = np.bincount(pcs, weights=mass, minlength=12)
        key = key_of_chroma(chroma)
        weights[k, ~np.isin(pcs, list(scale_pitch_classes(key)))] = config.key_guard
    return weights


def estimated_key(song: Song) -> str:
    """The Krumhansl-Schmuckler key of a song's pitched notes, weighted by duration."""
    from composer_gui.ml.metrics.keys import key_of_chroma

    histogram = np.zeros(12)
    for track in song.tracks:
        if not track.is_drum:
            for note in track.notes:
                histogram[note.pitch % 12] += note.duration
    return key_of_chroma(histogram)


def with_key_signature(song: Song, source: Song) -> Song:
    """``song`` as it is when it names its key; else a copy that names the key the notes
    of ``source`` (the input: the melody and whatever else the user wrote) imply, so
    notation programs show the right key."""
    if song.key_signatures or not any(t.notes for t in source.tracks):
        return song
    from composer_gui.core.song import KeySignature

    out = song.copy()
    out.key_signatures = [KeySignature(0, estimated_key(source))]
    return out
