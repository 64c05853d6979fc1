"""The real data's own values of the generator metrics for the Bach chorales.

Soprano is the melody; Alto, Tenor and Bass are the accompaniment roles. Prints the
model-card table (``composer_gui.ml.metrics.tables.format_table``) and the time the
aggregation took. Bars come from the files' time-signature map counted from tick 0,
as a pipeline reading only the MIDI sees them (a pickup bar is not marked in these
files); ``--bars-json`` takes true bar offsets in quarters per file instead (e.g.
from music21's corpus).

    PYTHONPATH=. python benchmarks/chorale_data_metrics.py [DATA_DIR] [--steps-per-beat 4]
        [--key file|estimate] [--bars-json FILE] [--seed 0] [--json OUT.json]

DATA_DIR defaults to $COMPOSER_GUI_DATASETS/bach_chorales, else ../shared/datasets/...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import symusic

from composer_gui.ml.metrics.tables import SongRolls, aggregate_metrics, format_table

ROLES = ("alto", "tenor", "bass")
MAJOR = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MINOR = ("Cm", "C#m", "Dm", "Ebm", "Em", "Fm", "F#m", "Gm", "G#m", "Am", "Bbm", "Bm")


def track_pair(notes, n_steps: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    onsets = np.zeros((n_steps, 128), dtype=bool)
    held = np.zeros((n_steps, 128), dtype=bool)
    for note in notes:
        start = round(note.start * scale)
        end = max(start + 1, round(note.end * scale))
        onsets[start, note.pitch] = True
        held[start:end, note.pitch] = True
    return onsets, held


def meter_bar_starts(score: symusic.Score, end_tick: int, scale: float) -> list[int]:
    signatures = sorted({(ts.time, ts.numerator, ts.denominator) for ts in score.time_signatures})
    signatures = signatures or [(0, 4, 4)]
    starts: list[int] = []
    for index, (time_, numerator, denominator) in enumerate(signatures):
        stop = signatures[index + 1][0] if index + 1 < len(signatures) else end_tick
        bar = score.ticks_per_quarter * numerator * 4 // denominator
        starts.extend(range(time_, stop, bar))
    return sorted({round(tick * scale) for tick in starts})


def load(path: Path, steps_per_beat: int, key_mode: str, bars: dict | None):
    score = symusic.Score(str(path))
    scale = steps_per_beat / score.ticks_per_quarter
    by_name = {}
    for track in score.tracks:
        if track.notes and track.name.lower() not in by_name:
            by_name[track.name.lower()] = track.notes
    if "soprano" not in by_name or not all(role in by_name for role in ROLES):
        return None
    end_tick = max(note.end for notes in by_name.values() for note in notes)
    n_steps = round(end_tick * scale) + 1
    if bars is not None:
        entry = bars.get(path.stem, {})
        if "bars" not in entry:
            return None
        bar_starts = [round(q * steps_per_beat) for q in entry["bars"]]
    else:
        bar_starts = meter_bar_starts(score, end_tick, scale)
    key = None
    if key_mode == "file" and score.key_signatures:
        signature = score.key_signatures[0]
        major_tonic = (7 * signature.key) % 12
        key = MINOR[(major_tonic + 9) % 12] if signature.tonality else MAJOR[major_tonic]
    return SongRolls(
        melody=track_pair(by_name["soprano"], n_steps, scale),
        tracks={role: track_pair(by_name[role], n_steps, scale) for role in ROLES},
        steps_per_bar=bar_starts,
        steps_per_beat=steps_per_beat,
        key=key,
        name=path.stem,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    datasets = os.environ.get("COMPOSER_GUI_DATASETS", "../shared/datasets")
    parser.add_argument("data", nargs="?", default=f"{datasets}/bach_chorales")
    parser.add_argument("--steps-per-beat", type=int, default=4)
    parser.add_argument("--key", choices=("file", "estimate"), default="file")
    parser.add_argument("--bars-json", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the table as JSON")
    args = parser.parse_args()
    bars = json.loads(args.bars_json.read_text()) if args.bars_json else None
    paths = sorted(Path(args.data).glob("*.mid"))
    if not paths:
        sys.exit(f"no .mid files in {args.data}")
    songs = [load(path, args.steps_per_beat, args.key, bars) for path in paths]
    songs = [song for song in songs if song is not None]
    started = time.perf_counter()
    table = aggregate_metrics(songs, seed=args.seed)
    elapsed = time.perf_counter() - started
    print(
        f"{len(songs)} of {len(paths)} chorales, {args.steps_per_beat} steps per quarter, "
        f"key from {args.key}, bars from {'--bars-json' if bars else 'the meter map'}"
    )
    print(format_table(table, roles=ROLES))
    print(f"aggregate_metrics: {elapsed:.2f} s for {len(songs)} songs")
    if args.json:
        args.json.write_text(json.dumps(table, indent=1) + "\n")


if __name__ == "__main__":
    main()
