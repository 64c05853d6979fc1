"""Every meter is playable: a bar of a meter a model has not seen is read as beat groups of
meters it knows (5/4 = 3+2, 7/8 = 2+2+3), and every shipped style accompanies such tunes,
meter changes included."""

from __future__ import annotations

import pytest

from composer_gui.assets import models_dir
from composer_gui.core.song import Note, Song, TimeSignature, Track
from composer_gui.core.timing import TimeMap
from composer_gui.ml.data.meters import beat_groups, known_beats, unsupported_bars
from composer_gui.ml.model.config import style_config
from composer_gui.pianoroll.grid import song_grid

MODELS = models_dir()


@pytest.mark.parametrize("meter, groups", [
    ("4/4", [4]), ("3/4", [3]), ("2/2", [2]), ("3/2", [3]), ("5/4", [3, 2]), ("6/4", [3, 3]),
    ("7/4", [4, 3]), ("6/8", [3, 3]), ("9/8", [3, 3, 3]), ("12/8", [3, 3, 3, 3]),
    ("5/8", [2, 3]), ("7/8", [2, 2, 3]), ("11/16", [2, 2, 2, 2, 3]),
])
def test_beats_group_as_a_musician_counts_them(meter, groups):
    assert beat_groups(meter) == groups


def _tune(meters: list[tuple[int, int, int]], bars: int) -> Song:
    """Eighth notes of a C major scale through ``bars`` bars of the given meter map."""
    song = Song(time_signatures=[TimeSignature(*m) for m in meters])
    end = TimeMap.of(song).bar_to_tick(bars)
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    song.tracks.append(Track(name="Tune", role="melody", notes=[
        Note(scale[(i * 3) % 8], t, 240, 90) for i, t in enumerate(range(0, end, 240))]))
    return song


def test_an_unseen_bar_becomes_beat_groups_of_known_meters():
    pop = style_config("pop")  # 4/4 only, 4 steps a quarter
    grid = song_grid(_tune([(0, 7, 8)], 2), 4)
    assert unsupported_bars(grid.bar_starts, grid.bar_meters, grid.n_steps, pop)
    starts, meters = known_beats(grid.bar_starts, grid.bar_meters, grid.n_steps, pop)
    assert starts.tolist() == [0, 4, 8, 14, 18, 22]  # 2+2+3 eighths, twice
    assert meters == ["4/4"] * 6  # each group the start of a 4/4 bar cut short
    folk = style_config("folk")  # knows 3/4, 2/4 ...: 5/4 = a bar of 3/4 and one of 2/4
    grid = song_grid(_tune([(0, 5, 4)], 1), 4)
    starts, meters = known_beats(grid.bar_starts, grid.bar_meters, grid.n_steps, folk)
    assert starts.tolist() == [0, 12] and meters == ["3/4", "2/4"]


def test_a_pickup_before_unseen_bars_stays_an_upbeat():
    pop = style_config("pop")
    song = _tune([(0, 1, 4), (480, 3, 4)], 3)  # one beat, then 3/4
    grid = song_grid(song, 4)
    starts, meters = known_beats(grid.bar_starts, grid.bar_meters, grid.n_steps, pop)
    assert starts[0] == 4 - 16 and starts[1] == 4  # the pickup: the last beat of a bar


@pytest.mark.parametrize("style", ["chorale", "folk", "pop"])
def test_every_style_accompanies_unseen_meters_and_meter_changes(style):
    from composer_gui.ml.generate.sample import Composer

    composer = Composer(MODELS / style, "cpu")
    song = _tune([(0, 4, 4), (2 * 1920, 7, 8), (2 * 1920 + 2 * 1680, 5, 4)], 6)
    out = composer.compose(song, seed=1).song
    tm = TimeMap.of(out)
    parts = out.tracks[1:]
    assert [t.name for t in parts] == composer.config.role_names()
    # every bar has accompaniment (the parts that rest for whole bars may rest)
    heard = {tm.bar_of(n.start) for t in parts for n in t.notes}
    assert heard == set(range(6))
    assert max(n.end for t in parts for n in t.notes) <= tm.bar_to_tick(6) + 480
