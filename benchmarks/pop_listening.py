"""Try the pop model as a new user would (issue 6, item 6): hand-typed melodies in, four
parts out, rendered to WAV, and judged by reading the result.

    PYTHONPATH=. python benchmarks/pop_listening.py [--model composer_gui/assets/models/pop] [--out DIR] [--seed 0]

Melodies: ``tests/ml/pop_melodies.py`` (a nursery tune, a hymn, a minor-key riff, a tune
with a pickup). For each: the generated MIDI and WAV (built-in sound) go to ``--out``,
and one block of figures is printed:

* key fit: share of each part's notes in the melody's written key (the melody's own share
  for comparison);
* bars: share of bass notes starting on a bar line / on a beat, bars with a bass note,
  piano onsets on beats, and whether any note runs past the melody's last bar;
* drums: notes per bar, kick / snare / hi-hat shares, kicks on beats 1 and 3, snares on
  beats 2 and 4, empty bars, the number of distinct one-bar patterns, and fills in the
  bars before each 4-bar phrase end;
* the WAV: length and loudness (RMS, peak), to see that it sounds at all.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KICK, SNARE = {35, 36}, {37, 38, 40}
HIHAT = {42, 44, 46, 22, 26}


def _bars(song):
    from composer_gui.core.timing import TimeMap

    return np.asarray(TimeMap.of(song).bar_starts(song.end_tick + 1), dtype=np.int64)


def analyse(song, key: str) -> dict:
    from composer_gui.ml.metrics.keys import scale_pitch_classes

    scale = scale_pitch_classes(key)
    tpb = song.ticks_per_beat
    bars = _bars(song)
    melody = song.tracks[0]
    mel_end = max(n.end for n in melody.notes)
    last_bar_end = int(bars[np.searchsorted(bars, mel_end - 1, side="right")]) \
        if np.searchsorted(bars, mel_end - 1, side="right") < len(bars) else mel_end + 4 * tpb
    out: dict = {"bars": len(bars)}
    for track in song.tracks:
        notes = track.notes
        row: dict = {"notes": len(notes)}
        if not track.is_drum and notes:
            row["in_key"] = float(np.mean([n.pitch % 12 in scale for n in notes]))
            starts = np.array([n.start for n in notes])
            bar_idx = np.searchsorted(bars, starts, side="right") - 1
            offs = starts - bars[np.maximum(bar_idx, 0)]
            row["on_bar"] = float(np.mean(offs == 0))
            row["on_beat"] = float(np.mean(offs % tpb == 0))
            row["bars_with_notes"] = len(set(bar_idx.tolist()))
            row["past_end"] = int(np.sum(starts >= last_bar_end))
        if track.is_drum and notes:
            starts = np.array([n.start for n in notes])
            pitches = np.array([n.pitch for n in notes])
            bar_idx = np.searchsorted(bars, starts, side="right") - 1
            offs = starts - bars[np.maximum(bar_idx, 0)]
            beat = np.round(offs / tpb).astype(int)
            on_beat = np.abs(offs - beat * tpb) <= tpb // 8
            kick = np.isin(pitches, list(KICK))
            snare = np.isin(pitches, list(SNARE))
            row.update({
                "notes_per_bar": len(notes) / max(1, len(bars)),
                "kick": float(kick.mean()), "snare": float(snare.mean()),
                "hihat": float(np.isin(pitches, list(HIHAT)).mean()),
                "kick_on_1_3": float(np.mean(on_beat[kick] & np.isin(beat[kick], [0, 2])))
                if kick.any() else float("nan"),
                "snare_on_2_4": float(np.mean(on_beat[snare] & np.isin(beat[snare], [1, 3])))
                if snare.any() else float("nan"),
                "empty_bars": int(len(bars) - len(set(bar_idx.tolist()))),
            })
            patterns = Counter()
            for b in range(len(bars)):
                sel = bar_idx == b
                patterns[tuple(sorted(zip((offs[sel] * 4 // tpb).tolist(),
                                          pitches[sel].tolist())))] += 1
            row["distinct_bar_patterns"] = len(patterns)
            row["past_end"] = int(np.sum(starts >= last_bar_end))
        out[track.name] = row
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "composer_gui" / "assets" / "models" / "pop"))
    parser.add_argument("--out", default="/tmp/pop_listening")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--candidates", type=int, default=1)
    parser.add_argument("--no-wav", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("COMPOSER_GUI_THREADS", "1")
    from composer_gui.midi.smf import write_midi
    from composer_gui.ml.device import configure_threads
    from composer_gui.ml.generate.sample import Composer
    from tests.ml.pop_melodies import TUNES, tune_song

    configure_threads(default=1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    composer = Composer(Path(args.model), "cpu")
    for name, (meter, bpm, key, _text) in TUNES.items():
        song = tune_song(name)
        result = composer.compose(song, seed=args.seed, candidates=args.candidates)
        mid = out / f"{name}.mid"
        write_midi(result.song, mid)
        print(f"== {name}: {meter} at {bpm} bpm, key {key}; tracks "
              + ", ".join(f"{t.name} (ch {t.channel + 1}, GM {t.program})"
                          for t in result.song.tracks))
        for part, row in analyse(result.song, key).items():
            if isinstance(row, dict):
                print(f"  {part:8s} " + ", ".join(
                    f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                    for k, v in row.items()))
            else:
                print(f"  {part}: {row}")
        if not args.no_wav:
            from composer_gui.audio.render import render_song, write_wav

            audio = render_song(result.song)
            audio = audio[0] if isinstance(audio, tuple) else audio
            wav = out / f"{name}.wav"
            write_wav(wav, audio)
            a = np.asarray(audio, dtype=np.float64)
            print(f"  wav {wav}: {len(a) / 44100:.1f} s, RMS {np.sqrt(np.mean(a ** 2)):.3f}, "
                  f"peak {np.abs(a).max():.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
