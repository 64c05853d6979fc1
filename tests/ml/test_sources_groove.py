"""Groove: index and splits, drum songs, windows with labels, drum statistics."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from composer_gui.core.song import Note
from composer_gui.midi.smf import read_midi
from composer_gui.ml.data.sources.groove import (
    GrooveError,
    aggregate_drum_stats,
    drum_bar_stats,
    drum_roll,
    drum_windows,
    groove_split_counts,
    load_groove_index,
    load_groove_song,
    quantization_stats,
    song_drum_stats,
)


@pytest.fixture(scope="module")
def groove(datasets_dir: Path) -> Path:
    folder = datasets_dir / "groove"
    if not (folder / "info.csv").is_file():
        pytest.skip(f"Groove not found at {folder}")
    return folder


@pytest.fixture(scope="module")
def rows(groove):
    return load_groove_index(groove)


def test_index_split_counts_match_info_csv(groove, rows):
    with open(groove / "info.csv", newline="") as fh:
        listed = list(csv.DictReader(fh))
    assert groove_split_counts(rows) == dict(Counter(r["split"] for r in listed))
    assert len(rows) == len(listed)
    first = rows[0]
    assert first.path.is_file() and first.path.is_absolute()
    assert first.split in {"train", "validation", "test"}
    jazz_funk = next(r for r in rows if r.style == "jazz/funk")
    assert jazz_funk.top_style == "jazz"
    assert {r.meter_label for r in rows} >= {"4/4", "3/4", "6/8"}


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(GrooveError, match=r"info\.csv: missing"):
        load_groove_index(tmp_path)
    (tmp_path / "info.csv").write_text("a,b\n1,2\n")
    with pytest.raises(GrooveError, match="no column"):
        load_groove_index(tmp_path)


def test_groove_song_is_one_gm_drum_track(rows):
    row = next(r for r in rows if r.split == "validation" and not r.is_fill)
    song = load_groove_song(row)
    raw = read_midi(row.path)
    assert len(song.tracks) == 1
    drums = song.tracks[0]
    assert (drums.name, drums.channel, drums.is_drum, drums.role) == ("Drums", 9, True, "drums")
    raw_notes = [n for t in raw.tracks for n in t.notes]
    assert len(drums.notes) == len(raw_notes)
    pitches = {n.pitch for n in drums.notes}
    assert not pitches & {22, 26, 58}  # TD-11 edge and rim notes play as GM sounds
    assert all(35 <= p <= 81 for p in pitches)
    assert round(song.tempos[0].bpm) == row.bpm


def test_windows_carry_phrase_position_fill_tempo_and_style(rows):
    beat = next(r for r in rows if not r.is_fill and r.meter_label == "4/4" and r.duration > 30)
    windows = list(drum_windows(beat, steps_per_beat=4, bars_per_window=4, phrase_bars=4))
    assert len(windows) >= 3
    for w in windows:
        assert w.onsets.shape == (64, 128)
        assert w.bar_in_phrase.tolist() == [0, 1, 2, 3]
        assert w.style == beat.top_style and w.split == beat.split
        assert w.bpm == pytest.approx(beat.bpm, abs=0.5)
    assert sum(int(w.onsets.sum()) for w in windows) > 0
    fill = next(r for r in rows if r.is_fill and r.duration < 2.5)
    (w,) = drum_windows(fill, bars_per_window=4)
    # a short fill ends its window and its phrase
    assert w.fill[-1] and w.bar_in_phrase[-1] == 3
    assert w.onsets[-16:].any()
    assert not w.onsets[:16].any() and w.bar_in_phrase[0] == -1


# ----- statistics on hand-made rolls -----------------------------------------------------------
def _two_bar_roll(steps_per_beat: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Bar 1: kick on 1 and 3, snare on 2 and 4, closed hi-hat on every eighth; bar 2
    silent."""
    q = steps_per_beat
    onsets = np.zeros((8 * q, 128), dtype=bool)
    onsets[[0, 2 * q], 36] = True
    onsets[[q, 3 * q], 38] = True
    onsets[np.arange(0, 4 * q, q // 2 if q > 1 else 1), 42] = True
    return onsets, onsets.copy()


def test_drum_bar_stats_on_a_hand_made_roll():
    stats = drum_bar_stats(_two_bar_roll(), steps_per_bar=16, steps_per_beat=4)
    assert stats["bars"] == 2 and stats["notes"] == 12
    assert stats["empty_bar_rate"] == 0.5
    assert stats["notes_per_bar"] == 6.0
    assert stats["kick_share"] == pytest.approx(2 / 12)
    assert stats["snare_share"] == pytest.approx(2 / 12)
    assert stats["hihat_share"] == pytest.approx(8 / 12)
    assert stats["drum_pattern_rate"] == 1.0


def test_drum_pattern_rate_sees_triplets_on_a_fine_grid():
    onsets, _ = _two_bar_roll(12)
    onsets[16, 42] = True  # a hi-hat on the second eighth-note triplet of beat 2
    stats = drum_bar_stats((onsets, onsets.copy()), steps_per_bar=48, steps_per_beat=12)
    assert stats["notes"] == 13
    assert stats["drum_pattern_rate"] == pytest.approx(12 / 13)


def test_pooled_stats_equal_the_stats_of_all_bars_together():
    a = drum_bar_stats(_two_bar_roll(), 16, 4)
    busy = np.zeros((16, 128), dtype=bool)
    busy[::2, 42] = True
    busy[0, 36] = True
    b = drum_bar_stats((busy, busy), 16, 4)
    both = np.concatenate([_two_bar_roll()[0], busy])
    pooled = aggregate_drum_stats([a, b])
    whole = drum_bar_stats((both, both), 16, 4)
    for key in ("empty_bar_rate", "notes_per_bar", "kick_share", "hihat_share"):
        assert pooled[key] == pytest.approx(whole[key])
    assert pooled["songs"] == 2 and pooled["bars"] == 3


def test_drum_roll_snaps_to_nearest_step_and_quantization_stats():
    tpb = 480
    notes = [Note(36, 0, 10), Note(38, 125, 10), Note(42, 230, 10), Note(42, 240, 10)]
    onsets, held = drum_roll(notes, tpb, 4)
    steps, pitches = np.nonzero(onsets)
    assert steps.tolist() == [0, 1, 2] and pitches.tolist() == [36, 38, 42]  # one hi-hat hit
    assert np.array_equal(onsets, held)
    q = quantization_stats(notes, tpb, 4)
    assert q["on_grid"] == 0.5
    assert q["collisions"] == 0.25  # two hi-hats land on one step
    assert q["median_offset_steps"] == pytest.approx((0 + 5 / 120) / 2)  # offsets 0, 0, 5/120, 10/120


def test_song_drum_stats_follow_the_meter_map():
    """A made-up song: a 4/4 bar of eighth hi-hats, an empty 4/4 bar, then a 3/4 bar with
    one kick; the last kick sits just before the end and snaps onto the grid's last step."""
    from composer_gui.core.song import Song, TimeSignature, Track

    tpb = 480
    notes = [Note(42, i * 240, 30) for i in range(8)] + [Note(36, 3840 + 960, 30)]
    song = Song(
        ticks_per_beat=tpb,
        time_signatures=[TimeSignature(0, 4, 4), TimeSignature(3840, 3, 4)],
        tracks=[Track(name="Drums", channel=9, is_drum=True, notes=notes)],
    )
    stats = song_drum_stats(song, 4)
    assert stats["bars"] == 3
    assert stats["empty_bar_rate"] == pytest.approx(1 / 3)
    assert stats["notes_per_bar"] == pytest.approx(3.0)
    assert stats["kick_share"] == pytest.approx(1 / 9)
    assert stats["hihat_share"] == pytest.approx(8 / 9)


def test_read_song_picks_the_reader_by_collection(datasets_dir, rows):
    from composer_gui.ml.data.sources import read_song

    pop = read_song(datasets_dir / "pop909" / "001" / "001.mid")
    assert [t.name for t in pop.tracks] == ["Melody", "Bass", "Piano", "Strings"]
    drums = read_song(rows[0].path)
    assert [(t.name, t.is_drum) for t in drums.tracks] == [("Drums", True)]
    chorale = sorted((datasets_dir / "bach_chorales").glob("*.mid"))[0]
    assert read_song(chorale) == read_midi(chorale)


def test_nine_piece_kit_round_trip():
    from composer_gui.ml.data.sources.groove import (
        DRUM_CLASSES,
        drum_class_pitches,
        drum_class_roll,
    )

    roll = np.zeros((4, 128), dtype=np.uint8)
    roll[0, 36] = 100  # kick
    roll[1, 40] = 90  # rim shot -> snare
    roll[1, 38] = 70
    roll[2, 22] = 60  # TD-11 hi-hat edge -> closed hi-hat
    roll[3, 81] = 50  # open triangle: no class
    classes = drum_class_roll(roll)
    assert classes.shape == (4, len(DRUM_CLASSES)) == (4, 9)
    assert classes[0, 0] == 100 and classes[1, 1] == 90 and classes[2, 2] == 60
    assert classes[3].sum() == 0
    back = drum_class_pitches(classes)
    assert np.nonzero(back)[1].tolist() == [36, 38, 42]
    # a loaded Groove song loses nothing to the kit
    all_pitches = set().union(*(p for _, _, p in DRUM_CLASSES))
    assert {36, 38, 40, 42, 44, 46, 43, 45, 48, 50, 49, 51, 53} <= all_pitches


def test_missing_performance_file_names_it(rows):
    import dataclasses

    gone = dataclasses.replace(rows[0], path=rows[0].path.with_name("not_there.mid"))
    with pytest.raises(GrooveError, match=r"not_there\.mid: missing"):
        load_groove_song(gone)
