"""POP909 loading: bar lines from the beat annotation, pickups, meters, the PIANO split."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from composer_gui.core.song import Event, Note, Song
from composer_gui.core.timing import TimeMap
from composer_gui.midi.smf import read_midi
from composer_gui.ml.data.sources.pop909 import (
    BASS_CEILING,
    Pop909Error,
    find_pop909_songs,
    load_pop909_beats,
    load_pop909_song,
    pop909_meter,
    pop909_meter_supported,
    split_piano,
)


@pytest.fixture(scope="module")
def pop(datasets_dir: Path) -> Path:
    folder = datasets_dir / "pop909"
    if not (folder / "index.csv").is_file():
        pytest.skip(f"POP909 not found at {folder}")
    return folder


# ----- oracles written independently of the loader ----------------------------------------
def seconds_to_tick(song: Song, seconds: float) -> float:
    """Walk the tempo map segment by segment until ``seconds`` is reached."""
    tempos = sorted(song.tempos, key=lambda t: t.tick)
    elapsed, tick, us = 0.0, 0, 500_000
    for t in tempos:
        segment = (t.tick - tick) * us / 1e6 / song.ticks_per_beat
        if elapsed + segment > seconds:
            break
        elapsed += segment
        tick, us = t.tick, t.us_per_beat
    return tick + (seconds - elapsed) * 1e6 * song.ticks_per_beat / us


def bar_lines(song: Song, end: int) -> list[int]:
    """Bar lines as any reader of the meter map sees them: whole bars of the meter in
    effect, and a new bar at every meter change."""
    sigs = sorted(song.time_signatures, key=lambda s: s.tick)
    lines: list[int] = []
    for i, sig in enumerate(sigs):
        stop = sigs[i + 1].tick if i + 1 < len(sigs) else end
        length = sig.numerator * 4 * song.ticks_per_beat // sig.denominator
        lines.extend(range(sig.tick, stop, length))
    return lines


def annotated_downbeats(song_dir: Path, column: int) -> tuple[np.ndarray, Song]:
    """The annotated downbeats in ticks of the raw file (rounded)."""
    raw = read_midi(song_dir / f"{song_dir.name}.mid")
    table = np.loadtxt(song_dir / "beat_midi.txt")
    seconds = table[table[:, column] == 1, 0]
    return np.array([round(seconds_to_tick(raw, s)) for s in seconds]), raw


def shift_of(raw: Song, loaded: Song) -> int:
    """How far the loader moved the song: compare the first melody note."""
    raw_melody = next(t for t in raw.tracks if t.name == "MELODY")
    return loaded.tracks[0].notes[0].start - raw_melody.notes[0].start


# ----- bar lines ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "song_id, column, meter",
    [
        ("010", 2, "4/4"),  # notes before the first beat, tempo changes, 6-beat bars
        ("005", 2, "4/4"),  # 2-beat bars in a 4/4 song
        ("034", 1, "3/4"),
        ("014", 1, "6/8"),  # compound: the file's quarter is a dotted quarter
        ("029", 2, "4/4"),  # an 8-beat bar: a downbeat the annotation skipped
    ],
)
def test_bar_lines_fall_on_the_annotated_downbeats(pop, song_id, column, meter):
    song_dir = pop / song_id
    downbeats, raw = annotated_downbeats(song_dir, column)
    song = load_pop909_song(song_dir)
    expected = downbeats + shift_of(raw, song)
    lines = np.array(bar_lines(song, int(expected[-1]) + 1))
    # the project's own time map reads the same bar lines
    assert TimeMap.of(song).bar_starts(int(expected[-1]) + 1).tolist() == lines.tolist()
    inside = lines[(lines >= expected[0]) & (lines <= expected[-1])]
    assert set(expected.tolist()) <= set(inside.tolist())
    assert pop909_meter(song_dir).label == meter
    nominal_bar = Counter(np.diff(expected).tolist()).most_common(1)[0][0]
    # extra lines only split a bar of exactly k nominal bars (a skipped downbeat)
    for extra in sorted(set(inside.tolist()) - set(expected.tolist())):
        k = np.searchsorted(expected, extra)
        before, after = int(expected[k - 1]), int(expected[k])
        assert (after - before) % nominal_bar == 0 and after - before >= 2 * nominal_bar
        assert (extra - before) % nominal_bar == 0
    split = [b - a for a, b in zip(expected, expected[1:]) if b - a >= 2 * nominal_bar]
    assert len(inside) == len(expected) + sum(
        g // nominal_bar - 1 for g in split if g % nominal_bar == 0
    )
    # before the first downbeat: whole bars counted back from it, a short one at tick 0
    lead = lines[lines < expected[0]]
    if expected[0] > 0:
        assert lead[0] == 0
        gaps = np.diff(np.append(lead, expected[0]))
        assert 0 < gaps[0] <= nominal_bar and np.all(gaps[1:] == nominal_bar)
    assert song.time_signatures[-1].numerator / song.time_signatures[-1].denominator == (
        int(meter.split("/")[0]) / int(meter.split("/")[1])
    )


def test_song_timing_is_unchanged_by_the_new_axis(pop):
    """Rescaled ticks per beat and tempos keep every note at the same second (to 1 ms)."""
    song_dir = pop / "014"  # compound: ticks per beat and tempos are rescaled
    raw = read_midi(song_dir / "014.mid")
    song = load_pop909_song(song_dir)
    shift = shift_of(raw, song)

    def seconds(s: Song, tick: int) -> float:
        tempos = sorted(s.tempos, key=lambda t: t.tick)
        total, prev, us = 0.0, 0, 500_000
        for t in tempos:
            if t.tick >= tick:
                break
            total += (t.tick - prev) * us / 1e6 / s.ticks_per_beat
            prev, us = t.tick, t.us_per_beat
        return total + (tick - prev) * us / 1e6 / s.ticks_per_beat

    raw_notes = next(t for t in raw.tracks if t.name == "MELODY").notes
    new_notes = song.tracks[0].notes
    offset = seconds(song, new_notes[0].start) - seconds(raw, raw_notes[0].start)
    for a, b in zip(raw_notes[::25], new_notes[::25]):
        assert b.start == a.start + shift
        assert seconds(song, b.start) - seconds(raw, a.start) == pytest.approx(offset, abs=1e-3)


def test_pickup_becomes_a_short_first_bar(pop):
    """Song 047 starts with a 3-beat pickup whose melody notes lead into bar 1."""
    song_dir = pop / "047"
    song = load_pop909_song(song_dir)
    beats = load_pop909_beats(song_dir)
    first_downbeat = int(beats.downbeat_ticks[0])
    assert beats.pickup_beats == 3
    assert (song.time_signatures[0].tick, song.time_signatures[0].numerator) == (0, 3)
    assert song.time_signatures[1].tick == first_downbeat
    assert (song.time_signatures[1].numerator, song.time_signatures[1].denominator) == (4, 4)
    melody = song.tracks[0].notes
    assert 0 < melody[0].start < first_downbeat  # the pickup notes sit in the short bar
    assert any(n.start == first_downbeat for n in melody)


def test_song_folders_are_listed(pop, tmp_path):
    songs = find_pop909_songs(pop)
    assert songs[0].name == "001" and len(songs) == len({p.name for p in songs})
    with pytest.raises(Pop909Error, match="no index.csv"):
        find_pop909_songs(tmp_path)


def test_meters_other_than_requested_are_refused_clearly(pop):
    assert pop909_meter_supported(pop / "001")
    assert not pop909_meter_supported(pop / "014")
    assert pop909_meter_supported(pop / "034", ("4/4", "3/4"))
    with pytest.raises(Pop909Error, match=r"014.*6/8.*only 4/4"):
        load_pop909_song(pop / "014", meters=("4/4",))


def test_missing_annotation_names_the_file(pop, tmp_path):
    copy = tmp_path / "pop909" / "001"
    copy.mkdir(parents=True)
    shutil.copy(pop / "index.csv", tmp_path / "pop909" / "index.csv")
    shutil.copy(pop / "001" / "001.mid", copy / "001.mid")
    with pytest.raises(Pop909Error, match=r"001/beat_midi\.txt: missing"):
        load_pop909_song(copy)
    (copy / "beat_midi.txt").write_text("0.5 1 1\nnot a number\n")
    with pytest.raises(Pop909Error, match=r"beat_midi\.txt"):
        load_pop909_song(copy)


# ----- the PIANO split ------------------------------------------------------------------------
@pytest.mark.parametrize("song_id", ["001", "003", "010"])
def test_piano_split_keeps_every_note_and_puts_the_lowest_voice_in_the_bass(pop, song_id):
    song_dir = pop / song_id
    raw = read_midi(song_dir / f"{song_id}.mid")
    song = load_pop909_song(song_dir)
    shift = shift_of(raw, song)
    piano_raw = next(t for t in raw.tracks if t.name == "PIANO").notes
    by_name = {t.name: t for t in song.tracks}
    assert [t.name for t in song.tracks] == ["Melody", "Bass", "Piano", "Strings"]
    assert (by_name["Bass"].role, by_name["Bass"].program) == ("bass", 33)
    assert (by_name["Strings"].role, by_name["Strings"].program) == ("strings", 48)
    bass, chords = by_name["Bass"].notes, by_name["Piano"].notes

    moved = Counter(
        (n.pitch, n.start + shift, n.duration, n.velocity) for n in piano_raw
    )
    split = Counter((n.pitch, n.start, n.duration, n.velocity) for n in bass + chords)
    assert split == moved  # nothing lost, nothing duplicated, nothing moved

    starts: dict[int, list[Note]] = {}
    for n in bass + chords:
        starts.setdefault(n.start, []).append(n)
    slack = song.ticks_per_beat // 4
    for b in bass:
        assert b.pitch <= BASS_CEILING
        assert b.pitch == min(n.pitch for n in starts[b.start])  # lowest at its onset
        held_below = [
            n for n in bass + chords
            if n.start < b.start and n.end > b.start + slack and n.pitch < b.pitch
        ]
        assert not held_below  # nothing lower still sounding
    # a bass part a listener would recognise: low, and present in most bars
    assert np.median([n.pitch for n in bass]) + 12 <= np.median([n.pitch for n in chords])
    beats = load_pop909_beats(song_dir)
    lines = beats.bar_starts
    bass_bars = set(np.searchsorted(lines, [n.start for n in bass], side="right"))
    note_bars = set(np.searchsorted(lines, [n.start for n in chords], side="right"))
    assert len(bass_bars & note_bars) >= 0.8 * len(note_bars)


def _pedal(down: int, up: int) -> list[Event]:
    return [
        Event.make(down, "control_change", control=64, value=127),
        Event.make(up, "control_change", control=64, value=0),
    ]


def test_split_piano_pedalled_arpeggio_keeps_only_the_root():
    """Root, fifth, tenth over the pedal: one bass note; the pedal lifts, the next root
    (a fourth higher) is bass again."""
    tpb = 480
    notes = [Note(43, 0, 200), Note(50, 240, 200), Note(59, 480, 200), Note(62, 480, 200),
             Note(48, 1920, 200), Note(55, 2160, 200)]
    bass, piano = split_piano(notes, _pedal(10, 1900) + _pedal(1930, 3000), tpb)
    assert [n.pitch for n in bass] == [43, 48]
    assert sorted(n.pitch for n in piano) == [50, 55, 59, 62]
    # without the pedal the short root has died away: each arpeggio note starts lowest
    bass, _ = split_piano(notes, [], tpb)
    assert [n.pitch for n in bass] == [43, 50, 59, 48, 55]


def test_split_piano_leaves_high_notes_and_octaves_to_the_piano():
    notes = [Note(36, 0, 480), Note(48, 0, 480), Note(64, 960, 480), Note(67, 960, 480)]
    bass, piano = split_piano(notes, [], 480)
    assert bass == [Note(36, 0, 480)]
    assert piano == [Note(48, 0, 480), Note(64, 960, 480), Note(67, 960, 480)]


def test_loading_does_not_import_torch(pop):
    code = (
        "import sys; from composer_gui.ml.data.sources import load_pop909_song, load_groove_index;"
        f"load_pop909_song({str(pop / '001')!r});"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
