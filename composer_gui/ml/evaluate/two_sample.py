"""A classifier two-sample test: can a classifier tell generated bars from real ones under
the same melodies?

Each bar of a song becomes one row of features per part
(:func:`composer_gui.ml.metrics.bars.bar_features`): how many
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

import numpy as np

from composer_gui.ml.metrics.bars import FEATURES, SongBars, bar_features, onsets_and_held
from composer_gui.ml.metrics.rolls import split_track

__all__ = ["FEATURES", "SongBars", "bar_features", "judge", "other_song_rows", "two_sample_auc"]

def other_song_rows(songs: Sequence[SongBars]) -> list[SongBars]:
    """Each melody with the next song's real parts under it (cut or padded to the
    melody's length): the calibration point of the test."""
    out = []
    for i, song in enumerate(songs):
        other = songs[(i + 1) % len(songs)]
        n = len(split_track(song.melody)[1])
        parts = [onsets_and_held(part, n) for part in other.parts]
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
