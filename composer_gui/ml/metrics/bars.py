"""Features of a song's bars, part by part (numpy only): what a listener hears in a bar
of accompaniment under a melody. The classifier two-sample test
(:mod:`composer_gui.ml.evaluate.two_sample`) and the conductor's ear
(:mod:`composer_gui.ml.model.ear`) judge bars by them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from composer_gui.ml.metrics.harmony import pitch_classes, semitone_apart, top_line
from composer_gui.ml.metrics.keys import scale_pitch_classes
from composer_gui.ml.metrics.rolls import TrackRoll, bar_starts, split_track

#: Features per part and bar (see :func:`bar_features`).
FEATURES = ("empty", "notes", "mean_length", "on_beat", "on_eighth", "off_grid_share",
            "mean_pitch", "spread", "polyphony", "mean_step", "in_melody_pcs", "in_key",
            "melody_clash", "inner_clash")


@dataclass(frozen=True)
class SongBars:
    """One song to judge: its melody and parts (full-range tracks of equal length), the
    steps where bars start, the steps per quarter note and the key."""

    name: str
    melody: TrackRoll
    parts: Sequence[TrackRoll]
    bar_starts: np.ndarray
    steps_per_beat: int
    key: str


def onsets_and_held(track: TrackRoll, n_steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(onsets, held) of a track, cut or padded with silence to ``n_steps``."""
    onsets, held = split_track(track)
    if onsets is None:  # a plain roll: a note starts where a pitch starts sounding
        onsets = held & ~np.vstack([np.zeros((1, held.shape[1]), bool), held[:-1]])
    if n_steps is None or n_steps == len(held):
        return onsets, held
    m = min(n_steps, len(held))
    fitted = np.zeros((2, n_steps, held.shape[1]), bool)
    fitted[0, :m], fitted[1, :m] = onsets[:m], held[:m]
    return fitted[0], fitted[1]


def _part_bar(onsets: np.ndarray, held: np.ndarray, mel_pcs: np.ndarray, scale: np.ndarray,
              spb: int, lo: int, hi: int, mel_held: np.ndarray) -> list[float]:
    on = onsets[lo:hi]
    hd = held[lo:hi]
    steps, pitches = np.nonzero(on)
    n = len(steps)
    if n == 0 and not hd.any():
        return [1.0, 0.0] + [np.nan] * (len(FEATURES) - 2)
    lengths = []
    for s, p in zip(steps, pitches):
        k = s + 1
        while lo + k < len(held) and held[lo + k, p] and not onsets[lo + k, p]:
            k += 1
        lengths.append(k - s)
    pos = steps % spb
    half = spb // 2 if spb % 2 == 0 else None
    sounding = hd.sum(axis=1)
    top = top_line(hd)
    line = top[top >= 0]
    changes = np.diff(line)
    pcs = np.nonzero(hd.any(axis=0))[0] % 12
    acc_pc = pitch_classes(hd)
    mel_pc = pitch_classes(mel_held[lo:hi])
    both = mel_pc.any(1) & acc_pc.any(1)
    return [
        0.0,
        float(n),
        float(np.mean(lengths)) if lengths else np.nan,
        float(np.mean(pos == 0)) if n else np.nan,
        float(np.mean(pos == half)) if n and half else np.nan,
        float(np.mean((pos != 0) & (pos != (half or 0)))) if n else np.nan,
        float(np.mean(pitches)) if n else float(np.mean(np.nonzero(hd)[1])),
        float(np.ptp(np.nonzero(hd)[1])),
        float(sounding[sounding > 0].mean()),
        float(np.mean(np.abs(changes[changes != 0]))) if np.any(changes != 0) else 0.0,
        float(np.mean(mel_pcs[pcs])) if len(pcs) else np.nan,
        float(np.mean(scale[pcs])) if len(pcs) else np.nan,
        float(np.mean(semitone_apart(mel_pc, acc_pc)[both])) if both.any() else 0.0,
        float(np.mean(semitone_apart(acc_pc, acc_pc)[acc_pc.any(1)])),
    ]


def bar_features(song: SongBars) -> np.ndarray:
    """``[bars, parts * len(FEATURES)]``: each bar's features, part after part."""
    mel_held = split_track(song.melody)[1]
    n_steps = len(mel_held)
    starts = bar_starts(n_steps, song.bar_starts)
    ends = np.append(starts[1:], n_steps)
    scale = np.zeros(12, bool)
    scale[list(scale_pitch_classes(song.key))] = True
    parts = [onsets_and_held(part, n_steps) for part in song.parts]
    rows = []
    for lo, hi in zip(starts, ends):
        mel_pcs = np.zeros(12, bool)
        mel_pcs[np.nonzero(mel_held[lo:hi].any(axis=0))[0] % 12] = True
        row = []
        for on, held in parts:
            row += _part_bar(on, held, mel_pcs, scale, song.steps_per_beat, int(lo), int(hi),
                             mel_held)
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(parts) * len(FEATURES))


def window_features(melody: tuple[np.ndarray, np.ndarray],
                    parts: Sequence[tuple[np.ndarray, np.ndarray]], starts: np.ndarray,
                    steps_per_beat: int, lowest: int) -> np.ndarray:
    """:func:`bar_features` of one window of a model's parts: ``melody`` and each part as
    (onsets, held) ``[T, P]`` on the pitch axis that starts at MIDI note ``lowest``, bars
    starting at the steps ``starts``; the key is the window's melody's (C when it rests)."""
    from composer_gui.ml.metrics.keys import key_of_chroma
    from composer_gui.ml.metrics.rolls import to_full_range

    held = np.asarray(melody[1], dtype=bool)
    chroma = np.bincount((lowest + np.nonzero(held)[1]) % 12, minlength=12)
    key = key_of_chroma(chroma)

    def full(pair):
        return (to_full_range(np.asarray(pair[0], dtype=bool), lowest),
                to_full_range(np.asarray(pair[1], dtype=bool), lowest))

    return bar_features(SongBars("window", full(melody), [full(p) for p in parts],
                                 np.asarray(starts), steps_per_beat, key))


def window_features_batch(mel_held: np.ndarray, parts: Sequence[tuple[np.ndarray, np.ndarray]],
                          starts: np.ndarray, steps_per_beat: int,
                          lowest: int) -> np.ndarray:
    """:func:`window_features` of ``K`` windows at once (the conductor's ear judges many
    samples per window): the melody's held roll ``[K, T, P]``, each part's (onsets, held)
    ``[K, T, P]`` on the pitch axis starting at ``lowest``, the bars starting at the
    steps ``starts`` (shared by the windows). Returns ``[K, bars, parts * F]``, equal to
    :func:`window_features` window by window."""
    from composer_gui.ml.metrics.keys import key_of_chroma

    mel_held = np.asarray(mel_held, dtype=bool)
    k_count, t_len, p_len = mel_held.shape
    pitch = lowest + np.arange(p_len)
    to_pc = np.zeros((p_len, 12))
    to_pc[np.arange(p_len), pitch % 12] = 1.0
    scales = np.zeros((k_count, 12), bool)
    for k in range(k_count):
        chroma = np.bincount(pitch[np.nonzero(mel_held[k])[1]] % 12, minlength=12)
        scales[k, list(scale_pitch_classes(key_of_chroma(chroma)))] = True
    mel_pc = (mel_held @ to_pc) > 0  # [K, T, 12]
    bounds = bar_starts(t_len, np.asarray(starts))
    ends = np.append(bounds[1:], t_len)
    half = steps_per_beat // 2 if steps_per_beat % 2 == 0 else None
    out = np.empty((k_count, len(bounds), len(parts), len(FEATURES)))
    for q, (onsets, held) in enumerate(parts):
        onsets = np.asarray(onsets, dtype=bool)
        held = np.asarray(held, dtype=bool) | onsets
        # steps each note goes on after the step it starts (across bar lines)
        going = held & ~onsets
        run = np.zeros((k_count, t_len + 1, p_len))
        for t in range(t_len - 1, -1, -1):
            run[:, t] = np.where(going[:, t], run[:, t + 1] + 1, 0)
        length = 1 + run[:, 1:]  # a note starting at t lasts 1 + run[t + 1]
        acc_pc_all = (held @ to_pc) > 0
        for b, (lo, hi) in enumerate(zip(bounds, ends)):
            out[:, b, q] = _bar_batch(onsets[:, lo:hi], held[:, lo:hi], length[:, lo:hi],
                                      acc_pc_all[:, lo:hi], mel_pc[:, lo:hi], scales,
                                      pitch, steps_per_beat, half)
    return out.reshape(k_count, len(bounds), len(parts) * len(FEATURES))


def _nan_mean(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _bar_batch(on, hd, length, acc_pc, mel_pc, scales, pitch, spb, half) -> np.ndarray:
    """``[K, F]``: :func:`_part_bar` of one bar of ``K`` windows."""
    k_count, l_len, _ = hd.shape
    n = on.sum(axis=(1, 2)).astype(np.float64)
    pos = (np.arange(l_len) % spb)[None, :, None]
    feats = np.full((k_count, len(FEATURES)), np.nan)
    feats[:, 0] = 0.0
    feats[:, 1] = n
    feats[:, 2] = _nan_mean((on * length).sum(axis=(1, 2)), n)
    feats[:, 3] = _nan_mean((on & (pos == 0)).sum(axis=(1, 2)), n)
    if half:
        feats[:, 4] = _nan_mean((on & (pos == half)).sum(axis=(1, 2)), n)
    feats[:, 5] = _nan_mean((on & (pos != 0) & (pos != (half or 0))).sum(axis=(1, 2)), n)
    cells = hd.sum(axis=(1, 2))
    feats[:, 6] = np.where(n > 0, _nan_mean((on * pitch).sum(axis=(1, 2)), n),
                           _nan_mean((hd * pitch).sum(axis=(1, 2)), cells))
    used = hd.any(axis=1)  # [K, P]: pitches sounding in the bar
    low = np.where(used, pitch, 10_000).min(axis=1)
    feats[:, 7] = np.where(used.any(axis=1), np.where(used, pitch, -1).max(axis=1) - low, np.nan)
    sounding = hd.sum(axis=2)
    feats[:, 8] = _nan_mean(sounding.sum(axis=1), (sounding > 0).sum(axis=1))
    top = np.where(hd.any(axis=2), hd.shape[2] - 1 - np.argmax(hd[:, :, ::-1], axis=2), -1)
    prev = np.full(k_count, -1)
    moves, moved = np.zeros(k_count), np.zeros(k_count)
    for t in range(l_len):
        now = top[:, t]
        step = (now >= 0) & (prev >= 0) & (now != prev)
        moves += np.where(step, np.abs(now - prev), 0)
        moved += step
        prev = np.where(now >= 0, now, prev)
    feats[:, 9] = np.where(moved > 0, moves / np.maximum(moved, 1), 0.0)
    pcs = pitch % 12
    bar_mel = mel_pc.any(axis=1)  # [K, 12]
    count = used.sum(axis=1)
    feats[:, 10] = _nan_mean((used & bar_mel[:, pcs]).sum(axis=1), count)
    feats[:, 11] = _nan_mean((used & scales[:, pcs]).sum(axis=1), count)
    near = np.roll(acc_pc, 1, axis=2) | np.roll(acc_pc, -1, axis=2)
    both = mel_pc.any(axis=2) & acc_pc.any(axis=2)
    clash = (mel_pc & near).any(axis=2)
    feats[:, 12] = np.where(both.any(axis=1), _nan_mean((clash & both).sum(axis=1),
                                                        both.sum(axis=1)), 0.0)
    sounds = acc_pc.any(axis=2)
    inner = (acc_pc & near).any(axis=2)
    feats[:, 13] = _nan_mean((inner & sounds).sum(axis=1), sounds.sum(axis=1))
    empty = (n == 0) & ~hd.any(axis=(1, 2))
    feats[empty] = [1.0, 0.0] + [np.nan] * (len(FEATURES) - 2)
    return feats
