"""The conductor at generation time: guided sampling, window by window.

With guidance ``G`` > 1 every candidate is sampled ``G`` times in each window (the
generator's noise differs; the decoder is the same), the conductor
(:mod:`composer_gui.ml.model.conductor`, or the GAN critic for a model without one)
scores each sample on the bars decided so far, ending with the window's committed bars,
and the best of the ``G`` goes on: all ``G`` rows of the candidate continue from it into
the next window. This is a greedy form of sequential Monte Carlo with the conductor as
the potential (in the spirit of discriminator rejection sampling, Azadi et al. 2019,
applied per window so the conductor can steer a whole song bar by bar, not only pick
among finished candidates). ``off`` (G = 1) is the plain network with the same decoding.
"""

from __future__ import annotations

import numpy as np

#: Samples per candidate and window at each guidance level.
GUIDANCE = {"off": 1, "light": 4, "strong": 16}
DEFAULT_GUIDANCE = "light"


def guidance_samples(level: str | int | None) -> int:
    """``G`` for a level name (or a number of samples); None is the default level."""
    if level is None:
        return GUIDANCE[DEFAULT_GUIDANCE]
    if isinstance(level, int):
        return max(1, level)
    try:
        return GUIDANCE[level]
    except KeyError:
        raise ValueError(f"guidance must be one of {', '.join(GUIDANCE)}, got {level!r}") from None


def scored_windows(composer, grid, mel_codes: np.ndarray, state: np.ndarray,
                   end: int) -> np.ndarray:
    """The judge's logit per row of ``state`` ``[N, R, S, P]`` for the window ending at
    step ``end`` (starting at ``end - window``, or at 0)."""
    import torch

    from composer_gui.ml.data.encoding import channels

    config, device = composer.config, composer.device
    start = max(0, end - config.window_steps)
    ones = np.ones((config.tracks, grid.n_steps), np.float32)
    mel, ctx, _, pos = composer._window_inputs(grid, mel_codes, state, ones, start)
    n = state.shape[0]
    ctx[:, :, end - start:] = 0  # undecided steps stay silent, as in a song's last window
    mel_t = torch.from_numpy(channels(mel)).to(device)[None].expand(n, -1, -1, -1)
    pos_t = torch.from_numpy(pos).to(device)[None].expand(n, -1, -1)
    acc = torch.from_numpy(channels(ctx)).to(device)
    return composer.judge(mel_t, acc, pos_t).cpu().numpy().reshape(-1)


def keep_best(state: np.ndarray, scores: np.ndarray, samples: int) -> np.ndarray:
    """Per group of ``samples`` consecutive rows (one candidate's samples), the index of
    its best-scoring row; every row of the group is overwritten with that row."""
    groups = scores.reshape(-1, samples)
    best = np.arange(len(groups)) * samples + groups.argmax(axis=1)
    state[:] = np.repeat(state[best], samples, axis=0)
    return best
