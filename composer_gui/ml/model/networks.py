"""The generator and the critic ("the conductor").

Both are 1D convolutional networks over time: each time step is one vector holding every
pitch of every part (pitch and part are channels). On two CPU cores this is an order of
magnitude cheaper than MuseGAN's 3D (transposed) convolutions for the same window, and a
stack of dilated convolutions still sees a whole window (receptive field > 64 steps).

Generator inputs, for a window of ``T`` steps:

* ``melody``   ``[B, 2, T, P]``: frame and onset channels of the melody,
* ``context``  ``[B, R, 2, T, P]``: accompaniment to keep (zero where not kept),
* ``mask``     ``[B, R, T]``: 1 where the part's notes at that step are kept,
* ``position`` ``[B, T, F]``: bar / beat position features (see ``roll.position_features``),
* ``noise``    ``[B, T, N]``: noise, constant within a bar (one draw per bar).

Output: logits ``[B, R, 2, T, P]`` (frame, onset) for every part; kept steps are
overwritten with the context by the caller (``compose``).

The critic scores ``(melody, accompaniment, position)`` windows: higher means "more like
the training data". It is a Wasserstein critic (no sigmoid, no batch norm), trained
with a gradient penalty.
"""

from __future__ import annotations

import torch
from torch import nn

from composer_gui.ml.model.config import ModelConfig

DILATIONS = (1, 2, 4, 8, 16, 1, 2, 4, 8, 16)


class _GenBlock(nn.Module):
    def __init__(self, width: int, dilation: int):
        super().__init__()
        self.norm = nn.GroupNorm(8, width)
        self.conv = nn.Conv1d(width, width, 3, padding=dilation, dilation=dilation)
        self.mix = nn.Conv1d(width, width, 1)
        self.act = nn.GELU()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        y = self.conv(self.act(self.norm(h)))
        return h + self.mix(self.act(y))


class Generator(nn.Module):
    """Melody + noise + kept context -> accompaniment logits."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        p, r = config.pitches, config.tracks
        in_ch = 2 * p + r * 2 * p + r + config.position_features + config.noise_dim
        width = config.gen_width
        self.inp = nn.Conv1d(in_ch, width, 1)
        self.blocks = nn.ModuleList(
            _GenBlock(width, DILATIONS[i % len(DILATIONS)]) for i in range(config.gen_blocks)
        )
        self.out_norm = nn.GroupNorm(8, width)
        self.out = nn.Conv1d(width, r * 2 * p, 1)
        # start from the data's sparsity (about one pitch in fifty sounds): the first
        # steps then learn notes instead of silence
        nn.init.constant_(self.out.bias, -4.0)

    def forward(self, melody, context, mask, position, noise):
        b, _, t, p = melody.shape
        r = self.config.tracks
        x = torch.cat(
            [
                melody.permute(0, 1, 3, 2).reshape(b, 2 * p, t),
                (context * mask[:, :, None, :, None]).permute(0, 1, 2, 4, 3).reshape(b, r * 2 * p, t),
                mask,
                position.transpose(1, 2),
                noise.transpose(1, 2),
            ],
            dim=1,
        )
        h = self.inp(x)
        for block in self.blocks:
            h = block(h)
        out = self.out(torch.nn.functional.gelu(self.out_norm(h)))
        return out.reshape(b, r, 2, p, t).permute(0, 1, 2, 4, 3)


class Critic(nn.Module):
    """(melody, accompaniment, position) -> one score per window (Wasserstein critic)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        p, r = config.pitches, config.tracks
        in_ch = 2 * p + r * 2 * p + config.position_features
        width = config.critic_width
        self.inp = nn.Conv1d(in_ch, width, 1)
        layers: list[nn.Module] = []
        for i in range(config.critic_blocks):
            layers += [
                nn.LeakyReLU(0.2),
                nn.Conv1d(width, width, 3, padding=DILATIONS[i], dilation=DILATIONS[i]),
            ]
        self.body = nn.Sequential(*layers)
        # downsample twice (x4) so the head sees beat-sized summaries
        self.down = nn.Sequential(
            nn.LeakyReLU(0.2),
            nn.Conv1d(width, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv1d(width, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
        )
        self.head = nn.Linear(width, 1)

    def forward(self, melody, accompaniment, position):
        b, _, t, p = melody.shape
        r = self.config.tracks
        x = torch.cat(
            [
                melody.permute(0, 1, 3, 2).reshape(b, 2 * p, t),
                accompaniment.permute(0, 1, 2, 4, 3).reshape(b, r * 2 * p, t),
                position.transpose(1, 2),
            ],
            dim=1,
        )
        h = self.inp(x)
        h = h + self.body(h)
        h = self.down(h)
        return self.head(h.mean(dim=2)).squeeze(1)


def build_models(config: ModelConfig) -> tuple[Generator, Critic]:
    """Fresh networks for a config."""
    return Generator(config), Critic(config)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def bar_noise(position: torch.Tensor, config: ModelConfig, generator: torch.Generator | None,
              scale: float = 1.0) -> torch.Tensor:
    """Noise ``[B, T, N]``, one draw per bar (bars found from the bar-start feature),
    drawn on the CPU from ``generator`` so results do not depend on the device."""
    b, t, _ = position.shape
    bar_flag = position[:, :, config.max_bar_steps + config.steps_per_beat].detach().cpu()
    bar_id = (torch.cumsum(bar_flag, dim=1) - 1).clamp(min=0).long()
    draws = torch.randn(b, t, config.noise_dim, generator=generator) * scale
    noise = torch.gather(draws, 1, bar_id[:, :, None].expand(b, t, config.noise_dim))
    return noise.to(position.device)
