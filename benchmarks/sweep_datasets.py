"""Sweep every MIDI file of the datasets through the reader and symusic (issue 2, item 6).

    python benchmarks/sweep_datasets.py [DATASETS_DIR] [--folder pop909 ...]

Compares every note as (pitch, onset, duration, velocity) with symusic's after undoing the
reader's documented rules (composer_gui/midi/crosscheck.py). Prints, per folder, the files
read, notes, how often each documented rule applied (notes held at a track's end, same-start
duplicates dropped, same-pitch overlaps trimmed, zero-length notes lengthened) and every
undocumented difference or unreadable file. Exit code 1 if any file fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from composer_gui.midi.crosscheck import cross_check  # noqa: E402
from composer_gui.midi.smf import MidiFileError  # noqa: E402

FOLDERS = ("pop909", "nottingham", "bach_chorales", "groove")


def default_datasets() -> Path:
    env = os.environ.get("COMPOSER_GUI_DATASETS")
    for candidate in (
        env,
        REPO.parent / "shared" / "datasets",
        REPO.parents[1] / "shared" / "datasets",
    ):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return REPO.parent / "shared" / "datasets"


def midi_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".mid", ".midi"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="?", type=Path, default=default_datasets())
    parser.add_argument("--folder", action="append", choices=FOLDERS)
    args = parser.parse_args()
    failures = 0
    total_files = 0
    for name in args.folder or FOLDERS:
        files = midi_files(args.datasets / name)
        if not files:
            print(f"{name}: no files under {args.datasets / name}")
            continue
        start = time.perf_counter()
        notes = closed = dropped = zero = trimmed = 0
        bad = []
        for path in files:
            try:
                result = cross_check(path)
            except MidiFileError as exc:
                bad.append(f"{path}: cannot import: {exc}")
                continue
            notes += result.notes
            closed += result.closed_at_track_end
            dropped += result.dropped_same_start
            zero += result.zero_length
            trimmed += result.trimmed
            if not result.ok:
                bad.append(result.describe())
        total_files += len(files)
        failures += len(bad)
        took = time.perf_counter() - start
        print(
            f"{name}: {len(files)} files, {notes} notes, {len(bad)} with undocumented "
            f"differences ({took:.1f} s); documented: {closed} notes held at a track's end, "
            f"{dropped} same-start duplicates dropped, {trimmed} same-pitch overlaps trimmed, "
            f"{zero} zero-length notes given 1 tick"
        )
        for line in bad:
            print("  " + line)
    print(f"total: {total_files} files, {failures} with undocumented differences")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
