"""Groove performances on the drum model's grid, and the training windows drawn from them.

No torch here. Each performance becomes a :class:`DrumSong`: ``[3, steps, 9]`` (hit,
velocity, timing offset per 16th step and drum class, see
:mod:`composer_gui.ml.drums.network`) with per-bar labels from
:func:`composer_gui.ml.data.sources.groove.drum_windows` (fill flags, phrase positions).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from composer_gui.core.song import Note, Song
from composer_gui.ml.data.sources.groove import (
    DRUM_CLASSES,
    GrooveRow,
    drum_windows,
    load_groove_index,
    load_groove_song,
)
from composer_gui.ml.errors import DataError

#: Meters the drum model plays (both are 16 sixteenths to the bar), as (num, den).
DRUM_METERS = ((4, 4), (2, 2))
_PITCH_CLASS = {p: k for k, (_, _, pitches) in enumerate(DRUM_CLASSES) for p in pitches}


@dataclass
class DrumSong:
    """One Groove performance on the model's grid: ``drums`` ``[3, steps, classes]``
    (hit, velocity 0..1, offset in steps; 0 where no hit) and per-bar labels."""

    id: str
    style: int
    bpm: float
    is_fill: bool
    drums: np.ndarray
    fill: np.ndarray
    phrase_start: np.ndarray

    @property
    def bars(self) -> int:
        return int(self.fill.size)


def notes_to_grid(notes: Sequence[Note], ticks_per_beat: int, bars: int,
                  bar_steps: int = 16) -> np.ndarray:
    """``[3, bars * bar_steps, 9]``: each note on its nearest 16th (4 steps per quarter),
    the loudest hit kept where two land on one step and class."""
    out = np.zeros((3, bars * bar_steps, len(DRUM_CLASSES)), dtype=np.float32)
    best = np.zeros(out.shape[1:], dtype=np.int64)
    for n in notes:
        k = _PITCH_CLASS.get(n.pitch)
        if k is None:
            continue
        pos = n.start * 4 / ticks_per_beat
        step = int(math.floor(pos + 0.5))
        if 0 <= step < out.shape[1] and n.velocity > best[step, k]:
            best[step, k] = n.velocity
            out[:, step, k] = (1.0, n.velocity / 127.0, pos - step)
    return out


def load_drum_song(row: GrooveRow, config, song: Song | None = None) -> DrumSong | None:
    """A Groove row on the grid with its labels (``drum_windows``' fill and phrase
    positions, phrases of ``config.train_phrase_bars``); None for meters the model
    does not play."""
    if row.meter not in DRUM_METERS:
        return None
    song = song if song is not None else load_groove_song(row)
    labels = list(drum_windows(row, song, steps_per_beat=4, bars_per_window=1,
                               phrase_bars=config.train_phrase_bars, hop_bars=1))
    fill = np.array([bool(w.fill[0]) for w in labels])
    start = np.array([int(w.bar_in_phrase[0]) == 0 for w in labels])
    notes = [n for t in song.tracks for n in t.notes]
    bpm = song.tempos[0].bpm if song.tempos else float(row.bpm)
    style = config.styles.index(row.top_style) if row.top_style in config.styles else 0
    return DrumSong(row.id, style, float(bpm), row.is_fill,
                    notes_to_grid(notes, song.ticks_per_beat, len(labels), config.bar_steps),
                    fill, start)


def groove_folder(data_dir: Path) -> Path:
    """The Groove folder: ``data_dir`` itself or its ``groove`` subfolder."""
    data_dir = Path(data_dir)
    if not (data_dir / "info.csv").is_file() and (data_dir / "groove" / "info.csv").is_file():
        return data_dir / "groove"
    return data_dir


def load_drum_songs(data_dir: Path, config, splits: Sequence[str]
                    ) -> Iterator[dict]:
    """Read every Groove performance of ``splits``; yields ``data`` records and returns
    ``{split: [DrumSong]}`` (``yield from``)."""
    rows = [r for r in load_groove_index(groove_folder(data_dir)) if r.split in splits]
    out: dict[str, list[DrumSong]] = {s: [] for s in splits}
    for i, row in enumerate(rows):
        ds = load_drum_song(row, config)
        if ds is not None and ds.bars:
            out[row.split].append(ds)
        yield {"kind": "data", "done": i + 1, "total": len(rows), "file": str(row.path)}
    return out


#: Rows of DRUM_CLASSES: closed and open hi-hat, ride.
_HATS, _RIDE = [2, 3], 8


def ride_flag(hits: np.ndarray) -> bool:
    """Whether a stretch of hits ``[steps, 9]`` keeps time on the ride (more ride hits
    than hi-hat hits)."""
    per_class = hits.sum(0)
    return bool(per_class[_RIDE] > per_class[_HATS].sum())


def phrase_ride_flags(hits: np.ndarray, phrase_ids: np.ndarray, bar_steps: int = 16
                      ) -> np.ndarray:
    """Per bar: the :func:`ride_flag` of the phrase (bars of one ``phrase_ids`` value)
    holding it."""
    bars = hits.reshape(len(phrase_ids), bar_steps, -1)
    out = np.zeros(len(phrase_ids), dtype=bool)
    for p in np.unique(phrase_ids):
        sel = phrase_ids == p
        out[sel] = ride_flag(bars[sel].reshape(-1, bars.shape[2]))
    return out


def ride_rates(songs: Sequence[DrumSong], styles: Sequence[str], bars: int = 4
               ) -> dict[str, float]:
    """Per style and overall ("*"): the share of the beats' ``bars``-bar stretches that
    keep time on the ride."""
    counts: dict[str, list[int]] = {}
    for s in songs:
        if s.is_fill:
            continue
        for first in range(0, s.bars, bars):
            hits = s.drums[0, first * 16:(first + bars) * 16]
            if not hits.any():
                continue
            flag = int(ride_flag(hits))
            for key in (styles[s.style], "*"):
                counts.setdefault(key, [0, 0])
                counts[key][0] += flag
                counts[key][1] += 1
    return {k: round(r / n, 4) for k, (r, n) in sorted(counts.items())}


@dataclass
class Sampler:
    """Draws training windows: fill performances (a bar or two, put at the end of the
    window after empty "absent" bars, as a fill ends a phrase) with probability
    ``fill_share``, else any window of a beat performance, uniformly."""

    songs: list[DrumSong]
    config: Any
    fill_share: float
    bpm_jitter: float = 0.0
    style_dropout: float = 0.0

    def __post_init__(self) -> None:
        w = self.config.bars_per_window
        self.fills = [s for s in self.songs if s.is_fill]
        self.starts = [(i, b) for i, s in enumerate(self.songs) if not s.is_fill
                       for b in range(max(1, s.bars - w + 1))]
        if not self.starts and not self.fills:
            raise DataError("no Groove performance in a meter the drum model plays")

    def window(self, song: DrumSong, first: int) -> tuple[np.ndarray, ...]:
        """``first`` may be negative or run past the end: absent bars are padded."""
        w, steps = self.config.bars_per_window, self.config.bar_steps
        drums = np.zeros((3, w * steps, self.config.n_classes), np.float32)
        fill = np.zeros(w, bool)
        start = np.zeros(w, bool)
        present = np.zeros(w, bool)
        lo, hi = max(first, 0), min(first + w, song.bars)
        drums[:, (lo - first) * steps:(hi - first) * steps] = song.drums[:, lo * steps:hi * steps]
        fill[lo - first:hi - first] = song.fill[lo:hi]
        start[lo - first:hi - first] = song.phrase_start[lo:hi]
        present[lo - first:hi - first] = True
        ride = np.full(w, ride_flag(drums[0]))
        return drums, fill, start, present, song.bpm, song.style, ride

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        w = self.config.bars_per_window
        if self.fills and (not self.starts or rng.random() < self.fill_share):
            song = self.fills[int(rng.integers(len(self.fills)))]
            return self.window(song, song.bars - w)
        i, b = self.starts[int(rng.integers(len(self.starts)))]
        return self.window(self.songs[i], b)

    def batch(self, rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
        """A training batch. Against learning each Groove session by heart (its style
        and exact tempo name it), the tempo is jittered by up to ``bpm_jitter`` (a
        fraction) and the style hidden (``-1``: no style) in ``style_dropout`` of the
        windows."""
        windows = []
        for _ in range(size):
            drums, fill, start, present, bpm, style, ride = self.draw(rng)
            bpm *= 1.0 + self.bpm_jitter * (2.0 * rng.random() - 1.0)
            if rng.random() < self.style_dropout:
                style = -1
            windows.append((drums, fill, start, present, bpm, style, ride))
        return stack_windows(self.config, windows)


def stack_windows(config, windows) -> tuple[np.ndarray, np.ndarray]:
    """(real drums ``[B, 3, T, C]`` as the critic sees them, conditioning ``[B, T, F]``)."""
    from composer_gui.ml.drums.network import condition_features

    drums, fill, start, present, bpm, style, ride = (np.stack(x) for x in zip(*windows))
    real = drums.copy()
    real[:, 1:] *= real[:, :1]
    return real, condition_features(config, fill, start, present, bpm, style, ride)


def fixed_windows(config, songs: list[DrumSong], limit: int = 256):
    """Validation windows: consecutive windows of each beat, each fill at a window's end."""
    sampler = Sampler(songs, config, 0.0)
    w = config.bars_per_window
    wins = [sampler.window(s, s.bars - w if s.is_fill else b)
            for s in songs for b in (range(0, max(1, s.bars - w + 1), w) if not s.is_fill else [0])]
    step = max(1, len(wins) // limit)
    return stack_windows(config, wins[::step][:limit])


