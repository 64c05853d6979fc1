"""The pop style's drum model: training on Groove, the model folder, generation that
follows a song's tempo, meter and phrases, and the evaluation table."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from composer_gui.assets import models_dir
from composer_gui.core.errors import UserError
from composer_gui.core.song import Note, Song, TempoChange, TimeSignature, Track
from composer_gui.core.timing import TimeMap
from composer_gui.ml.errors import ModelError

SHIPPED = models_dir() / "pop" / "drums"
TINY = {"gen_width": 16, "gen_blocks": 2, "critic_width": 8, "critic_blocks": 1,
        "noise_dim": 4}


@pytest.fixture(scope="module")
def groove_subset(tmp_path_factory, datasets_dir) -> Path:
    """A Groove folder with a few real performances: 3 beats and 2 fills of the train
    split, a beat and a fill of the validation split."""
    src = datasets_dir / "groove"
    with open(src / "info.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    want = {("train", "beat"): 3, ("train", "fill"): 2, ("validation", "beat"): 1,
            ("validation", "fill"): 1}
    chosen = []
    for r in rows:
        key = (r["split"], r["beat_type"])
        # short beats keep the test fast
        if want.get(key) and r["time_signature"] == "4-4" and float(r["duration"]) < 40:
            want[key] -= 1
            chosen.append(r)
    folder = tmp_path_factory.mktemp("groove")
    with open(folder / "info.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(chosen)
    for r in chosen:
        target = folder / r["midi_filename"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / r["midi_filename"], target)
    return folder


def _train(data: Path, out: Path, steps: int, resume: bool = False) -> list[dict]:
    from composer_gui.ml.drums.training import DrumTrainOptions, train_drums

    opts = DrumTrainOptions(data, out, steps=steps, batch_size=4, resume=resume,
                            validate_every=3, log_every=2, config_overrides=TINY)
    return list(train_drums(opts))


def _tensors(folder: Path) -> dict:
    from safetensors.numpy import load_file

    return load_file(str(folder / "model.safetensors"))


def test_train_saves_reloads_and_resumes_identically(groove_subset, tmp_path):
    from composer_gui.ml.drums.part import DrumModel

    records = _train(groove_subset, tmp_path / "a", steps=4)
    kinds = [r["kind"] for r in records]
    assert {"data", "start", "step", "validation", "checkpoint", "done"} <= set(kinds)
    start = next(r for r in records if r["kind"] == "start")
    assert (start["train_songs"], start["validation_songs"]) == (5, 2)
    steps = [r for r in records if r["kind"] == "step"]
    assert all(np.isfinite([r["g_loss"], r["d_loss"], r["gp"]]).all() for r in steps)
    assert records[-1] == {**records[-1], "kind": "done", "step": 4}

    # the same run in two halves ends with the same weights
    _train(groove_subset, tmp_path / "b", steps=2)
    resumed = _train(groove_subset, tmp_path / "b", steps=4, resume=True)
    assert next(r for r in resumed if r["kind"] == "start")["step"] == 2
    a, b = _tensors(tmp_path / "a"), _tensors(tmp_path / "b")
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a)

    with pytest.raises(ModelError, match="already holds"):
        _train(groove_subset, tmp_path / "a", steps=6)

    model = DrumModel.load(tmp_path / "a")
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    assert config["gen_width"] == TINY["gen_width"]
    notes = model.part(_song(bars=4), seed=1)
    assert all(n.pitch in {36, 38, 42, 46, 45, 48, 50, 49, 51} for n in notes)


def _song(bars: int = 16, tempos=None, meters=None, tpb: int = 480) -> Song:
    """A melody song (one held note per bar) over the given maps."""
    song = Song(ticks_per_beat=tpb, tempos=tempos or [TempoChange(0, 500_000)],
                time_signatures=meters or [TimeSignature(0, 4, 4)])
    tm = TimeMap.of(song)
    notes = [Note(60 + b % 5, tm.bar_to_tick(b), tm.bar_length(b) // 2, 90) for b in range(bars)]
    song.tracks.append(Track(name="Melody", notes=notes))
    return song


@pytest.fixture(scope="module")
def drums():
    from composer_gui.ml.drums.part import DrumModel

    return DrumModel.load(SHIPPED)


TOMS = {45, 48, 50}


def _per_bar(notes, song: Song, bars: int, pitches=None) -> np.ndarray:
    tm = TimeMap.of(song)
    counts = np.zeros(bars, dtype=int)
    for n in notes:
        if pitches is None or n.pitch in pitches:
            counts[tm.bar_of(n.start)] += 1
    return counts


def test_part_stays_in_bars_and_plays_fills_at_phrase_ends(drums):
    # a 1/4 pickup, then 4/4 with a tempo change at bar 9
    tpb = 480
    meters = [TimeSignature(0, 1, 4), TimeSignature(tpb, 4, 4)]
    song = _song(bars=17, meters=meters,
                 tempos=[TempoChange(0, 600_000), TempoChange(tpb + 8 * 4 * tpb, 400_000)])
    tm = TimeMap.of(song)
    lo, hi = tm.bar_to_tick(3), tm.bar_to_tick(11)
    fills, others = [], []
    for seed in range(6):
        notes = drums.part(song, range(3, 11), seed=seed, phrase_bars=4)
        assert notes and all(lo <= n.start and n.end <= hi for n in notes)
        assert all(1 <= n.velocity <= 127 for n in notes)
        # Groove's fills are not busier than its grooves (0.88x the notes per bar on
        # the validation split) but they move to the toms: phrases count from the first
        # full bar (bar 1), so bars 4 and 8 end phrases
        toms = _per_bar(notes, song, 17, TOMS)
        fills += [toms[4], toms[8]]
        others += [toms[b] for b in (3, 5, 6, 7, 9, 10)]
    assert np.mean(fills) > 2 * np.mean(others)

    whole = drums.part(song, seed=3, phrase_bars=4)
    assert _per_bar(whole, song, 17)[0] == 0  # the pickup bar stays silent
    assert min(n.start for n in whole) >= tm.bar_to_tick(1)


def test_partial_regeneration_matches_the_whole_song_and_follows_tempo(drums):
    song = _song(bars=16, tempos=[TempoChange(0, 600_000)])
    tm = TimeMap.of(song)
    whole = drums.part(song, seed=5)
    part = drums.part(song, range(4, 10), seed=5)
    inner = (tm.bar_to_tick(5), tm.bar_to_tick(9))

    def within(notes):
        return [n for n in notes if inner[0] <= n.start < inner[1]]

    assert within(part) == within(whole) and within(whole)
    # a faster tempo from bar 12 on changes the drums there, and only near there
    faster = Song(ticks_per_beat=song.ticks_per_beat,
                  tempos=[TempoChange(0, 600_000), TempoChange(tm.bar_to_tick(12), 300_000)],
                  time_signatures=song.time_signatures, tracks=song.tracks)
    changed = drums.part(faster, seed=5)
    early = tm.bar_to_tick(9)
    assert [n for n in changed if n.start < early] == [n for n in whole if n.start < early]
    assert [n for n in changed if n.start >= tm.bar_to_tick(12)] != [
        n for n in whole if n.start >= tm.bar_to_tick(12)]


def test_density_and_dynamics_change_the_part(drums):
    song = _song(bars=8)
    sparse = sum(len(drums.part(song, seed=s, density=0.2)) for s in range(3))
    normal = sum(len(drums.part(song, seed=s)) for s in range(3))
    dense = sum(len(drums.part(song, seed=s, density=0.8)) for s in range(3))
    assert sparse < normal < dense
    soft = np.mean([n.velocity for n in drums.part(song, seed=0, dynamics=0.1)])
    loud = np.mean([n.velocity for n in drums.part(song, seed=0, dynamics=0.9)])
    assert loud > soft + 20


def test_other_meters_play_group_by_group_and_unknown_styles_are_refused(drums):
    from composer_gui.ml.drums.part import _bar_plan

    # a waltz: every 3/4 bar gets drums, all inside the song's bars
    waltz = _song(bars=4, meters=[TimeSignature(0, 3, 4)])
    tm = TimeMap.of(waltz)
    notes = drums.part(waltz, seed=1)
    assert {tm.bar_of(n.start) for n in notes} == {0, 1, 2, 3}
    assert max(n.end for n in notes) <= tm.bar_to_tick(4)
    # 7/8 after 4/4: each 7/8 bar is played as 2+2+3 eighths, each group the start of a
    # 4/4 bar cut short; the 4/4 bars as before
    mixed = _song(bars=8, meters=[TimeSignature(0, 4, 4), TimeSignature(4 * 1920, 7, 8)])
    assert [(b.index, b.kind, b.length // 240) for b in _bar_plan(mixed, 4, 5)] == [
        (4, "short", 2), (4, "short", 2), (4, "short", 3)]
    tm = TimeMap.of(mixed)
    assert {tm.bar_of(n.start) for n in drums.part(mixed, seed=2)} == set(range(8))
    with pytest.raises(UserError, match="unknown style 'polka'"):
        drums.part(_song(bars=2), style="polka")
    assert drums.part(_song(bars=4), style="rock", candidates=3)


def test_broken_model_folders_fail_with_a_clear_message(tmp_path):
    from composer_gui.ml.drums.part import DrumModel

    def copy(name: str) -> Path:
        folder = tmp_path / name
        shutil.copytree(SHIPPED, folder)
        return folder

    bad_json = copy("json")
    (bad_json / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match="corrupt JSON"):
        DrumModel.load(bad_json)

    mismatch = copy("shape")
    config = json.loads((mismatch / "config.json").read_text())
    config["gen_width"] += 8
    (mismatch / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="do not match"):
        DrumModel.load(mismatch)

    bad_value = copy("value")
    config["gen_width"] = -8
    (bad_value / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="gen_width"):
        DrumModel.load(bad_value)

    truncated = copy("weights")
    data = (truncated / "model.safetensors").read_bytes()
    (truncated / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="corrupt or truncated"):
        DrumModel.load(truncated)

    with pytest.raises(ModelError, match="not found"):
        DrumModel.load(tmp_path / "missing")


def test_evaluation_table_compares_with_groove_validation(groove_subset):
    from composer_gui.ml.drums.evaluate import TOLERANCES, evaluate_drums, format_drum_table

    result = evaluate_drums(SHIPPED, groove_subset)
    assert result["performances"] == 2
    for side in ("data", "generated"):
        assert set(TOLERANCES) <= set(result[side])
        shares = [result[side][k] for k in ("kick_share", "snare_share", "hihat_share")]
        assert 0 < sum(shares) <= 1
    table = format_drum_table(result)
    assert table.count("\n| ") == 1 + len(TOLERANCES)  # header + one row per statistic
    assert f"{result['data']['notes_per_bar']:.2f}" in table
