"""Real files: a seeded sample of each dataset folder imports, matches symusic note for
note (pitch and onset tick, differences only of the documented kinds) and round-trips.

``benchmarks/sweep_datasets.py`` runs the same check over every file.
"""

from __future__ import annotations

import random

import pytest

from composer_gui.midi import read_midi, read_midi_bytes, song_to_bytes
from composer_gui.midi.crosscheck import cross_check

FOLDERS = ("pop909", "nottingham", "bach_chorales", "groove")


def _sample(datasets_dir, folder, count, seed=2):
    files = sorted(p for p in (datasets_dir / folder).rglob("*.mid"))
    if not files:
        pytest.skip(f"no MIDI files in {datasets_dir / folder}")
    return random.Random(f"{folder}{seed}").sample(files, min(count, len(files)))


@pytest.mark.parametrize("folder", FOLDERS)
def test_sample_matches_symusic(datasets_dir, folder):
    problems = []
    notes = 0
    for path in _sample(datasets_dir, folder, 40):
        result = cross_check(path)
        notes += result.notes
        if not result.ok:
            problems.append(result.describe())
    assert not problems, "\n".join(problems)
    assert notes > 40  # the sample held real music


@pytest.mark.parametrize("folder", FOLDERS)
def test_sample_round_trips_exactly(datasets_dir, folder):
    for path in _sample(datasets_dir, folder, 8, seed=3):
        song = read_midi(path)
        again = read_midi_bytes(song_to_bytes(song), f"{path} (exported)")
        assert again == song, path


def test_pop909_tracks_are_named_and_drums_are_found(datasets_dir):
    song = read_midi(datasets_dir / "pop909" / "001" / "001.mid")
    assert [t.name for t in song.tracks] == ["MELODY", "BRIDGE", "PIANO"]
    groove = _sample(datasets_dir, "groove", 1)[0]
    assert all(t.is_drum and t.channel == 9 for t in read_midi(groove).tracks)
