"""Windows and batches: training batches of random windows (song, bar, transposition,
context mask) and the fixed validation windows, as numpy arrays the networks take.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer_gui.ml.data.dataset import MARGIN, SongArrays
from composer_gui.ml.data.meters import window_position_features
from composer_gui.ml.errors import DataError
from composer_gui.ml.model.config import ModelConfig


@dataclass
class Batch:
    """Numpy arrays of one batch (see ``model.Generator`` for the shapes)."""

    melody: np.ndarray  # [B, 2, T, P]
    real: np.ndarray  # [B, R, 2, T, P]
    mask: np.ndarray  # [B, R, T]
    position: np.ndarray  # [B, T, F]
    bar_len: np.ndarray  # [B] steps of the window's first bar (for metrics)
    #: Per window, the steps where its bars start (fixed windows only; for metrics).
    bars: list[np.ndarray] | None = None
    #: Per window ``[B, P]``: the melody's held steps per pitch from ``model.config.KEY_SPAN``
    #: windows before to after it in its song (fixed windows only): the key guard's view of
    #: the key, as at generation.
    key_mass: np.ndarray | None = None


def window_starts(song: SongArrays, config: ModelConfig | None = None) -> np.ndarray:
    """Window starts: every bar start whose window holds melody notes. With a config
    whose ``drop_odd_windows`` is set, only windows whose bars all have supported meters
    (no pickup, no odd-length bar inside)."""
    mel = song.codes[0].any(axis=1)
    starts = [int(s) for s in song.bar_starts if mel[s:].any()]
    if config is not None and config.drop_odd_windows:
        odd = np.array([m not in config.meters for m in song.bar_meters])
        bars = song.bar_starts
        t = config.window_steps
        ok = []
        for s in starts:
            first = int(np.searchsorted(bars, s, side="right")) - 1
            last = int(np.searchsorted(bars, s + t, side="left"))  # bars starting inside
            if not odd[max(0, first):last].any():
                ok.append(s)
        starts = ok
    return np.array(starts, dtype=np.int64)


def _context_mask(rng: np.random.Generator, config: ModelConfig, bars: np.ndarray, t: int):
    """A random keep-mask [R, T] that teaches continuation and inpainting."""
    r = config.tracks
    mask = np.zeros((r, t), dtype=np.float32)
    u = rng.random()
    inner = bars[(bars > 0) & (bars < t)]
    if u < 0.35 or len(inner) == 0:
        return mask
    if u < 0.6:  # continuation: the window's first bars are kept (the previous window's tail)
        mask[:, : int(rng.choice(inner))] = 1.0
    elif u < 0.8:  # some parts kept whole, the others generated
        keep = rng.random(r) < 0.5
        if keep.all():
            keep[rng.integers(r)] = False
        mask[keep] = 1.0
    else:  # a gap of bars in some parts, the rest kept
        edges = np.concatenate([[0], inner, [t]])
        a = int(rng.integers(len(edges) - 1))
        b = int(rng.integers(a + 1, len(edges)))
        tracks = rng.random(r) < 0.6
        if not tracks.any():
            tracks[rng.integers(r)] = True
        mask[:] = 1.0
        mask[np.ix_(tracks, np.arange(edges[a], edges[b]))] = 0.0
    return mask


def make_window(song: SongArrays, start: int, shift: int, config: ModelConfig):
    """Codes ``[1+R, T, P]`` of a window (padded), transposed by ``shift`` semitones,
    and its position features; returns None when the shift pushes notes out of range."""
    t, p = config.window_steps, config.pitches
    codes = song.codes[:, start:start + t]
    if codes.shape[1] < t:
        codes = np.pad(codes, ((0, 0), (0, t - codes.shape[1]), (0, 0)))
    lo = MARGIN - shift
    window = codes[:, :, lo:lo + p]
    if shift and int(np.count_nonzero(codes[1:])) != int(np.count_nonzero(window[1:])):
        return None
    song_steps = song.codes.shape[1]
    pos = window_position_features(config, song.bar_starts, song.bar_meters, t,
                                   song_steps=song_steps, offset=start)
    return window, pos


def sample_batch(songs: list[SongArrays], starts: list[np.ndarray], config: ModelConfig,
                 rng: np.random.Generator, batch_size: int, augment: bool = True,
                 masks: bool = True) -> Batch:
    """A random batch of windows (random song, bar, transposition and context mask)."""
    from composer_gui.ml.data.encoding import channels

    t = config.window_steps
    mel, real, msk, pos, bar_len = [], [], [], [], []
    while len(mel) < batch_size:
        k = int(rng.integers(len(songs)))
        if len(starts[k]) == 0:
            continue
        start = int(rng.choice(starts[k]))
        shift = int(rng.integers(-5, 7)) if augment else 0
        made = make_window(songs[k], start, shift, config)
        if made is None:
            made = make_window(songs[k], start, 0, config)
        window, features = made
        ch = channels(window)
        mel.append(ch[0])
        real.append(ch[1:])
        bars = songs[k].bar_starts - start
        msk.append(_context_mask(rng, config, bars, t) if masks
                   else np.zeros((config.tracks, t), np.float32))
        pos.append(features)
        inner = bars[bars > 0]
        bar_len.append(int(inner[0]) if len(inner) else t)
    return Batch(np.stack(mel), np.stack(real), np.stack(msk), np.stack(pos), np.array(bar_len))


#: Validation takes at least this many windows when its songs have them: with a few
#: validation songs (a fine-tune of 100 songs has about 10), four windows each made the
#: metrics of one validation differ from the next by more than their targets' margins.
MIN_VALIDATION_WINDOWS = 64


def fixed_windows(songs: list[SongArrays], config: ModelConfig, per_song: int = 4,
                  at_least: int = MIN_VALIDATION_WINDOWS) -> Batch:
    """Deterministic validation windows: ``per_song`` evenly spaced per song (more when
    that would give under ``at_least`` windows in all; never more than a song has), no
    transposition, no context."""
    from composer_gui.ml.data.encoding import channels
    from composer_gui.ml.model.config import KEY_SPAN

    bars: list[np.ndarray] = []
    mel, real, pos, bar_len, key = [], [], [], [], []
    t = config.window_steps
    per_song = max(per_song, -(-at_least // max(1, len(songs))))
    for song in songs:
        st = window_starts(song, config)
        if len(st) == 0:
            continue
        picks = st[np.linspace(0, len(st) - 1, min(per_song, len(st))).astype(int)]
        for start in sorted(set(int(s) for s in picks)):
            window, features = make_window(song, start, 0, config)
            ch = channels(window)
            mel.append(ch[0])
            real.append(ch[1:])
            pos.append(features)
            inner = song.bar_starts[song.bar_starts > start] - start
            bar_len.append(int(inner[0]) if len(inner) else config.window_steps)
            rel = song.bar_starts - start
            bars.append(rel[(rel >= 0) & (rel < config.window_steps)])
            lo, hi = max(0, start - KEY_SPAN[0] * t), start + KEY_SPAN[1] * t
            key.append((song.codes[0, lo:hi, MARGIN:MARGIN + config.pitches] > 0).sum(axis=0))
    if not mel:
        raise DataError("no validation windows")
    n = len(mel)
    return Batch(np.stack(mel), np.stack(real),
                 np.zeros((n, config.tracks, config.window_steps), np.float32),
                 np.stack(pos), np.array(bar_len), bars, np.stack(key).astype(np.float64))
