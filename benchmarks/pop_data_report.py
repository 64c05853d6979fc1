"""Figures of the pop style's data: POP909 grid fit and parts, Groove drum statistics.

POP909 (every ``--every``-th song, all by default), loaded by
``composer_gui.ml.data.sources.pop909`` (bar lines from the beat annotation, PIANO split):

* onsets on a grid of 4 and 12 steps per beat, exactly and within 1/8 of a step, pooled
  over all notes and as per-song medians/percentiles (for choosing the model's grid);
* meters (index.csv), refused songs, bar lengths found in the annotation;
* the PIANO split: bass share, bass notes per bar, bars with a bass note;
* load time per song (median CPU and wall-clock, ms).

Groove (``composer_gui.ml.data.sources.groove``): per split, the drum statistics the pop model
is judged by (empty-bar rate, notes per bar, kick/snare/hi-hat shares, drum pattern rate
at 4, 12 and 24 steps per beat), pooled over songs; per-song medians; onset quantization;
fill flags per 4-bar window.

    PYTHONPATH=. python benchmarks/pop_data_report.py [DATASETS_DIR] [--every N] [--json OUT]

DATASETS_DIR defaults to $COMPOSER_GUI_DATASETS, else ../shared/datasets.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from composer_gui.ml.data.sources.groove import (
    aggregate_drum_stats,
    drum_windows,
    load_groove_index,
    load_groove_song,
    quantization_stats,
    song_drum_stats,
)
from composer_gui.ml.data.sources.pop909 import Pop909Error, load_pop909_beats, load_pop909_song

GRIDS = (4, 12)
DRUM_KEYS = ("empty_bar_rate", "notes_per_bar", "kick_share", "snare_share", "hihat_share")


def default_datasets() -> Path:
    env = os.environ.get("COMPOSER_GUI_DATASETS")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def pct(values, qs=(10, 50, 90)) -> str:
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    if not arr.size:
        return "-"
    return " / ".join(f"{v:.3f}" for v in np.percentile(arr, qs))


def bars_of(lines: np.ndarray, notes) -> set[int]:
    """Indices of the bars (from bar lines) where notes start."""
    return set(np.searchsorted(lines, [n.start for n in notes], "right").tolist())


# ----- POP909 ----------------------------------------------------------------------------
def pop909_report(folder: Path, every: int) -> dict:
    songs = sorted(p for p in folder.iterdir() if p.is_dir() and (p / "beat_midi.txt").is_file())
    songs = songs[::every]
    exact = {g: [0, 0] for g in GRIDS}  # on grid, total
    near = {g: 0 for g in GRIDS}
    per_song = {g: [] for g in GRIDS}
    per_part = {g: Counter() for g in GRIDS}
    song_hits: dict[int, list[tuple[int, int]]] = {g: [] for g in GRIDS}
    part_total: Counter = Counter()
    refused: list[str] = []
    meters: Counter = Counter()
    bar_meters: Counter = Counter()
    pickups = 0
    windows = [0, 0]  # 4-bar windows in the nominal meter, all 4-bar windows
    regular_songs = 0
    bass_notes = piano_notes = bars = bars_bass = 0
    cpu_ms: list[float] = []
    wall_ms: list[float] = []
    for song_dir in songs:
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            song = load_pop909_song(song_dir)
        except Pop909Error as exc:
            refused.append(str(exc))
            continue
        wall_ms.append((time.perf_counter() - t0) * 1e3)
        cpu_ms.append((time.process_time() - c0) * 1e3)
        beats = load_pop909_beats(song_dir)
        meters[beats.meter.label] += 1
        # bar-aligned windows of 4 bars wholly in the nominal meter (pickup bar excluded)
        body = beats.bar_beats[1:] if beats.pickup_beats else beats.bar_beats
        nominal = (body == beats.meter.beats_per_bar).astype(int)
        runs = np.convolve(nominal, np.ones(4, dtype=int), "valid")
        windows[0] += int(np.sum(runs == 4))
        windows[1] += int(runs.size)
        regular_songs += bool(np.all(nominal))
        pickups += beats.pickup_beats > 0
        tpb = song.ticks_per_beat
        sig_ticks = [s.tick for s in song.time_signatures] + [song.end_tick + 1]
        for s, nxt in zip(song.time_signatures, sig_ticks[1:]):
            length = s.numerator * 4 * tpb // s.denominator
            bar_meters[f"{s.numerator}/{s.denominator}"] += max(1, -(-(nxt - s.tick) // length))
        for track in song.tracks:
            starts = np.array([n.start for n in track.notes], dtype=np.int64)
            part_total[track.name] += starts.size
            for g in GRIDS:
                pos = starts * g / tpb
                off = np.abs(pos - np.round(pos))
                hits = int(np.sum((starts * g) % tpb == 0))
                exact[g][0] += hits
                exact[g][1] += starts.size
                near[g] += int(np.sum(off <= 0.125))
                per_part[g][track.name] += hits
        all_starts = np.array([n.start for t in song.tracks for n in t.notes], dtype=np.int64)
        for g in GRIDS:
            hits = int(np.sum((all_starts * g) % tpb == 0))
            per_song[g].append(hits / max(1, all_starts.size))
            song_hits[g].append((hits, all_starts.size))
        bass = song.tracks[1].notes
        piano = song.tracks[2].notes
        bass_notes += len(bass)
        piano_notes += len(piano)
        lines = beats.bar_starts
        with_notes = bars_of(lines, [n for t in song.tracks for n in t.notes])
        bars += len(with_notes)
        bars_bass += len(bars_of(lines, bass) & with_notes)
    loaded = len(per_song[GRIDS[0]])
    out = {
        "songs": len(songs),
        "loaded": loaded,
        "refused": refused,
        "meters": dict(meters),
        "songs_with_pickup": pickups,
        "songs_all_nominal_bars": regular_songs,
        "four_bar_windows_in_nominal_meter": windows[0] / max(1, windows[1]),
        "bars_by_meter": dict(bar_meters.most_common()),
        "grid": {
            g: {
                "exact": exact[g][0] / exact[g][1],
                "within_eighth_step": near[g] / exact[g][1],
                "per_song_p10_median_p90": pct(per_song[g]),
                "songs_at_least_97pct": int(np.sum(np.array(per_song[g]) >= 0.97)),
                # Songs that are quantized at all (>= 90% of their onsets on the grid):
                # how many, and the pooled exact share over just those.
                "quantized_songs": sum(h >= 0.9 * n for h, n in song_hits[g]),
                "exact_over_quantized_songs": (
                    sum(h for h, n in song_hits[g] if h >= 0.9 * n)
                    / max(1, sum(n for h, n in song_hits[g] if h >= 0.9 * n))
                ),
                "by_part": {k: per_part[g][k] / part_total[k] for k in part_total},
            }
            for g in GRIDS
        },
        "split": {
            "bass_share_of_piano_notes": bass_notes / max(1, bass_notes + piano_notes),
            "bass_notes_per_bar_with_notes": bass_notes / max(1, bars),
            "bars_with_notes_having_bass": bars_bass / max(1, bars),
        },
        "load_ms_median": {"cpu": float(np.median(cpu_ms)), "wall": float(np.median(wall_ms))},
    }
    return out


def print_pop909(r: dict) -> None:
    print(f"POP909: {r['loaded']} of {r['songs']} songs loaded; meters {r['meters']}; "
          f"{r['songs_with_pickup']} with a pickup bar")
    for e in r["refused"]:
        print(f"  refused: {e}")
    print("  bars by meter: " + ", ".join(f"{k} {v}" for k, v in r["bars_by_meter"].items()))
    print(f"  songs whose bars (after a pickup) are all in the nominal meter: "
          f"{r['songs_all_nominal_bars']}; bar-aligned 4-bar windows wholly in it: "
          f"{r['four_bar_windows_in_nominal_meter']:.3f}")
    print("  onsets on the grid (steps per beat):")
    for g, v in r["grid"].items():
        parts = ", ".join(f"{k} {x:.3f}" for k, x in v["by_part"].items())
        print(f"    {g:>2}: exact {v['exact']:.4f}, within 1/8 step {v['within_eighth_step']:.4f}; "
              f"per song p10/median/p90 {v['per_song_p10_median_p90']}; "
              f"songs >= 97%: {v['songs_at_least_97pct']}; songs >= 90%: "
              f"{v['quantized_songs']}, exact over them {v['exact_over_quantized_songs']:.4f}; "
              f"by part: {parts}")
    s = r["split"]
    print(f"  PIANO split: bass {s['bass_share_of_piano_notes']:.3f} of PIANO notes, "
          f"{s['bass_notes_per_bar_with_notes']:.2f} bass notes per bar, "
          f"{s['bars_with_notes_having_bass']:.3f} of bars with notes have a bass note")
    t = r["load_ms_median"]
    print(f"  load_pop909_song: median {t['cpu']:.1f} ms CPU, {t['wall']:.1f} ms wall per song")


# ----- Groove ----------------------------------------------------------------------------
def groove_report(folder: Path, every: int) -> dict:
    rows = load_groove_index(folder)
    out: dict = {}
    for split in sorted({r.split for r in rows}):
        chosen = [r for r in rows if r.split == split][::every]
        stats = {g: [] for g in (4, 12, 24)}
        quant = {g: [] for g in GRIDS}
        windows = fills = fill_last = positioned = 0
        by_style: Counter = Counter()
        for row in chosen:
            song = load_groove_song(row)
            by_style[row.top_style] += 1
            for g in stats:
                stats[g].append(song_drum_stats(song, g))
            for g in GRIDS:
                quant[g].append(quantization_stats(song.tracks[0].notes, song.ticks_per_beat, g))
            for w in drum_windows(row, song, steps_per_beat=4):
                windows += 1
                real = w.bar_in_phrase >= 0
                positioned += int(real.sum())
                fills += int(w.fill[real].sum())
                fill_last += int((w.fill & (w.bar_in_phrase == 3)).sum())
        pooled = aggregate_drum_stats(stats[4])
        kinds = {
            kind: aggregate_drum_stats([st for st, r in zip(stats[4], chosen) if r.is_fill == fill])
            for kind, fill in (("beats", False), ("fills", True))
            if any(r.is_fill == fill for r in chosen)
        }
        for g in (12, 24):
            pooled[f"drum_pattern_rate_{g}"] = aggregate_drum_stats(stats[g])["drum_pattern_rate"]
        out[split] = {
            "performances": len(chosen),
            "beats": sum(not r.is_fill for r in chosen),
            "fills": sum(r.is_fill for r in chosen),
            "styles": dict(by_style.most_common()),
            "pooled": pooled,
            "pooled_by_kind": kinds,
            "per_song_p10_median_p90": {k: pct([s[k] for s in stats[4]]) for k in DRUM_KEYS},
            "quantization_median": {
                g: {k: float(np.nanmedian([q[k] for q in quant[g]])) for k in quant[g][0]}
                for g in GRIDS
            },
            "windows_4_bars": windows,
            "fill_bar_share": fills / max(1, positioned),
            "fill_bars_at_phrase_end": fill_last / max(1, fills),
        }
    return out


def print_groove(r: dict) -> None:
    for split, v in r.items():
        p = v["pooled"]
        print(f"Groove {split}: {v['performances']} performances ({v['beats']} beats, "
              f"{v['fills']} fills), {p['bars']} bars, {p['notes']} notes")
        print(f"  pooled: EB {p['empty_bar_rate']:.4f}, notes/bar {p['notes_per_bar']:.2f}, "
              f"kick {p['kick_share']:.3f}, snare {p['snare_share']:.3f}, "
              f"hi-hat {p['hihat_share']:.3f}, DP@4 {p['drum_pattern_rate']:.3f}, "
              f"DP@12 {p['drum_pattern_rate_12']:.3f}, DP@24 {p['drum_pattern_rate_24']:.3f}")
        for kind, k in v["pooled_by_kind"].items():
            print(f"  {kind} only: {k['bars']} bars, EB {k['empty_bar_rate']:.4f}, notes/bar "
                  f"{k['notes_per_bar']:.2f}, kick {k['kick_share']:.3f}, snare "
                  f"{k['snare_share']:.3f}, hi-hat {k['hihat_share']:.3f}")
        print("  per song p10/median/p90: "
              + "; ".join(f"{k} {x}" for k, x in v["per_song_p10_median_p90"].items()))
        for g, q in v["quantization_median"].items():
            print(f"  onsets vs {g} steps/beat (medians over songs): on grid {q['on_grid']:.3f}, "
                  f"offset {q['median_offset_steps']:.3f} steps (p90 {q['p90_offset_steps']:.3f}), "
                  f"within 1/8 step {q['within_eighth_step']:.3f}, "
                  f"hits merged by snapping {q['collisions']:.4f}")
        print(f"  4-bar windows: {v['windows_4_bars']}; fill bars {v['fill_bar_share']:.3f} "
              f"of bars, {v['fill_bars_at_phrase_end']:.3f} of them at a phrase end")
        print("  styles: " + ", ".join(f"{k} {n}" for k, n in v["styles"].items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="?", type=Path, default=default_datasets())
    ap.add_argument("--every", type=int, default=1, help="use every N-th song (default all)")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = ap.parse_args(argv)
    if not args.datasets.is_dir():
        print(f"pop_data_report: {args.datasets}: not a folder", file=sys.stderr)
        return 2
    t0, c0 = time.perf_counter(), time.process_time()
    pop = pop909_report(args.datasets / "pop909", args.every)
    print_pop909(pop)
    groove = groove_report(args.datasets / "groove", args.every)
    print_groove(groove)
    print(f"(report took {time.perf_counter() - t0:.1f} s wall, "
          f"{time.process_time() - c0:.1f} s CPU)")
    if args.json:
        args.json.write_text(json.dumps({"pop909": pop, "groove": groove}, indent=2,
                                        default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
