"""Metrics on hand-made piano rolls; every expected value is worked out in the comments."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from composer_gui.ml.metrics.keys import estimate_key, in_scale_rate, parse_key
from composer_gui.ml.metrics.rolls import notes_from_roll, to_full_range
from composer_gui.ml.metrics.tables import (
    SongRolls,
    aggregate_metrics,
    format_table,
    shuffled_tonal_distances,
    targets_met,
)
from composer_gui.ml.metrics.tracks import (
    DRUM_PATTERN_RATE,
    EMPTY_BAR_RATE,
    IN_SCALE_RATE,
    MELODY_DOUBLING_RATE,
    POLYPHONY_RATE,
    QUALIFIED_NOTE_RATE,
    TONAL_DISTANCE,
    TONAL_DISTANCE_SHUFFLED,
    USED_PITCH_CLASSES,
    drum_pattern_rate,
    empty_bar_rate,
    median_note_overlap,
    melody_doubling_rate,
    note_overlap,
    polyphony_rate,
    qualified_note_rate,
    tonal_centroid,
    tonal_distance,
    track_metrics,
    used_pitch_classes,
)

C4, D4, E4, F4, FS4, G4, A4, B4, C5 = 60, 62, 64, 65, 66, 67, 69, 71, 72


def roll(steps: int, *notes: tuple[int, int, int]) -> np.ndarray:
    """A bool roll with notes (pitch, start, length)."""
    out = np.zeros((steps, 128), dtype=bool)
    for pitch, start, length in notes:
        out[start : start + length, pitch] = True
    return out


def pair(steps: int, *notes: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """An (onsets, held) pair with notes (pitch, start, length)."""
    onsets = np.zeros((steps, 128), dtype=bool)
    for pitch, start, _ in notes:
        onsets[start, pitch] = True
    return onsets, roll(steps, *notes)


# ----------------------------------------------------------------------------- notes


def test_notes_from_a_plain_roll_are_runs_of_sounding_steps():
    track = roll(8, (C4, 0, 2), (C4, 2, 2), (E4, 1, 1))  # two C4s touch: one run
    assert notes_from_roll(track).tolist() == [[C4, 0, 4], [E4, 1, 1]]


def test_an_onset_pair_splits_repeated_notes_and_counts_onset_only_cells():
    onsets, held = pair(8, (C4, 0, 2), (C4, 2, 2), (E4, 5, 3))
    onsets[7, G4] = True  # an onset without a held cell is a one-step note
    notes = notes_from_roll((onsets, held)).tolist()
    assert notes == [[C4, 0, 2], [C4, 2, 2], [E4, 5, 3], [G4, 7, 1]]


def test_notes_rebuild_the_roll_they_came_from():
    rng = np.random.default_rng(7)
    held = rng.random((64, 128)) < 0.3
    onsets = held & (rng.random((64, 128)) < 0.3)
    for track in (held, (onsets, held)):
        notes = notes_from_roll(track)
        rebuilt = roll(64, *map(tuple, notes))
        assert np.array_equal(rebuilt, held)
        assert notes[:, 2].sum() == held.sum()  # no two notes cover the same cell
        starts = np.zeros_like(held)
        starts[notes[:, 1], notes[:, 0]] = True
        assert not np.any(onsets & ~starts) or track is held  # every onset starts a note
        assert np.all(np.diff(notes[:, 1]) >= 0)  # sorted by start


def test_a_float_roll_is_binarized_at_nonzero_and_a_short_roll_can_be_widened():
    narrow = np.zeros((4, 84), dtype=np.float32)
    narrow[1:3, C4 - 24] = 0.7  # column 0 is MIDI 24
    full = to_full_range(narrow, lowest_pitch=24)
    assert notes_from_roll(full).tolist() == [[C4, 1, 2]]


def test_wrong_shapes_and_bar_starts_are_refused():
    with pytest.raises(ValueError, match=r"\[steps, 128\]"):
        empty_bar_rate(np.zeros((8, 84)), 4)
    with pytest.raises(ValueError, match="increasing"):
        empty_bar_rate(roll(8), [0, 4, 4])
    with pytest.raises(ValueError, match="differ"):
        notes_from_roll((np.zeros((4, 128)), np.zeros((5, 128))))


# ----------------------------------------------------------------------------- EB, UPC


def test_empty_bar_rate_counts_bars_without_a_sounding_step():
    # Four bars of 4 steps; notes only in bars 0 and 2 -> 2 of 4 bars empty.
    track = roll(16, (C4, 1, 1), (E4, 8, 2))
    assert empty_bar_rate(track, 4) == 0.5
    # A note held over the bar line fills the next bar too: bars 0, 1 and 2 sound.
    held_over = roll(16, (C4, 2, 4), (E4, 8, 2))
    assert empty_bar_rate(held_over, 4) == 0.25


def test_empty_bar_rate_with_bar_starts_for_meter_changes_and_pickups():
    # Bars [0, 3), [3, 7), [7, 10): one note in the first -> 2 of 3 empty.
    track = roll(10, (C4, 1, 1))
    assert empty_bar_rate(track, [0, 3, 7]) == pytest.approx(2 / 3)
    # Starts [2, 6]: the steps before 2 are a pickup bar -> bars [0,2), [2,6), [6,10);
    # the note at step 1 is in the pickup, so 2 of 3 bars are empty again.
    assert empty_bar_rate(track, [2, 6]) == pytest.approx(2 / 3)
    # A last partial bar counts: 10 steps in bars of 4 -> [0,4), [4,8), [8,10).
    assert empty_bar_rate(roll(10, (C4, 9, 1)), 4) == pytest.approx(2 / 3)


def test_used_pitch_classes_is_the_mean_over_non_empty_bars():
    # Bar 0: C4, E4, C5 -> classes {C, E} = 2. Bar 1: G4 -> 1. Bar 2 empty (skipped).
    track = roll(12, (C4, 0, 4), (E4, 0, 2), (C5, 2, 2), (G4, 4, 4))
    assert used_pitch_classes(track, 4) == 1.5
    assert math.isnan(used_pitch_classes(roll(8), 4))


# ----------------------------------------------------------------------------- QN


def test_qualified_note_rate_uses_the_one_32nd_threshold():
    track = roll(8, (C4, 0, 1), (E4, 2, 2))
    # 16 steps per quarter: 1 step is a 1/64 note (too short), 2 steps a 1/32 -> 1/2.
    assert qualified_note_rate(track, steps_per_beat=16) == 0.5
    # 8 steps per quarter: one step is already a 1/32 note -> both qualify.
    assert qualified_note_rate(track, steps_per_beat=8) == 1.0
    # A grid coarser than 1/32 cannot hold a shorter note.
    assert qualified_note_rate(track, steps_per_beat=4) == 1.0


def test_qualified_note_rate_needs_onsets_to_see_repeated_short_notes():
    # Four one-step C4s in a row at 16 steps per quarter: none qualifies...
    four = pair(4, *[(C4, step, 1) for step in range(4)])
    assert qualified_note_rate(four, steps_per_beat=16) == 0.0
    # ...but without onsets they read as one 4-step note, which does.
    assert qualified_note_rate(four[1], steps_per_beat=16) == 1.0


# ----------------------------------------------------------------------------- DP


def test_drum_pattern_rate_counts_onsets_on_the_16th_grid():
    # 12 steps per quarter: 16ths fall every 3 steps. Onsets 0, 3, 6 on the grid;
    # 4 and 11 off it (one step away each) -> 3 of 5.
    kick, hat = 36, 42
    track = pair(12, (kick, 0, 1), (hat, 3, 1), (kick, 6, 1), (hat, 4, 1), (hat, 11, 1))
    assert drum_pattern_rate(track, steps_per_beat=12) == pytest.approx(0.6)
    # Allowing one step of slack brings in both stray onsets.
    assert drum_pattern_rate(track, steps_per_beat=12, tolerance_steps=1) == 1.0


def test_drum_pattern_rate_counts_from_each_bar_start():
    # A 13-step pickup then a bar at step 13: step 13 is the bar's downbeat (on grid),
    # but counted from step 0 it is 13 = 4*3 + 1, one step off.
    track = pair(20, (36, 13, 1))
    assert drum_pattern_rate(track, 12, steps_per_bar=[0, 13]) == 1.0
    assert drum_pattern_rate(track, 12) == 0.0
    # On a 16th grid every step is a 16th: DP is 1 by construction.
    assert drum_pattern_rate(pair(4, (36, 1, 1), (38, 3, 1)), 4) == 1.0


# ----------------------------------------------------------------------------- TD

# Tonal centroids (Harte et al.) of single pitch classes, worked out by hand:
# C  (l=0): (sin 0, cos 0, sin 0, cos 0, .5 sin 0, .5 cos 0) = (0, 1, 0, 1, 0, .5)
# F# (l=6): angles 7pi, 9pi, 4pi                           = (0, -1, 0, -1, 0, .5)
# -> |C - F#| = sqrt(2^2 + 2^2) = 2 sqrt 2.
# G  (l=7): angles 49pi/6 = pi/6 (mod 2pi), 21pi/2 = pi/2, 14pi/3 = 2pi/3
#         = (1/2, sqrt3/2, 1, 0, sqrt3/4, -1/4)
TRITONE = 2 * math.sqrt(2)
C_TO_G = math.sqrt(0.25 + (1 - math.sqrt(3) / 2) ** 2 + 1 + 1 + 3 / 16 + 0.75**2)


def test_tonal_centroid_of_single_pitch_classes():
    chroma = np.zeros((3, 12))
    chroma[0, 0], chroma[1, 6], chroma[2, 7] = 1, 2, 5  # scale does not matter
    expected = [
        [0, 1, 0, 1, 0, 0.5],
        [0, -1, 0, -1, 0, 0.5],
        [0.5, math.sqrt(3) / 2, 1, 0, math.sqrt(3) / 4, -0.25],
    ]
    np.testing.assert_allclose(tonal_centroid(chroma), expected, atol=1e-12)


def test_tonal_distance_averages_over_bars_where_both_sound():
    # Bar 0: C vs C an octave lower (0). Bar 1: C vs F# (2 sqrt 2).
    # Bar 2: only the melody sounds (skipped). Mean: sqrt 2.
    melody = roll(12, (C5, 0, 4), (C5, 4, 4), (C5, 8, 4))
    other = roll(12, (C4, 0, 4), (FS4, 4, 4))
    assert tonal_distance(melody, other, 4) == pytest.approx(TRITONE / 2)
    assert tonal_distance(melody, roll(12, (G4, 0, 12)), 4) == pytest.approx(C_TO_G)


def test_tonal_distance_weights_pitches_by_how_long_they_sound():
    # Chroma 3 steps of C + 1 of F#: centroid 3/4 C + 1/4 F#, so a quarter of the way
    # from C to F#: distance sqrt 2 / 2 from plain C.
    melody = roll(4, (C4, 0, 4))
    other = roll(4, (C4, 0, 3), (FS4, 3, 1))
    assert tonal_distance(melody, other, 4) == pytest.approx(TRITONE / 4)
    assert math.isnan(tonal_distance(melody, roll(4), 4))


# ----------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("C", (0, False)),
        ("Bb", (10, False)),
        ("C#m", (1, True)),
        ("Cb", (11, False)),
        ("F#m", (6, True)),
        ("Ebm", (3, True)),
    ],
)
def test_parse_key_reads_mido_key_names(name, expected):
    assert parse_key(name) == expected


@pytest.mark.parametrize("bad", ["", "H", "Cmaj", "C##"])
def test_parse_key_refuses_other_text(bad):
    with pytest.raises(ValueError, match="key name"):
        parse_key(bad)


def test_in_scale_rate_in_major_and_in_minor_with_its_leading_tone():
    # C major: C, D in; C#, F# out -> 1/2.
    track = roll(8, (C4, 0, 1), (D4, 1, 1), (61, 2, 1), (FS4, 3, 1))
    assert in_scale_rate(track, "C") == 0.5
    # F# minor: F#, A in; G out; F (= E#, the leading tone) in -> 3/4.
    track = roll(8, (FS4, 0, 1), (A4, 1, 1), (G4, 2, 1), (F4, 3, 1))
    assert in_scale_rate(track, "F#m") == 0.75


def test_estimate_key_finds_major_and_minor_and_follows_transposition():
    c_major = roll(16, (C4, 0, 8), (E4, 0, 8), (G4, 0, 8), (F4, 8, 8), (A4, 8, 8), (C5, 8, 8))
    assert estimate_key(c_major) == "C"
    assert estimate_key(np.roll(c_major, 6, axis=1)) == "F#"
    a_minor = roll(16, (A4 - 12, 0, 16), (C4, 0, 8), (E4, 8, 8), (G4 + 1, 12, 2))
    melody = roll(16, (A4, 0, 4), (B4, 4, 4), (C5, 8, 8))
    assert estimate_key(melody, a_minor) == "Am"
    assert estimate_key(roll(4)) == "C"


# ----------------------------------------------------------------------------- others


def test_polyphony_rate_is_a_share_of_sounding_steps():
    # Steps 0-1: one pitch; step 2: two; step 3: silent; step 4: three -> 2 of 4.
    track = roll(5, (C4, 0, 3), (E4, 2, 1), (C4, 4, 1), (E4, 4, 1), (G4, 4, 1))
    assert polyphony_rate(track) == 0.5
    assert math.isnan(polyphony_rate(roll(5)))


def test_melody_doubling_needs_the_same_pitch_class_at_a_melody_onset():
    melody = roll(8, (C4, 0, 4), (E4, 4, 4))
    track = roll(
        8,
        (C4 - 12, 0, 2),  # C an octave down at the melody's onset: doubled
        (G4 - 12, 0, 2),  # other class: not doubled
        (C4 - 24, 2, 2),  # C while the melody's C is held, not at its onset: not doubled
        (E4 - 24, 4, 4),  # E with the melody's E: doubled
    )
    assert melody_doubling_rate(track, melody) == 0.5


def test_note_overlap_matches_notes_by_pitch_and_onset():
    a = roll(12, (C4, 0, 4), (E4, 4, 4))
    b = roll(12, (C4, 0, 1), (G4, 4, 4), (C5, 8, 4))  # C4 at 0 shared (length ignored)
    assert note_overlap(a, b) == pytest.approx(2 * 1 / (2 + 3))
    assert note_overlap(a, a) == 1.0
    # Multi-track arrays match notes within the same track only.
    assert note_overlap(np.stack([a, b]), np.stack([b, a])) == pytest.approx(2 * 2 / 10)
    same, none = (a, a), (a, roll(12, (D4, 1, 1)))
    assert median_note_overlap([same[0], none[0], a], [same[1], none[1], b]) == 0.4


# ----------------------------------------------------------------------------- tables


def test_track_metrics_gives_pitched_and_drum_sets():
    melody = roll(8, (C5, 0, 4), (E4, 4, 4))
    bass = roll(8, (C4 - 24, 0, 8))
    values = track_metrics(bass, steps_per_bar=4, steps_per_beat=2, melody=melody, key="C")
    assert values == {
        EMPTY_BAR_RATE: 0.0,
        QUALIFIED_NOTE_RATE: 1.0,
        POLYPHONY_RATE: 0.0,
        USED_PITCH_CLASSES: 1.0,
        IN_SCALE_RATE: 1.0,
        TONAL_DISTANCE: pytest.approx(tonal_distance(melody, bass, 4)),
        MELODY_DOUBLING_RATE: 1.0,  # its one note starts on the melody's C
    }
    drums = track_metrics(pair(8, (36, 0, 1)), steps_per_bar=4, steps_per_beat=2, is_drum=True)
    assert set(drums) == {
        EMPTY_BAR_RATE,
        QUALIFIED_NOTE_RATE,
        POLYPHONY_RATE,
        DRUM_PATTERN_RATE,
    }
    assert drums[EMPTY_BAR_RATE] == 0.5


def _song(pitch_class: int, steps: int, *, silent_bass: bool = False) -> SongRolls:
    melody = roll(steps, (C5 + pitch_class, 0, steps))
    bass = roll(steps) if silent_bass else roll(steps, (C4 - 24 + pitch_class, 0, steps))
    return SongRolls(melody=melody, tracks={"bass": bass}, steps_per_bar=4, steps_per_beat=2)


def test_aggregate_means_per_role_and_a_shuffled_baseline_from_another_song():
    # Song 0 is all C, song 1 all F# (12 steps, a different length): each bass doubles
    # its melody (TD 0); paired with the other song's bass, TD is a tritone (2 sqrt 2).
    songs = [_song(0, 8), _song(6, 12)]
    table = aggregate_metrics(songs, seed=3)
    bass = table["bass"]
    assert bass[TONAL_DISTANCE] == 0.0
    assert bass[TONAL_DISTANCE_SHUFFLED] == pytest.approx(TRITONE)
    assert bass[EMPTY_BAR_RATE] == 0.0
    assert bass[USED_PITCH_CLASSES] == 1.0


def test_aggregate_skips_undefined_values_and_is_fixed_by_its_seed():
    # Four songs in four different pitch classes: a partner from another song never
    # matches the melody (TD > 0), except the silent bass, which has no TD (nan).
    songs = [_song(0, 8), _song(7, 8), _song(6, 8), _song(3, 8, silent_bass=True)]
    table = aggregate_metrics(songs, seed=1)
    # EB: 0, 0, 0 and 1 -> 1/4; UPC is undefined for the silent bass: mean of 1, 1, 1.
    assert table["bass"][EMPTY_BAR_RATE] == 0.25
    assert table["bass"][USED_PITCH_CLASSES] == 1.0
    assert aggregate_metrics(songs, seed=1) == table
    shuffled = shuffled_tonal_distances(songs, seed=1)
    values = [row["bass"] for row in shuffled]
    assert sum(math.isnan(value) for value in values) == 1
    assert all(value > 0 for value in values if not math.isnan(value))


def _tables(**gen_values: float) -> tuple[dict, dict]:
    data = {
        "bass": {
            EMPTY_BAR_RATE: 0.20,
            USED_PITCH_CLASSES: 2.0,
            QUALIFIED_NOTE_RATE: 0.95,
            IN_SCALE_RATE: 0.90,
            MELODY_DOUBLING_RATE: 0.30,
            TONAL_DISTANCE: 1.0,
            TONAL_DISTANCE_SHUFFLED: 2.0,
            POLYPHONY_RATE: 0.0,
        }
    }
    return data, {"bass": dict(data["bass"], **gen_values)}


@pytest.mark.parametrize(
    ("metric", "passing", "failing"),
    [
        (EMPTY_BAR_RATE, 0.29, 0.31),
        (EMPTY_BAR_RATE, 0.11, 0.09),
        (USED_PITCH_CLASSES, 2.9, 3.1),
        (QUALIFIED_NOTE_RATE, 0.81, 0.79),
        (IN_SCALE_RATE, 0.86, 0.84),
        (MELODY_DOUBLING_RATE, 0.39, 0.41),
        (TONAL_DISTANCE, 1.49, 1.51),  # midpoint of 1.0 (real) and 2.0 (shuffled)
    ],
)
def test_targets_met_applies_each_target_against_the_data(metric, passing, failing):
    assert targets_met(*_tables(**{metric: passing}))["bass"][metric] is True
    assert targets_met(*_tables(**{metric: failing}))["bass"][metric] is False


def test_targets_met_fails_undefined_values_and_skips_metrics_without_target():
    met = targets_met(*_tables(**{USED_PITCH_CLASSES: float("nan")}))["bass"]
    assert met[USED_PITCH_CLASSES] is False
    assert POLYPHONY_RATE not in met and TONAL_DISTANCE_SHUFFLED not in met


def test_format_table_prints_a_markdown_row_per_role_and_metric():
    data, gen = _tables(**{EMPTY_BAR_RATE: 0.35})
    text = format_table(data, gen)
    lines = text.splitlines()
    assert lines[0] == "| track | metric | data | generated | target | met? |"
    assert "| bass | EB | 0.200 | 0.350 | within 0.10 of data | no |" in lines
    assert "| bass | UPC | 2.000 | 2.000 | within 1.0 of data | yes |" in lines
    assert "| bass | polyphony | 0.000 | 0.000 |  |  |" in lines
    only_data = format_table(data).splitlines()
    assert only_data[0] == "| track | metric | data |"
    assert "| bass | TD to melody, shuffled | 2.000 |" in only_data


def test_metrics_import_without_torch():
    code = "import sys, composer_gui.ml.metrics.rolls, composer_gui.ml.metrics.keys, composer_gui.ml.metrics.tracks, composer_gui.ml.metrics.tables; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_empty_rolls_give_nan_instead_of_failing():
    empty = roll(0)
    assert notes_from_roll(empty).shape == (0, 3)
    assert math.isnan(empty_bar_rate(empty, 4))
    assert math.isnan(qualified_note_rate(empty, 4))
    assert math.isnan(in_scale_rate(empty, "C"))


def _chorale(path, steps_per_beat: int = 4) -> SongRolls:
    import symusic

    score = symusic.Score(str(path))
    scale = steps_per_beat / score.ticks_per_quarter
    parts = {}
    for track in score.tracks:  # these files carry an empty second "Soprano" track
        if track.notes:
            parts.setdefault(track.name.lower(), track.notes)
    # No step past the last note: with a bar length, a trailing partial bar counts.
    steps = round(max(n.end for notes in parts.values() for n in notes) * scale)
    rolls = {
        name: roll(
            steps,
            *[(n.pitch, round(n.start * scale), max(1, round(n.duration * scale))) for n in notes],
        )
        for name, notes in parts.items()
    }
    bar = score.time_signatures[0]
    steps_per_bar = bar.numerator * 4 * steps_per_beat // bar.denominator
    return SongRolls(
        melody=rolls["soprano"],
        tracks={role: rolls[role] for role in ("alto", "tenor", "bass")},
        steps_per_bar=steps_per_bar,
        steps_per_beat=steps_per_beat,
    )


def test_real_chorale_voices_are_closer_to_their_own_soprano_than_to_another_songs(
    datasets_dir,
):
    paths = sorted((datasets_dir / "bach_chorales").glob("*.mid"))[:20]
    table = aggregate_metrics([_chorale(path) for path in paths], seed=0)
    for role in ("alto", "tenor", "bass"):
        values = table[role]
        assert values[TONAL_DISTANCE] < values[TONAL_DISTANCE_SHUFFLED]
        assert values[EMPTY_BAR_RATE] < 0.05  # the four voices sing all the way through
        assert values[POLYPHONY_RATE] == 0.0  # one voice, one note at a time
        assert values[IN_SCALE_RATE] > 0.8
    # A bass line with its real soprano meets every target against its own data.
    met = targets_met(table, table)
    assert all(all(role.values()) for role in met.values())
