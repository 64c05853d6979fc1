"""The pop style: its template, POP909 training windows, and the shipped model writing
Bass, Piano, Strings and Drums under hand-typed melodies (issue 6)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from composer_gui.assets import models_dir
from composer_gui.ml.model.config import ModelConfig, style_config
from tests.ml.pop_melodies import TUNES, three_four_song, tune_song

ROOT = Path(__file__).resolve().parents[2]
POP_MODEL = models_dir() / "pop"
NAMES = ["Bass", "Piano", "Strings", "Drums"]
#: POP909 songs for the data tests: 005 and 006 are quantized 4/4 songs with a pickup and
#: odd 2-, 3-beat bars; 027 is an unquantized performance (47% of onsets on the grid);
#: 034 is in 3/4.
SONGS = ("005", "006", "027", "034")


# ----- the template ----------------------------------------------------------------------
def test_pop_template_names_four_tracks_with_drums_on_channel_ten():
    config = style_config("pop")
    out = config.output_roles()
    assert [r.name for r in out] == NAMES
    assert config.role_names() == NAMES
    assert [r.program for r in out[:3]] == [33, 0, 48]  # finger bass, piano, strings
    drums = out[3]
    assert drums.is_drum and drums.channel == 9
    assert config.meters == ["4/4"]
    assert config.drums == "drums"
    # the drum part is not one of the generator's outputs
    assert [r.name for r in config.roles] == NAMES[:3]


def test_pop_config_round_trips_and_old_configs_still_load(tmp_path):
    config = style_config("pop")
    again = ModelConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    chorale = json.loads((models_dir() / "chorale" / "config.json").read_text())
    # as written before the drum fields (and the line model) existed
    for key in ("drums", "drum_role", "line_prior"):
        chorale.pop(key, None)
    for role in chorale["roles"]:
        for key in [k for k in role if k.startswith("line_")]:
            del role[key]
    loaded = ModelConfig.from_dict(chorale)
    assert not loaded.has_drums and loaded.role_names() == ["Alto", "Tenor", "Bass"]
    bad = config.to_dict()
    bad["drums"] = "../elsewhere"
    with pytest.raises(Exception, match="inside the model's folder"):
        ModelConfig.from_dict(bad)


# ----- the chord decoder (pop piano) ---------------------------------------------------------
def test_chord_decoder_plays_the_expected_number_of_likeliest_pitches():
    from composer_gui.ml.generate.decode import decode_part
    from composer_gui.pianoroll.grid import HOLD, ONSET

    frame = np.zeros((1, 8, 12), np.float32)
    onset = np.zeros_like(frame)
    # a C major triad spread over voicings: no pitch reaches 0.5, together about three
    frame[0, :, [0, 4, 7]] = 0.45
    frame[0, :, [2, 5]] = 0.3  # less likely neighbours
    frame[0, :, 11] = 0.05
    onset[0, 0, [0, 4, 7]] = 0.4
    onset[0, 4, [0, 4, 7]] = 0.3  # struck again on the next beat
    frame[0, 6:] = 0.0  # then silence
    assert not decode_part(frame, onset, 0, None).any()  # per-pitch 0.5: nothing at all
    codes = decode_part(frame, onset, 8, None)[0]
    # 3 x 0.45 + 2 x 0.3 + 0.05 = 2.0 -> two pitches, the likeliest; held steadily
    sounding = [tuple(np.nonzero(codes[t])[0]) for t in range(8)]
    assert sounding[:6] == [sounding[0]] * 6 and len(sounding[0]) == 2
    assert set(sounding[0]) <= {0, 4, 7} and sounding[6:] == [(), ()]
    assert all(codes[0, p] == ONSET and codes[4, p] == ONSET for p in sounding[0])
    assert all(codes[t, p] == HOLD for t in (1, 2, 3, 5) for p in sounding[0])
    # never more than ``voices`` notes
    assert (decode_part(frame * 2, onset, 1 + 1, None)[0] > 0).sum(axis=1).max() == 2


def test_bar_gate_silences_whole_bars_of_low_activity():
    from composer_gui.ml.data.encoding import position_features
    from composer_gui.ml.generate.decode import gate_bars, window_bars

    config = style_config("pop")
    pos = position_features(np.array([0, 16, 32]), 48, 4, config.max_bar_steps)
    bars = window_bars(pos, config)
    assert bars.tolist() == [0] * 16 + [1] * 16 + [2] * 16
    frame = np.full((2, 48, 5), 0.08, np.float32)  # 0.4 expected notes everywhere ...
    frame[0, 16:32] = 0.2  # ... but 1.0 in bar 2 of candidate 0
    onset = frame / 2
    f, o = gate_bars(frame, onset, bars, 0.55)
    assert (f[0, :16] == 0).all() and (f[0, 32:] == 0).all() and (o[0, :16] == 0).all()
    assert np.array_equal(f[0, 16:32], frame[0, 16:32])
    assert not f[1].any()
    same = gate_bars(frame, onset, bars, 0.0)
    assert same[0] is frame and same[1] is onset


def test_a_pickup_bar_is_the_end_of_a_whole_bar_for_the_networks():
    from composer_gui.ml.generate.sample import _pickup_grid
    from composer_gui.pianoroll.grid import song_grid

    config = style_config("pop")
    song = tune_song("pickup_auld_lang_syne")
    grid = song_grid(song, 4)
    assert grid.bar_meters[:2] == ["1/4", "4/4"] and grid.bar_starts[:2].tolist() == [0, 4]
    net = _pickup_grid(grid, config)
    assert net.bar_starts[0] == 4 - 16 and net.bar_starts[1:].tolist() == grid.bar_starts[1:].tolist()
    assert set(net.bar_meters) == {"4/4"}
    assert _pickup_grid(song_grid(tune_song("minor_riff_a"), 4), config) is None


# ----- POP909 windows ----------------------------------------------------------------------
@pytest.fixture
def pop_folder(datasets_dir, tmp_path) -> Path:
    src = datasets_dir / "pop909"
    if not (src / "index.csv").is_file():
        pytest.skip("pop909 not in the datasets folder")
    dst = tmp_path / "pop909"
    dst.mkdir()
    shutil.copy(src / "index.csv", dst / "index.csv")
    for song in SONGS:
        shutil.copytree(src / song, dst / song)
    return dst


def _load(folder, config):
    from composer_gui.ml.data.dataset import load_folder

    gen = load_folder(folder, config, None)
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


def test_pop909_training_drops_unquantized_songs_and_odd_bar_windows(pop_folder):
    from composer_gui.ml.data.windows import window_starts

    config = style_config("pop")
    data = _load(pop_folder, config)
    skipped = {Path(f).parent.name: why for f, why in data.report.skipped}
    assert set(skipped) == {"027", "034"}
    assert "unquantized" in skipped["027"] and "46.9%" in skipped["027"]
    assert "3/4" in skipped["034"]
    songs = data.train + data.validation
    assert sorted(s.name for s in songs) == ["005.mid", "006.mid"]
    t = config.window_steps
    for song in songs:
        assert any(m != "4/4" for m in song.bar_meters)  # the song is kept ...
        starts = window_starts(song, config)
        everything = window_starts(song)
        assert 0 < len(starts) < len(everything)  # ... only windows are dropped
        for s in starts:  # every bar a kept window touches is a whole 4/4 bar
            inside = [i for i, b in enumerate(song.bar_starts) if s <= b < s + t]
            assert song.bar_starts[inside[0]] == s
            assert all(song.bar_meters[i] == "4/4" for i in inside)
            assert all(song.bar_starts[i + 1] - song.bar_starts[i] == 16
                       for i in inside if i + 1 < len(song.bar_starts))
        # the parts are the PIANO split and BRIDGE: bass low, piano above it
        bass, piano = song.codes[2].any(axis=0), song.codes[3].any(axis=0)
        lo = config.lowest - 12
        assert np.mean(np.nonzero(bass)[0]) + lo < np.mean(np.nonzero(piano)[0]) + lo


# ----- generation with the shipped model ------------------------------------------------------
@pytest.fixture(scope="module")
def pop_composer():
    if not (POP_MODEL / "config.json").is_file():
        pytest.fail("models/pop is missing: the pop model is shipped with the project")
    from composer_gui.ml.generate.sample import Composer

    return Composer(POP_MODEL, "cpu")


def test_shipped_pop_model_loads_with_its_drum_part(pop_composer):
    assert pop_composer.config.style == "pop"
    assert pop_composer.config.role_names() == NAMES
    assert pop_composer.drums is not None
    card = (POP_MODEL / "README.md").read_text(encoding="utf-8")
    assert "POP909" in card and "Groove" in card


def _write(song, path):
    from composer_gui.midi.smf import write_midi

    write_midi(song, path)
    return path


def test_generate_pop_writes_the_four_named_tracks_drums_on_channel_ten(tmp_path, capsys):
    from composer_gui.cli import main
    from composer_gui.midi.smf import read_midi

    src = _write(tune_song("nursery_mary_lamb"), tmp_path / "mary.mid")
    out = tmp_path / "out.mid"
    assert main(["generate", str(src), "--style", "pop", "--seed", "3", "-o", str(out)]) == 0
    song = read_midi(out)
    assert [t.name for t in song.tracks] == ["Melody", *NAMES]
    drums = song.tracks[4]
    assert drums.is_drum and drums.channel == 9 and drums.role == "drums"
    assert [t.channel for t in song.tracks[1:4]] != [9, 9, 9] and not any(
        t.channel == 9 for t in song.tracks[:4])
    assert all(t.notes for t in song.tracks[1:])
    assert song.tracks[0].notes == read_midi(src).tracks[0].notes
    # the parts stay inside the melody's 8 bars
    end = 8 * 4 * song.ticks_per_beat
    assert all(n.start < end for t in song.tracks for n in t.notes)


def test_a_three_four_ballad_gets_all_four_parts(tmp_path):
    from composer_gui.cli import main
    from composer_gui.core.timing import TimeMap
    from composer_gui.midi.smf import read_midi

    src = _write(three_four_song(), tmp_path / "waltz.mid")
    assert main(["generate", str(src), "--style", "pop", "-o", str(tmp_path / "o.mid")]) == 0
    out = read_midi(tmp_path / "o.mid")
    assert [t.name for t in out.tracks[1:]] == NAMES
    tm = TimeMap.of(out)
    bars = tm.bar_count(out.tracks[0].end_tick)
    drums = {tm.bar_of(n.start) for n in out.tracks[-1].notes}
    assert drums == set(range(bars))  # the drums play every 3/4 bar
    assert all(n.end <= tm.bar_to_tick(bars) + 480 for t in out.tracks[1:] for n in t.notes)


def test_parts_sit_in_the_key_and_bars_of_hand_typed_tunes(pop_composer):
    from composer_gui.ml.metrics.keys import scale_pitch_classes

    for name in ("nursery_mary_lamb", "minor_riff_a"):
        song = tune_song(name)
        scale = scale_pitch_classes(TUNES[name][2])
        result = pop_composer.compose(song, seed=0)
        pitched = [n for t in result.song.tracks[1:4] for n in t.notes]
        in_key = np.mean([n.pitch % 12 in scale for n in pitched])
        assert in_key >= 0.8, (name, in_key)
        bass = result.song.tracks[1].notes
        bar = 4 * song.ticks_per_beat
        on_bar = np.mean([n.start % bar == 0 for n in bass])
        assert on_bar >= 0.3, (name, on_bar)  # pop bass marks the bar lines


def test_pickup_melody_keeps_its_bars(pop_composer):
    song = tune_song("pickup_auld_lang_syne")
    result = pop_composer.compose(song, seed=0)
    tpb = song.ticks_per_beat
    # bar lines after the one-beat pickup: 480, 2400, ...; the bass lands on them
    bass = result.song.tracks[1].notes
    on_bar = np.mean([(n.start - tpb) % (4 * tpb) == 0 for n in bass if n.start >= tpb])
    assert on_bar >= 0.3
    drums = result.song.tracks[4].notes
    assert drums and min(n.start for n in drums) < 5 * tpb


def test_regenerating_drums_in_two_bars_keeps_everything_else(pop_composer):
    song = tune_song("hymn_old_hundredth")
    first = pop_composer.compose(song, seed=1).song
    again = pop_composer.compose(first, seed=7, bars=(3, 4), tracks=["Drums"]).song
    bar = 4 * song.ticks_per_beat
    lo, hi = 2 * bar, 4 * bar
    for a, b in zip(first.tracks[:4], again.tracks[:4]):
        assert a.notes == b.notes  # melody and pitched parts untouched
    old, new = first.tracks[4].notes, again.tracks[4].notes

    def hits(notes):  # a kept hit may be cut short by a new hit of its drum (no overlaps)
        return [(n.pitch, n.start, n.velocity) for n in notes if not lo <= n.start < hi]

    assert hits(old) == hits(new)
    assert [n for n in new if lo <= n.start < hi]  # the two bars have drums again


def test_same_seed_same_drums_other_seed_other_drums(pop_composer):
    song = tune_song("minor_riff_a")
    a = pop_composer.compose(song, seed=5).song.tracks[4].notes
    b = pop_composer.compose(song, seed=5).song.tracks[4].notes
    c = pop_composer.compose(song, seed=6, candidates=2)
    assert a == b
    assert c.candidates[0][3].notes != c.candidates[1][3].notes


@pytest.mark.parametrize("args, message", [
    (["--style", "chorale", "--drums", "{groove}", "--drum-steps", "5"], "no drum part"),
    (["--style", "pop", "--drums", "{groove}"], "--drum-steps"),
    (["--style", "pop", "--drum-steps", "5"], "--drums GROOVE_DIR"),
    (["--style", "pop", "--drums", "{missing}", "--drum-steps", "5"], "not a folder"),
])
def test_train_drum_options_are_checked_before_any_work(tmp_path, capsys, args, message):
    from composer_gui.cli import main

    groove = tmp_path / "groove"
    groove.mkdir()
    args = [a.format(groove=groove, missing=tmp_path / "nope") for a in args]
    out = tmp_path / "model"
    assert main(["train", str(tmp_path), *args, "--steps", "1", "-o", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_models_lists_the_pop_model_with_its_four_tracks(isolated_home, monkeypatch, capsys):
    from composer_gui.cli import main

    monkeypatch.setenv("COMPOSER_GUI_MODELS", str(models_dir()))
    assert main(["models", "--json"]) == 0
    entries = {e["name"]: e for e in json.loads(capsys.readouterr().out)}
    assert entries["pop"]["roles"] == NAMES and entries["pop"]["style"] == "pop"
    assert entries["pop"]["error"] is None
