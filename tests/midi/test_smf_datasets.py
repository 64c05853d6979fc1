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


def _quirky_file(tmp_path):
    from tests.midi.smf_builders import off, on, smf, track

    body = track(
        (0, on(0, 60, 10)),  # two note-ons of 60 on tick 0: one is dropped
        (0, on(0, 60, 20)),
        (0, on(0, 62, 30)),  # 62 at 0 overlaps 62 at 50: trimmed
        (50, on(0, 62, 40)),
        (50, off(0, 60)),
        (0, off(0, 60)),
        (0, off(0, 62)),
        (0, off(0, 62)),
        (0, on(0, 64)),  # zero length
        (0, off(0, 64)),
        (0, on(0, 65)),  # still held at the end of the track
        (20, bytes((0xB0, 1, 1))),
    )
    path = tmp_path / "quirks.mid"
    path.write_bytes(smf(body))
    return path


def test_cross_check_undoes_each_documented_rule(tmp_path):
    result = cross_check(_quirky_file(tmp_path))
    assert result.ok and result.onsets_match, result.describe()
    assert (result.dropped_same_start, result.trimmed, result.zero_length) == (1, 1, 1)
    assert result.closed_at_track_end == 1
    # reader: 60 once, 62 twice, 64, 65 held; symusic: 60 twice, 62 twice, 64
    assert (result.notes, result.reference_notes) == (5, 5)


def test_cross_check_reports_a_lost_note(tmp_path, monkeypatch):
    import composer_gui.midi.crosscheck as crosscheck

    real = crosscheck.read_midi_bytes

    def lossy(data, name, report):
        song = real(data, name, report)
        del song.tracks[0].notes[0]
        return song

    monkeypatch.setattr(crosscheck, "read_midi_bytes", lossy)
    result = cross_check(_quirky_file(tmp_path))
    assert not result.ok and not result.onsets_match
    assert len(result.missing) == 1 and "missing" in result.describe()
