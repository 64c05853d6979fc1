"""The bar features the two-sample test and the conductor's ear share: the batched form
the ear uses while generating equals the per-window form, bar by bar, NaNs included."""

from __future__ import annotations

import numpy as np

from composer_gui.ml.metrics.bars import FEATURES, window_features, window_features_batch


def test_batched_window_features_equal_the_per_window_ones():
    rng = np.random.default_rng(1)
    for _trial in range(120):
        k_count, t_len, p_len = 3, int(rng.integers(8, 70)), 30
        spb = int(rng.choice([2, 3, 4]))
        lowest = int(rng.integers(30, 70))
        density = rng.random() * 0.3
        melody = rng.random((k_count, t_len, p_len)) < density * 0.3
        parts = []
        for _q in range(int(rng.integers(1, 4))):
            held = rng.random((k_count, t_len, p_len)) < density
            onsets = held & (rng.random((k_count, t_len, p_len)) < 0.5)
            if rng.random() < 0.3:  # a silent part
                held[:], onsets[:] = False, False
            parts.append((onsets, held))
        starts = (np.unique(np.r_[0, rng.integers(1, t_len, int(rng.integers(1, 5)))])
                  if rng.random() < 0.8 else np.array([0]))
        batch = window_features_batch(melody, parts, starts, spb, lowest)
        assert batch.shape == (k_count, len(starts), len(parts) * len(FEATURES))
        for k in range(k_count):
            one = window_features((melody[k], melody[k]), [(o[k], h[k]) for o, h in parts],
                                  starts, spb, lowest)
            assert np.allclose(one, batch[k], equal_nan=True, atol=1e-9)


def test_a_silent_bar_reads_empty_and_a_held_note_counts_once():
    melody = np.zeros((1, 16, 12), bool)
    melody[0, :, 7] = True
    held = np.zeros((1, 16, 12), bool)
    onsets = np.zeros((1, 16, 12), bool)
    held[0, 0:12, 0] = True  # one note, three beats, across nothing
    onsets[0, 0, 0] = True
    feats = window_features_batch(melody, [(onsets, held)], np.array([0, 8]), 4, 60)
    first, second = feats[0, 0], feats[0, 1]
    names = list(FEATURES)
    assert first[names.index("empty")] == 0 and first[names.index("notes")] == 1
    assert first[names.index("mean_length")] == 12  # the note's whole length, past the bar line
    assert first[names.index("on_beat")] == 1
    assert second[names.index("notes")] == 0 and second[names.index("empty")] == 0  # held on
    silent = window_features_batch(melody, [(onsets & False, held & False)], np.array([0]), 4, 60)
    assert silent[0, 0, 0] == 1 and np.isnan(silent[0, 0, 2:]).all()
