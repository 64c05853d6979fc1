"""Try the folk model as a new user would (issue 7, item 5): tunes typed by hand.

    python benchmarks/folk_tryout.py [--model composer_gui/assets/models/folk] [--out /tmp/folk_tryout]
        [--seed 0] [--candidates 8] [--wav] [--data ../shared/datasets/nottingham]

Five short tunes written for this check (none is from the dataset): a reel in G (4/4), a
waltz in A minor with a pickup written as a 1/4 bar (3/4), a jig in D with a pickup padded
with rests as in the Nottingham files (6/8), a jig in E dorian (6/8, modal), and a tune that
changes from 4/4 to 6/8. Each goes through the model; the script prints, per tune, the bars
with melody, chord names and bass notes, and measures:

* chord tone on strong beats: share of the melody's notes sounding on a main beat (quarter
  notes in 4/4 and 3/4, dotted quarters in 6/8) whose pitch class is in the chord sounding
  then (with ``--data``: the same for the real chords of the validation tunes),
* in key: share of generated notes in the tune's scale (modes included),
* bars: share of bars whose chord part has a note starting on the bar line, and share of
  chord onsets on a main beat,

and with ``--wav`` renders each result with the built-in synthesizer (composer_gui.audio)
and reports length, peak and loudness per bar (no sound card here: the output is judged
from the numbers, not by ear).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from composer_gui.core.notation import note_number  # noqa: E402
from composer_gui.core.song import Note, Song, TimeSignature, Track  # noqa: E402

PC_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
TPB = 480

# Tunes: (title, key, [(meter, bar text), ...])
# Bar text: notes like "G4:2" (pitch, length in eighth notes); "r:1" is a rest.
TUNES = [
    ("reel in G (4/4)", "G", [
        ("4/4", "G4:1 B4:1 D5:1 B4:1 G4:1 B4:1 D5:1 G5:1"),
        ("4/4", "F#5:1 E5:1 D5:1 C5:1 B4:1 A4:1 G4:1 B4:1"),
        ("4/4", "A4:1 C5:1 E5:1 C5:1 A4:1 C5:1 E5:1 A5:1"),
        ("4/4", "G5:1 F#5:1 E5:1 D5:1 C5:1 B4:1 A4:2"),
        ("4/4", "G4:1 B4:1 D5:1 B4:1 G4:1 B4:1 D5:1 G5:1"),
        ("4/4", "E5:1 G5:1 E5:1 C5:1 B4:1 D5:1 B4:1 G4:1"),
        ("4/4", "A4:1 D5:1 F#5:1 D5:1 A4:1 B4:1 C5:1 A4:1"),
        ("4/4", "G4:2 B4:2 G4:4"),
    ]),
    ("waltz in A minor, 1/4 pickup bar (3/4)", "Am", [
        ("1/4", "E4:2"),
        ("3/4", "A4:4 B4:2"),
        ("3/4", "C5:2 B4:2 A4:2"),
        ("3/4", "E5:4 D5:2"),
        ("3/4", "C5:4 B4:2"),
        ("3/4", "A4:2 C5:2 E5:2"),
        ("3/4", "D5:4 C5:2"),
        ("3/4", "B4:2 G#4:2 B4:2"),
        ("3/4", "A4:6"),
    ]),
    ("jig in D, padded pickup (6/8)", "D", [
        ("6/8", "r:5 A4:1"),
        ("6/8", "D5:2 F#5:1 A5:2 F#5:1"),
        ("6/8", "G5:2 E5:1 C#5:2 A4:1"),
        ("6/8", "D5:2 F#5:1 A5:2 D6:1"),
        ("6/8", "C#6:1 B5:1 A5:1 G5:1 E5:1 C#5:1"),
        ("6/8", "D5:2 F#5:1 A5:2 F#5:1"),
        ("6/8", "G5:1 F#5:1 E5:1 B5:2 G5:1"),
        ("6/8", "F#5:1 E5:1 D5:1 E5:2 C#5:1"),
        ("6/8", "D5:5 r:1"),
    ]),
    ("jig in E dorian (6/8)", "Edor", [
        ("6/8", "E4:2 B4:1 B4:2 A4:1"),
        ("6/8", "B4:1 C#5:1 D5:1 E5:2 D5:1"),
        ("6/8", "D4:2 A4:1 A4:2 G4:1"),
        ("6/8", "A4:1 B4:1 C#5:1 D5:2 A4:1"),
        ("6/8", "E4:2 B4:1 B4:2 A4:1"),
        ("6/8", "B4:1 C#5:1 D5:1 E5:2 F#5:1"),
        ("6/8", "G5:1 F#5:1 E5:1 D5:1 B4:1 A4:1"),
        ("6/8", "B4:3 E4:3"),
    ]),
    ("march changing 4/4 -> 6/8 in F", "F", [
        ("4/4", "F4:2 A4:2 C5:2 A4:2"),
        ("4/4", "Bb4:2 D5:2 C5:2 A4:2"),
        ("4/4", "G4:2 Bb4:2 E5:2 C5:2"),
        ("4/4", "F5:4 C5:4"),
        ("6/8", "F5:2 E5:1 D5:2 C5:1"),
        ("6/8", "Bb4:2 A4:1 G4:2 F4:1"),
        ("6/8", "G4:2 A4:1 Bb4:2 E4:1"),
        ("6/8", "F4:3 F4:3"),
    ]),
]

SCALES = {"G": [7, 9, 11, 0, 2, 4, 6], "Am": [9, 11, 0, 2, 4, 5, 7, 8],  # raised 7th allowed
          "D": [2, 4, 6, 7, 9, 11, 1], "Edor": [4, 6, 7, 9, 11, 1, 2],
          "F": [5, 7, 9, 10, 0, 2, 4]}


def build_tune(bars: list[tuple[str, str]]) -> Song:
    """A one-track song from bar texts; a time signature wherever the meter changes."""
    eighth = TPB // 2
    notes, sigs, t, last = [], [], 0, None
    for meter, text in bars:
        num, den = (int(x) for x in meter.split("/"))
        if meter != last:
            sigs.append(TimeSignature(t, num, den))
            last = meter
        bar_end = t + TPB * 4 * num // den
        for token in text.split():
            name, length = token.split(":")
            dur = int(length) * eighth
            if name != "r":
                notes.append(Note(note_number(name), t, dur - 20, 90))
            t += dur
        if t != bar_end:
            raise ValueError(f"bar {meter} {text!r}: {t - bar_end:+d} ticks")
    return Song(ticks_per_beat=TPB, time_signatures=sigs,
                tracks=[Track(name="Tune", program=73, channel=0, role="melody", notes=notes)])


def _main_beat(meter: str) -> int:
    num, den = (int(x) for x in meter.split("/"))
    if den == 8 and num % 3 == 0 and num > 3:
        return TPB * 3 // 2
    return TPB * 4 // den


def bars_of(song: Song) -> list[tuple[int, int, str]]:
    from composer_gui.core.timing import TimeMap

    tmap = TimeMap.of(song)
    end = max(n.end for t in song.tracks for n in t.notes)
    starts = [int(s) for s in tmap.bar_starts(end)]
    out = []
    for i, s in enumerate(starts):
        m = tmap.meter_at(s)
        e = starts[i + 1] if i + 1 < len(starts) else tmap.bar_to_tick(tmap.bar_of(s) + 1)
        out.append((s, e, f"{m.numerator}/{m.denominator}"))
    return out


def chord_name(pcs: set[int]) -> str:
    """A chord symbol for a set of pitch classes: the best-matching triad or seventh chord
    whose root sounds; "5" marks a chord without its third (e.g. E5 = E B)."""
    if not pcs:
        return "-"
    best = None
    for root in sorted(pcs):
        for suffix, shape in (("", {0, 4, 7}), ("m", {0, 3, 7}), ("7", {0, 4, 7, 10}),
                              ("m7", {0, 3, 7, 10}), ("maj7", {0, 4, 7, 11}),
                              ("dim", {0, 3, 6})):
            chord = {(root + x) % 12 for x in shape}
            score = len(chord & pcs) - len(pcs - chord) - 0.3 * len(chord - pcs)
            if best is None or score > best[0]:
                best = (score, root, suffix, chord)
    _, root, suffix, chord = best
    if not ({(root + 3) % 12, (root + 4) % 12} & pcs):
        suffix = "5" + ("(7)" if (root + 10) % 12 in pcs else "")
    return PC_NAMES[root] + suffix


def sounding(track: Track, tick: int) -> set[int]:
    return {n.pitch % 12 for n in track.notes if n.start <= tick < n.end}


def chord_tone_share(melody: Track, chords: Track, bars) -> float:
    hits, total = 0, 0
    for s, e, meter in bars:
        beat = _main_beat(meter)
        for n in melody.notes:
            if s <= n.start < e and (n.start - s) % beat == 0:
                pcs = sounding(chords, n.start)
                if pcs:
                    total += 1
                    hits += (n.pitch % 12) in pcs
    return hits / max(1, total)


def inspect(song: Song, key: str) -> dict:
    melody, chords, bass = song.tracks[0], song.tracks[1], song.tracks[2]
    bars = [b for b in bars_of(song) if any(b[0] <= n.start < b[1] for n in melody.notes)]
    scale = set(SCALES[key])
    gen = chords.notes + bass.notes
    on_bar = sum(any(n.start == s for n in chords.notes) for s, _, _ in bars)
    starts = sorted({n.start for n in chords.notes})
    on_beat = 0
    for t in starts:
        for s, e, meter in bars_of(song):
            if s <= t < e:
                on_beat += (t - s) % _main_beat(meter) == 0
    return {
        "bars": len(bars),
        "chord_tone_strong": chord_tone_share(melody, chords, bars),
        "in_key": float(np.mean([n.pitch % 12 in scale for n in gen])) if gen else float("nan"),
        "bars_with_chord_on_bar_line": on_bar / max(1, len(bars)),
        "chord_onsets_on_main_beat": on_beat / max(1, len(starts)),
        "chord_notes": len(chords.notes),
        "bass_notes": len(bass.notes),
    }


def listing(song: Song) -> str:
    melody, chords, bass = song.tracks[0], song.tracks[1], song.tracks[2]
    rows = []
    for i, (s, e, meter) in enumerate(bars_of(song), 1):
        mel = " ".join(PC_NAMES[n.pitch % 12] for n in melody.notes if s <= n.start < e)
        cho = " ".join(chord_name(sounding(chords, t))
                       for t in sorted({n.start for n in chords.notes if s <= n.start < e}))
        held = "" if any(n.start == s for n in chords.notes) else \
            f"({chord_name(sounding(chords, s))}) "
        bas = " ".join(PC_NAMES[n.pitch % 12] + str(n.pitch // 12 - 1)
                       for n in bass.notes if s <= n.start < e)
        rows.append(f"  bar {i:2d} {meter:4s} | {mel:32s} | {held}{cho:18s} | {bas}")
    return "\n".join(rows)


def data_chord_tone_share(folder: Path) -> float:
    """The same strong-beat chord-tone share for the real chords of the validation tunes."""
    from composer_gui.ml.data.dataset import find_midi_files, is_validation
    from composer_gui.ml.data.sources import load_nottingham_song

    shares = []
    for path in find_midi_files(folder):
        if not is_validation(path):
            continue
        song = load_nottingham_song(path)
        if len(song.tracks) < 3:
            continue
        scale = TPB / song.ticks_per_beat
        bars = [(int(s * scale), int(e * scale), m) for s, e, m in bars_of(song)]

        def rescale(track, scale=scale):
            return Track(notes=[Note(n.pitch, int(n.start * scale), max(1, int(n.duration * scale)))
                                for n in track.notes])

        shares.append(chord_tone_share(rescale(song.tracks[0]), rescale(song.tracks[1]), bars))
    return float(np.mean(shares))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="composer_gui/assets/models/folk")
    parser.add_argument("--out", default="/tmp/folk_tryout")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--wav", action="store_true")
    parser.add_argument("--data", default=None, help="Nottingham folder: also the data's value")
    args = parser.parse_args()

    from composer_gui.midi.smf import write_midi
    from composer_gui.ml.device import configure_threads
    from composer_gui.ml.generate.sample import Composer

    configure_threads(default=1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    composer = Composer(Path(args.model), "cpu")
    synth = None
    for k, (title, key, bars) in enumerate(TUNES, 1):
        song = build_tune(bars)
        result = composer.compose(song, seed=args.seed, candidates=args.candidates).song
        write_midi(result, out / f"tune{k}.mid")
        stats = inspect(result, key)
        print(f"\n{k}. {title}: " + ", ".join(
            f"{name} {value:.2f}" if isinstance(value, float) else f"{name} {value}"
            for name, value in stats.items()))
        print(listing(result))
        if args.wav:
            from composer_gui.audio.render import render_wav
            from composer_gui.audio.synth import SoundFontSynth

            synth = synth or SoundFontSynth()
            info = render_wav(result, out / f"tune{k}.wav", synth=synth)
            import wave

            with wave.open(str(info.path)) as w:
                pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
            sr = synth.sample_rate
            bar_s = [(s / TPB * 0.5, e / TPB * 0.5) for s, e, _ in bars_of(result)]
            rms = [float(np.sqrt(np.mean((pcm[int(a * sr):int(b * sr)] / 32768.0) ** 2)))
                   for a, b in bar_s]
            print(f"  wav {info.path}: {info.seconds:.1f} s, peak {info.peak:.2f}, "
                  f"rendered in {info.render_seconds:.2f} s; RMS per bar min "
                  f"{min(rms):.3f} max {max(rms):.3f} (0 = silent bar)")
    if args.data:
        print(f"\nreal chords of the validation tunes: chord tone on strong beats "
              f"{data_chord_tone_share(Path(args.data)):.2f}")


if __name__ == "__main__":
    main()
