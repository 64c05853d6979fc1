"""The training loop, written as a generator of progress records.

``for record in train(options): ...`` drives the same code from the command line, the
window's worker and the tests; stopping the iteration (or Ctrl+C inside it) saves first.

Objective (see the model card for why): a WGAN-GP critic judges (melody, accompaniment)
windows; the generator minimises ``rec + adv_weight * (-critic(fake))`` where ``rec`` is
the binary cross-entropy to the real accompaniment on the generated (not kept) steps.
The supervised term gives a stable signal from the first step on two CPU cores; the
critic sharpens the output towards real, binary parts and judges whole windows (voice
leading, joins between kept and generated bars), and ranks candidates at generation.

Records (dicts, ``kind`` first, every one with ``step``; docs/finetune_protocol.md has
the full list and fields):

* ``data``       reading files: done, total, file
* ``start``      steps, device, train_songs, validation_songs, report, parameters, reference
* ``step``       g_loss, d_loss, gp, rec, adv, seconds, steps_per_s, eta_s (every ``log_every``)
* ``validation`` val_bce, val_f1, critic_gap, metrics, targets_met, all_targets_met,
  bar_gates (a fine-tune's gates fitted to its training songs, ``ml.generate.calibrate``; else {})
* ``preview``    path, base_path, melody (every ``preview_every`` steps)
* ``paused`` / ``resumed``, ``warning`` (message)
* ``checkpoint`` path, reason
* ``conductor``  phase (start, progress, done) ...: the run's own conductor, after the last
  checkpoint (``TrainOptions.conductor_minutes``; :func:`~composer_gui.ml.train.conductor.conductor_stage`)
* ``done``       seconds, reason ("steps", "minutes", "stop"), model

Several processes (``torchrun``): see :mod:`composer_gui.ml.train.distributed`; only rank 0
yields records.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from composer_gui.ml.errors import DataError, ModelError, OutOfMemory
from composer_gui.ml.model.config import CONFIG_NAME, ModelConfig, apply_overrides, style_config
from composer_gui.ml.model.gan import LossMeans, gan_setup
from composer_gui.ml.train.losses import as_played, critic_loss, reconstruction_loss
from composer_gui.ml.train.options import TrainOptions
from composer_gui.ml.train.validation import fitted_gates, validate


def _initial_config(opts: TrainOptions) -> ModelConfig:
    if opts.base is not None:
        from composer_gui.ml.model.registry import resolve_model

        return ModelConfig.load(resolve_model(str(opts.base)))
    return apply_overrides(style_config(opts.style or "chorale"), opts.config_overrides)


def _to_tensors(batch, device):
    import torch

    return (
        torch.from_numpy(batch.melody).to(device),
        torch.from_numpy(batch.real).to(device),
        torch.from_numpy(batch.mask).to(device),
        torch.from_numpy(batch.position).to(device),
    )


def copy_sub_models(base: Path, out: Path) -> list[str]:
    """Copy the base model's sub-models (folders with their own config.json, such as a
    pop model's drums) into a fine-tune's folder, unchanged: the fine-tune trains the
    main networks only, and the new model must still load as a whole."""
    kept = []
    for sub in sorted(Path(base).iterdir()):
        if sub.is_dir() and (sub / CONFIG_NAME).is_file():
            if not (Path(out) / sub.name).exists():
                shutil.copytree(sub, Path(out) / sub.name)
            kept.append(sub.name)
    return kept


class _Clock:
    """Training time without the pauses (for --minutes, steps per second and the card)."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.paused_total = 0.0
        self._paused_at: float | None = None

    def pause(self) -> None:
        self._paused_at = time.monotonic()

    def resume(self) -> None:
        if self._paused_at is not None:
            self.paused_total += time.monotonic() - self._paused_at
            self._paused_at = None

    def active(self) -> float:
        return time.monotonic() - self.t0 - self.paused_total


#: Settings that a resumed run takes from its own options (the rest of the saved
#: training record, data and base and command, stays).
_RUN_SETTINGS = ("batch_size", "lr", "critic_steps", "adv_weight", "target_steps", "minutes",
                 "preview_every", "validate_every", "world_size", "conductor_minutes")


def train(opts: TrainOptions) -> Iterator[dict]:
    """Run (or resume) a training; yields progress records (see the module docstring)."""
    from composer_gui.ml.train import distributed as dist
    if opts.steps is None and opts.minutes is None:
        raise DataError("give --steps or --minutes (or both)")
    ctx = dist.setup(opts.device)
    try:
        yield from _train(opts, ctx)
    finally:
        dist.shutdown(ctx)


def _train(opts: TrainOptions, ctx) -> Iterator[dict]:
    import torch

    from composer_gui.ml.data.dataset import default_cache_dir, load_folder
    from composer_gui.ml.data.mapping import load_mapping
    from composer_gui.ml.data.windows import fixed_windows, sample_batch, window_starts
    from composer_gui.ml.device import device_label, is_out_of_memory
    from composer_gui.ml.errors import DiskFull
    from composer_gui.ml.generate.calibrate import with_gates
    from composer_gui.ml.model import checkpoint as ckpt
    from composer_gui.ml.model.card import write_card
    from composer_gui.ml.model.networks import bar_noise, build_models, count_parameters
    from composer_gui.ml.train import distributed as dist
    from composer_gui.ml.train import monitor
    from composer_gui.ml.train.control import checkpoint_write

    out = Path(opts.out_dir)
    main, device, control = ctx.is_main, ctx.device, opts.control
    if opts.resume:
        config = ckpt.state_config(out)
    else:
        if (out / ckpt.STATE_JSON).exists():
            raise ModelError(f"{out} already holds a training run: use --resume, or another -o")
        config = _initial_config(opts)
    mapping = load_mapping(opts.mapping) if opts.mapping else None
    cache_dir = (opts.cache_dir or default_cache_dir()) if opts.use_cache else None
    reading = load_folder(Path(opts.data_dir), config, cache_dir, opts.melody_track, mapping)
    # rank 0 reads (and caches) first, the other ranks then read its cache
    if main:
        try:
            dataset = yield from reading
        except BaseException:
            dist.all_ok(ctx, False)
            raise
        dist.all_ok(ctx, True)
    else:
        if not dist.all_ok(ctx, True):
            raise DataError("rank 0 could not read the training data (see its message)")
        dataset = yield from reading
    if not dataset.validation:  # tiny folders: borrow one song so validation runs
        dataset.validation = dataset.train[-1:]
    starts = [window_starts(s, config) for s in dataset.train]
    val_windows = fixed_windows(dataset.validation, config)
    # a fine-tune fits its parts' bar gates on training windows (ml.generate.calibrate): four spread
    # over each of up to 64 training songs spread over the set (~0.3 s on 2 CPU cores for
    # the pop model; one window a song, its first, gave intros, where the pop strings
    # rest half as often as elsewhere)
    picked = dataset.train[:: max(1, len(dataset.train) // 64)][:64]
    gate_windows = (fixed_windows(picked, config, per_song=4)
                    if any(spec.bar_gate > 0 for spec in config.roles) else None)

    torch.manual_seed(opts.seed)
    generator, critic = build_models(config)
    if opts.base is not None and not opts.resume:
        from composer_gui.ml.model.registry import resolve_model

        _, g0, c0 = ckpt.load_model(resolve_model(str(opts.base)))
        generator.load_state_dict(g0.state_dict())
        critic.load_state_dict(c0.state_dict())
    # One process: one stream, saved with each checkpoint. Under torchrun each rank draws
    # its own batches from streams keyed by (seed, rank, step) and re-keyed every step
    # (see `keyed_streams`), so no rank's state needs saving: a resumed run draws exactly
    # what an unbroken one would on every rank.
    opt_g, opt_d, rng, noise_gen = gan_setup(generator, critic, device, opts.lr, opts.seed)
    step, elapsed_before, history = 0, 0.0, []
    mapping_copy = out / "mapping.json"
    training_info = {
        "data": str(Path(opts.data_dir)),
        "mapping": str(mapping_copy) if mapping else None,
        "command": opts.command,
        "seed": opts.seed,
        "batch_size": opts.batch_size,
        "lr": opts.lr,
        "critic_steps": opts.critic_steps,
        "adv_weight": opts.adv_weight,
        "target_steps": opts.steps,
        "minutes": opts.minutes,
        "preview_every": opts.preview_every,
        "validate_every": opts.validate_every,
        "world_size": ctx.world_size,
        "conductor_minutes": opts.conductor_minutes,
        "base": str(opts.base) if opts.base else None,
        "data_report": {k: v for k, v in dataset.report.to_dict().items() if k != "skipped"},
        "skipped_files": len(dataset.report.skipped),
    }
    if opts.resume:
        info, torch_rng = ckpt.load_training_state(out, generator, critic, opt_g, opt_d)
        step = int(info["step"])
        elapsed_before = float(info.get("elapsed_s", 0.0))
        history = info.get("history", [])
        if not ctx.enabled:
            rng.bit_generator.state = info["numpy_rng"]
            if torch_rng is not None:
                noise_gen.set_state(torch_rng)
        saved = info.get("training", {})
        training_info = {**training_info, **saved,
                         **{k: training_info[k] for k in _RUN_SETTINGS},
                         "mapping": saved.get("mapping") or training_info["mapping"]}
        if opts.command != saved.get("command"):
            training_info["resumed_with"] = opts.command
    else:
        if mapping is not None and main:
            out.mkdir(parents=True, exist_ok=True)
            if Path(opts.mapping).resolve() != mapping_copy.resolve():
                shutil.copyfile(opts.mapping, mapping_copy)  # a resume reads this copy
        if opts.base is not None and main:
            from composer_gui.ml.model.registry import resolve_model

            kept = copy_sub_models(resolve_model(str(opts.base)), out)
            if kept:
                training_info["kept_from_base"] = kept
    config.training = training_info
    g_train, c_train = dist.wrap(generator, ctx), dist.wrap(critic, ctx)
    # Fitted bar gates (fine-tunes only) decode validation, previews and the saved model;
    # the critic's decoded fakes keep the gates the run started with, on every rank.
    fit_gates = main and gate_windows is not None and bool(training_info.get("base"))
    bar_gates: dict = dict(training_info.get("bar_gates") or {}) if opts.resume else {}

    target = opts.steps
    label = device_label(device) + (f" x {ctx.world_size} processes" if ctx.enabled else "")
    reference = monitor.reference_table(val_windows, config) if main else {}
    if main:
        yield {
            "kind": "start", "step": step, "steps": target, "device": label,
            "train_songs": len(dataset.train), "validation_songs": len(dataset.validation),
            "report": dataset.report,
            "parameters": count_parameters(generator) + count_parameters(critic),
            "reference": monitor.json_table(reference), "world_size": ctx.world_size,
            "batch_size": opts.batch_size,
        }

    # ----- previews (rank 0): a fixed validation melody, the base model's take once
    previews = out / "previews"
    base_preview = previews / "base.mid"
    previewer = None
    preview_name = dataset.validation[0].name
    if main and opts.preview_every:
        try:
            from composer_gui.ml.model.registry import resolve_model

            first = Path(dataset.validation[0].path)
            override = mapping.choice(first).melody if mapping else None
            melody = monitor.preview_melody(first, config, override if override is not None
                                            else opts.melody_track)
            base_dir = resolve_model(training_info["base"]) if training_info.get("base") else None
            previewer = monitor.Previewer(config, generator, critic, device, melody, base_dir,
                                          opts.seed)
            if not base_preview.exists():
                if base_dir is not None:
                    monitor.write_base_preview(base_dir, device, melody, base_preview, opts.seed)
                elif not opts.resume:  # from scratch: the starting weights
                    previewer.write(base_preview)
        except Exception as exc:  # previews are optional: never the end of a training
            previewer = None
            yield {"kind": "warning", "step": step, "message": f"no previews: {exc}"}

    clock = _Clock()
    last_save = time.monotonic()
    saves = 0
    pending_error: BaseException | None = None
    final_metrics: dict = {}
    last_preview = -1
    last_log = (step, 0.0)

    def save(reason: str) -> dict:
        nonlocal saves
        elapsed = elapsed_before + clock.active()
        info = {
            "step": step, "seed": opts.seed, "elapsed_s": elapsed,
            "numpy_rng": rng.bit_generator.state, "history": history[-200:],
            "training": dict(training_info, steps=step, device=label, elapsed_s=round(elapsed, 1),
                             ended=reason),
        }
        if bar_gates:
            info["training"]["bar_gates"] = dict(bar_gates)
        config.training = info["training"]
        with checkpoint_write():  # a SIGTERM now waits for the write to finish
            ckpt.save_training_state(out, config, generator, critic, opt_g, opt_d, info,
                                     noise_gen.get_state(), model_config=decoding_config())
        saves += 1
        return {"kind": "checkpoint", "step": step, "path": str(out), "reason": reason}

    def finished() -> str | None:
        if target is not None and step >= target:
            return "steps"
        if opts.minutes is not None and clock.active() >= opts.minutes * 60:
            return "minutes"
        return None

    def decide() -> tuple[str | None, bool]:
        """(reason to finish, paused) on every rank: rank 0's, or "error" from any rank."""
        reason = None
        if pending_error is not None:  # on any rank
            reason = "error"
        elif main:
            if control is not None and control.stop_requested:
                reason = "stop"
            else:
                reason = finished()
        paused = bool(main and control is not None and control.paused and reason is None)
        return dist.agree(ctx, reason, paused)

    def decoding_config() -> ModelConfig:
        """The config generation uses: the run's, with the fitted bar gates."""
        if not bar_gates:
            return config
        fitted = with_gates(config, bar_gates)
        fitted.training = config.training
        return fitted

    def validation() -> dict:
        nonlocal final_metrics
        if fit_gates:
            bar_gates.update(fitted_gates(generator, config, gate_windows, device))
            if previewer is not None:
                previewer.composer.config = decoding_config()
        dconfig = decoding_config()
        values = validate(generator, critic, dconfig, val_windows, device)
        generated = monitor.generated_table(val_windows, values.pop("decoded"), dconfig)
        met, all_met = monitor.targets(reference, generated)
        final_metrics = monitor.json_table(generated)
        history.append({"step": step, **{k: round(v, 5) for k, v in values.items()},
                        "all_targets_met": all_met,
                        **({"bar_gates": dict(bar_gates)} if bar_gates else {})})
        return {"kind": "validation", "step": step, **values, "metrics": final_metrics,
                "targets_met": met, "all_targets_met": all_met,
                "bar_gates": dict(bar_gates)}

    def preview() -> dict:
        nonlocal last_preview, previewer
        path = previews / f"step_{step:06d}.mid"
        try:
            previewer.write(path)
        except (RuntimeError, MemoryError) as exc:
            if isinstance(exc, MemoryError) or is_out_of_memory(exc):
                raise  # out of memory: handled as in a step
            previewer = None
            return {"kind": "warning", "step": step, "message": f"previews stopped: {exc}"}
        except Exception as exc:  # a full disk shows at the next checkpoint
            previewer = None
            return {"kind": "warning", "step": step, "message": f"previews stopped: {exc}"}
        last_preview = step
        return {"kind": "preview", "step": step, "path": str(path),
                "base_path": str(base_preview) if base_preview.exists() else None,
                "melody": preview_name}

    def step_record() -> dict:
        nonlocal last_log
        now = clock.active()
        rate = (step - last_log[0]) / max(1e-9, now - last_log[1])
        last_log = (step, now)
        eta = (target - step) / rate if target is not None and rate > 0 else None
        if opts.minutes is not None:
            left = max(0.0, opts.minutes * 60 - now)
            eta = left if eta is None else min(eta, left)
        return {"kind": "step", "step": step, "seconds": round(now, 1),
                "steps_per_s": round(rate, 4), "eta_s": None if eta is None else round(eta, 1)}

    def batch(masks=True):
        return _to_tensors(sample_batch(dataset.train, starts, config, rng, opts.batch_size,
                                        masks=masks), device)

    losses = LossMeans()
    try:
        while True:
            reason, paused = decide()
            if paused:
                if main:
                    yield {"kind": "paused", "step": step}
                clock.pause()
                while paused:
                    if control is not None:
                        control.wait(0.5)
                    reason, paused = decide()
                clock.resume()
                if main and reason is None:
                    yield {"kind": "resumed", "step": step}
            if reason is not None:
                break
            if ctx.enabled:
                rng = keyed_streams(opts.seed, ctx.rank, step, noise_gen)
            # --- critic (through the DDP wrapper: its gradients are averaged over ranks)
            for _ in range(opts.critic_steps):
                mel, real, mask, pos = batch()
                with torch.no_grad():
                    probs = torch.sigmoid(generator(mel, real, mask, pos,
                                                    bar_noise(pos, config, noise_gen)))
                keep = mask[:, :, None, :, None]
                fake = keep * real + (1 - keep) * as_played(probs, config, rng, opts, pos)
                d_loss, gp = critic_loss(c_train, critic, mel, real, fake, pos, noise_gen,
                                         opts.gp_weight)
                opt_d.zero_grad(set_to_none=True)
                d_loss.backward()
                opt_d.step()
            # --- generator (the critic only passes gradients through, to the fakes)
            critic.requires_grad_(False)
            try:
                mel, real, mask, pos = batch()
                logits = g_train(mel, real, mask, pos, bar_noise(pos, config, noise_gen))
                keep = mask[:, :, None, :, None]
                fake = keep * real + (1 - keep) * as_played(torch.sigmoid(logits), config, rng,
                                                            opts, pos)
                adv = -critic(mel, fake, pos).mean()
                rec = reconstruction_loss(logits, real, mask)
                g_loss = rec + opts.adv_weight * adv
                opt_g.zero_grad(set_to_none=True)
                g_loss.backward()
                opt_g.step()
            finally:
                critic.requires_grad_(True)
            step += 1
            losses.add(g_loss=g_loss, d_loss=d_loss, gp=gp, rec=rec, adv=adv)
            if not (math.isfinite(float(g_loss.detach()))
                    and math.isfinite(float(d_loss.detach()))):
                # every rank stops at the next step boundary, not only this one
                pending_error = DataError(f"training diverged at step {step} (loss is not "
                                          "finite); try a smaller --lr")
                continue
            if not main:
                continue
            if step % opts.log_every == 0:
                yield {**step_record(), **losses.take()}
            if step % opts.validate_every == 0:
                yield validation()
            if previewer is not None and step % opts.preview_every == 0:
                yield preview()
            if time.monotonic() - last_save >= opts.save_every_s:
                try:
                    record = save("interval")
                except (DiskFull, ModelError) as exc:
                    pending_error = exc  # every rank stops at the next step boundary
                else:
                    yield record
                last_save = time.monotonic()
        if main and reason != "error":  # the last numbers and preview (a GPU may run out here too)
            if not history or history[-1]["step"] != step:
                yield validation()
            if previewer is not None and last_preview != step and step > 0:
                yield preview()
    except (KeyboardInterrupt, GeneratorExit):  # Ctrl+C, SIGTERM, or the consumer stopped
        if main:
            save("interrupted")
        raise
    except (RuntimeError, MemoryError) as exc:
        if not (isinstance(exc, MemoryError) or is_out_of_memory(exc)):
            if not (ctx.enabled and dist.is_peer_failure(exc)):
                raise
            # another rank died (its own message is on stderr; torchrun stops this one next)
            if main:
                save("a process of the run failed")
            raise ModelError(
                f"another process of this {ctx.world_size}-process run failed during step "
                f"{step + 1} (its message is above: one GPU running out of memory stops every "
                f"process); step {step} is saved to {out}: resume it with --resume (with a "
                "smaller --batch-size if a GPU ran out of memory)") from exc
        if device.type == "cuda":
            torch.cuda.empty_cache()  # room to copy the state out for saving
        if main:
            save("out of memory")
        smaller = max(1, opts.batch_size // 2)
        who = f"process {ctx.rank} of {ctx.world_size} " if ctx.enabled else ""
        where = (f"saved to {out}" if main else "process 0 saves the run")
        raise OutOfMemory(
            f"{who}ran out of {device.type.upper()} memory at step {step} with batch size "
            f"{opts.batch_size} ({where}; resume it with --resume): try a smaller "
            f"--batch-size such as {smaller}, or --device cpu",
            suggest_batch_size=smaller,
        ) from exc
    if reason == "error":
        if pending_error is not None:
            raise pending_error
        raise ModelError("another process of the run stopped it (see its message)")
    if main:
        yield save("stop" if reason == "stop" else "end")
        conductor = None
        if opts.conductor_minutes > 0 and reason != "stop":  # a stop means now
            from composer_gui.ml.train.conductor import conductor_stage

            conductor = yield from conductor_stage(
                out, dataset, opts.base if not opts.resume else training_info.get("base"),
                opts.conductor_minutes, step, control, opts.seed, str(opts.data_dir))
        write_card(out, decoding_config(), history, monitor.json_table(reference), final_metrics,
                   conductor)
        yield {"kind": "done", "step": step, "seconds": round(clock.active(), 1),
               "reason": reason, "model": str(out)}
    _rank_report(ctx, step, saves, generator, critic, rng)
    dist.barrier(ctx)


def keyed_streams(seed: int, rank: int, step: int, noise_gen) -> np.random.Generator:
    """The batch generator for ``step`` on ``rank`` of a multi-process run; re-seeds
    ``noise_gen`` (the networks' noise) from the same key. A pure function of its key, so
    every rank of a resumed run continues exactly as if it had never stopped."""
    noise = np.random.SeedSequence([seed, rank, step, 1]).generate_state(1, np.uint64)[0]
    noise_gen.manual_seed(int(noise >> 1))
    return np.random.default_rng([seed, rank, step])


def _rank_report(ctx, step: int, saves: int, generator, critic, rng) -> None:
    """Test hook: with ``$COMPOSER_GUI_RANK_REPORT`` set to a folder, each rank writes
    ``rank<N>.json`` (its weights' digest, its step, how many checkpoints it wrote and
    its batch generator's state)."""
    folder = os.environ.get("COMPOSER_GUI_RANK_REPORT")
    if not folder:
        return
    from composer_gui.ml.train.distributed import state_digest

    Path(folder).mkdir(parents=True, exist_ok=True)
    report = {"rank": ctx.rank, "world_size": ctx.world_size, "step": step,
              "checkpoints_written": saves, "digest": state_digest(generator, critic),
              "rng": str(rng.bit_generator.state["state"])}
    (Path(folder) / f"rank{ctx.rank}.json").write_text(json.dumps(report), encoding="utf-8")
