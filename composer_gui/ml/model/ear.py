"""The conductor's ear: a judge of what a listener hears in each bar (numpy only).

The conductor's network (the critic fine-tuned after the generator) tells real from
generated windows almost perfectly, but among windows that are all generated its
preferences are not a listener's: its pick of 16 candidates made the two-sample test's
job easier for the chorale. The ear judges bars by the features a listener hears
(:mod:`composer_gui.ml.metrics.bars`: note counts and lengths, where notes start,
register and spread, steps, pitch classes against the melody and the key, clashes):
a gradient-boosted tree classifier (scikit-learn's ``HistGradientBoostingClassifier``)
trained on the bars of training songs' real accompaniment (1) against what the model
writes under the same melodies (0) (:mod:`composer_gui.ml.train.conductor`).

Its trees are stored as plain arrays in the conductor's safetensors file (``ear.*``;
never pickle) and evaluated here without scikit-learn: :meth:`Ear.raw` gives each bar's
log-odds of being real, as the classifier's ``decision_function`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer_gui.ml.errors import ModelError

#: The arrays of an :class:`Ear`, in its tensor file (each prefixed ``ear.``).
FIELDS = ("feature", "threshold", "missing_left", "left", "right", "leaf", "value", "roots")


@dataclass(frozen=True)
class Ear:
    """Trees as arrays over all nodes (``left``/``right``: node indices over the whole
    forest; ``roots``: each tree's first node) and the classifier's ``baseline``."""

    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    baseline: float
    n_features: int

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Log-odds that each row of bar features ``x`` ``[n, F]`` is real (NaN: a
        feature with nothing to measure, sent the way the tree learned for missing)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"the ear takes {self.n_features} features per bar, got {x.shape}")
        if len(x) == 0:
            return np.zeros(0)
        node = np.broadcast_to(self.roots[None, :], (len(x), len(self.roots))).copy()
        rows = np.arange(len(x))[:, None]
        while not self.leaf[node].all():
            value = x[rows, self.feature[node]]
            left = np.where(np.isnan(value), self.missing_left[node],
                            value <= self.threshold[node])
            node = np.where(self.leaf[node], node, np.where(left, self.left[node],
                                                            self.right[node]))
        return self.baseline + self.value[node].sum(axis=1)

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays to store (see :data:`FIELDS`), ``baseline`` and ``n_features``
        going into the JSON record."""
        return {name: np.ascontiguousarray(getattr(self, name)) for name in FIELDS}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], baseline: float,
                    n_features: int) -> Ear:
        """The ear of stored arrays; ModelError when they do not make a forest."""
        try:
            ear = cls(feature=arrays["feature"].astype(np.int64),
                      threshold=arrays["threshold"].astype(np.float64),
                      missing_left=arrays["missing_left"].astype(bool),
                      left=arrays["left"].astype(np.int64),
                      right=arrays["right"].astype(np.int64),
                      leaf=arrays["leaf"].astype(bool),
                      value=arrays["value"].astype(np.float64),
                      roots=arrays["roots"].astype(np.int64),
                      baseline=float(baseline), n_features=int(n_features))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"the conductor's ear is incomplete ({exc})") from exc
        n = len(ear.feature)
        inner = ~ear.leaf
        if (any(len(getattr(ear, f)) != n for f in FIELDS[:-1])
                or (len(ear.roots) and (ear.roots.min() < 0 or ear.roots.max() >= n))
                or (inner.any() and (min(ear.left[inner].min(), ear.right[inner].min()) < 0
                                     or max(ear.left[inner].max(), ear.right[inner].max()) >= n
                                     or ear.feature[inner].max() >= ear.n_features))):
            raise ModelError("the conductor's ear is corrupt (its trees point outside "
                             "themselves)")
        return ear

    @classmethod
    def from_classifier(cls, classifier) -> Ear:
        """The ear of a fitted binary ``HistGradientBoostingClassifier`` (numeric features
        only)."""
        nodes, roots = [], []
        offset = 0
        for (predictor,) in classifier._predictors:  # one tree per iteration (binary)
            tree = predictor.nodes
            roots.append(offset)
            nodes.append((tree, offset))
            offset += len(tree)

        def field(name, shift=False):
            parts = [tree[name].astype(np.float64 if name in ("num_threshold", "value")
                                       else np.int64) + (off if shift else 0)
                     for tree, off in nodes]
            return np.concatenate(parts) if parts else np.zeros(0)

        leaf = field("is_leaf").astype(bool)
        left, right = field("left", shift=True), field("right", shift=True)
        return cls(feature=field("feature_idx"), threshold=field("num_threshold"),
                   missing_left=field("missing_go_to_left").astype(bool),
                   left=np.where(leaf, 0, left), right=np.where(leaf, 0, right), leaf=leaf,
                   value=field("value"), roots=np.asarray(roots, dtype=np.int64),
                   baseline=float(np.ravel(classifier._baseline_prediction)[0]),
                   n_features=int(classifier.n_features_in_))
