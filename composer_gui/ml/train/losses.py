"""The losses of one training step: the WGAN-GP critic loss and its gradient penalty,
the generator's reconstruction loss, and the parts as the critic sees them (decoded as
generation decodes them, with a straight-through gradient).
"""

from __future__ import annotations

import numpy as np

from composer_gui.ml.model.config import ModelConfig
from composer_gui.ml.train.options import TrainOptions


def critic_loss(critic_train, critic, melody, real, fake, position, generator,
                gp_weight: float = 10.0):
    """(WGAN-GP critic loss, gradient penalty). ``critic_train`` is the critic as trained
    (wrapped in DDP under torchrun), ``critic`` the plain module: the penalty's
    ``autograd.grad`` runs on the plain module, since DDP does not support it; the
    penalty's parameter gradients still pass DDP's reduction hooks in ``backward()``, so
    they are averaged over the ranks with the rest (tests/ml/test_ddp.py checks this)."""
    d_real = critic_train(melody, real, position)
    d_fake = critic_train(melody, fake, position)
    gp = gradient_penalty(critic, melody, real, fake, position, generator)
    loss = d_fake.mean() - d_real.mean() + gp_weight * gp + 1e-3 * (d_real ** 2).mean()
    return loss, gp


def gradient_penalty(critic, melody, real, fake, position, generator):
    """WGAN-GP: (|grad critic(x)| - 1)^2 at random points between real and fake."""
    import torch

    eps = torch.rand(real.shape[0], 1, 1, 1, 1, generator=generator).to(real.device)
    mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
    score = critic(melody, mixed, position)
    (grad,) = torch.autograd.grad(score.sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def as_played(probs, config: ModelConfig, rng: np.random.Generator, opts: TrainOptions,
              position=None):
    """What the critic sees of the generator's output: the parts decoded exactly as
    generation decodes them (drawn pitches, binary), with a straight-through gradient
    (forward: the decoded parts; backward: identity to the probabilities), as in
    BinaryMuseGAN. The critic then judges what a listener would hear, so its scores can
    rank decoded candidates."""
    if not opts.decoded_fakes:
        return probs
    import torch

    from composer_gui.ml.data.encoding import channels
    from composer_gui.ml.generate.decode import decode_part, gate_bars, window_bars

    p = probs.detach().float().cpu().numpy()
    bars = None if position is None else window_bars(position.detach().cpu().numpy(), config)
    codes = np.stack([decode_part(*gated_probs(p[:, r], bars, spec.bar_gate, gate_bars),
                                  spec.voices, rng, 1.0)
                      for r, spec in enumerate(config.roles)], axis=1)
    hard = torch.from_numpy(channels(codes)).to(probs.device)
    return hard + probs - probs.detach()


def gated_probs(part_probs, bars, gate, gate_bars):
    """(frame, onset) of one part's probabilities ``[N, 2, T, P]``, bar-gated as
    generation gates them when the windows' bars are known."""
    if bars is None:
        return part_probs[:, 0], part_probs[:, 1]
    return gate_bars(part_probs[:, 0], part_probs[:, 1], bars, gate)


def reconstruction_loss(logits, real, mask):
    """BCE on the generated (not kept) steps, summed over pitches, averaged elsewhere."""
    import torch.nn.functional as F

    free = (1.0 - mask)[:, :, None, :, None]
    bce = F.binary_cross_entropy_with_logits(logits, real, reduction="none")
    denom = free.sum() * 2 + 1e-6  # (track, step) pairs x 2 channels
    return (bce * free).sum() / denom
