"""What the networks see of the grid: frame and onset channels of the note codes, and
per-step position inputs (numpy only, no torch). The grid and the codes themselves are
the shared song <-> array bridge, :mod:`composer_gui.pianoroll.grid`.
"""

from __future__ import annotations

import numpy as np

from composer_gui.pianoroll.grid import ONSET


def channels(codes: np.ndarray) -> np.ndarray:
    """Codes ``[..., steps, pitches]`` -> float32 ``[..., 2, steps, pitches]``
    (frame, onset)."""
    frame = (codes > 0).astype(np.float32)
    onset = (codes == ONSET).astype(np.float32)
    return np.stack([frame, onset], axis=-3)


def position_features(
    grid_bar_starts: np.ndarray,
    n_steps: int,
    steps_per_beat: int,
    max_bar_steps: int,
    song_steps: int | None = None,
    offset: int = 0,
) -> np.ndarray:
    """Per-step position inputs ``[n_steps, max_bar_steps + steps_per_beat + 3]`` for
    steps ``offset .. offset+n_steps``: step in bar (one-hot), step in beat (one-hot),
    bar start, beat start, and "past the song's end" (padding)."""
    feats = np.zeros((n_steps, max_bar_steps + steps_per_beat + 3), dtype=np.float32)
    steps = np.arange(offset, offset + n_steps)
    idx = np.searchsorted(grid_bar_starts, steps, side="right") - 1
    idx = np.clip(idx, 0, len(grid_bar_starts) - 1)
    in_bar = steps - grid_bar_starts[idx]
    in_bar = np.clip(in_bar, 0, max_bar_steps - 1)
    rows = np.arange(n_steps)
    feats[rows, in_bar] = 1.0
    feats[rows, max_bar_steps + (in_bar % steps_per_beat)] = 1.0
    base = max_bar_steps + steps_per_beat
    feats[:, base] = in_bar == 0
    feats[:, base + 1] = in_bar % steps_per_beat == 0
    if song_steps is not None:
        feats[:, base + 2] = steps >= song_steps
    return feats


def onset_grid_coverage(onset_ticks: np.ndarray, ticks_per_beat: np.ndarray, steps_per_beat: int,
                        tolerance: float = 0.0) -> float:
    """Share of onsets that fall on a grid of ``steps_per_beat`` (within ``tolerance``
    of a step, as a fraction of the step)."""
    if len(onset_ticks) == 0:
        return 1.0
    pos = onset_ticks * steps_per_beat / ticks_per_beat
    return float(np.mean(np.abs(pos - np.round(pos)) <= tolerance + 1e-9))
