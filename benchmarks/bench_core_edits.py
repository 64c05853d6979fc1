"""Speed of the reversible edits, the time map and the piano-roll bridge on a big song.

Prints the median of several runs per operation (milliseconds). Run from the repo root:
    python benchmarks/bench_core_edits.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from composer_gui.core.edits import (  # noqa: E402
    AddNotes,
    MoveNotes,
    Quantize,
    RemoveNotes,
    ReplaceRange,
    SetVelocity,
)
from composer_gui.core.song import Note, Song, TempoChange, Track, normalize_notes  # noqa: E402
from composer_gui.core.timing import TimeMap  # noqa: E402
from composer_gui.pianoroll.roll import roll_to_notes, song_to_roll_with_onsets  # noqa: E402

N = 50_000


def big_song() -> Song:
    rng = np.random.default_rng(0)
    starts = np.sort(rng.integers(0, 480 * 4 * 2000, N))
    notes = normalize_notes(
        Note(int(p), int(s), int(d), int(v))
        for p, s, d, v in zip(
            rng.integers(30, 100, N), starts, rng.integers(30, 960, N), rng.integers(1, 128, N)
        )
    )
    tempos = [TempoChange(i * 480 * 64, 400_000 + 1000 * i) for i in range(30)]
    return Song(tempos=tempos, tracks=[Track(notes=notes)])


def median_ms(fn, runs: int = 15) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def edit_cycle(song: Song, make):
    def run():
        edit = make()
        edit.apply(song)
        edit.revert(song)

    return run


def main() -> None:
    song = big_song()
    notes = song.tracks[0].notes
    n = len(notes)
    print(f"song: {n} notes in one track")
    mid = n // 2
    one = notes[mid : mid + 1]
    ten = notes[mid : mid + 10]
    thousand = notes[mid : mid + 1000]
    rows = [
        ("move 1 note (apply+revert)", edit_cycle(song, lambda: MoveNotes(0, one, 240, 1))),
        ("move 10 notes", edit_cycle(song, lambda: MoveNotes(0, ten, 240, 1))),
        ("move 1000 notes", edit_cycle(song, lambda: MoveNotes(0, thousand, 240, 1))),
        ("move all notes +1 tick", edit_cycle(song, lambda: MoveNotes(0, list(notes), 1, 0))),
        ("add 1 note", edit_cycle(song, lambda: AddNotes(0, [Note(20, 12345, 100)]))),
        ("remove 10 notes", edit_cycle(song, lambda: RemoveNotes(0, ten))),
        ("velocity of 10 notes", edit_cycle(song, lambda: SetVelocity(0, ten, 64))),
        ("quantize whole track 1/16", edit_cycle(song, lambda: Quantize(0, 120, 1.0))),
        ("replace 4 bars", edit_cycle(song, lambda: ReplaceRange(0, 480 * 400, 480 * 416, ten))),
    ]
    for name, fn in rows:
        print(f"{name:32s} {median_ms(fn):9.3f} ms")

    tm = TimeMap.of(song)
    starts = np.array([x.start for x in notes], dtype=np.int64)
    print(f"{'ticks->seconds, 50k array':32s} {median_ms(lambda: tm.ticks_to_seconds_array(starts)):9.3f} ms")
    print(f"{'ticks->bar/beat, 50k array':32s} {median_ms(lambda: tm.ticks_to_bar_beat_array(starts)):9.3f} ms")
    end = song.end_tick
    print(f"{'song_to_roll 50k notes, 12/beat':32s} {median_ms(lambda: song_to_roll_with_onsets(song, [0], 0, end, 12), 5):9.3f} ms")
    roll, ons = song_to_roll_with_onsets(song, [0], 0, end, 12)
    print(f"{'roll_to_notes back, 12/beat':32s} {median_ms(lambda: roll_to_notes(roll[0], 0, 480, 12, onsets=ons[0]), 5):9.3f} ms")


if __name__ == "__main__":
    main()
