"""The folk style: Nottingham source, meter-aware bars, and the shipped model on tunes
written for the test (4/4, 3/4, 6/8, a pickup, a meter change)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from composer_gui.assets import models_dir
from composer_gui.core.song import Note, Song, TimeSignature, Track
from composer_gui.core.timing import TimeMap

FOLK = models_dir() / "folk"
TPB = 480


# ----- the Nottingham source on real files -------------------------------------------------
@pytest.fixture(scope="module")
def nottingham(datasets_dir) -> Path:
    folder = datasets_dir / "nottingham"
    if not folder.is_dir():
        pytest.skip("nottingham dataset missing")
    return folder


def test_chords_and_bass_split_from_the_chord_track(nottingham):
    from composer_gui.midi.smf import read_midi
    from composer_gui.ml.data.sources import is_nottingham_file, read_song

    path = nottingham / "jigs1.mid"
    assert is_nottingham_file(path)
    raw = read_midi(path)
    song = read_song(path)
    assert [(t.name, t.role) for t in song.tracks] == [
        ("Melody", "melody"), ("Chords", "chords"), ("Bass", "bass")]
    melody, chords, bass = song.tracks
    assert melody.notes == raw.tracks[0].notes
    # the chord part: every chord note, an octave up
    assert sorted((n.pitch - 12, n.start, n.duration) for n in chords.notes) == \
        sorted((n.pitch, n.start, n.duration) for n in raw.tracks[1].notes)
    # the bass: one note per chord, its lowest, never overlapping
    groups: dict[int, int] = {}
    for n in raw.tracks[1].notes:
        groups[n.start] = min(groups.get(n.start, 127), n.pitch)
    assert [(n.start, n.pitch) for n in bass.notes] == sorted(groups.items())
    assert all(a.end <= b.start for a, b in zip(bass.notes, bass.notes[1:]))


def test_pickup_and_meter_change_bars_on_a_real_tune(nottingham):
    """ashover1: 3/4 with a one-beat pickup padded to a whole bar, and a 2/4 bar closing
    each part: the chords change on the bar lines the meter map gives."""
    from composer_gui.ml.data.sources import read_song
    from composer_gui.pianoroll.grid import song_grid

    song = read_song(nottingham / "ashover1.mid")
    grid = song_grid(song, 4)
    assert grid.bar_meters[:9] == ["3/4"] * 7 + ["2/4", "3/4"]
    melody, chords = song.tracks[0], song.tracks[1]
    beat = song.ticks_per_beat
    assert melody.notes[0].start == 2 * beat  # the pickup: last beat of bar 1
    assert min(n.start for n in chords.notes) == 3 * beat  # first chord on bar 2
    bar_ticks = {grid.step_to_tick(int(s)) for s in grid.bar_starts}
    on_bar = [n.start in bar_ticks for n in chords.notes]
    assert np.mean(on_bar) >= 0.9
    # right after the 2/4 bar, the next 3/4 bar starts with a chord
    change = grid.step_to_tick(int(grid.bar_starts[8]))
    assert any(n.start == change for n in chords.notes)


def test_unmarked_pickup_is_padded_to_a_whole_bar(nottingham):
    """jigs129 starts a half-bar pickup at tick 0 with no mark: the source pads it."""
    from composer_gui.midi.smf import read_midi
    from composer_gui.ml.data.sources import read_song

    raw = read_midi(nottingham / "jigs129.mid")
    song = read_song(nottingham / "jigs129.mid")
    bar = 3 * raw.ticks_per_beat  # 6/8
    shift = song.tracks[0].notes[0].start - raw.tracks[0].notes[0].start
    assert shift == bar // 2
    starts = {n.start for n in song.tracks[1].notes}
    assert np.mean([t % bar == 0 for t in starts]) >= 0.8


def test_other_datasets_are_not_read_as_nottingham(datasets_dir):
    from composer_gui.ml.data.sources import is_nottingham_file

    chorale = next((datasets_dir / "bach_chorales").glob("*.mid"), None)
    if chorale is None:
        pytest.skip("bach_chorales missing")
    assert not is_nottingham_file(chorale)


def test_a_file_not_laid_out_like_nottingham_is_read_as_is(tmp_path):
    from composer_gui.midi.smf import write_midi
    from composer_gui.ml.data.sources import is_nottingham_file, read_song

    folder = tmp_path / "Nottingham"
    folder.mkdir()
    song = tune([("4/4", 2)])
    song.tracks.append(Track(name="Piano", notes=[Note(60, 0, 480), Note(64, 0, 480)]))
    song.tracks.append(Track(name="Cello", notes=[Note(48, 0, 960)]))
    write_midi(song, folder / "mine.mid")
    assert is_nottingham_file(folder / "mine.mid")
    assert [t.name for t in read_song(folder / "mine.mid").tracks] == ["Fiddle", "Piano", "Cello"]


# ----- meter-aware positions ---------------------------------------------------------------
def test_compound_beats_and_pickups_in_the_position_features():
    from composer_gui.ml.data.encoding import position_features
    from composer_gui.ml.data.meters import window_position_features
    from composer_gui.ml.model.config import style_config

    folk = style_config("folk")
    # a 6/8 bar (12 steps) and a 3/4 bar (12 steps) look alike without the meter features
    six = window_position_features(folk, np.array([0, 12]), ["6/8", "6/8"], 24)
    three = window_position_features(folk, np.array([0, 12]), ["3/4", "3/4"], 24)
    assert six.shape == (24, folk.position_features)
    assert not np.array_equal(six, three)
    assert list(np.nonzero(six[:12, -1])[0]) == [0, 6]  # dotted quarters
    assert list(np.nonzero(three[:12, -1])[0]) == [0, 4, 8]  # quarters
    # a one-beat pickup bar written as 1/4: its step is the last beat of a 4/4 bar
    pickup = window_position_features(folk, np.array([0, 4, 20]), ["1/4", "4/4", "4/4"], 20)
    padded = window_position_features(folk, np.array([0, 16]), ["4/4", "4/4"], 32)
    assert np.array_equal(pickup, padded[12:32])
    # the chorale model keeps its plain features
    chorale = style_config("chorale")
    plain = position_features(np.array([0, 4, 20]), 20, 4, chorale.max_bar_steps)
    assert np.array_equal(
        window_position_features(chorale, np.array([0, 4, 20]), ["1/4", "4/4", "4/4"], 20),
        plain)


# ----- the shipped model ------------------------------------------------------------------
def tune(meters: list[tuple[str, int]], pickup_beats: int = 0, marked: bool = True) -> Song:
    """A tune written for the test: ``meters`` = [(meter, bars)], in C major, quarter or
    dotted-quarter steps up and down the scale; an optional pickup of quarter beats,
    marked as its own short bar or padded with rests."""
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62]
    notes, sigs, t, i = [], [], 0, 0
    if pickup_beats:
        if marked:
            sigs.append(TimeSignature(0, pickup_beats, 4))
        else:
            t = (4 - pickup_beats) * TPB if meters[0][0] == "4/4" else 0
        for _ in range(pickup_beats):
            notes.append(Note(67, t, TPB - 20, 90))
            t += TPB
    for meter, bars in meters:
        num, den = (int(x) for x in meter.split("/"))
        if not sigs or (sigs[-1].numerator, sigs[-1].denominator) != (num, den):
            sigs.append(TimeSignature(t if sigs else 0, num, den))
        beat = TPB * 3 // 2 if den == 8 else TPB * 4 // den
        for _ in range(bars * (num // 3 if den == 8 else num)):
            notes.append(Note(scale[i % len(scale)] + 12, t, beat - 20, 90))
            t, i = t + beat, i + 1
    if sigs and sigs[0].tick != 0:
        sigs.insert(0, TimeSignature(0, sigs[0].numerator, sigs[0].denominator))
    return Song(ticks_per_beat=TPB, time_signatures=sigs,
                tracks=[Track(name="Fiddle", program=40, notes=notes)])


@pytest.fixture(scope="module")
def folk_home(tmp_path_factory):
    if not (FOLK / "model.safetensors").is_file():
        pytest.fail(f"the shipped model is missing: {FOLK}")
    return FOLK


def _generate(song: Song, tmp_path: Path, folk_home: Path, name: str) -> Song:
    from composer_gui.cli import main
    from composer_gui.midi.smf import read_midi, write_midi

    src, out = tmp_path / f"{name}.mid", tmp_path / f"{name}_out.mid"
    write_midi(song, src)
    assert main(["generate", str(src), "--style", "folk", "--device", "cpu", "-o", str(out)]) == 0
    return read_midi(out)


def _bar_ticks(song: Song) -> list[int]:
    return [int(t) for t in TimeMap.of(song).bar_starts(song.end_tick)]


@pytest.mark.parametrize("name, meters, pickup, marked", [
    ("four", [("4/4", 8)], 0, True),
    ("three", [("3/4", 8)], 0, True),
    ("six_eight", [("6/8", 8)], 0, True),
    ("pickup", [("4/4", 8)], 1, True),
    ("padded_pickup", [("4/4", 8)], 1, False),
    ("change", [("4/4", 4), ("6/8", 4)], 0, True),
])
def test_generate_writes_chords_and_bass_on_the_bars(folk_home, tmp_path, name, meters, pickup,
                                                     marked, monkeypatch):
    monkeypatch.setenv("COMPOSER_GUI_MODELS", str(folk_home.parent))
    song = tune(meters, pickup, marked)
    out = _generate(song, tmp_path, folk_home, name)
    assert [t.name for t in out.tracks] == ["Fiddle", "Chords", "Bass"]
    assert out.tracks[0].notes == song.tracks[0].notes
    assert out.time_signatures == song.time_signatures
    chords, bass = out.tracks[1], out.tracks[2]
    assert chords.notes and bass.notes
    bars = _bar_ticks(out)
    first = bars[1] if pickup else bars[0]  # after the pickup, marked or padded
    full_bars = [b for b in bars if first <= b < song.tracks[0].notes[-1].end]
    # the parts follow the tune's bars: a chord starts on most bar lines, more chords
    # start on the bar line than at any other point of the bar (a pickup or a meter change
    # misread would move that peak), and chords and bass start on the meter's own beats
    # (dotted quarters in 6/8), not between them
    on_bar = [any(n.start == b for n in chords.notes) for b in full_bars]
    assert np.mean(on_bar) >= 0.75, (name, on_bar)
    tmap = TimeMap.of(out)
    offsets, on_beat = [], []
    for n in chords.notes + bass.notes:
        bar = bars[int(np.searchsorted(bars, n.start, side="right")) - 1]
        meter = tmap.meter_at(bar)
        compound = meter.denominator == 8 and meter.numerator % 3 == 0
        beat = TPB * 3 // 2 if compound else TPB * 4 // meter.denominator
        on_beat.append((n.start - bar) % beat == 0)
        if n in chords.notes and bar in full_bars:
            offsets.append((n.start, n.start - bar))
    # one count per chord (its notes start together), not per note: a chord that lost a
    # clashing note is still one chord
    values, counts = np.unique([off for _start, off in set(offsets)], return_counts=True)
    assert values[np.argmax(counts)] == 0, (name, dict(zip(values, counts)))
    assert np.mean(on_beat) >= 0.75, (name, np.mean(on_beat))
    assert np.mean([n.pitch for n in bass.notes]) < np.mean([n.pitch for n in chords.notes])


def test_five_four_after_four_four_is_played_as_three_plus_two(folk_home, tmp_path, monkeypatch):
    from composer_gui.cli import main
    from composer_gui.core.timing import TimeMap
    from composer_gui.midi.smf import read_midi, write_midi

    monkeypatch.setenv("COMPOSER_GUI_MODELS", str(folk_home.parent))
    src = tmp_path / "five.mid"
    write_midi(tune([("4/4", 2), ("5/4", 2)]), src)
    assert main(["generate", str(src), "--style", "folk", "-o", str(tmp_path / "o.mid")]) == 0
    out = read_midi(tmp_path / "o.mid")
    tm = TimeMap.of(out)
    for track in out.tracks[1:]:  # chords and bass in the 5/4 bars too
        assert {2, 3} <= {tm.bar_of(n.start) for n in track.notes}, track.name


def test_shipped_folk_model_loads_with_its_roles(folk_home):
    from composer_gui.ml.model.checkpoint import load_model

    config, generator, _ = load_model(folk_home, "cpu")
    assert config.style == "folk" and config.meter_aware
    assert [(r.name, r.program) for r in config.roles] == [("Chords", 25), ("Bass", 32)]
    assert {"4/4", "3/4", "6/8"} <= set(config.meters)
    assert config.training.get("steps", 0) > 0
    assert (folk_home / "README.md").read_text(encoding="utf-8").count("GPL-3.0") >= 1


def test_block_chords_start_and_end_together():
    """Pitches of one chord crossing 0.5 a step apart still make one block chord; a strong
    onset starts the next chord."""
    from composer_gui.ml.generate.decode import decode_part
    from composer_gui.ml.model.config import BLOCK_CHORDS
    from composer_gui.pianoroll.grid import HOLD, ONSET

    t, p = 8, 12
    frame = np.zeros((1, t, p), np.float32)
    onset = np.zeros((1, t, p), np.float32)
    frame[0, 0:4, [0, 4, 7]] = 0.9  # C E G for four steps ...
    frame[0, 0, 4] = 0.45  # ... E still hesitant at the first step
    frame[0, 4:8, [2, 5, 9]] = 0.8  # then D F A
    onset[0, 4, [2, 5, 9]] = 0.7
    codes = decode_part(frame, onset, BLOCK_CHORDS, None)[0]
    assert set(np.nonzero(codes[0] == ONSET)[0]) == {0, 4, 7}
    assert set(np.nonzero(codes[1:4] == HOLD)[1]) == {0, 4, 7}
    assert set(np.nonzero(codes[4] == ONSET)[0]) == {2, 5, 9}
    assert not (codes[4:, [0, 4, 7]]).any()


def test_evaluate_groups_songs_by_their_main_meter():
    from composer_gui.ml.data.dataset import SongArrays
    from composer_gui.ml.evaluate.model_eval import format_table, main_meter

    def song(starts, meters, steps):
        return SongArrays("x", np.zeros((3, steps, 4), np.int8), np.array(starts), meters,
                          np.zeros(7, np.int64), 0)

    # a 4/4 tune with one 2/4 bar, and a tune that is mostly 6/8 after two 4/4 bars
    assert main_meter(song([0, 16, 24, 40], ["4/4", "2/4", "4/4", "4/4"], 56)) == "4/4"
    assert main_meter(song([0, 16, 32, 44, 56], ["4/4", "4/4", "6/8", "6/8", "6/8"], 80)) == "6/8"
    table = {"bass": {"empty_bar_rate": 0.1}}
    met = {"bass": {"empty_bar_rate": True}}
    result = {"validation_songs": 2, "data": "d", "data_table": table, "generated_table": table,
              "roles": ["bass"], "seed_overlap": 0.5,
              "by_meter": {"6/8": {"validation_songs": 1, "data_table": table,
                                   "generated_table": table, "targets_met": met}}}
    text = format_table(result)
    assert "### 6/8: 1 validation songs, 1 of 1 targets met" in text


def test_the_chord_rule_drops_the_less_likely_note_of_a_semitone_pair():
    from composer_gui.ml.generate.decode import decode_block, without_semitones

    probs = np.zeros((1, 24))
    probs[0, [0, 1, 4, 7]] = [0.9, 0.5, 0.8, 0.7]  # C, C#, E, G: C# rubs against C
    kept = without_semitones(probs > 0.4, probs)
    assert np.nonzero(kept[0])[0].tolist() == [0, 4, 7]
    probs[0, 1] = 0.95  # now C# is the likelier one: C goes
    assert np.nonzero(without_semitones(probs > 0.4, probs)[0])[0].tolist() == [1, 4, 7]
    # in the block-chord decoder: a whole bar of that chord, with and without the rule
    frame = np.repeat(probs[:, None, :], 8, axis=1)
    onset = np.zeros_like(frame)
    onset[0, 0] = frame[0, 0]
    plain = decode_block(frame, onset)
    ruled = decode_block(frame, onset, no_semitones=True)
    assert sorted(np.nonzero(plain[0, 0])[0].tolist()) == [0, 1, 4, 7]
    assert sorted(np.nonzero(ruled[0, 0])[0].tolist()) == [1, 4, 7]


def test_no_chord_starts_on_a_sixteenth_offbeat_where_the_tunes_start_none(nottingham):
    """The onset rule for block chords and the bass (``fit-lines --onsets-only``): the
    Nottingham accompaniment starts chords on beats and eighth offbeats only, so a chord
    the network wants on a sixteenth offbeat waits (the one sounding goes on)."""
    from composer_gui.ml.data.dataset import load_dataset
    from composer_gui.ml.generate.decode import ONSET_FLOOR, decode_part
    from composer_gui.ml.generate.fit_lines import fit_onsets
    from composer_gui.ml.model.config import BLOCK_CHORDS, ModelConfig
    from composer_gui.pianoroll.grid import HOLD, ONSET

    config = ModelConfig.load(FOLK)
    songs = load_dataset(nottingham, config).train[:60]
    rates = fit_onsets(config, songs)
    assert set(rates) == {"Chords", "Bass"}
    chords = np.asarray(config.roles[0].line_onsets)
    assert chords[0] == 1.0 and chords[2] >= ONSET_FLOOR  # beats and eighth offbeats
    assert chords[1] < ONSET_FLOOR and chords[3] < ONSET_FLOOR  # (almost) no sixteenths

    t, p = 8, 12
    frame = np.zeros((1, t, p), np.float32)
    onset = np.zeros((1, t, p), np.float32)
    frame[0, 0:5, [0, 4, 7]] = 0.9  # C E G, then D F A wanted from step 5 (a sixteenth)
    frame[0, 5:8, [2, 5, 9]] = 0.9
    onset[0, 5, [2, 5, 9]] = 0.9
    allowed = chords[np.arange(t) % 4] >= ONSET_FLOOR
    free = decode_part(frame, onset, BLOCK_CHORDS, None)[0]
    ruled = decode_part(frame, onset, BLOCK_CHORDS, None, allowed=allowed)[0]
    assert set(np.nonzero(free[5] == ONSET)[0]) == {2, 5, 9}
    assert not (ruled[5] == ONSET).any() and set(np.nonzero(ruled[5] == HOLD)[0]) == {0, 4, 7}
    assert set(np.nonzero(ruled[6] == ONSET)[0]) == {2, 5, 9}  # on the next eighth
