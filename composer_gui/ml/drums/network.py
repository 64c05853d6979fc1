"""The drum model's config, conditioning features and networks (imports torch).

Representation: a 16th-note grid (4 steps per quarter, 16 steps per 4/4 bar) over the
9 drum classes of :data:`~composer_gui.ml.data.sources.groove.DRUM_CLASSES`, with three
values per (step, class), as in Magenta's GrooVAE: a hit (0/1), its velocity (0..1) and
its timing offset from the step (-0.5..0.5 steps). The offsets keep Groove's human
timing (swing, push and drag), so generated beats are not machine-quantized.

Conditioning, per step (:func:`condition_features`): the step in the bar (one-hot, 16),
five per-bar flags (fill, first bar of a phrase, bar present, time kept on the ride
rather than the hi-hat, 1), the tempo
(``(bpm - 120) / 40``) and the style (one-hot over :data:`DrumConfig.styles`, Groove's
top-level styles). "Present" is 0 only for the empty bars that pad a short Groove fill
in training; at generation every bar is present.

Generator: per-bar noise + conditioning -> a 1D convolution stack over time (dilated
residual blocks, normalized per step) -> 45 channels per step: for each of the 9 classes
a hit logit and the mean and spread of the velocity and of the timing offset, from which
each hit's velocity and offset are drawn. Being fully convolutional it generates any number of bars in one pass.
Critic: conditioning + (hit, hit * velocity, hit * offset) -> one Wasserstein score per
window.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from composer_gui.ml.data.sources.groove import DRUM_CLASSES
from composer_gui.ml.errors import ModelError

FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
STEPS_PER_BEAT = 4
BAR_STEPS = 16
N_CLASSES = len(DRUM_CLASSES)
#: Groove's top-level styles (info.csv), the style conditioning's vocabulary.
GROOVE_STYLES = (
    "afrobeat", "afrocuban", "blues", "country", "dance", "funk", "gospel", "highlife",
    "hiphop", "jazz", "latin", "middleeastern", "neworleans", "pop", "punk", "reggae",
    "rock", "soul",
)
#: Generator outputs per class: hit, velocity mean and spread, offset mean and spread.
OUT_CHANNELS = 5
#: Per-bar flags in the conditioning (after the step one-hot).
BAR_FLAGS = ("fill", "phrase_start", "present", "ride", "bias")


@dataclass
class DrumConfig:
    """Everything needed to rebuild and feed a drum model (saved as ``config.json``)."""

    styles: list[str] = field(default_factory=lambda: list(GROOVE_STYLES))
    #: (name, GM pitch written) of each drum class, in the order of the network's rows.
    classes: list[list[Any]] = field(
        default_factory=lambda: [[name, pitch] for name, pitch, _ in DRUM_CLASSES]
    )
    steps_per_beat: int = STEPS_PER_BEAT
    bar_steps: int = BAR_STEPS
    bars_per_window: int = 4
    #: Phrase length used for the bar-position labels of the training data.
    train_phrase_bars: int = 4
    noise_dim: int = 16
    gen_width: int = 64
    gen_blocks: int = 6
    critic_width: int = 32
    critic_blocks: int = 4
    #: Hit draws: the chance that a bar reuses its phrase's uniform number for a (step,
    #: drum) cell rather than a fresh one; 1 repeats a pattern exactly wherever the
    #: probabilities repeat (see :meth:`composer_gui.ml.drums.part.DrumModel.generate`).
    pattern_repeat: float = 0.9
    #: Per style (and "*" for all): the share of the training data's 4-bar stretches that
    #: keep time on the ride rather than the hi-hat; generation draws the ride flag of
    #: each phrase with this chance (filled by training).
    ride_rates: dict[str, float] = field(default_factory=dict)
    #: Where the weights came from (filled by training).
    training: dict[str, Any] = field(default_factory=dict)
    version: int = FORMAT_VERSION

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def cond_features(self) -> int:
        return self.bar_steps + len(BAR_FLAGS) + 1 + len(self.styles)

    @property
    def window_steps(self) -> int:
        return self.bars_per_window * self.bar_steps

    def ride_rate(self, style: str) -> float:
        """The chance that a phrase of ``style`` keeps time on the ride."""
        key = style.strip().lower().split("/")[0]
        return float(self.ride_rates.get(key, self.ride_rates.get("*", 0.0)))

    def style_index(self, style: str) -> int:
        """The index of a style name (a Groove style, or "jazz/funk"-like paths)."""
        key = style.strip().lower().split("/")[0]
        if key not in self.styles:
            from composer_gui.ml.drums.errors import DrumStyleError

            raise DrumStyleError(
                f"drums: unknown style {style!r} (known: {', '.join(self.styles)})"
            )
        return self.styles.index(key)

    # ----- persistence -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str = "config") -> DrumConfig:
        if not isinstance(data, dict):
            raise ModelError(f"{where}: not a JSON object")
        if data.get("version") != FORMAT_VERSION:
            raise ModelError(f"{where}: drum model format version {data.get('version')!r}, "
                             f"this program reads version {FORMAT_VERSION}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ModelError(f"{where}: unknown keys {', '.join(unknown)}")
        try:
            config = cls(**data)
        except TypeError as exc:
            raise ModelError(f"{where}: malformed drum config ({exc})") from exc
        config.validate(where)
        return config

    def validate(self, where: str = "config") -> None:
        """Raise ModelError when the values cannot describe a drum model."""
        problems = []
        ints = ("steps_per_beat", "bar_steps", "bars_per_window", "train_phrase_bars",
                "noise_dim", "gen_width", "gen_blocks", "critic_width", "critic_blocks")
        for name in ints:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(f"{name} must be a positive integer, not {value!r}")
        for name in ("gen_width", "critic_width"):
            value = getattr(self, name)
            if isinstance(value, int) and value % 8:
                problems.append(f"{name} must be a multiple of 8, not {value}")
        if not isinstance(self.styles, list) or not self.styles or not all(
            isinstance(s, str) and s for s in self.styles
        ):
            problems.append("styles must be a non-empty list of names")
        ok_classes = isinstance(self.classes, list) and bool(self.classes) and all(
            isinstance(c, list) and len(c) == 2 and isinstance(c[0], str)
            and isinstance(c[1], int) and 0 <= c[1] <= 127
            for c in self.classes
        )
        if not ok_classes:
            problems.append("classes must be [name, GM pitch 0-127] pairs")
        if self.steps_per_beat != STEPS_PER_BEAT or self.bar_steps != BAR_STEPS:
            problems.append(f"grid must be {STEPS_PER_BEAT} steps per beat, {BAR_STEPS} per bar")
        if not (isinstance(self.pattern_repeat, (int, float))
                and 0.0 <= self.pattern_repeat <= 1.0):
            problems.append(f"pattern_repeat must lie in 0..1, not {self.pattern_repeat!r}")
        if not isinstance(self.ride_rates, dict) or not all(
            isinstance(v, (int, float)) and 0.0 <= v <= 1.0 for v in self.ride_rates.values()
        ):
            problems.append("ride_rates must map style names to shares in 0..1")
        if not isinstance(self.training, dict):
            problems.append("training must be an object")
        if problems:
            raise ModelError(f"{where}: " + "; ".join(problems))

    def save(self, folder: Path) -> Path:
        from composer_gui.ml.model.checkpoint import _atomic_write_bytes

        path = Path(folder) / CONFIG_NAME
        _atomic_write_bytes(path, (json.dumps(self.to_dict(), indent=2) + "\n").encode())
        return path

    @classmethod
    def load(cls, folder: Path) -> DrumConfig:
        folder = Path(folder)
        if not folder.is_dir():
            raise ModelError(f"{folder}: drum model folder not found")
        from composer_gui.ml.model.config import read_config_json

        path = folder / CONFIG_NAME
        return cls.from_dict(read_config_json(path), str(path))


# ----- conditioning ------------------------------------------------------------------------
def condition_features(config: DrumConfig, fill: np.ndarray, phrase_start: np.ndarray,
                       present: np.ndarray, bpm: np.ndarray, style: np.ndarray,
                       ride: np.ndarray | None = None) -> np.ndarray:
    """Per-step conditioning ``[B, T, F]`` (float32) from per-bar labels, each ``[B, bars]``
    (``bpm`` and ``style`` may also be ``[B]``: one value for the whole window; ``ride``
    defaults to the hi-hat everywhere)."""
    fill = np.atleast_2d(np.asarray(fill, dtype=np.float32))
    b, bars = fill.shape
    steps = config.bar_steps

    def per_bar(x, dtype):
        x = np.asarray(x, dtype=dtype)
        return np.broadcast_to(x[:, None] if x.ndim == 1 else x, (b, bars))

    out = np.zeros((b, bars, steps, config.cond_features), dtype=np.float32)
    out[:, :, np.arange(steps), np.arange(steps)] = 1.0
    ride = np.zeros((b, bars), np.float32) if ride is None else per_bar(ride, np.float32)
    flags = np.stack([fill, per_bar(phrase_start, np.float32), per_bar(present, np.float32),
                      ride, np.ones((b, bars), np.float32)], axis=-1)
    out[:, :, :, steps:steps + len(BAR_FLAGS)] = flags[:, :, None, :]
    out[:, :, :, steps + len(BAR_FLAGS)] = ((per_bar(bpm, np.float32) - 120.0) / 40.0)[:, :, None]
    styles = per_bar(style, np.int64)
    base = steps + len(BAR_FLAGS) + 1
    bi, ri = np.meshgrid(np.arange(b), np.arange(bars), indexing="ij")
    known = styles >= 0  # -1: no style (training hides it now and then)
    out[bi[known], ri[known], :, base + styles[known]] = 1.0
    # the "present" flag also gates the step one-hot, so padding reads as no bar at all
    out[:, :, :, :steps] *= per_bar(present, np.float32)[:, :, None, None]
    return out.reshape(b, bars * steps, config.cond_features)


def bar_noise(config: DrumConfig, batch: int, bars: int, generator: torch.Generator,
              ) -> torch.Tensor:
    """Noise ``[B, T, N]``: one draw per bar, held for the bar's steps (CPU generator)."""
    draws = torch.randn(batch, bars, 1, config.noise_dim, generator=generator)
    return draws.expand(batch, bars, config.bar_steps, config.noise_dim).reshape(
        batch, bars * config.bar_steps, config.noise_dim)


# ----- networks ---------------------------------------------------------------------------
#: Receptive field of 6 blocks: +-(1+2+4+8+16+1) = +-32 steps, two bars each side.
GEN_DILATIONS = (1, 2, 4, 8, 16, 1, 2, 4)
CRITIC_DILATIONS = (1, 2, 4, 8, 16, 1)


class _StepNorm(nn.Module):
    """Layer norm over the channels of each step: unlike GroupNorm over the whole window
    it keeps the generator local, so a bar's output depends only on the bars within the
    receptive field (partial regeneration gives the same bars as a whole-song pass)."""

    def __init__(self, width: int):
        super().__init__()
        self.norm = nn.LayerNorm(width)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.norm(h.transpose(1, 2)).transpose(1, 2)


class _Block(nn.Module):
    def __init__(self, width: int, dilation: int):
        super().__init__()
        self.norm = _StepNorm(width)
        self.conv = nn.Conv1d(width, width, 3, padding=dilation, dilation=dilation)
        self.mix = nn.Conv1d(width, width, 1)
        self.act = nn.GELU()

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.mix(self.act(self.conv(self.act(self.norm(h)))))


class DrumGenerator(nn.Module):
    """(conditioning ``[B, T, F]``, noise ``[B, T, N]``) -> ``[B, 5, T, C]``: hit logits,
    velocity mean and spread, offset mean and spread, raw (see :func:`decode_outputs`)."""

    def __init__(self, config: DrumConfig):
        super().__init__()
        self.config = config
        width = config.gen_width
        self.inp = nn.Conv1d(config.cond_features + config.noise_dim, width, 1)
        self.blocks = nn.ModuleList(
            _Block(width, GEN_DILATIONS[i % len(GEN_DILATIONS)]) for i in range(config.gen_blocks)
        )
        self.out_norm = _StepNorm(width)
        self.out = nn.Conv1d(width, OUT_CHANNELS * config.n_classes, 1)
        with torch.no_grad():  # start sparse (about one class in eight hits per step)
            self.out.bias[: config.n_classes] = -2.0

    def forward(self, cond: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        b, t, _ = cond.shape
        h = self.inp(torch.cat([cond, noise], dim=2).transpose(1, 2))
        for block in self.blocks:
            h = block(h)
        out = self.out(nn.functional.gelu(self.out_norm(h)))
        return out.reshape(b, OUT_CHANNELS, self.config.n_classes, t).transpose(2, 3)


class DrumCritic(nn.Module):
    """(conditioning, drums ``[B, 3, T, C]`` as hit, hit*velocity, hit*offset) -> score."""

    def __init__(self, config: DrumConfig):
        super().__init__()
        self.config = config
        width = config.critic_width
        self.inp = nn.Conv1d(config.cond_features + 3 * config.n_classes, width, 1)
        layers: list[nn.Module] = []
        for i in range(config.critic_blocks):
            d = CRITIC_DILATIONS[i % len(CRITIC_DILATIONS)]
            layers += [nn.LeakyReLU(0.2), nn.Conv1d(width, width, 3, padding=d, dilation=d)]
        self.body = nn.Sequential(*layers)
        self.down = nn.Sequential(
            nn.LeakyReLU(0.2), nn.Conv1d(width, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2), nn.Conv1d(width, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
        )
        self.head = nn.Linear(width, 1)

    def forward(self, cond: torch.Tensor, drums: torch.Tensor) -> torch.Tensor:
        b, _, t, c = drums.shape
        x = torch.cat([cond.transpose(1, 2), drums.permute(0, 1, 3, 2).reshape(b, 3 * c, t)], 1)
        h = self.inp(x)
        h = h + self.body(h)
        return self.head(self.down(h).mean(dim=2)).squeeze(1)


def context_bars(config: DrumConfig) -> int:
    """Bars each side of a bar that the generator's output there depends on."""
    reach = sum(GEN_DILATIONS[i % len(GEN_DILATIONS)] for i in range(config.gen_blocks))
    return -(-reach // config.bar_steps)


def build_drum_models(config: DrumConfig) -> tuple[DrumGenerator, DrumCritic]:
    return DrumGenerator(config), DrumCritic(config)


def decode_outputs(raw: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Generator output -> (hit probabilities, velocity mean and spread (0..1), offset
    mean and spread (steps)); each ``[B, T, C]``. Velocity and timing are drawn per hit
    from these Gaussians: a mean alone would lose the human spread of Groove's timing."""
    vel_sd = 0.01 + nn.functional.softplus(raw[:, 2] - 2.0)
    off_sd = 0.01 + nn.functional.softplus(raw[:, 4] - 2.0)
    return (torch.sigmoid(raw[:, 0]), torch.sigmoid(raw[:, 1]), vel_sd,
            0.5 * torch.tanh(raw[:, 3]), off_sd)


def sample_drums(raw: torch.Tensor, uniform: torch.Tensor, eps: torch.Tensor,
                 shift: float = 0.0, straight_through: bool = False,
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Draw (hits 0/1, velocity 0..1, offset -0.5..0.5) from generator output with given
    random numbers: ``uniform`` ``[B, T, C]`` for hits (a hit where ``u < p``; ``shift``
    moves the logits: the density control), ``eps`` ``[B, 2, T, C]`` standard normal for
    velocity and offset. ``straight_through``: hits pass the probabilities' gradient."""
    probs, vel_mu, vel_sd, off_mu, off_sd = decode_outputs(raw)
    uniform, eps = uniform.to(raw.device), eps.to(raw.device)  # drawn on the CPU, seeded
    if shift:
        probs = torch.sigmoid(raw[:, 0] + shift)
    hits = (uniform < probs).to(probs.dtype)
    if straight_through:
        hits = hits + probs - probs.detach()
    vel = (vel_mu + vel_sd * eps[:, 0]).clamp(0.0, 1.0)
    off = (off_mu + off_sd * eps[:, 1]).clamp(-0.5, 0.5)
    return hits, vel, off


def critic_input(hits: torch.Tensor, velocity: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """``[B, 3, T, C]``: what the critic sees (velocity and offset only where hits are)."""
    return torch.stack([hits, hits * velocity, hits * offset], dim=1)


# ----- the weights file ---------------------------------------------------------------
def save_drum_model(folder: Path, config, generator, critic, step: int = 0) -> None:
    """Write ``config.json`` and ``model.safetensors`` (both networks) atomically."""
    from composer_gui.ml.model import checkpoint as ck

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config.save(folder)
    ck._save_tensors(folder / WEIGHTS_NAME, ck._net_tensors(generator, critic),
                     {"format": "composer-gui-drums", "version": str(config.version),
                      "step": str(step)})


def load_drum_networks(folder: Path, device: Any = "cpu"):
    """(config, generator, critic) of a drum model folder, in eval mode; ModelError
    naming the problem for a missing folder or file, corrupt JSON or weights, or
    weights that do not fit the config."""
    from composer_gui.ml.model import checkpoint as ck

    folder = Path(folder)
    config = DrumConfig.load(folder)
    tensors, meta = ck._load_tensors(folder / WEIGHTS_NAME)
    if meta.get("format", "composer-gui-drums") != "composer-gui-drums":
        raise ModelError(f"{folder / WEIGHTS_NAME}: not a drum model ({meta.get('format')})")
    generator, critic = build_drum_models(config)
    ck._load_net(generator, "generator", tensors, folder / WEIGHTS_NAME)
    ck._load_net(critic, "critic", tensors, folder / WEIGHTS_NAME)
    return config, generator.to(device).eval(), critic.to(device).eval()
