"""Probabilities -> binary parts (numpy only), for many candidates at once.

The generator gives, per part, a frame probability (the pitch sounds) and an onset
probability (a note starts) for each step and pitch. Decoding binarizes them into the
codes of :mod:`composer_gui.pianoroll.grid`. Arrays carry a leading batch axis ``N``
(candidates or windows): ``frame``/``onset`` ``[N, T, P]`` -> codes ``[N, T, P]``; the
loop runs over time only, so 64 candidates cost about as much as one.

* one-voice parts (``voices == 1``, e.g. the chorale voices): rhythm by thresholds: the
  part sounds where the summed frame probability reaches 0.5; a new note starts where
  the summed onset probability does (a note lives at least two steps, since onsets
  smear over neighbouring steps) or where the held pitch has become unlikely (under a
  quarter of the most likely pitch). The pitch of each new note is drawn from the
  pitches likely now and at the next step, sharpened by ``temperature`` (0: the most
  likely), never one under a quarter of the most likely.
* block chords (``voices == BLOCK_CHORDS``, e.g. the folk chords): all notes of a chord
  start and end together. A chord sounds where the likeliest pitch reaches 0.5; a new
  chord starts where the summed onset probability reaches 1 (a chord lives at least two
  steps) or where the held chord has become unlikely (its mean frame probability under a
  quarter); its notes are the pitches likely now and at the next step (at least 0.4, and
  at least the likeliest one). Deciding per pitch instead staggers a chord's notes by a
  step wherever the pitches cross 0.5 at different steps.
* parts with any number of voices (``voices == 0``): each pitch sounds where its frame
  probability reaches 0.5 and a note starts at a likely onset or where the pitch starts
  sounding. Variety between seeds comes from the generator's noise.
* chord parts of up to ``voices >= 2`` notes (the pop piano): at each step the part
  sounds as many pitches as its frame probabilities add up to (rounded, at most
  ``voices``), the likeliest ones; nothing under a quarter of the most likely pitch. A
  sounding pitch is struck again where a note start is more likely than not given that
  it sounds (onset >= half its frame probability). Thresholding each pitch at 0.5, as
  above, left a piano whose voicings vary from song to song nearly silent: the network
  spreads the probability of a chord over its possible voicings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer_gui.ml.data.line_stats import SILENT
from composer_gui.ml.model.config import BLOCK_CHORDS
from composer_gui.pianoroll.grid import HOLD, ONSET

#: A pitch is kept (held, or drawn) only above this share of the most likely pitch.
RELATIVE_FLOOR = 0.25
#: A one-voice part starts a note where its summed onset probability reaches this.
ONSET_THRESHOLD = 0.5
#: A block chord's notes: pitches at least this likely (and the likeliest one).
CHORD_FLOOR = 0.4


def _weighted(frame: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """``frame`` with each candidate's pitch weights ``[N, P]`` applied; where they leave
    a step with nothing (all its likely pitches weighted 0), that step keeps ``frame``."""
    if weights is None:
        return frame
    out = frame * np.asarray(weights, dtype=frame.dtype)[:, None, :]
    empty = out.max(axis=2) <= 1e-12
    out[empty] = frame[empty]
    return out


@dataclass(frozen=True)
class VoiceLeading:
    """The voice-leading rule of one-voice parts: the lines already written around the
    part being decoded, and the weight of a new pitch that would break the rule.

    ``others`` ``[N, K, T]``: the pitch index (on the part's pitch axis) of each other
    voice at each step, -1 where it rests (the melody and the parts decoded before this
    one, each by its top note); ``beat_start`` ``[T]``: the steps that start a beat;
    ``before_start`` ``[N, K]``: the same voices at the step before the window.
    A new note is weighted by ``weight`` when it starts a semitone (or a major seventh)
    from another voice on a beat, or when it moves in parallel perfect fifths, octaves
    or unisons with a voice that moves the same way at the same step."""

    others: np.ndarray
    beat_start: np.ndarray
    weight: float
    #: ``[N, K]``: each other voice's pitch at the step before the window (-1: resting
    #: or none); without it a parallel into a window's first step goes unseen.
    before_start: np.ndarray | None = None

    def offending(self, t: int, current: np.ndarray, n_pitches: int) -> np.ndarray:
        """``[N, P]``: which new pitches at step ``t`` break the rule, given the part's
        pitch ``current`` ``[N]`` at ``t - 1`` (-1: resting)."""
        now = self.others[:, :, t]  # [N, K]
        if t > 0:
            before = self.others[:, :, t - 1]
        else:
            before = np.full_like(now, -1) if self.before_start is None else self.before_start
        cand = np.arange(n_pitches)[None, None, :]  # [1, 1, P]
        bad = np.zeros((now.shape[0], n_pitches), dtype=bool)
        sounding = (now >= 0)[:, :, None]
        if self.beat_start[t]:
            pc = (cand - now[:, :, None]) % 12
            bad |= (sounding & ((pc == 1) | (pc == 11))).any(axis=1)
        cur = current[:, None, None]
        moved = (before >= 0) & (now >= 0) & (before != now)
        prev_interval = np.abs(cur - before[:, :, None]) % 12
        perfect = moved[:, :, None] & (cur >= 0) & ((prev_interval == 0) | (prev_interval == 7))
        same_way = np.sign(cand - cur) == np.sign(now - before)[:, :, None]
        parallel = (perfect & same_way & (cand != cur)
                    & (np.abs(cand - now[:, :, None]) % 12 == prev_interval))
        return bad | parallel.any(axis=1)


@dataclass(frozen=True)
class LinePrior:
    """A model of the real part's line (:mod:`composer_gui.ml.data.line_stats`), applied
    to a one-voice part: each new pitch is weighted by a weight for the step from the
    last note to it (``steps``: 25 for -12..+12 semitones, larger leaps at the octave),
    one for the pitch itself (``register`` ``[P]``) and one for its interval above the
    melody's note now (``against`` ``[12]``; ``melody`` ``[N, T]`` the melody's pitch per
    step on the part's axis, :data:`SILENT` where it rests), the product raised to
    ``strength``. A note starts only on the steps ``allowed`` ``[T]`` (positions in the
    beat where the data starts notes at all): elsewhere the held note goes on, or the
    part waits."""

    steps: np.ndarray
    register: np.ndarray
    against: np.ndarray
    melody: np.ndarray
    allowed: np.ndarray
    strength: float = 1.0

    def weights(self, t: int, last: np.ndarray, n_pitches: int) -> np.ndarray:
        """``[N, P]`` weights of a new pitch at step ``t`` after the note ``last``
        ``[N]`` (-1: no note yet, no step weight)."""
        cand = np.arange(n_pitches)[None, :]
        move = np.asarray(self.steps)[np.clip(cand - last[:, None], -12, 12) + 12]
        w = np.where((last >= 0)[:, None], move, 1.0) * np.asarray(self.register)[None, :]
        mel = self.melody[:, t]
        against = np.asarray(self.against)[(cand - mel[:, None]) % 12]
        w = w * np.where((mel > SILENT)[:, None], against, 1.0)
        w = w ** self.strength
        return w / np.maximum(w.max(axis=1, keepdims=True), 1e-300)


#: A one-voice part's notes start only where the data starts at least this share of
#: the notes it starts on the beat (:attr:`LinePrior.allowed`).
ONSET_FLOOR = 0.05


def decode_mono(frame: np.ndarray, onset: np.ndarray, rng: np.random.Generator | None,
                temperature: float = 1.0, start: int = 0,
                prev_pitch: np.ndarray | None = None,
                weights: np.ndarray | None = None,
                leading: VoiceLeading | None = None,
                line: LinePrior | None = None,
                allowed: np.ndarray | None = None) -> np.ndarray:
    """Codes ``[N, T, P]`` for steps ``start..T`` of one-voice parts (earlier steps stay
    silent); ``prev_pitch[n]`` is the pitch sounding at ``start - 1`` (or -1).
    ``weights`` ``[N, P]`` (e.g. a key guard) scale the pitch choice only: whether the
    part sounds and where notes start follow the network's own probabilities; so does
    ``leading`` (:class:`VoiceLeading`) for each new note. ``line``
    (:class:`LinePrior`) weights each new pitch by the data's steps from the last note
    and keeps notes from starting where the data does not start them; ``allowed`` ``[T]``
    (without a line model) does only the latter."""
    n, t_len, p_len = frame.shape
    if line is not None:
        allowed = line.allowed
    codes = np.zeros((n, t_len, p_len), dtype=np.int8)
    rows = np.arange(n)
    current = np.full(n, -1) if prev_pitch is None else np.asarray(prev_pitch).copy()
    last = current.copy()
    age = np.where(current >= 0, 2, 0)
    activity = frame.sum(axis=2)
    onset_total = onset.sum(axis=2)
    frame = _weighted(frame, weights)
    peak = frame.max(axis=2)
    for t in range(start, t_len):
        active = activity[:, t] >= 0.5
        fresh = (onset_total[:, t] >= ONSET_THRESHOLD) & (age >= 2)
        held_p = frame[rows, t, np.maximum(current, 0)]
        hold = active & (current >= 0) & ~fresh & (held_p >= RELATIVE_FLOOR * peak[:, t])
        if allowed is not None and not allowed[t]:
            # no note starts here in the data: what sounds goes on, a rest stays a rest
            hold = active & (current >= 0)
            active = hold
        new = active & ~hold
        if new.any():
            # a pitch that sounds now and still sounds at the next step: no one-step blips
            probs = np.sqrt(frame[:, t] * frame[:, min(t + 1, t_len - 1)])
            # the next step silenced (a gated bar): draw from this step alone, not from a
            # row of zeros (which would draw any pitch at all)
            dead = probs.max(axis=1) <= 1e-12
            probs[dead] = frame[dead, t]
            if leading is not None:
                ruled = np.where(leading.offending(t, current, p_len), leading.weight, 1.0) * probs
                # where every likely pitch breaks the rule, the network's choice stands
                probs = np.where((ruled.max(axis=1) > 1e-12)[:, None], ruled, probs)
            if line is not None:
                lined = probs * line.weights(t, last, p_len)
                probs = np.where((lined.max(axis=1) > 1e-12)[:, None], lined, probs)
            pitch = _draw(probs, rng, temperature)
            codes[rows[new], t, pitch[new]] = ONSET
        else:
            pitch = current
        codes[rows[hold], t, current[hold]] = HOLD
        current = np.where(new, pitch, np.where(hold, current, -1))
        last = np.where(current >= 0, current, last)
        age = np.where(new, 1, np.where(hold, age + 1, 0))
    return codes


def _draw(probs: np.ndarray, rng: np.random.Generator | None, temperature: float) -> np.ndarray:
    """One pitch index per row of ``probs`` ``[N, P]`` (see the module docstring)."""
    if temperature <= 0 or rng is None:
        return probs.argmax(axis=1)
    logits = np.log(np.clip(probs, 1e-9, 1.0)) / temperature
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    weights[probs < RELATIVE_FLOOR * probs.max(axis=1, keepdims=True)] = 0.0
    cdf = np.cumsum(weights, axis=1)
    u = rng.random(len(probs)) * cdf[:, -1]
    return np.minimum((cdf <= u[:, None]).sum(axis=1), probs.shape[1] - 1)


def decode_poly(frame: np.ndarray, onset: np.ndarray, start: int = 0,
                prev_frame: np.ndarray | None = None) -> np.ndarray:
    """Codes ``[N, T, P]`` for steps ``start..T`` of parts with any number of voices;
    ``prev_frame`` ``[N, P]`` says what sounds at ``start - 1``."""
    sounding = frame >= 0.5
    starting = onset >= 0.5
    before = np.zeros_like(sounding)
    before[:, 1:] = sounding[:, :-1]
    if start < frame.shape[1]:
        before[:, start] = False if prev_frame is None else prev_frame.astype(bool)
    codes = np.where(sounding, HOLD, 0).astype(np.int8)
    codes[sounding & (starting | ~before)] = ONSET
    codes[:, :start] = 0
    return codes


def without_semitones(chord: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``chord`` ``[N, P]`` (bool) without notes a semitone (or a major seventh, pitch
    classes) from a likelier note of the same chord: the likeliest note stays, then each
    next likeliest that clashes with none kept."""
    out = np.zeros_like(chord)
    order = np.argsort(-np.where(chord, probs, -1.0), axis=1, kind="stable")
    kept_pc = np.zeros((len(chord), 12), dtype=bool)
    rows = np.arange(len(chord))
    for i in range(int(chord.sum(axis=1).max(initial=0))):
        p = order[:, i]
        live = chord[rows, p]
        pc = p % 12
        clash = kept_pc[rows, (pc + 1) % 12] | kept_pc[rows, (pc - 1) % 12]
        take = live & ~clash
        out[rows[take], p[take]] = True
        kept_pc[rows[take], pc[take]] = True
    return out


def decode_block(frame: np.ndarray, onset: np.ndarray, start: int = 0,
                 prev_frame: np.ndarray | None = None, no_semitones: bool = False,
                 allowed: np.ndarray | None = None) -> np.ndarray:
    """Codes ``[N, T, P]`` for steps ``start..T`` of block-chord parts;
    ``prev_frame`` ``[N, P]`` (bool) is the chord sounding at ``start - 1``; with
    ``no_semitones`` a chord keeps no two notes a semitone apart
    (:func:`without_semitones`); where ``allowed`` ``[T]`` is False no chord starts
    (what sounds goes on, a rest stays a rest)."""
    n, t_len, p_len = frame.shape
    codes = np.zeros((n, t_len, p_len), dtype=np.int8)
    current = np.zeros((n, p_len), dtype=bool) if prev_frame is None else prev_frame.astype(bool)
    age = np.where(current.any(axis=1), 2, 0)
    onset_total = onset.sum(axis=2)
    peak = frame.max(axis=2)
    for t in range(start, t_len):
        active = peak[:, t] >= 0.5
        size = current.sum(axis=1)
        held_p = (frame[:, t] * current).sum(axis=1) / np.maximum(size, 1)
        fresh = (onset_total[:, t] >= 1.0) & (age >= 2)
        hold = active & (size > 0) & ~fresh & (held_p >= RELATIVE_FLOOR)
        if allowed is not None and not allowed[t]:
            hold = active & (size > 0)
            active = hold
        new = active & ~hold
        if new.any():
            probs = np.sqrt(frame[:, t] * frame[:, min(t + 1, t_len - 1)])
            chord = probs >= CHORD_FLOOR
            chord[np.arange(n), probs.argmax(axis=1)] = True
            if no_semitones:
                chord = without_semitones(chord, probs)
            current = np.where(new[:, None], chord, np.where(hold[:, None], current, False))
            codes[new, t] = np.where(chord[new], ONSET, 0)
        else:
            current = np.where(hold[:, None], current, False)
        codes[hold, t] = np.where(current[hold], HOLD, 0)
        age = np.where(new, 1, np.where(hold, age + 1, 0))
    return codes


def window_bars(position: np.ndarray, config) -> np.ndarray:
    """Bar number (0, 1, ...) of each step of windows ``position`` ``[..., T, F]`` (the
    position features of :func:`composer_gui.ml.data.encoding.position_features`)."""
    flag = np.asarray(position)[..., config.max_bar_steps + config.steps_per_beat]
    return np.maximum(np.cumsum(flag, axis=-1) - 1, 0).astype(np.int64)


def gate_bars(frame: np.ndarray, onset: np.ndarray, bars: np.ndarray,
              gate: float) -> tuple[np.ndarray, np.ndarray]:
    """Silence whole bars of a part: where the mean over a bar's steps of the summed frame
    probability (the expected number of sounding pitches) is under ``gate``, the bar's
    frame and onset probabilities become 0. ``bars`` ``[T]`` or ``[N, T]`` numbers the
    steps' bars (:func:`window_bars`). A part that plays in some sections only (POP909's
    secondary melody is silent in 57% of bars) otherwise sounds everywhere at about half
    strength: the network's activity per bar follows the real part's presence, but a
    threshold per step cannot turn that into entries and rests at bar lines."""
    if gate <= 0:
        return frame, onset
    act = frame.sum(axis=2)
    bars = np.broadcast_to(bars, act.shape)
    rows = np.broadcast_to(np.arange(act.shape[0])[:, None], act.shape)
    size = (act.shape[0], int(bars.max()) + 1)
    sums, counts = np.zeros(size), np.zeros(size)
    np.add.at(sums, (rows, bars), act)
    np.add.at(counts, (rows, bars), 1.0)
    silent = (sums / np.maximum(counts, 1.0) < gate)[rows, bars][..., None]
    return np.where(silent, 0.0, frame), np.where(silent, 0.0, onset)


def decode_chords(frame: np.ndarray, onset: np.ndarray, voices: int, start: int = 0,
                  prev_frame: np.ndarray | None = None,
                  weights: np.ndarray | None = None) -> np.ndarray:
    """Codes ``[N, T, P]`` for steps ``start..T`` of chord parts (see the module
    docstring); ``prev_frame`` ``[N, P]`` says what sounds at ``start - 1``; ``weights``
    ``[N, P]`` scale the choice of pitches, not how many sound."""
    n, t_len, p_len = frame.shape
    codes = np.zeros((n, t_len, p_len), dtype=np.int8)
    before = (np.zeros((n, p_len), bool) if prev_frame is None
              else np.asarray(prev_frame).astype(bool))
    counts = np.minimum(np.rint(frame.sum(axis=2)).astype(np.int64), voices)
    raw = frame
    frame = _weighted(frame, weights)
    peak = frame.max(axis=2)
    ranks = np.arange(p_len)[None, :]
    for t in range(start, t_len):
        f = frame[:, t]
        # no preference for pitches already sounding: that held chords through broken-chord
        # figures and gave 3.3 pitch classes per bar against the data's 4.4
        order = np.argsort(-f, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.broadcast_to(ranks, order.shape), axis=1)
        sounding = (rank < counts[:, t, None]) & (f >= RELATIVE_FLOOR * peak[:, t, None])
        strike = sounding & (~before | (onset[:, t] >= 0.5 * raw[:, t]))
        codes[:, t][sounding] = HOLD
        codes[:, t][strike] = ONSET
        before = sounding
    return codes


def decode_part(frame: np.ndarray, onset: np.ndarray, voices: int,
                rng: np.random.Generator | None, temperature: float = 1.0, start: int = 0,
                previous: np.ndarray | None = None,
                weights: np.ndarray | None = None,
                leading: VoiceLeading | None = None,
                line: LinePrior | None = None, no_semitones: bool = False,
                allowed: np.ndarray | None = None) -> np.ndarray:
    """Decode one part for a batch: ``frame``/``onset`` ``[N, T, P]``; ``previous``
    ``[N, P]`` is the code row at ``start - 1`` (continuity across windows); ``weights``
    ``[N, P]`` scale the pitch choice of one-voice and chord parts (the key guard);
    ``leading`` applies the voice-leading rule and ``line`` the data's line
    (:class:`LinePrior`) to one-voice parts; ``no_semitones`` keeps block chords free of
    semitones; ``allowed`` ``[T]`` (one-voice and block-chord parts) keeps notes from
    starting on the steps where it is False."""
    if voices == 1:
        prev_pitch = None
        if previous is not None:
            sounding = previous > 0
            prev_pitch = np.where(sounding.any(axis=1), sounding.argmax(axis=1), -1)
        return decode_mono(frame, onset, rng, temperature, start, prev_pitch, weights,
                           leading, line, allowed)
    if voices == BLOCK_CHORDS:
        if weights is not None:
            frame = _weighted(frame, weights)
        return decode_block(frame, onset, start, None if previous is None else previous > 0,
                            no_semitones, allowed)
    if voices >= 2:
        return decode_chords(frame, onset, voices, start,
                             None if previous is None else previous > 0, weights)
    if weights is not None:
        frame = _weighted(frame, weights)
    return decode_poly(frame, onset, start, None if previous is None else previous > 0)
