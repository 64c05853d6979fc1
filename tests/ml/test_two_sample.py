"""The classifier two-sample test: it cannot tell two samples of one kind of
accompaniment apart, and it tells chords that follow the melody from random clusters."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from composer_gui.ml.evaluate.two_sample import (  # noqa: E402
    FEATURES,
    SongBars,
    bar_features,
    other_song_rows,
    two_sample_auc,
)

BAR = 16
TRIADS = [(0, 4, 7), (5, 9, 12), (7, 11, 14), (9, 12, 16)]  # C F G Am


def _roll(notes, steps):
    held = np.zeros((steps, 128), bool)
    onsets = np.zeros((steps, 128), bool)
    for pitch, a, b in notes:
        held[a:b, pitch] = True
        onsets[a, pitch] = True
    return onsets, held


def song(rng, kind: str, bars: int = 8) -> SongBars:
    steps = bars * BAR
    chords = [TRIADS[i] for i in rng.integers(0, len(TRIADS), bars)]
    melody = []
    for b, chord in enumerate(chords):
        for beat in range(4):
            melody.append((72 + chord[rng.integers(0, 3)], b * BAR + 4 * beat, b * BAR + 4 * beat + 4))
    if kind == "chords":  # block chords on the bar and half bar, under the melody's chord
        part = [(48 + p + (12 if p < 5 else 0), b * BAR + h, b * BAR + h + 8)
                for b, chord in enumerate(chords) for h in (0, 8) for p in chord]
    else:  # clusters of random pitches on random sixteenths
        part = []
        for b in range(bars):
            for _ in range(6):
                start = int(rng.integers(0, BAR - 1))
                part.append((int(rng.integers(40, 80)), b * BAR + start, b * BAR + start + 2))
    return SongBars(f"{kind}", _roll(melody, steps), [_roll(part, steps)],
                    np.arange(0, steps, BAR), 4, "C")


def test_features_describe_each_bar_of_each_part():
    rng = np.random.default_rng(0)
    s = song(rng, "chords")
    feats = bar_features(s)
    assert feats.shape == (8, len(FEATURES))
    notes = feats[:, FEATURES.index("notes")]
    assert (notes == 6).all()  # two triads a bar
    assert (feats[:, FEATURES.index("in_key")] == 1).all()
    assert (feats[:, FEATURES.index("melody_clash")] == 0).all()


def test_the_test_cannot_tell_one_kind_from_itself_and_tells_two_kinds_apart():
    rng = np.random.default_rng(1)
    real = [song(rng, "chords") for _ in range(20)]
    same = [song(rng, "chords") for _ in range(20)]
    noise = [song(rng, "clusters") for _ in range(20)]
    alike = two_sample_auc(real, same)["auc"]
    apart = two_sample_auc(real, noise)["auc"]
    assert alike < 0.65 and apart > 0.95, (alike, apart)


def test_the_calibration_point_puts_another_songs_parts_under_each_melody():
    rng = np.random.default_rng(2)
    songs = [song(rng, "chords") for _ in range(3)]
    others = other_song_rows(songs)
    assert others[0].melody is songs[0].melody
    assert np.array_equal(others[0].parts[0][1], songs[1].parts[0][1])
