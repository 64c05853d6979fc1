"""A classifier two-sample test: can a classifier tell generated bars from real ones under
the same melodies?

Each bar of a song becomes one row of features per part (:func:`bar_features`): how many
notes and how long, where they start in the bar, register and spread, polyphony, melodic
steps, pitch classes against the melody and against the key, clashes with the melody and
inside the accompaniment. A gradient-boosted tree classifier (scikit-learn's
``HistGradientBoostingClassifier``) learns real (0) against generated (1); every song's
bars, real and generated, sit in one fold of a grouped cross-validation, so the classifier
is always judged on melodies it never saw. Its ROC AUC is the test's result: 0.5 means it
cannot tell them apart, 1.0 that it always can.

The calibration point (:func:`other_song_rows`): another song's real accompaniment put
under each melody, judged the same way. Accompaniment that fits its melody no better than
a stranger's scores about that AUC.
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


def _onsets(track: TrackRoll, n_steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
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
    parts = [_onsets(part, n_steps) for part in song.parts]
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


def other_song_rows(songs: Sequence[SongBars]) -> list[SongBars]:
    """Each melody with the next song's real parts under it (cut or padded to the
    melody's length): the calibration point of the test."""
    out = []
    for i, song in enumerate(songs):
        other = songs[(i + 1) % len(songs)]
        n = len(split_track(song.melody)[1])
        parts = [_onsets(part, n) for part in other.parts]
        out.append(SongBars(song.name, song.melody, parts, song.bar_starts,
                            song.steps_per_beat, song.key))
    return out


def _rows(real: Sequence[SongBars], other: Sequence[SongBars]):
    x, y, groups = [], [], []
    for label, songs in ((0, real), (1, other)):
        for index, song in enumerate(songs):
            feats = bar_features(song)
            x.append(feats)
            y += [label] * len(feats)
            groups += [index] * len(feats)
    return np.concatenate(x), np.array(y), np.array(groups)


def _classifier(seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, max_leaf_nodes=15,
                                          random_state=seed)


def two_sample_auc(real: Sequence[SongBars], other: Sequence[SongBars], folds: int = 5,
                   seed: int = 0, keep_models: bool = False) -> dict:
    """ROC AUC of a classifier telling ``other``'s bars (generated, or another song's
    accompaniment) from ``real``'s bars of the same songs, cross-validated with each
    song in one fold; also the mean out-of-fold probability of "not real" per song. With
    ``keep_models``, ``judges[i]`` is the fold's classifier that never saw song ``i``
    (for :func:`judge`)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    x, y, groups = _rows(real, other)
    n_songs = len(set(groups.tolist()))
    if n_songs < 2 or len(set(y.tolist())) < 2:
        return {"auc": float("nan"), "bars": int(len(y)), "songs": n_songs}
    proba = np.zeros(len(y))
    judges: dict[int, object] = {}
    for train, test in GroupKFold(n_splits=min(folds, n_songs)).split(x, y, groups):
        clf = _classifier(seed)
        clf.fit(x[train], y[train])
        proba[test] = clf.predict_proba(x[test])[:, 1]
        if keep_models:
            judges.update({int(g): clf for g in set(groups[test].tolist())})
    per_song = [float(proba[(groups == g) & (y == 1)].mean()) for g in range(len(other))]
    out = {"auc": float(roc_auc_score(y, proba)), "bars": int(len(y)), "songs": n_songs,
           "mean_proba_generated": per_song}
    if keep_models:
        out["judges"] = judges
    return out


def judge(classifier, song: SongBars) -> float:
    """The mean probability, over a song's bars, that ``classifier`` calls them generated:
    the outside referee of a ranking (lower: harder to tell from the real thing)."""
    return float(classifier.predict_proba(bar_features(song))[:, 1].mean())
