"""The Groove MIDI Dataset (Magenta, CC BY 4.0): index, drum songs, bar windows, statistics.

Groove holds human drumming recorded on a Roland TD-11 kit to a click: one drum track on
channel 10, the session's tempo in the file, bar 1 at tick 0, timing not quantized.
``info.csv`` lists each performance with its drummer, style ("funk", "jazz/funk" ...),
bpm, beat type ("beat" or "fill"), meter ("4-4") and split ("train", "validation",
"test"; the copy in ``../shared/datasets/groove`` has train and validation only).

Pitches: the TD-11 sends three notes outside the General MIDI drum map (35-81). Loaded
songs map them to their GM sound, as Magenta's own drum mapping groups them:
22 (hi-hat edge, closed) -> 42, 26 (hi-hat edge, open) -> 46, 58 (floor tom rim) -> 43.
Every other note keeps its pitch.

Statistics (:func:`drum_bar_stats`, on a drum roll) use these instrument groups:
kick {35, 36}, snare {37 side stick, 38, 40 rim/electric}, hi-hat {42, 44, 46} (plus the
raw 22 and 26 for unmapped rolls).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from composer_gui.core.errors import UserError
from composer_gui.core.song import (
    DRUM_CHANNEL,
    Note,
    Song,
    TimeSignature,
    Track,
    normalize_notes,
)
from composer_gui.ml.metrics.rolls import N_PITCHES, BarSpec, TrackRoll, bar_starts
from composer_gui.ml.metrics.tracks import drum_pattern_rate, empty_bar_rate

__all__ = [
    "DRUM_CLASSES",
    "drum_class_pitches",
    "drum_class_roll",
    "DrumWindow",
    "GrooveError",
    "GrooveRow",
    "HIHAT",
    "KICK",
    "SNARE",
    "TD11_TO_GM",
    "aggregate_drum_stats",
    "drum_bar_stats",
    "drum_roll",
    "drum_windows",
    "groove_row_for_file",
    "groove_split_counts",
    "load_groove_index",
    "load_groove_song",
    "meter_bar_starts",
    "quantization_stats",
    "song_drum_stats",
]

#: Roland TD-11 notes outside the GM drum map -> the GM sound they stand for.
TD11_TO_GM = {22: 42, 26: 46, 58: 43}
KICK = frozenset({35, 36})
SNARE = frozenset({37, 38, 40})
HIHAT = frozenset({42, 44, 46, 22, 26})
#: Tom notes (GM and TD-11); a beat bar with several tom hits reads as a fill.
TOMS = frozenset({41, 43, 45, 47, 48, 50, 58})
#: A 9-piece kit (Magenta's GrooVAE grouping): (name, the GM pitch written for it, the
#: pitches it gathers). A drum model can work on these 9 rows instead of 128 pitches.
DRUM_CLASSES: tuple[tuple[str, int, frozenset[int]], ...] = (
    ("kick", 36, frozenset({35, 36})),
    ("snare", 38, frozenset({37, 38, 39, 40})),
    ("closed hi-hat", 42, frozenset({22, 42, 44})),
    ("open hi-hat", 46, frozenset({26, 46})),
    ("low tom", 45, frozenset({41, 43, 45, 58})),
    ("mid tom", 48, frozenset({47, 48})),
    ("high tom", 50, frozenset({50})),
    ("crash", 49, frozenset({49, 52, 55, 57})),
    ("ride", 51, frozenset({51, 53, 59})),
)
_INFO_COLUMNS = ("style", "bpm", "beat_type", "time_signature", "midi_filename", "split")


class GrooveError(UserError, ValueError):
    """A Groove folder or file that cannot be read (names the file and the problem)."""


@dataclass(frozen=True)
class GrooveRow:
    """One line of Groove's ``info.csv`` with the MIDI path resolved."""

    id: str
    drummer: str
    style: str  # full style path, e.g. "jazz/funk"
    bpm: int
    beat_type: str  # "beat" or "fill"
    time_signature: str  # as written: "4-4"
    path: Path  # absolute MIDI file
    duration: float  # seconds
    split: str  # "train", "validation" or "test"

    @property
    def top_style(self) -> str:
        """The top-level style: "jazz" for "jazz/funk"."""
        return self.style.split("/")[0]

    @property
    def is_fill(self) -> bool:
        return self.beat_type == "fill"

    @property
    def meter(self) -> tuple[int, int]:
        """(numerator, denominator) of the listed meter."""
        num, den = self.time_signature.split("-")
        return int(num), int(den)

    @property
    def meter_label(self) -> str:
        num, den = self.meter
        return f"{num}/{den}"


def load_groove_index(groove_dir: str | Path) -> list[GrooveRow]:
    """Parse ``info.csv`` of a Groove folder (rows in file order)."""
    groove_dir = Path(groove_dir)
    info = groove_dir / "info.csv"
    if not info.is_file():
        raise GrooveError(f"{info}: missing (the Groove MIDI Dataset lists its files there)")
    rows: list[GrooveRow] = []
    with open(info, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in _INFO_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise GrooveError(f"{info}: no column {', '.join(missing)}")
        for line, r in enumerate(reader, start=2):
            try:
                num, den = r["time_signature"].split("-")
                int(num), int(den)
                rows.append(
                    GrooveRow(
                        id=r.get("id") or r["midi_filename"],
                        drummer=r.get("drummer", ""),
                        style=r["style"].strip(),
                        bpm=int(float(r["bpm"])),
                        beat_type=r["beat_type"].strip(),
                        time_signature=r["time_signature"].strip(),
                        path=(groove_dir / r["midi_filename"]).resolve(),
                        duration=float(r.get("duration") or 0.0),
                        split=r["split"].strip(),
                    )
                )
            except (ValueError, AttributeError) as exc:
                raise GrooveError(f"{info}, line {line}: {exc}") from exc
    return rows


@lru_cache(maxsize=4)
def _index_by_path(info: Path, mtime_ns: int) -> dict[Path, GrooveRow]:
    return {r.path: r for r in load_groove_index(info.parent)}


def groove_row_for_file(path: str | Path) -> GrooveRow | None:
    """The info.csv row of a Groove MIDI file (looked up in an ``info.csv`` up to three
    folders above it), or None when the file is not part of a Groove folder."""
    path = Path(path).resolve()
    for folder in list(path.parents)[:3]:
        info = folder / "info.csv"
        if info.is_file():
            try:
                return _index_by_path(info, info.stat().st_mtime_ns).get(path)
            except GrooveError:
                return None
    return None


def groove_split_counts(rows: Sequence[GrooveRow]) -> dict[str, int]:
    """How many rows each split has."""
    out: dict[str, int] = {}
    for r in rows:
        out[r.split] = out.get(r.split, 0) + 1
    return out


def load_groove_song(row: GrooveRow) -> Song:
    """One Groove performance as a Song with a single drum track "Drums".

    The track is on channel 10 (index 9), ``is_drum``, role "drums", with TD-11 notes
    mapped to GM (see the module notes). Tempo and meter come from the file (Groove
    writes the session's tempo and meter); controllers (the hi-hat pedal's CC4) are kept.
    """
    from composer_gui.midi.smf import read_midi

    if not row.path.is_file():
        raise GrooveError(f"{row.path}: missing (listed in info.csv as {row.id})")
    raw = read_midi(row.path)
    notes = [
        Note(TD11_TO_GM.get(n.pitch, n.pitch), n.start, n.duration, n.velocity)
        for t in raw.tracks
        for n in t.notes
    ]
    events = sorted(
        (e for t in raw.tracks for e in t.events if e.kind != "program_change"),
        key=lambda e: e.tick,
    )
    drums = Track(
        name="Drums",
        program=0,
        channel=DRUM_CHANNEL,
        is_drum=True,
        role="drums",
        notes=normalize_notes(notes),
        events=events,
    )
    return Song(
        ticks_per_beat=raw.ticks_per_beat,
        tempos=raw.tempos,
        time_signatures=raw.time_signatures,
        key_signatures=[],
        tracks=[drums],
        conductor_events=raw.conductor_events,
        title=row.id,
    )


# ----- grid, rolls and quantization ---------------------------------------------------------
def drum_roll(
    notes: Sequence[Note], ticks_per_beat: int, steps_per_beat: int, n_steps: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Drum notes on a grid as an onset-aware track ``(onsets, held)`` of ``[steps, 128]``
    bool arrays (the :mod:`composer_gui.ml.metrics.rolls` convention). Each note lands on its
    nearest step and lasts one step (drum notes are hits, not held sounds); notes past
    ``n_steps`` are dropped."""
    starts = np.array([n.start for n in notes], dtype=np.int64)
    pitches = np.array([n.pitch for n in notes], dtype=np.int64)
    steps = np.floor(starts * steps_per_beat / ticks_per_beat + 0.5).astype(np.int64)
    if n_steps is None:
        n_steps = int(steps.max()) + 1 if steps.size else 0
    onsets = np.zeros((n_steps, N_PITCHES), dtype=bool)
    keep = steps < n_steps
    onsets[steps[keep], pitches[keep]] = True
    return onsets, onsets.copy()


def quantization_stats(
    notes: Sequence[Note], ticks_per_beat: int, steps_per_beat: int = 4
) -> dict[str, float]:
    """How far onsets sit from a grid of ``steps_per_beat`` steps per quarter.

    Keys: ``notes``; ``on_grid`` (share exactly on a step); ``median_offset_steps`` and
    ``p90_offset_steps`` (absolute distance to the nearest step, in steps);
    ``within_eighth_step`` (share within 1/8 of a step: a human "on the grid");
    ``collisions`` (share of notes that land on a step where the same pitch already
    sounds once snapped: what quantizing to this grid loses).
    """
    if not notes:
        nan = float("nan")
        return dict(notes=0, on_grid=nan, median_offset_steps=nan, p90_offset_steps=nan,
                    within_eighth_step=nan, collisions=nan)
    starts = np.array([n.start for n in notes], dtype=np.float64)
    pitches = np.array([n.pitch for n in notes], dtype=np.int64)
    pos = starts * steps_per_beat / ticks_per_beat
    offset = np.abs(pos - np.floor(pos + 0.5))
    snapped = np.floor(pos + 0.5).astype(np.int64)
    unique = np.unique(np.stack([snapped, pitches]), axis=1).shape[1]
    return dict(
        notes=len(notes),
        on_grid=float(np.mean(offset < 1e-9)),
        median_offset_steps=float(np.median(offset)),
        p90_offset_steps=float(np.percentile(offset, 90)),
        within_eighth_step=float(np.mean(offset <= 0.125)),
        collisions=1.0 - unique / len(notes),
    )


def _bar_steps(ticks_per_beat: int, steps_per_beat: int, meter: tuple[int, int]) -> int:
    num, den = meter
    steps = num * 4 * steps_per_beat / den
    if steps != int(steps):
        raise GrooveError(f"meter {num}/{den} does not fit {steps_per_beat} steps per beat")
    return int(steps)


def drum_class_roll(roll: np.ndarray) -> np.ndarray:
    """``[steps, 128]`` (bool or velocities) -> ``[steps, 9]`` over :data:`DRUM_CLASSES`
    (the maximum over each class's pitches; pitches of no class are dropped)."""
    roll = np.asarray(roll)
    out = np.zeros((roll.shape[0], len(DRUM_CLASSES)), dtype=roll.dtype)
    for k, (_, _, pitches) in enumerate(DRUM_CLASSES):
        out[:, k] = roll[:, sorted(pitches)].max(axis=1)
    return out


def drum_class_pitches(class_roll: np.ndarray) -> np.ndarray:
    """``[steps, 9]`` -> ``[steps, 128]`` with each class on its GM pitch."""
    class_roll = np.asarray(class_roll)
    out = np.zeros((class_roll.shape[0], 128), dtype=class_roll.dtype)
    for k, (_, pitch, _) in enumerate(DRUM_CLASSES):
        out[:, pitch] = class_roll[:, k]
    return out


# ----- statistics ---------------------------------------------------------------------------
def drum_bar_stats(
    track: TrackRoll, steps_per_bar: BarSpec, steps_per_beat: int
) -> dict[str, float]:
    """Drum statistics of one roll (see :func:`drum_roll` for the input).

    Keys: ``bars``, ``notes``; ``empty_bar_rate`` (EB as in the metrics module);
    ``notes_per_bar`` (mean over all bars); ``kick_share``, ``snare_share``,
    ``hihat_share`` (shares of all drum notes, groups in the module notes);
    ``drum_pattern_rate`` (DP as in the metrics module, from each bar's start; it is 1 by
    construction on grids of 4 or fewer steps per quarter). Rates are ``nan`` where
    there is nothing to measure.
    """
    onsets = track[0] if isinstance(track, tuple) else np.asarray(track)
    n_steps = onsets.shape[0]
    starts = bar_starts(n_steps, steps_per_bar)
    bars = int(starts.size)
    hit_steps, hit_pitches = np.nonzero(onsets)
    notes = int(hit_steps.size)
    nan = float("nan")

    def share(group: frozenset[int]) -> float:
        return float(np.isin(hit_pitches, list(group)).mean()) if notes else nan

    return {
        "bars": bars,
        "notes": notes,
        "empty_bar_rate": empty_bar_rate(track, steps_per_bar) if bars else nan,
        "notes_per_bar": notes / bars if bars else nan,
        "kick_share": share(KICK),
        "snare_share": share(SNARE),
        "hihat_share": share(HIHAT),
        "drum_pattern_rate": (
            drum_pattern_rate(track, steps_per_beat, steps_per_bar) if notes else nan
        ),
    }


#: Which count weights each statistic when songs are pooled.
_WEIGHTS = {
    "empty_bar_rate": "bars",
    "notes_per_bar": "bars",
    "kick_share": "notes",
    "snare_share": "notes",
    "hihat_share": "notes",
    "drum_pattern_rate": "notes",
}


def aggregate_drum_stats(per_song: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Pool per-song :func:`drum_bar_stats`: bar rates weighted by bars, note shares by
    notes (so the result equals the statistics of all songs' bars put together);
    ``songs``, ``bars`` and ``notes`` are totals."""
    out: dict[str, float] = {
        "songs": len(per_song),
        "bars": int(sum(s["bars"] for s in per_song)),
        "notes": int(sum(s["notes"] for s in per_song)),
    }
    for key, weight in _WEIGHTS.items():
        pairs = [(s[key], s[weight]) for s in per_song if not np.isnan(s[key]) and s[weight]]
        total = sum(w for _, w in pairs)
        out[key] = float(sum(v * w for v, w in pairs) / total) if total else float("nan")
    return out


def meter_bar_starts(song: Song, end_tick: int) -> list[int]:
    """Bar lines (ticks) of a song's meter map up to ``end_tick``: whole bars of the meter
    in effect, and a new bar at every meter change (the project's rule)."""
    sigs = sorted(song.time_signatures, key=lambda x: x.tick) or []
    if not sigs or sigs[0].tick > 0:
        sigs = [TimeSignature(0, 4, 4), *sigs]
    lines: list[int] = []
    for i, sig in enumerate(sigs):
        stop = sigs[i + 1].tick if i + 1 < len(sigs) else max(end_tick, sig.tick + 1)
        length = sig.numerator * 4 * song.ticks_per_beat / sig.denominator
        k = 0
        while sig.tick + k * length < stop:
            lines.append(int(round(sig.tick + k * length)))
            k += 1
    return lines


def song_drum_stats(song: Song, steps_per_beat: int = 4) -> dict[str, float]:
    """:func:`drum_bar_stats` of a song's drum tracks (drum flag or channel 10), bars from
    its meter map (:func:`meter_bar_starts`), up to the end of the bar holding the last
    note (a generated song is measured the same way as a Groove file)."""
    notes = [n for t in song.tracks if t.is_drum or t.channel == DRUM_CHANNEL for n in t.notes]
    tpb = song.ticks_per_beat
    # the last note's step, in ticks (a hit just before a bar line snaps into the next bar)
    last = max((n.start for n in notes), default=0) + -(-tpb // (2 * steps_per_beat))
    lines = meter_bar_starts(song, last + 1)
    sigs = sorted(song.time_signatures, key=lambda x: x.tick)
    final = sigs[-1] if sigs else TimeSignature(0, 4, 4)
    end = lines[-1] + final.numerator * 4 * tpb / final.denominator
    n_steps = int(np.ceil(end * steps_per_beat / tpb - 1e-9))
    onsets, _ = drum_roll(notes, tpb, steps_per_beat, n_steps)
    starts = sorted({int(np.floor(t * steps_per_beat / tpb + 0.5)) for t in lines})
    return drum_bar_stats((onsets, onsets.copy()), np.array(starts), steps_per_beat)


# ----- bar windows with conditioning labels -----------------------------------------------
@dataclass
class DrumWindow:
    """A run of bars of one performance with its conditioning labels.

    ``onsets`` is ``[bars * bar_steps, 128]`` bool (hits on the grid; see
    :func:`drum_roll`); ``velocities`` the same shape, uint8 (0 where no hit).
    ``bar_in_phrase[i]`` is bar i's position in its phrase (0 .. phrase_bars-1) and
    ``fill[i]`` whether bar i is a fill (see :func:`drum_windows`).
    """

    song_id: str
    first_bar: int
    bpm: float
    style: str
    meter: str
    split: str
    onsets: np.ndarray
    velocities: np.ndarray
    bar_in_phrase: np.ndarray
    fill: np.ndarray


def _fill_bars(onsets: np.ndarray, bar: int, is_fill_file: bool) -> np.ndarray:
    """Fill flags per bar. A fill file's bars are all fills. In a beat file a bar is a fill
    when it has at least 3 more tom hits than the file's median bar (grooves played on the
    toms stay beats), or at least twice the median notes per bar and at least 1.5x the
    bar before (medians over the file's non-empty bars): drummers mark phrase ends with
    tom runs and denser figures, and Groove's beat files carry such fills unlabelled."""
    bars = onsets.shape[0] // bar
    per_bar = onsets[: bars * bar].reshape(bars, bar, -1)
    if is_fill_file:
        return np.ones(bars, dtype=bool)
    toms = per_bar[:, :, sorted(TOMS)].sum(axis=(1, 2))
    counts = per_bar.sum(axis=(1, 2))
    nonempty = counts > 0
    if not nonempty.any():
        return np.zeros(bars, dtype=bool)
    median = float(np.median(counts[nonempty]))
    median_toms = float(np.median(toms[nonempty]))
    before = np.concatenate([[np.inf], counts[:-1]])
    dense = (counts >= 2 * median) & (counts >= 1.5 * before)
    return (toms >= median_toms + 3) | dense


def drum_windows(
    row: GrooveRow,
    song: Song | None = None,
    steps_per_beat: int = 4,
    bars_per_window: int = 4,
    phrase_bars: int = 4,
    hop_bars: int | None = None,
) -> Iterator[DrumWindow]:
    """Cut one performance into windows of ``bars_per_window`` bars.

    Labels: tempo (the file's first tempo in bpm), style (``row.top_style``), meter,
    split, each bar's position in a phrase of ``phrase_bars`` bars and a fill flag.
    Bar positions count from bar 1 of the file for beats; a fill performance (usually one
    or two bars) is placed at the end of a phrase, its last bar at ``phrase_bars - 1``.
    Fill flags: all bars of a fill performance; in beats, the heuristic of
    :func:`_fill_bars`. Windows step by ``hop_bars`` (default: the window length); a
    performance shorter than a window gives one window padded with empty bars, which
    the labels mark as position -1 (fill False): after the bars of a beat, before the
    bars of a fill (``first_bar`` is then negative), so a fill ends its window.
    """
    song = song if song is not None else load_groove_song(row)
    tpb = song.ticks_per_beat
    meter = row.meter
    bar = _bar_steps(tpb, steps_per_beat, meter)
    notes = [n for t in song.tracks for n in t.notes]
    steps = np.floor(np.array([n.start for n in notes]) * steps_per_beat / tpb + 0.5)
    bars = max(1, -(-(int(steps.max()) + 1 if steps.size else 0) // bar))
    velocities = np.zeros((bars * bar, N_PITCHES), dtype=np.uint8)
    for n, step in zip(notes, steps.astype(np.int64).tolist()):
        velocities[step, n.pitch] = max(velocities[step, n.pitch], n.velocity)
    onsets = velocities > 0
    fill = _fill_bars(onsets, bar, row.is_fill)
    if row.is_fill:
        position = (np.arange(bars) - bars) % phrase_bars
    else:
        position = np.arange(bars) % phrase_bars
    bpm = song.tempos[0].bpm if song.tempos else float(row.bpm)
    hop = hop_bars or bars_per_window
    total = max(bars, bars_per_window)
    pad = total - bars
    offset = 0
    if pad:
        # A beat is padded after its bars; a fill before them, so it ends the window
        # (and its phrase) the way it ends a phrase in a song.
        before = pad if row.is_fill else 0
        after = pad - before
        offset = -before
        onsets = np.pad(onsets, ((before * bar, after * bar), (0, 0)))
        velocities = np.pad(velocities, ((before * bar, after * bar), (0, 0)))
        position = np.concatenate([-np.ones(before, np.int64), position, -np.ones(after, np.int64)])
        fill = np.concatenate([np.zeros(before, bool), fill, np.zeros(after, bool)])
    for first in range(0, total - bars_per_window + 1, hop):
        sl = slice(first * bar, (first + bars_per_window) * bar)
        yield DrumWindow(
            song_id=row.id,
            first_bar=first + offset,
            bpm=float(bpm),
            style=row.top_style,
            meter=row.meter_label,
            split=row.split,
            onsets=onsets[sl],
            velocities=velocities[sl],
            bar_in_phrase=position[first : first + bars_per_window].astype(np.int64),
            fill=fill[first : first + bars_per_window],
        )
