"""Fine-tune folder scan speed (issue 9, item 8): 1,000 MIDI files under 15 s.

    python benchmarks/bench_scan.py [--runs N] [--model NAME] [--datasets DIR]

Scans 850 POP909 songs and 150 Nottingham tunes (1,000 files) against a base model's
config with :func:`composer_gui.ml.data.scan.scan_files`, as the Fine-tune window does, and
prints the median wall-clock time and, in brackets, the median CPU time of the process
(what the scan costs when the shared machine's cores are busy elsewhere), then the
summary of the last run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from composer_gui.ml.data.scan import default_workers, scan_files  # noqa: E402
from composer_gui.ml.model.checkpoint import read_config  # noqa: E402
from composer_gui.ml.model.registry import resolve_model  # noqa: E402

TARGET_S = 15.0


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the worker processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", default="chorale")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes (the window uses 1; 0: one per core)")
    parser.add_argument("--datasets", default=os.environ.get(
        "COMPOSER_GUI_DATASETS", str(REPO.parent / "shared" / "datasets")))
    args = parser.parse_args()
    data = Path(args.datasets)
    pop = sorted((data / "pop909").glob("*/*.mid"))[:850]
    folk = sorted((data / "nottingham").glob("*.mid"))[:1000 - len(pop)]
    files = pop + folk
    if len(files) < 1000:
        print(f"need 1,000 files under {data} (found {len(files)})")
        return 1
    config = read_config(resolve_model(args.model))
    workers = args.workers or default_workers(len(files))
    walls, cpus = [], []
    result = None
    for _ in range(args.runs):
        w0, c0 = time.perf_counter(), _cpu()
        result = scan_files(files, config, workers=workers)
        walls.append(time.perf_counter() - w0)
        cpus.append(_cpu() - c0)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(f"scan of {len(files)} files with {workers} process(es) ({len(pop)} POP909 + {len(folk)} Nottingham) against "
          f"{args.model!r}: median {wall:.2f} s wall [{cpu:.2f} s CPU] over {args.runs} runs "
          f"(runs: {', '.join(f'{w:.2f}' for w in walls)}); target < {TARGET_S:.0f} s: "
          f"{'ok' if wall < TARGET_S else 'MISSED'}")
    print(f"  per file: {1000 * wall / len(files):.1f} ms wall, {1000 * cpu / len(files):.1f} ms CPU")
    print(f"  summary: {result.summary()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
