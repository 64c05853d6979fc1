"""The data pipeline on real chorales: mapping, grid, cache, skipped files, split."""

from __future__ import annotations

import numpy as np
import pytest

from composer_gui.core.song import Note, Song, Track
from composer_gui.ml.data.dataset import is_validation, load_folder
from composer_gui.ml.data.roles import assign_roles, find_melody
from composer_gui.ml.data.windows import sample_batch, window_starts
from composer_gui.ml.errors import DataError

from .conftest import tiny_config


def run(gen):
    records = []
    try:
        while True:
            records.append(next(gen))
    except StopIteration as stop:
        return stop.value, records


def test_folder_to_windows_with_cache_and_skips(chorale_dir, tmp_path):
    (chorale_dir / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    (chorale_dir / "notes.txt").write_text("not midi")
    config = tiny_config()
    cache = tmp_path / "cache"
    dataset, records = run(load_folder(chorale_dir, config, cache))
    report = dataset.report
    assert report.files == 9
    assert [s[0].endswith("broken.mid") for s in report.skipped] == [True]
    assert records[-1] == {"kind": "data", "done": 9, "total": 9, "file": records[-1]["file"]}
    assert report.train_songs + report.validation_songs == 8
    assert report.from_cache == 0
    # the chorale grid of 4 steps per beat holds (almost) every onset; 1 step per beat does not
    coverage = report.grid_coverage()
    assert coverage[4] >= 0.97 > coverage[1]
    # a second run reads the cache, not the MIDI files, and gets the same arrays
    again, _ = run(load_folder(chorale_dir, config, cache))
    assert again.report.from_cache == 8
    for a, b in zip(dataset.train, again.train):
        assert np.array_equal(a.codes, b.codes)
    # windows: melody + 3 roles, frame/onset channels, in the model's pitch range
    starts = [window_starts(s) for s in dataset.train]
    batch = sample_batch(dataset.train, starts, config, np.random.default_rng(0), 6)
    assert batch.melody.shape == (6, 2, config.window_steps, config.pitches)
    assert batch.real.shape == (6, 3, 2, config.window_steps, config.pitches)
    assert batch.real[:, :, 0].sum() > 0
    # onsets only where the part sounds
    assert np.all(batch.real[:, :, 1] <= batch.real[:, :, 0])


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no MIDI files"):
        run(load_folder(tmp_path, tiny_config(), None))


def test_validation_split_is_fixed_by_file_name(datasets_dir):
    names = sorted(p.name for p in (datasets_dir / "bach_chorales").glob("*.mid"))
    chosen = [n for n in names if is_validation(n)]
    assert 0.05 < len(chosen) / len(names) < 0.16
    assert chosen == [n for n in sorted(names) if is_validation(n)]


def _track(name, pitches, start=0, chord=False):
    notes = []
    for i, p in enumerate(pitches):
        notes.append(Note(p, start + i * 480, 480))
        if chord:
            notes.append(Note(p - 4, start + i * 480, 480))
    return Track(name=name, notes=notes)


def test_melody_and_roles_without_names():
    """Unnamed tracks: the melody is the highest monophonic one, the others map by
    register (Bass lowest), whatever their order in the file."""
    song = Song(tracks=[
        _track("", [50, 48, 47, 45]),
        _track("", [80, 79, 77, 76], chord=True),  # high but chordal: not the melody
        _track("", [64, 65, 64, 62]),
        _track("", [76, 74, 72, 71]),
        _track("", [57, 59, 60, 57]),
    ])
    config = tiny_config()
    melody = find_melody(song, config)
    assert melody == 3
    roles = assign_roles(song, config, melody)
    # closest registers first: Tenor (59) <- mean 58, Alto (65) <- mean 64, Bass <- the lowest
    assert roles == [2, 4, 0]


def test_names_and_roles_beat_register():
    song = Song(tracks=[
        _track("Basso continuo", [70, 72, 74, 76]),
        _track("lead", [60, 62, 64, 65]),
        _track("Alto", [40, 41, 43, 45]),
        Track(name="x", role="tenor", notes=[Note(80, 0, 480)]),
    ])
    config = tiny_config()
    assert find_melody(song, config) == 1
    assert assign_roles(song, config, 1) == [2, 3, 0]
    assert find_melody(song, config, override=0) == 0


def test_a_single_chord_track_gives_chords_and_its_lowest_voice_as_bass():
    """A user's folk tune with one accompaniment track trains the folk model's two parts."""
    from composer_gui.core.song import Note, Song, TimeSignature, Track
    from composer_gui.ml.data.roles import assign_roles, bass_from_chords, find_melody
    from composer_gui.ml.model.config import style_config

    config = style_config("folk")
    melody = Track(name="Tune", notes=[Note(72 + i % 5, i * 480, 480, 90) for i in range(16)])
    chord_notes = [Note(p + 12 * (bar % 2 == 0), bar * 1920, 1920, 70)
                   for bar in range(4) for p in (48, 52, 55)]
    song = Song(time_signatures=[TimeSignature(0, 4, 4)],
                tracks=[melody, Track(name="Accompaniment", notes=chord_notes)])
    mel = find_melody(song, config)
    roles = assign_roles(song, config, mel)
    assert None in roles  # one track for two parts
    out, roles = bass_from_chords(song, config, roles)
    names = [s.name for s in config.roles]
    chords, bass = roles[names.index("Chords")], roles[names.index("Bass")]
    assert out.tracks[chords].notes == chord_notes
    assert [n.pitch for n in out.tracks[bass].notes] == [60, 48, 60, 48]
    assert [n.start for n in out.tracks[bass].notes] == [0, 1920, 3840, 5760]

    # a single line is not a chord part: nothing is made up
    line = Track(name="Accompaniment", notes=[Note(48, i * 480, 480, 70) for i in range(16)])
    song2 = Song(time_signatures=[TimeSignature(0, 4, 4)], tracks=[melody, line])
    roles2 = assign_roles(song2, config, 0)
    assert bass_from_chords(song2, config, roles2) == (song2, roles2)
