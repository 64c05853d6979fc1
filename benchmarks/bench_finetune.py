"""Fine-tune speed (issue 9, item 8): how long until a fine-tune meets its targets.

    python benchmarks/bench_finetune.py [--from pop] [--data ../shared/datasets/pop909]
        [--songs 100] [--device auto|cpu|cuda] [--validate-every 50] [--max-minutes 10]
        [--max-steps N] [--batch-size 32] [--lr 3e-4]

Fine-tunes the base model on the first N songs of the folder that the base model can use
(sorted by path; the folder is scanned as the fine-tune window scans it, and the files are
chosen through a ``--mapping``, exactly as the window does: for pop, 55 of the first 100
POP909 files are refused as unquantized or in an unsupported meter, so 100 songs take the
first ~220 files), validating every V steps on the fixed validation windows of those songs
(the by-file split: about 1 song in 10, never trained on; at least 64 windows),
and stops as soon as every target of the generator issue's item 7 is met
(``ml.metrics.tables.targets_met``: EB, UPC, QN, TD to the melody, in-scale, melody doubling; per
part, against the data's own values on the same windows). Prints the time to that point
(training only, and with start-up and data reading), the steps per second, and the final
table. Headless: no Qt is imported. Exit status 0 when the targets were met.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv=None) -> int:
    t_process = time.monotonic()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--from", dest="base", default=None,
                    help="base model (default: pop if present, else chorale)")
    ap.add_argument("--data", type=Path, default=None,
                    help="MIDI folder (default: ../shared/datasets/pop909, or bach_chorales "
                         "for a chorale base)")
    ap.add_argument("--songs", type=int, default=100,
                    help="the first N usable songs (default 100)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--validate-every", type=int, default=50)
    ap.add_argument("--max-minutes", type=float, default=10.0)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-cache", action="store_true", help="read every MIDI file afresh")
    ap.add_argument("--no-stop", action="store_true",
                    help="train on to the limits after the targets are met (steps/s)")
    ap.add_argument("--out", type=Path, default=None, help="model folder (default: a temp dir)")
    args = ap.parse_args(argv)

    from composer_gui.ml.data.dataset import find_midi_files
    from composer_gui.ml.data.scan import ScanResult, scan_file, write_mapping
    from composer_gui.ml.device import configure_threads
    from composer_gui.ml.metrics.tables import format_table
    from composer_gui.ml.metrics.tracks import METRIC_LABELS
    from composer_gui.ml.model.checkpoint import read_config
    from composer_gui.ml.model.registry import list_models, resolve_model
    from composer_gui.ml.train.control import TrainControl
    from composer_gui.ml.train.loop import train
    from composer_gui.ml.train.options import TrainOptions

    names = {e.name for e in list_models() if e.error is None}
    base = args.base or ("pop" if "pop" in names else "chorale")
    datasets = REPO.parent / "shared" / "datasets"
    data = args.data or datasets / ("bach_chorales" if base == "chorale" else "pop909")
    config = read_config(Path(resolve_model(base)))
    scanned = ScanResult([], config.role_names())
    for path in find_midi_files(data):  # the first N usable songs, as the window finds them
        if len(scanned.usable) == args.songs:
            break
        scanned.files.append(scan_file(path, config))
    files = [Path(f.path) for f in scanned.usable]
    work = Path(tempfile.mkdtemp(prefix="bench_finetune_"))
    mapping = write_mapping(scanned, work / "mapping.json")
    out = args.out or work / "model"
    configure_threads()
    control = TrainControl()
    opts = TrainOptions(
        data_dir=data, out_dir=out, style=None, base=Path(resolve_model(base)),
        steps=args.max_steps, minutes=args.max_minutes, batch_size=args.batch_size, lr=args.lr,
        device=args.device, seed=args.seed, validate_every=args.validate_every,
        mapping=mapping, control=control, use_cache=not args.no_cache, save_every_s=1e9,
        command=" ".join(["bench_finetune.py", *(argv or sys.argv[1:])]),
    )
    print(f"fine-tune {base} on the first {len(files)} usable songs of {data} (scanned "
          f"{len(scanned.files)} files: {scanned.summary()['reasons'] or 'none'} skipped)",
          flush=True)
    t_train = None
    rates, reached, start, last_val = [], None, None, None
    for rec in train(opts):
        kind = rec["kind"]
        if kind == "start":
            t_train = time.monotonic()
            start = rec
            print(f"device {rec['device']}; {rec['train_songs']} training songs, "
                  f"{rec['validation_songs']} validation songs; data read in "
                  f"{t_train - t_process:.1f} s since start-up", flush=True)
        elif kind == "step":
            rates.append(rec["steps_per_s"])
        elif kind == "validation":
            last_val = rec
            failing = [f"{role}:{METRIC_LABELS[m]}"
                       for role, met in rec["targets_met"].items() for m, ok in met.items() if not ok]
            print(f"step {rec['step']:5d}  {time.monotonic() - t_train:7.1f} s  val_bce "
                  f"{rec['val_bce']:.4f}  targets missed: {', '.join(failing) or 'none'}",
                  flush=True)
            if rec["all_targets_met"] and reached is None:
                reached = (rec["step"], time.monotonic() - t_train, time.monotonic() - t_process)
                if not args.no_stop:
                    control.stop()
        elif kind == "done":
            print(f"done at step {rec['step']} ({rec['reason']})", flush=True)
    print()
    print(f"steps/s (median of {len(rates)} intervals of 10 steps, validation included): "
          f"{statistics.median(rates):.2f}" if rates else "steps/s: no step records")
    if reached:
        print(f"all item-7 targets met at step {reached[0]}: {reached[1]:.1f} s of training, "
              f"{reached[2]:.1f} s from start-up (reading {len(files)} songs included)")
    else:
        print(f"targets NOT all met within the limits ({args.max_minutes} min"
              + (f", {args.max_steps} steps" if args.max_steps else "") + ")")
    if last_val is not None and start is not None:
        def nan(table):
            return {r: {k: (float("nan") if v is None else v) for k, v in t.items()}
                    for r, t in table.items()}

        print()
        print(format_table(nan(start["reference"]), nan(last_val["metrics"])))
    print(f"model folder: {out}")
    return 0 if reached else 1


if __name__ == "__main__":
    sys.exit(main())
