"""What the Nottingham files look like to the folk pipeline (issue 7's data checks).

    python benchmarks/folk_data_report.py [../shared/datasets/nottingham]

Prints: tunes per meter set and meter changes; how pickups are written (melody starting
after tick 0 in a padded first bar) and how many first chords sit on a bar line; the
tunes found with an unmarked pickup (composer_gui.ml.data.sources.nottingham.unmarked_pickup);
the share of chord onsets on bar lines and on the meter's main beats after the source's
fixes; onset coverage of each grid; chord sizes.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from composer_gui.core.timing import TimeMap
    from composer_gui.midi.smf import read_midi
    from composer_gui.ml.data.sources.nottingham import nottingham_song, unmarked_pickup

    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/nottingham")
    files = sorted(folder.glob("*.mid"))
    meter_sets: Counter = Counter()
    changes = padded = first_on_bar = with_chords = 0
    unmarked = []
    on_bar = on_beat = chord_onsets = 0
    grids = {c: 0 for c in (1, 2, 3, 4, 6, 8, 12)}
    onsets = 0
    sizes: Counter = Counter()
    for path in files:
        raw = read_midi(path)
        sigs = [f"{s.numerator}/{s.denominator}" for s in raw.time_signatures]
        meter_sets[" ".join(sorted(set(sigs)))] += 1
        changes += len(set(sigs)) > 1
        tracks = [t for t in raw.tracks if t.notes]
        for t in tracks:
            for n in t.notes:
                onsets += 1
                for c in grids:
                    grids[c] += (n.start * c) % raw.ticks_per_beat == 0
        if len(tracks) < 2:
            continue
        with_chords += 1
        padded += tracks[0].notes[0].start > 0
        if unmarked_pickup(tracks[0].notes, tracks[1].notes, raw):
            unmarked.append(path.name)
        song = nottingham_song(raw)
        tmap = TimeMap.of(song)
        bars = [int(b) for b in tmap.bar_starts(song.end_tick)]
        bar_set = set(bars)
        starts = sorted({n.start for n in song.tracks[1].notes})
        sizes.update(Counter(n.start for n in song.tracks[1].notes).values())
        first_on_bar += starts[0] in bar_set
        for t in starts:
            chord_onsets += 1
            on_bar += t in bar_set
            bar = bars[int(np.searchsorted(bars, t, side="right")) - 1]
            m = tmap.meter_at(bar)
            if m.denominator == 8 and m.numerator % 3 == 0 and m.numerator > 3:
                beat = raw.ticks_per_beat * 3 // 2
            else:
                beat = raw.ticks_per_beat * 4 // m.denominator
            on_beat += (t - bar) % beat == 0
    print(f"{len(files)} files, {with_chords} with chords; meter changes in {changes}")
    print("meter sets:", ", ".join(f"{k}: {v}" for k, v in meter_sets.most_common()))
    print(f"melody starts after tick 0 (pickup padded to a whole bar): {padded}; "
          f"first chord on a bar line: {first_on_bar} of {with_chords}")
    print(f"unmarked pickups found and padded: {len(unmarked)} {unmarked}")
    print(f"chord onsets on bar lines {on_bar / chord_onsets:.1%}, on main beats "
          f"{on_beat / chord_onsets:.1%} ({chord_onsets} chord onsets)")
    print("onsets on the grid (steps per quarter: share):",
          ", ".join(f"{c}: {v / onsets:.2%}" for c, v in grids.items()))
    print("notes per chord:", dict(sorted(sizes.items())))


if __name__ == "__main__":
    main()
