"""The fine-tune folder scan (ml.data.scan): verdicts, reasons, user choices, mapping file."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from composer_gui.core.song import Note, Song, TimeSignature, Track
from composer_gui.midi.smf import write_midi
from composer_gui.ml.data.dataset import _grid_share, song_to_arrays
from composer_gui.ml.data.roles import assign_roles, find_melody
from composer_gui.ml.data.scan import (
    BAD_METER,
    NO_MELODY,
    NO_ROLE,
    OFF_GRID,
    TOO_SHORT,
    UNREADABLE,
    assess,
    grid_share,
    list_midi_files,
    scan_file,
    scan_files,
    write_mapping,
)
from composer_gui.ml.data.sources import read_song
from composer_gui.ml.model.config import style_config
from composer_gui.pianoroll.grid import song_grid

CONFIG = style_config("chorale")


def line(pitches, start=0, length=480, tpb=480):
    return [Note(p, start + i * length, length, 80) for i, p in enumerate(pitches)]


def chords(bars: int, root: int):
    return [Note(root + d, b * 1920, 1920, 70) for b in range(bars) for d in (0, 4, 7)]


def write(path: Path, tracks, meters=((0, 4, 4),)) -> Path:
    song = Song(time_signatures=[TimeSignature(t, n, d) for t, n, d in meters], tracks=tracks)
    write_midi(song, path)
    return path


def test_chorales_match_training_rules(chorale_files):
    result = scan_files(chorale_files, CONFIG)
    assert [f.usable for f in result.files] == [True] * len(chorale_files)
    for f, path in zip(result.files, chorale_files):
        song = read_song(path)
        melody = find_melody(song, CONFIG)
        assert f.melody == melody and song.tracks[melody].name.lower().startswith("soprano")
        assert list(f.roles.values()) == assign_roles(song, CONFIG, melody)
        grid = song_grid(song, CONFIG.steps_per_beat)
        assert f.bars == len(grid.bar_starts)
        assert set(f.meters) == set(grid.bar_meters)
    s = result.summary()
    assert s["usable"] == len(chorale_files) and s["skipped"] == 0
    assert s["train_songs"] + s["validation_songs"] == len(chorale_files)
    assert s["bars"] == sum(f.bars for f in result.files) > 8 * len(chorale_files)


def test_pop909_fast_path_agrees_with_training_reader(datasets_dir):
    """The scan does not split and re-time POP909 songs as training does; its verdict,
    melody, roles and bars must still be training's."""
    songs = sorted((datasets_dir / "pop909").glob("*/*.mid"))[:16]
    wide = style_config("chorale")
    wide.meters = ["4/4", "3/4", "2/4", "1/4"]  # so that most songs get past the meter check
    checked = 0
    off_grid = {"chorale": 0, "wide": 0, "pop": 0}
    # pop: odd bars cost only their windows (drop_odd_windows), as in training
    for label, config in (("chorale", CONFIG), ("wide", wide), ("pop", style_config("pop"))):
        for path in songs:
            f = scan_file(path, config)
            try:
                song = read_song(path, pop909_meters=tuple(config.meters))
            except Exception as exc:  # the nominal meter itself is refused
                assert not f.usable and "supported" in str(exc)
                continue
            melody = find_melody(song, config)
            roles = assign_roles(song, config, melody)
            assert (f.melody, list(f.roles.values())) == (melody, roles), path
            assert f.bars == len(song_grid(song, config.steps_per_beat).bar_starts), path
            try:
                arrays = song_to_arrays(song, config, path.name)
            except Exception:
                trains = False
            else:  # training also skips a song played off the grid (pop: under 95%)
                assert grid_share(f) == pytest.approx(_grid_share(arrays, config)), path
                trains = _grid_share(arrays, config) >= config.min_grid_share
                off_grid[label] += not trains
            assert f.usable == trains, (path, f.reason)
            assert trains or f.reason, path
            checked += 1
    assert checked >= 20
    # among the first 16 songs, pop refuses several as unquantized; the others never do
    assert off_grid["pop"] >= 3 and off_grid["chorale"] == off_grid["wide"] == 0


def test_skip_reasons_name_the_problem(tmp_path, chorale_files):
    folder = tmp_path / "mine"
    folder.mkdir()
    good = shutil.copy(chorale_files[0], folder / "good.mid")
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\xff")
    write(folder / "only_chords.mid", [Track(name=f"Pad {i}", notes=chords(8, 48 + 5 * i))
                                       for i in range(4)])
    write(folder / "drums.mid", [Track(name="Kit", channel=9, is_drum=True,
                                       notes=line([36, 38] * 16))])
    write(folder / "duo.mid", [Track(name="Tune", notes=line([72, 74, 76, 77] * 8)),
                               Track(name="Bass", notes=line([48, 43] * 16))])
    write(folder / "five_four.mid",
          [Track(name=n, notes=line([p, p + 2] * 10)) for n, p in
           (("Soprano", 72), ("Alto", 65), ("Tenor", 58), ("Bass", 48))], meters=((0, 5, 4),))
    write(folder / "tiny.mid", [Track(name=n, notes=line([p, p + 2])) for n, p in
                                (("Soprano", 72), ("Alto", 65), ("Tenor", 58), ("Bass", 48))])
    (folder / "notes.txt").write_text("not MIDI")
    progress = []
    result = scan_files(folder, CONFIG, progress=lambda d, t, n: progress.append((d, t, n)))
    by_name = {f.name: f for f in result.files}
    assert sorted(by_name) == sorted(p.name for p in folder.glob("*.mid"))
    assert progress[0] == (0, 7, "") and progress[-1][:2] == (7, 7)
    assert by_name[Path(good).name].usable
    assert by_name["broken.mid"].category == UNREADABLE
    assert "broken.mid" in by_name["broken.mid"].reason
    assert by_name["only_chords.mid"].category == NO_MELODY
    assert "chords" in by_name["only_chords.mid"].reason
    assert by_name["drums.mid"].category == NO_MELODY
    assert by_name["duo.mid"].category == NO_ROLE
    assert "Alto" in by_name["duo.mid"].reason or "Tenor" in by_name["duo.mid"].reason
    assert by_name["five_four.mid"].category == BAD_METER
    assert "5/4" in by_name["five_four.mid"].reason
    assert by_name["tiny.mid"].category == TOO_SHORT
    summary = result.summary()
    assert summary["usable"] == 1 and summary["skipped"] == 6
    assert summary["reasons"] == {NO_MELODY: 2, UNREADABLE: 1, NO_ROLE: 1, BAD_METER: 1,
                                  TOO_SHORT: 1}


def test_a_played_take_off_the_grid_is_skipped_for_a_model_that_needs_the_grid(tmp_path):
    """Pop is trained on quantized songs only (min_grid_share 0.95): the scan refuses a
    take whose notes start off its grid, saying why, as training would; a quantized copy
    passes; the chorale model (no such rule) takes both."""
    pop = style_config("pop")
    parts = (("Melody", 72), ("Bass", 40), ("Piano", 60), ("Strings", 67))

    def song(path, jitter):
        return write(path, [Track(name=n, notes=[Note(q.pitch, q.start + jitter * (i % 3),
                                                      q.duration, q.velocity)
                                                 for i, q in enumerate(line([p, p + 2] * 16))])
                            for n, p in parts])

    played = scan_file(song(tmp_path / "played.mid", jitter=7), pop)
    assert not played.usable and played.category == OFF_GRID
    # every third note of each part on the grid: 11 of 32
    assert "34.4%" in played.reason and "95%" in played.reason and "quantize" in played.reason
    assert grid_share(played) == pytest.approx(11 / 32)
    assert scan_file(song(tmp_path / "quantized.mid", jitter=0), pop).usable
    assert scan_file(tmp_path / "played.mid", style_config("chorale")).category != OFF_GRID


def test_user_choices_rejudge_a_file_and_reach_the_mapping(tmp_path):
    path = write(tmp_path / "chords.mid",
                 [Track(name=f"Pad {i}", notes=chords(8, 60 - 6 * i)) for i in range(4)])
    f = scan_file(path, CONFIG)
    assert not f.usable and f.category == NO_MELODY
    assess(f, CONFIG, melody=0)  # the user says: the top track is the melody
    assert f.usable and f.melody == 0 and f.melody_set
    assert sorted(f.roles.values()) == [1, 2, 3]
    assess(f, CONFIG, melody=0, roles={"Bass": 1})
    assert f.roles["Bass"] == 1 and f.usable
    assess(f, CONFIG, melody=0, roles={"Bass": 0})  # the melody's own track: refused
    assert not f.usable and f.category == NO_ROLE

    assess(f, CONFIG, melody=0, roles={"Bass": 3})
    result = scan_files([path], CONFIG)
    result.files[0] = f
    out = write_mapping(result, tmp_path / "run" / "mapping.json")
    data = json.loads(out.read_text())
    assert data["version"] == 1
    entry = data["files"][str(path.resolve())]
    assert entry == {"skip": False, "melody": 0, "roles": f.roles}
    assert entry["roles"]["Bass"] == 3


def test_cancel_stops_between_files_and_lists_are_deduplicated(chorale_files, tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    for p in chorale_files[:4]:
        shutil.copy(p, folder / p.name)
    files = list_midi_files([folder, folder / chorale_files[0].name])
    assert len(files) == 4
    stop = threading.Event()

    def progress(done, total, _name):
        if done == 2:
            stop.set()

    result = scan_files(folder, CONFIG, progress=progress, cancel=stop)
    assert result.cancelled and len(result.files) == 2
    with pytest.raises(Exception, match="no such file"):
        list_midi_files([tmp_path / "missing"])


def test_worker_processes_give_the_same_result_in_order(chorale_files, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for p in chorale_files:
        shutil.copy(p, folder / p.name)
    (folder / "zz_broken.mid").write_bytes(b"MThd\x00")
    serial = scan_files(folder, CONFIG, workers=1)
    seen = []
    parallel = scan_files(folder, CONFIG, workers=2, on_file=lambda f: seen.append(f.name))
    assert [f.to_dict() for f in parallel.files] == [f.to_dict() for f in serial.files]
    assert seen == [f.name for f in serial.files]
    assert parallel.files[-1].category == UNREADABLE
