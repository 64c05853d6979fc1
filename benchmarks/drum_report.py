"""The drum model against Groove's validation split, and its generation speed.

Prints the model-card table of :func:`composer_gui.ml.drums.evaluate.evaluate_drums` (Groove
validation vs generated: empty-bar rate, notes per bar, kick / snare / hi-hat shares, drum
pattern rate, each with its tolerance), then the median time of ``DrumModel.part`` for 8
and 32 bars of 4/4 (wall-clock and CPU, one torch thread, after a warm-up), and a few
bars of a pop beat as text.

    PYTHONPATH=. python benchmarks/drum_report.py [MODEL_DIR] [--groove DIR] [--runs N]
        [--seeds K] [--json OUT] [--markdown OUT]

MODEL_DIR defaults to composer_gui/assets/models/pop/drums; the Groove folder to $COMPOSER_GUI_DATASETS/groove,
else ../shared/datasets/groove. ``--seeds K`` evaluates K seeds and prints each table
(the spread shows how much of a difference is chance).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def default_groove() -> Path:
    env = os.environ.get("COMPOSER_GUI_DATASETS")
    base = Path(env) if env else ROOT.parent / "shared" / "datasets"
    return base / "groove"


def timing(model, bars: int, runs: int) -> tuple[float, float]:
    """Median (wall ms, CPU ms) of ``part`` for ``bars`` bars of 4/4 at 100 bpm."""
    from composer_gui.core.song import Note, Song, TempoChange, Track

    song = Song(tempos=[TempoChange(0, 600_000)],
                tracks=[Track(name="Melody", notes=[Note(60, 0, bars * 1920, 80)])])
    model.part(song, seed=0)  # warm-up
    wall, cpu = [], []
    for seed in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        model.part(song, range(bars), seed=seed)
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return float(np.median(wall)), float(np.median(cpu))


def show_beat(model, bars: int = 4, style: str = "pop") -> str:
    """A few bars as a drum grid: one row per drum, one column per 16th (x = hit)."""
    from composer_gui.core.song import Note, Song, Track

    song = Song(tracks=[Track(name="Melody", notes=[Note(60, 0, bars * 1920, 80)])])
    notes = model.part(song, seed=0, style=style, phrase_bars=4)
    rows = []
    for name, pitch in model.config.classes:
        cells = ["."] * (bars * 16)
        for n in notes:
            if n.pitch == pitch:
                cells[min(bars * 16 - 1, int(round(n.start / 120)))] = "x"
        if "x" in cells:
            line = " ".join("".join(cells[b * 16:(b + 1) * 16]) for b in range(bars))
            rows.append(f"  {name:>13} {line}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", type=Path, default=ROOT / "composer_gui" / "assets" / "models" / "pop" / "drums")
    ap.add_argument("--groove", type=Path, default=default_groove())
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    ap.add_argument("--markdown", type=Path, help="also write the first table as markdown")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(int(os.environ.get("COMPOSER_GUI_THREADS", "1")))
    from composer_gui.ml.drums.evaluate import evaluate_drums, format_drum_table
    from composer_gui.ml.drums.part import DrumModel

    results = []
    for seed in range(args.seeds):
        t0, c0 = time.perf_counter(), time.process_time()
        result = evaluate_drums(args.model, args.groove, seed=seed)
        results.append(result)
        print(format_drum_table(result))
        print(f"(evaluation took {time.perf_counter() - t0:.1f} s wall, "
              f"{time.process_time() - c0:.1f} s CPU)\n")
    model = DrumModel.load(args.model)
    speeds = {}
    for bars in (8, 32):
        wall, cpu = timing(model, bars, args.runs)
        speeds[bars] = {"wall_ms": wall, "cpu_ms": cpu}
        print(f"DrumModel.part, {bars} bars 4/4, {torch.get_num_threads()} torch thread(s): "
              f"median {wall:.1f} ms wall, {cpu:.1f} ms CPU over {args.runs} runs")
    for style in ("pop", "rock"):
        print(f"\nA {style} beat (seed 0, 120 bpm, phrases of 4 bars: bar 4 is a fill):")
        print(show_beat(model, style=style))
    if args.markdown:
        args.markdown.write_text(format_drum_table(results[0]))
    if args.json:
        args.json.write_text(json.dumps({"evaluations": results, "speed": speeds}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
