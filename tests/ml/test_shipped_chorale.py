"""The shipped chorale model on a tune written for the test (not from the dataset)."""

from __future__ import annotations

import numpy as np
import pytest

from composer_gui.assets import models_dir

from .conftest import melody_song

CHORALE = models_dir() / "chorale"


@pytest.fixture(scope="module")
def chorale():
    from composer_gui.ml.generate.sample import Composer

    if not (CHORALE / "model.safetensors").is_file():
        pytest.fail(f"the shipped model is missing: {CHORALE}")
    return Composer(CHORALE, "cpu")


def test_three_voices_in_their_registers_under_the_tune(chorale):
    song = melody_song(bars=8)
    out = chorale.compose(song, seed=0).song
    names = [t.name for t in out.tracks]
    assert names == ["Tune", "Alto", "Tenor", "Bass"]
    means = [np.mean([n.pitch for n in t.notes]) for t in out.tracks]
    # soprano above alto above tenor above bass, as in a chorale
    assert means[0] > means[1] > means[2] > means[3]
    bar = 4 * song.ticks_per_beat
    for track in out.tracks[1:]:
        # one voice: never two notes at once
        ends = [n.end for n in track.notes]
        starts = [n.start for n in track.notes]
        assert all(s >= e for s, e in zip(starts[1:], ends[:-1])), track.name
        # every bar has notes
        assert {n.start // bar for n in track.notes} >= set(range(8)), track.name


def test_accompaniment_fits_the_key_of_a_c_major_tune(chorale):
    out = chorale.compose(melody_song(bars=8), seed=1).song
    c_major = {0, 2, 4, 5, 7, 9, 11}
    pitches = [n.pitch % 12 for t in out.tracks[1:] for n in t.notes]
    assert np.mean([p in c_major for p in pitches]) >= 0.85
