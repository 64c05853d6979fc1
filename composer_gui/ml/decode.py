"""Probabilities -> binary parts (numpy only).

The generator gives, per part, a frame probability (the pitch sounds) and an onset
probability (a note starts) for each step and pitch. Decoding binarizes them into the
codes of :mod:`composer_gui.ml.roll`:

* monophonic parts (``voices == 1``, e.g. the chorale voices): at each step the part
  sounds when the summed frame probability reaches 0.5; a held note continues while its
  pitch stays likely (frame >= 0.5) and no onset is likely; otherwise a new note starts,
  its pitch drawn from the frame probabilities sharpened by ``temperature`` (0: the most
  likely pitch).
* polyphonic parts: each pitch sounds where its frame probability reaches 0.5 (or, with
  a temperature, where a Bernoulli draw says so) and a note starts at a likely onset or
  where the pitch starts sounding.
"""

from __future__ import annotations

import numpy as np

from composer_gui.ml.roll import HOLD, ONSET, SILENT


def decode_mono(frame: np.ndarray, onset: np.ndarray, rng: np.random.Generator | None,
                temperature: float = 1.0, start: int = 0, prev_pitch: int = -1) -> np.ndarray:
    """Codes ``[T, P]`` for steps ``start..T`` of a one-voice part (earlier steps stay
    silent); ``prev_pitch`` is the pitch still sounding at ``start - 1`` (or -1).

    Rhythm is decided by thresholds (the part sounds where the summed frame probability
    reaches 0.5; a new note starts where the summed onset probability does, or where the
    held pitch has become unlikely), the pitch of each new note is drawn (diversity
    between seeds comes from here and from the generator's noise)."""
    t_len, p_len = frame.shape
    codes = np.zeros((t_len, p_len), dtype=np.int8)
    current = prev_pitch
    activity = frame.sum(axis=1)
    onset_total = onset.sum(axis=1)
    peak = frame.max(axis=1)
    age = 0
    for t in range(start, t_len):
        if activity[t] < 0.5:
            current = -1
            continue
        # onsets smear over neighbouring steps: a note lives at least two steps unless
        # its pitch stops being likely
        fresh_onset = onset_total[t] >= 0.5 and age >= 2
        if current >= 0 and not fresh_onset and frame[t, current] >= 0.25 * peak[t]:
            codes[t, current] = HOLD
            age += 1
            continue
        age = 1
        # a pitch that sounds now and still sounds at the next step: no one-step blips
        probs = np.sqrt(frame[t] * frame[min(t + 1, t_len - 1)])
        codes[t, _draw(probs, rng, temperature)] = ONSET
        current = int(np.argmax(codes[t]))
    return codes


def _draw(probs: np.ndarray, rng: np.random.Generator | None, temperature: float) -> int:
    """A pitch index drawn from ``probs`` sharpened by ``temperature`` (0: argmax);
    pitches under 25% of the most likely one are never drawn."""
    if temperature <= 0 or rng is None:
        return int(np.argmax(probs))
    logits = np.log(np.clip(probs, 1e-9, 1.0)) / temperature
    weights = np.exp(logits - logits.max())
    weights[probs < 0.25 * probs.max()] = 0.0
    return int(rng.choice(len(probs), p=weights / weights.sum()))


def decode_poly(frame: np.ndarray, onset: np.ndarray, rng: np.random.Generator | None,
                temperature: float = 1.0, start: int = 0,
                prev_frame: np.ndarray | None = None) -> np.ndarray:
    """Codes ``[T, P]`` for steps ``start..T`` of a part with any number of voices."""
    t_len, p_len = frame.shape
    if temperature <= 0 or rng is None:
        sounding = frame >= 0.5
        starting = onset >= 0.5
    else:
        # sharpen towards 0/1 by the temperature, then draw
        f = 1.0 / (1.0 + np.exp(-(np.log(np.clip(frame, 1e-6, 1 - 1e-6))
                                  - np.log1p(-np.clip(frame, 1e-6, 1 - 1e-6))) / temperature))
        o = 1.0 / (1.0 + np.exp(-(np.log(np.clip(onset, 1e-6, 1 - 1e-6))
                                  - np.log1p(-np.clip(onset, 1e-6, 1 - 1e-6))) / temperature))
        sounding = rng.random(frame.shape) < f
        starting = rng.random(onset.shape) < o
    codes = np.zeros((t_len, p_len), dtype=np.int8)
    before = np.zeros(p_len, bool) if prev_frame is None else prev_frame.astype(bool)
    for t in range(start, t_len):
        now = sounding[t]
        codes[t, now] = HOLD
        codes[t, now & (starting[t] | ~before)] = ONSET
        before = now
    codes[:start] = SILENT
    return codes


def decode_part(frame, onset, voices: int, rng, temperature: float = 1.0, start: int = 0,
                previous: np.ndarray | None = None) -> np.ndarray:
    """Decode one part; ``previous`` is the code row at ``start - 1`` (continuity)."""
    if voices == 1:
        prev_pitch = -1
        if previous is not None and (previous > 0).any():
            prev_pitch = int(np.argmax(previous > 0))
        return decode_mono(frame, onset, rng, temperature, start, prev_pitch)
    return decode_poly(frame, onset, rng, temperature, start,
                       None if previous is None else previous > 0)
