"""The training loop, written as a generator of progress records.

``for record in train(options): ...`` drives the same code from the command line, the
window's worker and the tests; stopping the iteration (or Ctrl+C inside it) saves first.

Objective (see the model card for why): a WGAN-GP critic judges (melody, accompaniment)
windows; the generator minimises ``rec + adv_weight * (-critic(fake))`` where ``rec`` is
the binary cross-entropy to the real accompaniment on the generated (not kept) steps.
The supervised term gives a stable signal from the first step on two CPU cores; the
critic sharpens the output towards real, binary parts and judges whole windows (voice
leading, joins between kept and generated bars), and ranks candidates at generation.

Records (dicts, ``kind`` first):

* ``data``       reading files: done, total, file
* ``start``      step, steps, device, train_songs, validation_songs, report, parameters
* ``step``       step, g_loss, d_loss, gp, rec, adv, seconds (every ``log_every`` steps)
* ``validation`` step, val_bce, val_f1, critic_gap (and ml.metrics values when present)
* ``checkpoint`` step, path
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

from composer_gui.ml.config import ModelConfig, style_config
from composer_gui.ml.errors import DataError, ModelError, OutOfMemory


@dataclass
class TrainOptions:
    data_dir: Path
    out_dir: Path
    style: str | None = "chorale"
    base: Path | None = None  # --from: fine-tune this model
    steps: int | None = None
    minutes: float | None = None
    batch_size: int = 32
    lr: float = 3e-4
    critic_steps: int = 1
    device: str = "auto"
    seed: int = 0
    resume: bool = False
    save_every_s: float = 60.0
    validate_every: int = 200
    log_every: int = 10
    adv_weight: float = 0.1
    #: The critic judges decoded (binary) parts, as generation ranks them; gradients pass
    #: straight through the decoding to the probabilities. False: raw probabilities.
    decoded_fakes: bool = True
    gp_weight: float = 10.0
    cache_dir: Path | None = None
    use_cache: bool = True
    melody_track: int | None = None
    command: str = field(default_factory=lambda: shlex.join(["composer-gui", *sys.argv[1:]]))
    config_overrides: dict = field(default_factory=dict)


def _initial_config(opts: TrainOptions) -> ModelConfig:
    if opts.base is not None:
        from composer_gui.ml.registry import resolve_model

        return ModelConfig.load(resolve_model(str(opts.base)))
    config = style_config(opts.style or "chorale")
    for key, value in opts.config_overrides.items():
        if not hasattr(config, key):
            raise ModelError(f"unknown config key {key!r}")
        setattr(config, key, value)
    config.validate()
    return config


def _to_tensors(batch, device):
    import torch

    return (
        torch.from_numpy(batch.melody).to(device),
        torch.from_numpy(batch.real).to(device),
        torch.from_numpy(batch.mask).to(device),
        torch.from_numpy(batch.position).to(device),
    )


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

    from composer_gui.ml.decode import decode_part, gate_bars, window_bars
    from composer_gui.ml.roll import channels

    p = probs.detach().float().cpu().numpy()
    bars = None if position is None else window_bars(position.detach().cpu().numpy(), config)
    codes = np.stack([decode_part(*_gated(p[:, r], bars, spec.bar_gate, gate_bars),
                                  spec.voices, rng, 1.0)
                      for r, spec in enumerate(config.roles)], axis=1)
    hard = torch.from_numpy(channels(codes)).to(probs.device)
    return hard + probs - probs.detach()


def _gated(part_probs, bars, gate, gate_bars):
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


def validate(generator, critic, config: ModelConfig, windows, device, seed: int = 1234) -> dict:
    """Validation numbers on fixed windows with no context: BCE, the frame F1 of the
    greedy decoding against the real parts, and the critic's real-minus-fake gap."""
    import torch

    from composer_gui.ml.decode import decode_part, gate_bars, window_bars
    from composer_gui.ml.model import bar_noise
    from composer_gui.ml.roll import channels

    gen = torch.Generator().manual_seed(seed)
    was_training = generator.training
    generator.eval()
    critic.eval()
    bce_sum, n, tp, fp, fn, gap = 0.0, 0, 0, 0, 0, 0.0
    decoded_all = []
    with torch.no_grad():
        for lo in range(0, len(windows.melody), 64):
            sl = slice(lo, lo + 64)
            mel = torch.from_numpy(windows.melody[sl]).to(device)
            real = torch.from_numpy(windows.real[sl]).to(device)
            mask = torch.from_numpy(windows.mask[sl]).to(device)
            pos = torch.from_numpy(windows.position[sl]).to(device)
            logits = generator(mel, real, mask, pos, bar_noise(pos, config, gen))
            bce_sum += float(reconstruction_loss(logits, real, mask)) * len(mel)
            n += len(mel)
            probs = torch.sigmoid(logits).cpu().numpy()
            bars = window_bars(windows.position[sl], config)
            decoded = np.stack([decode_part(*_gated(probs[:, r], bars, spec.bar_gate, gate_bars),
                                            spec.voices, None, 0)
                                for r, spec in enumerate(config.roles)], axis=1)
            decoded_all.append(decoded)
            frames = decoded > 0
            truth = windows.real[sl][:, :, 0] > 0.5
            tp += int((frames & truth).sum())
            fp += int((frames & ~truth).sum())
            fn += int((~frames & truth).sum())
            fake = torch.from_numpy(channels(decoded)).to(device)
            gap += float((critic(mel, real, pos) - critic(mel, fake, pos)).sum())
    if was_training:
        generator.train()
        critic.train()
    f1 = 2 * tp / max(1, 2 * tp + fp + fn)
    return {"val_bce": bce_sum / max(1, n), "val_f1": f1, "critic_gap": gap / max(1, n),
            "decoded": np.concatenate(decoded_all)}


def train(opts: TrainOptions) -> Iterator[dict]:
    """Run (or resume) a training; yields progress records (see the module docstring)."""
    import torch

    from composer_gui.ml import checkpoint as ckpt
    from composer_gui.ml.data import (
        default_cache_dir,
        fixed_windows,
        load_folder,
        sample_batch,
        window_starts,
    )
    from composer_gui.ml.device import device_label, is_out_of_memory, resolve_device
    from composer_gui.ml.model import bar_noise, build_models, count_parameters

    if opts.steps is None and opts.minutes is None:
        raise DataError("give --steps or --minutes (or both)")
    out = Path(opts.out_dir)
    device = resolve_device(opts.device)
    if opts.resume:
        config = ckpt.state_config(out)
    else:
        if (out / ckpt.STATE_JSON).exists():
            raise ModelError(f"{out} already holds a training run: use --resume, or another -o")
        config = _initial_config(opts)
    cache_dir = (opts.cache_dir or default_cache_dir()) if opts.use_cache else None
    dataset = yield from load_folder(Path(opts.data_dir), config, cache_dir, opts.melody_track)
    if not dataset.validation:  # tiny folders: borrow one song so validation runs
        dataset.validation = dataset.train[-1:]
    starts = [window_starts(s, config) for s in dataset.train]
    val_windows = fixed_windows(dataset.validation, config)

    torch.manual_seed(opts.seed)
    generator, critic = build_models(config)
    if opts.base is not None and not opts.resume:
        from composer_gui.ml.registry import resolve_model

        _, g0, c0 = ckpt.load_model(resolve_model(str(opts.base)))
        generator.load_state_dict(g0.state_dict())
        critic.load_state_dict(c0.state_dict())
    generator.to(device).train()
    critic.to(device).train()
    opt_g = torch.optim.Adam(generator.parameters(), lr=opts.lr, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(critic.parameters(), lr=opts.lr, betas=(0.5, 0.9))
    rng = np.random.default_rng(opts.seed)
    noise_gen = torch.Generator().manual_seed(opts.seed)
    step, elapsed_before, history = 0, 0.0, []
    training_info = {
        "data": str(Path(opts.data_dir)),
        "command": opts.command,
        "seed": opts.seed,
        "batch_size": opts.batch_size,
        "lr": opts.lr,
        "critic_steps": opts.critic_steps,
        "adv_weight": opts.adv_weight,
        "base": str(opts.base) if opts.base else None,
        "data_report": {k: v for k, v in dataset.report.to_dict().items() if k != "skipped"},
        "skipped_files": len(dataset.report.skipped),
    }
    if opts.resume:
        info, torch_rng = ckpt.load_training_state(out, generator, critic, opt_g, opt_d)
        step = int(info["step"])
        elapsed_before = float(info.get("elapsed_s", 0.0))
        history = info.get("history", [])
        rng.bit_generator.state = info["numpy_rng"]
        if torch_rng is not None:
            noise_gen.set_state(torch_rng)
        training_info = info.get("training", training_info)
    config.training = training_info

    target = opts.steps
    yield {
        "kind": "start", "step": step, "steps": target, "device": device_label(device),
        "train_songs": len(dataset.train), "validation_songs": len(dataset.validation),
        "report": dataset.report, "parameters": count_parameters(generator) + count_parameters(critic),
    }
    t0 = time.monotonic()
    last_save = t0

    def save(reason: str) -> dict:
        info = {
            "step": step, "seed": opts.seed, "elapsed_s": elapsed_before + time.monotonic() - t0,
            "numpy_rng": rng.bit_generator.state, "history": history[-200:],
            "training": dict(training_info, steps=step, device=device_label(device),
                             elapsed_s=round(elapsed_before + time.monotonic() - t0, 1)),
        }
        config.training = info["training"]
        ckpt.save_training_state(out, config, generator, critic, opt_g, opt_d, info,
                                 noise_gen.get_state())
        return {"kind": "checkpoint", "step": step, "path": str(out), "reason": reason}

    def finished() -> str | None:
        if target is not None and step >= target:
            return "steps"
        if opts.minutes is not None and time.monotonic() - t0 >= opts.minutes * 60:
            return "minutes"
        return None

    def batch(masks=True):
        return _to_tensors(sample_batch(dataset.train, starts, config, rng, opts.batch_size,
                                        masks=masks), device)

    sums = {"g_loss": 0.0, "d_loss": 0.0, "gp": 0.0, "rec": 0.0, "adv": 0.0}
    count = 0
    try:
        while (reason := finished()) is None:
            # --- critic
            for _ in range(opts.critic_steps):
                mel, real, mask, pos = batch()
                with torch.no_grad():
                    probs = torch.sigmoid(generator(mel, real, mask, pos, bar_noise(pos, config, noise_gen)))
                keep = mask[:, :, None, :, None]
                fake = keep * real + (1 - keep) * as_played(probs, config, rng, opts, pos)
                d_real = critic(mel, real, pos)
                d_fake = critic(mel, fake, pos)
                gp = gradient_penalty(critic, mel, real, fake, pos, noise_gen)
                d_loss = d_fake.mean() - d_real.mean() + opts.gp_weight * gp + 1e-3 * (d_real ** 2).mean()
                opt_d.zero_grad(set_to_none=True)
                d_loss.backward()
                opt_d.step()
            # --- generator
            mel, real, mask, pos = batch()
            logits = generator(mel, real, mask, pos, bar_noise(pos, config, noise_gen))
            keep = mask[:, :, None, :, None]
            fake = keep * real + (1 - keep) * as_played(torch.sigmoid(logits), config, rng, opts,
                                                        pos)
            adv = -critic(mel, fake, pos).mean()
            rec = reconstruction_loss(logits, real, mask)
            g_loss = rec + opts.adv_weight * adv
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            step += 1
            for k, v in (("g_loss", g_loss), ("d_loss", d_loss), ("gp", gp), ("rec", rec), ("adv", adv)):
                sums[k] += float(v.detach())
            count += 1
            if not math.isfinite(float(g_loss.detach())) or not math.isfinite(float(d_loss.detach())):
                raise DataError(f"training diverged at step {step} (loss is not finite); "
                                "try a smaller --lr")
            if step % opts.log_every == 0:
                record = {"kind": "step", "step": step, "seconds": round(time.monotonic() - t0, 1)}
                record.update({k: v / count for k, v in sums.items()})
                sums = dict.fromkeys(sums, 0.0)
                count = 0
                yield record
            if step % opts.validate_every == 0:
                values = validate(generator, critic, config, val_windows, device)
                values.pop("decoded")
                history.append({"step": step, **{k: round(v, 5) for k, v in values.items()}})
                yield {"kind": "validation", "step": step, **values}
            if time.monotonic() - last_save >= opts.save_every_s:
                yield save("interval")
                last_save = time.monotonic()
    except KeyboardInterrupt:
        save("interrupted")
        raise
    except (RuntimeError, MemoryError) as exc:
        if not (isinstance(exc, MemoryError) or is_out_of_memory(exc)):
            raise
        if device.type == "cuda":
            torch.cuda.empty_cache()  # room to copy the state out for saving
        saved = save("out of memory")
        raise OutOfMemory(
            f"ran out of {device.type.upper()} memory at step {step} (saved to {saved['path']}); "
            "try a smaller --batch-size or --device cpu"
        ) from exc
    if not history or history[-1]["step"] != step:
        values = validate(generator, critic, config, val_windows, device)
        values.pop("decoded")
        history.append({"step": step, **{k: round(v, 5) for k, v in values.items()}})
        yield {"kind": "validation", "step": step, **values}
    yield save("end")
    yield {"kind": "done", "step": step, "seconds": round(time.monotonic() - t0, 1), "reason": reason}
