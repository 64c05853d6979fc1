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


def keep_best(state: np.ndarray, scores: np.ndarray, samples: int) -> np.ndarray:
    """Per group of ``samples`` consecutive rows (one candidate's samples), the index of
    its best-scoring row; every row of the group is overwritten with that row."""
    groups = scores.reshape(-1, samples)
    best = np.arange(len(groups)) * samples + groups.argmax(axis=1)
    state[:] = np.repeat(state[best], samples, axis=0)
    return best
