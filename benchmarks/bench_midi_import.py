"""Import speed of composer_gui.midi.smf (issue 2, item 10): prints medians.

    python benchmarks/bench_midi_import.py [--runs N] [--big] [--datasets DIR]

* a 10k-note file (4 tracks, sustain pedal and pitch bend as in real piano files):
  target under 50 ms;
* with ``--big``, a 1,000,000-note file: target under 10 s;
* a scan of all POP909 songs (read bytes + import): target under 15 s;
* mido and symusic on the same 10k-note file, for reference.

Each line gives the median wall-clock time and, in brackets, the median CPU time of the
process (what the code costs when the shared machine's cores are busy elsewhere).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from composer_gui.core.song import Event, Note, Song, Track  # noqa: E402
from composer_gui.midi.smf import read_midi_bytes, song_to_bytes  # noqa: E402


def synthetic_song(n_notes: int, seed: int = 1) -> Song:
    """A song of ``n_notes`` notes over 4 tracks with pedal and bend events."""
    rng = random.Random(seed)
    song = Song(ticks_per_beat=480)
    per_track = n_notes // 4
    for t in range(4):
        notes = []
        events = []
        tick = 0
        for _ in range(per_track):
            tick += rng.choice((0, 0, 120, 240, 480))
            notes.append(
                Note(rng.randint(36, 96), tick, rng.randint(30, 900), rng.randint(40, 120))
            )
            if rng.random() < 0.1:
                events.append(Event.make(tick, "control_change", control=64, value=127))
            if rng.random() < 0.05:
                events.append(Event.make(tick, "pitchwheel", pitch=rng.randint(-8192, 8191)))
        song.tracks.append(Track(name=f"t{t}", channel=t, notes=notes, events=events))
    return song


def default_datasets() -> Path:
    """$COMPOSER_GUI_DATASETS, else ../shared/datasets of the checkout or of its parent."""
    env = os.environ.get("COMPOSER_GUI_DATASETS")
    for candidate in (
        env,
        REPO.parent / "shared" / "datasets",
        REPO.parents[1] / "shared" / "datasets",
    ):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return REPO.parent / "shared" / "datasets"


def median_time(func, runs: int) -> float:
    """Median wall-clock seconds of ``runs`` calls (CPU medians go to _CPU)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        func()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    _CPU[0] = statistics.median(cpu)
    return statistics.median(wall)


# CPU time of the last median_time call: on a shared machine the wall clock also counts
# the time other processes hold the cores, CPU time does not.
_CPU = [0.0]


def cpu_note(scale: float = 1000, unit: str = "ms") -> str:
    return f" (CPU {_CPU[0] * scale:.1f} {unit})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--big", action="store_true", help="also time a 1,000,000-note file")
    parser.add_argument("--datasets", type=Path, default=default_datasets())
    args = parser.parse_args()

    song = synthetic_song(10_000)
    data = song_to_bytes(song)
    count = read_midi_bytes(data).note_count
    t = median_time(lambda: read_midi_bytes(data), args.runs)
    print(
        f"10k-note file ({count} notes, {len(data)} bytes): {t * 1000:.1f} ms"
        f"{cpu_note()} (target < 50 ms)"
    )
    t = median_time(lambda: song_to_bytes(song), args.runs)
    print(f"  export of the same song: {t * 1000:.1f} ms{cpu_note()}")
    try:
        import mido

        def via_mido() -> None:
            import io

            mido.MidiFile(file=io.BytesIO(data))

        t = median_time(via_mido, 3)
        print(f"  mido on the same file: {t * 1000:.1f} ms{cpu_note()}")
    except ImportError:
        pass
    try:
        import symusic

        t = median_time(lambda: symusic.Score.from_midi(data), args.runs)
        print(f"  symusic on the same file: {t * 1000:.2f} ms{cpu_note()}")
    except ImportError:
        pass

    if args.big:
        big = song_to_bytes(synthetic_song(1_000_000))
        t = median_time(lambda: read_midi_bytes(big), max(1, min(args.runs, 3)))
        print(
            f"1,000,000-note file ({len(big) / 1e6:.1f} MB): {t:.2f} s"
            f"{cpu_note(1, 's')} (target < 10 s)"
        )

    pop = args.datasets / "pop909"
    files = sorted(pop.glob("*/*.mid"))
    if files:

        def scan() -> int:
            return sum(read_midi_bytes(f.read_bytes(), str(f)).note_count for f in files)

        notes = scan()
        t = median_time(scan, max(1, min(args.runs, 3)))
        print(
            f"POP909 scan ({len(files)} songs, {notes} notes): {t:.2f} s"
            f"{cpu_note(1, 's')} (target < 15 s)"
        )
    else:
        print(f"POP909 not found under {pop}: scan skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
