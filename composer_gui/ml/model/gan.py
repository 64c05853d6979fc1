"""One GAN run's set-up, shared by the main trainer and the drum part's.

Both networks on the device in training mode, their Adam optimizers with the WGAN-GP
betas, the run's seeded random streams, and the running mean of the step losses that a
``step`` progress record reports.
"""

from __future__ import annotations

import numpy as np


class LossMeans:
    """The losses of the steps since the last ``step`` record, averaged for it."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.count = 0

    def add(self, **losses) -> None:
        """One step's losses (tensors or numbers)."""
        for name, value in losses.items():
            value = value.detach() if hasattr(value, "detach") else value
            self.sums[name] = self.sums.get(name, 0.0) + float(value)
        self.count += 1

    def take(self) -> dict[str, float]:
        """The means since the last call, and start again."""
        means = {k: v / max(1, self.count) for k, v in self.sums.items()}
        self.sums, self.count = {}, 0
        return means


def gan_setup(generator, critic, device, lr: float, seed: int):
    """Both networks on ``device`` in training mode, their Adam optimizers (the WGAN-GP
    betas) and the run's seeded streams: ``(opt_g, opt_d, numpy rng, torch noise
    generator)``. Shared by the main trainer and the drum part's."""
    import torch

    generator.to(device).train()
    critic.to(device).train()
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.9))
    return opt_g, opt_d, np.random.default_rng(seed), torch.Generator().manual_seed(seed)
