"""The drum part of the pop style: a conditional GAN trained on Groove beats.

Groove (``../shared/datasets/groove``) holds human drumming without melodies, so the
drums are a model of their own, conditioned on what a song tells a drummer: the tempo,
the style, where a bar sits in its phrase, and whether the bar is a fill. The networks,
features, config and weights files live in :mod:`composer_gui.ml.drums.network`; this
module has the training loop (:func:`train_drums`); the drums as generation plays them
(:class:`~composer_gui.ml.drums.part.DrumModel`) are in :mod:`composer_gui.ml.drums.part`
and the evaluation against Groove's validation split in :mod:`composer_gui.ml.drums.evaluate`.

A drum model folder (the pop model keeps it as ``composer_gui/assets/models/pop/drums/``) holds
``config.json`` (a :class:`~composer_gui.ml.drums.network.DrumConfig`) and
``model.safetensors`` (``generator.*`` and ``critic.*`` tensors), plus while training
``training_state.safetensors`` / ``.json`` for ``resume`` (the files of
:mod:`composer_gui.ml.model.checkpoint`, written atomically).

Training objective (as :mod:`composer_gui.ml.train.loop`): a WGAN-GP critic judges
(conditioning, drums) windows, the drums decoded as generation decodes them (hits drawn
from the probabilities, straight-through gradient); the generator minimises
``rec_weight * rec + adv_weight * (-critic(fake))``, ``rec`` being the hit BCE (summed
over classes) plus the Gaussian NLL of the velocity and timing offset at the real hits,
taken for the best of ``rec_best_of`` drafts (different noise) of each window, so that
the noise picks a way of playing rather than the generator averaging them. Critic and
generator steps alternate (``critic_steps`` critic steps per generator step).

Records yielded by :func:`train_drums` (dicts, ``kind`` first), as ``ml.train.loop.train``:

* ``data``       done, total, file (one per Groove file read)
* ``start``      step, steps, device, train_songs, validation_songs, parameters
* ``step``       step, g_loss, d_loss, gp, rec, adv, seconds (every ``log_every`` steps)
* ``validation`` step, val_bce, critic_gap, notes_per_bar, kick_share, snare_share,
  hihat_share (generated on fixed validation windows), and the same of the real windows
  as ``data_notes_per_bar`` ...
* ``checkpoint`` step, path, reason
* ``done``       step, seconds, reason ("steps", "minutes")
"""

from __future__ import annotations

import math
import shlex
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from composer_gui.ml.drums.data import (
    Sampler,
    fixed_windows,
    groove_folder,
    load_drum_songs,
    ride_rates,
)
from composer_gui.ml.errors import DataError, ModelError

#: The step count of the shipped drum weights (composer_gui/assets/models/pop/drums), trained with the
#: default options: about 7.5 minutes of CPU time on one thread of the 2-core development
#: machines (docs/drums_report.md).
DRUM_TRAIN_STEPS = 2000
STATE_TENSORS = "training_state.safetensors"
STATE_JSON = "training_state.json"


# ----- training --------------------------------------------------------------------------
@dataclass
class DrumTrainOptions:
    """How to train a drum model (``steps`` and/or ``minutes`` end the run)."""

    data_dir: Path
    out_dir: Path
    steps: int | None = None
    minutes: float | None = None
    seed: int = 0
    batch_size: int = 32
    lr: float = 3e-4
    critic_steps: int = 1
    device: str = "auto"
    resume: bool = False
    save_every_s: float = 60.0
    validate_every: int = 250
    log_every: int = 10
    rec_weight: float = 1.0
    #: The reconstruction term scores the best of this many drafts (different noise) of
    #: each window, so the noise chooses between ways of playing (ride or hi-hat ...)
    #: instead of the generator averaging them (it costs about 3x the CPU time of 1:
    #: plain reconstruction).
    rec_best_of: int = 4
    adv_weight: float = 0.1
    gp_weight: float = 10.0
    #: Share of training windows drawn from Groove's fill performances.
    fill_share: float = 0.5
    #: Tempo jitter (fraction) and share of windows without a style: see
    #: :meth:`composer_gui.ml.drums.data.Sampler.batch`.
    bpm_jitter: float = 0.1
    style_dropout: float = 0.2
    command: str = field(default_factory=lambda: shlex.join(["composer-gui", *sys.argv[1:]]))
    #: DrumConfig fields to change from the defaults (network sizes ...).
    config_overrides: dict = field(default_factory=dict)


def _gradient_penalty(critic, cond, real, fake, generator):
    import torch

    eps = torch.rand(real.shape[0], 1, 1, 1, generator=generator).to(real.device)
    mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(cond, mixed).sum(), mixed, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def _played(raw, generator, straight_through: bool, config):
    """The generator's output as the critic sees it: hits, velocities and offsets drawn
    as generation draws them (straight-through hit gradient when training G): one set
    of hit draws per window (a training window stands for a phrase), each cell of which
    a bar reuses with probability ``config.pattern_repeat``."""
    import torch

    from composer_gui.ml.drums.network import critic_input, sample_drums

    b, _, t, c = raw.shape
    shape = (b, t // config.bar_steps, config.bar_steps, c)
    phrase = torch.rand((b, 1, config.bar_steps, c), generator=generator).expand(shape)
    fresh = torch.rand(shape, generator=generator)
    keep = torch.rand(shape, generator=generator) < config.pattern_repeat
    u = torch.where(keep, phrase, fresh).reshape(b, t, c).to(raw.device)
    eps = torch.randn((b, 2, t, c), generator=generator).to(raw.device)
    return critic_input(*sample_drums(raw, u, eps, straight_through=straight_through))


def _gauss_nll(x, mu, sd):
    import torch

    return 0.5 * ((x - mu) / sd) ** 2 + torch.log(sd)


def reconstruction_loss(raw, real, per_window: bool = False):
    """Hit BCE (summed over classes, mean over steps) + the Gaussian negative
    log-likelihoods of the real velocities and offsets at the real hits (same sums);
    the mean over the batch, or one value per window."""
    import torch.nn.functional as F

    from composer_gui.ml.drums.network import decode_outputs

    hits = real[:, 0]
    bce = F.binary_cross_entropy_with_logits(raw[:, 0], hits, reduction="none").sum(-1)
    _, vel_mu, vel_sd, off_mu, off_sd = decode_outputs(raw)
    nll = _gauss_nll(real[:, 1], vel_mu, vel_sd) + _gauss_nll(real[:, 2], off_mu, off_sd)
    loss = (bce + 0.1 * (nll * hits).sum(-1)).mean(-1)
    return loss if per_window else loss.mean()


def _shares(hits: np.ndarray, bars: float) -> dict[str, float]:
    """Notes per bar and kick/snare/hi-hat shares of class hits ``[..., C]``."""
    total = float(hits.sum())
    per_class = hits.reshape(-1, hits.shape[-1]).sum(0)
    def share(k):
        return (float(per_class[k].sum() / total) if total else float("nan"))
    return {"notes_per_bar": total / max(bars, 1.0), "kick_share": share([0]),
            "snare_share": share([1]), "hihat_share": share([2, 3])}


def validate_drums(generator, critic, config, windows, device, seed: int = 1234) -> dict:
    """Hit BCE and critic gap on fixed windows, and the generated vs real notes per bar
    and kick / snare / hi-hat shares there."""
    import torch

    from composer_gui.ml.drums.network import bar_noise

    real_np, cond_np = windows
    gen = torch.Generator().manual_seed(seed)
    generator.eval()
    critic.eval()
    bce = gap = 0.0
    fake_hits = []
    with torch.no_grad():
        for lo in range(0, len(real_np), 64):
            real = torch.from_numpy(real_np[lo:lo + 64]).to(device)
            cond = torch.from_numpy(cond_np[lo:lo + 64]).to(device)
            raw = generator(cond, bar_noise(config, len(real), config.bars_per_window, gen)
                            .to(device))
            bce += float(reconstruction_loss(raw, real)) * len(real)
            fake = _played(raw, gen, False, config)
            gap += float((critic(cond, real) - critic(cond, fake)).sum())
            fake_hits.append(fake[:, 0].cpu().numpy())
    generator.train()
    critic.train()
    n = len(real_np)
    present_bars = float(cond_np[:, :, config.bar_steps + 2].sum()) / config.bar_steps
    out = {"val_bce": bce / n, "critic_gap": gap / n}
    out.update(_shares(np.concatenate(fake_hits), present_bars))
    out.update({f"data_{k}": v for k, v in _shares(real_np[:, 0], present_bars).items()})
    return out


def _initial_config(opts: DrumTrainOptions):
    from composer_gui.ml.drums.network import DrumConfig
    from composer_gui.ml.model.config import apply_overrides

    return apply_overrides(DrumConfig(), opts.config_overrides, "drum config")


def train_drums(opts: DrumTrainOptions) -> Iterator[dict]:
    """Train (or resume) a drum model on Groove's train split; yields progress records
    (module docstring). Seeded: the same options give the same weights on one device."""
    import torch

    from composer_gui.ml.device import device_label, resolve_device
    from composer_gui.ml.drums.network import (
        DrumConfig,
        bar_noise,
        build_drum_models,
        save_drum_model,
    )
    from composer_gui.ml.model import checkpoint as ck
    from composer_gui.ml.model.gan import LossMeans, gan_setup

    if opts.steps is None and opts.minutes is None:
        raise DataError("give --steps or --minutes (or both)")
    out = Path(opts.out_dir)
    device = resolve_device(opts.device)
    if opts.resume:
        info_path = out / STATE_JSON
        if not info_path.is_file():
            raise ModelError(f"{out}: nothing to resume (no {STATE_JSON})")
        import json

        try:
            config = DrumConfig.from_dict(json.loads(info_path.read_text("utf-8"))["config"],
                                          str(info_path))
        except (ValueError, KeyError) as exc:
            raise ModelError(f"{info_path}: cannot read the saved config ({exc})") from exc
    else:
        if (out / STATE_JSON).exists():
            raise ModelError(f"{out} already holds a drum training run: resume it, or use "
                             "another folder")
        config = _initial_config(opts)
    songs = yield from load_drum_songs(opts.data_dir, config, ("train", "validation"))
    if not songs["train"]:
        raise DataError(f"{groove_folder(opts.data_dir)}: no Groove performance in the train "
                        "split that the drum model can use")
    sampler = Sampler(songs["train"], config, opts.fill_share, opts.bpm_jitter,
                      opts.style_dropout)
    if not opts.resume:
        config.ride_rates = ride_rates(songs["train"], config.styles)
    val_windows = fixed_windows(config, songs["validation"] or songs["train"][-2:])

    torch.manual_seed(opts.seed)
    generator, critic = build_drum_models(config)
    opt_g, opt_d, rng, noise_gen = gan_setup(generator, critic, device, opts.lr, opts.seed)
    step, elapsed_before, history = 0, 0.0, []
    training = {
        "data": str(groove_folder(opts.data_dir)), "command": opts.command, "seed": opts.seed,
        "batch_size": opts.batch_size, "lr": opts.lr, "critic_steps": opts.critic_steps,
        "rec_weight": opts.rec_weight, "rec_best_of": opts.rec_best_of,
        "adv_weight": opts.adv_weight,
        "fill_share": opts.fill_share, "bpm_jitter": opts.bpm_jitter,
        "style_dropout": opts.style_dropout, "train_songs": len(songs["train"]),
        "validation_songs": len(songs["validation"]),
    }
    if opts.resume:
        info, torch_rng = ck.load_training_state(out, generator, critic, opt_g, opt_d)
        step = int(info["step"])
        elapsed_before = float(info.get("elapsed_s", 0.0))
        history = info.get("history", [])
        rng.bit_generator.state = info["numpy_rng"]
        if torch_rng is not None:
            noise_gen.set_state(torch_rng)
        training = info.get("training", training)
    n_params = sum(p.numel() for m in (generator, critic) for p in m.parameters())
    yield {"kind": "start", "step": step, "steps": opts.steps, "device": device_label(device),
           "train_songs": len(songs["train"]), "validation_songs": len(songs["validation"]),
           "parameters": n_params}
    t0 = time.monotonic()
    last_save = t0

    def save(reason: str) -> dict:
        import json

        from composer_gui.ml.drums.network import WEIGHTS_NAME

        elapsed = round(elapsed_before + time.monotonic() - t0, 1)
        config.training = dict(training, steps=step, device=device_label(device),
                               elapsed_s=elapsed)
        save_drum_model(out, config, generator, critic, step)
        tensors = ck._net_tensors(generator, critic)
        t_g, s_g = ck._flatten_optimizer("opt_g", opt_g)
        t_d, s_d = ck._flatten_optimizer("opt_d", opt_d)
        tensors.update(t_g)
        tensors.update(t_d)
        tensors["rng.torch"] = noise_gen.get_state()
        ck._save_tensors(out / STATE_TENSORS, tensors, {"step": str(step)})
        record = {"step": step, "seed": opts.seed, "elapsed_s": elapsed,
                  "numpy_rng": rng.bit_generator.state, "history": history[-200:],
                  "training": config.training, "opt_g": s_g, "opt_d": s_d,
                  "config": config.to_dict(), "weights": WEIGHTS_NAME}
        ck._atomic_write_bytes(out / STATE_JSON, json.dumps(record, indent=1).encode())
        return {"kind": "checkpoint", "step": step, "path": str(out), "reason": reason}

    def finished() -> str | None:
        if opts.steps is not None and step >= opts.steps:
            return "steps"
        if opts.minutes is not None and time.monotonic() - t0 >= opts.minutes * 60:
            return "minutes"
        return None

    def batch():
        real, cond = sampler.batch(rng, opts.batch_size)
        return torch.from_numpy(real).to(device), torch.from_numpy(cond).to(device)

    def noise(n):
        return bar_noise(config, n, config.bars_per_window, noise_gen).to(device)

    def validation() -> dict:
        values = validate_drums(generator, critic, config, val_windows, device)
        history.append({"step": step, **{k: round(v, 5) for k, v in values.items()}})
        return {"kind": "validation", "step": step, **values}

    losses = LossMeans()
    try:
        while (reason := finished()) is None:
            for _ in range(opts.critic_steps):
                real, cond = batch()
                with torch.no_grad():
                    fake = _played(generator(cond, noise(len(real))), noise_gen, False, config)
                d_real = critic(cond, real)
                d_fake = critic(cond, fake)
                gp = _gradient_penalty(critic, cond, real, fake, noise_gen)
                d_loss = (d_fake.mean() - d_real.mean() + opts.gp_weight * gp
                          + 1e-3 * (d_real ** 2).mean())
                opt_d.zero_grad(set_to_none=True)
                d_loss.backward()
                opt_d.step()
            real, cond = batch()
            k = max(1, opts.rec_best_of)
            raw = generator(cond.repeat(k, 1, 1), noise(k * len(real)))
            adv = -critic(cond, _played(raw[:len(real)], noise_gen, True, config)).mean()
            per_draft = reconstruction_loss(raw, real.repeat(k, 1, 1, 1), per_window=True)
            rec = per_draft.reshape(k, len(real)).min(dim=0).values.mean()
            g_loss = opts.rec_weight * rec + opts.adv_weight * adv
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            step += 1
            losses.add(g_loss=g_loss, d_loss=d_loss, gp=gp, rec=rec, adv=adv)
            if not (math.isfinite(float(g_loss.detach())) and math.isfinite(float(d_loss.detach()))):
                raise DataError(f"drum training diverged at step {step} (loss is not finite); "
                                "try a smaller learning rate")
            if step % opts.log_every == 0:
                yield {"kind": "step", "step": step,
                       "seconds": round(time.monotonic() - t0, 1), **losses.take()}
            if step % opts.validate_every == 0:
                yield validation()
            if time.monotonic() - last_save >= opts.save_every_s:
                yield save("interval")
                last_save = time.monotonic()
    except (KeyboardInterrupt, GeneratorExit):  # Ctrl+C, SIGTERM, or the consumer stopped
        save("interrupted")
        raise
    if not history or history[-1]["step"] != step:
        yield validation()
    yield save("end")
    yield {"kind": "done", "step": step, "seconds": round(time.monotonic() - t0, 1),
           "reason": reason}
