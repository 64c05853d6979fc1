"""Generation speed (issue 5, item 9): warm-up, then medians.

    python benchmarks/bench_generate.py [--model composer_gui/assets/models/chorale | --style pop|folk]
        [--device auto|cpu|cuda] [--runs 30] [--cli]

Prints, for the chosen device:
* the generator's forward pass for 8 bars of 4/4 of all parts at batch 1,
* 64 candidates: generator + critic forward at batch 64 (the network part), and the whole
  ranked generation of an 8-bar melody with 64 candidates (windows, decoding, critic),
* for a model with a drum part (pop): the drum part alone for the 8-bar melody,
* with ``--cli``: the whole ``composer-gui generate`` of a 32-bar melody in a fresh
  process on the CPU (start-up and torch import included).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def median_ms(fn, runs: int, sync=lambda: None) -> float:
    for _ in range(3):
        fn()
    sync()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def tune(bars: int):
    from composer_gui.core.song import Note, Song, Track

    shape = [72, 72, 79, 79, 81, 81, 79, None, 77, 77, 76, 76, 74, 74, 72, None]
    notes = [Note(p, i * 480, 470, 90) for i, p in enumerate(shape * (bars // 4)) if p]
    return Song(tracks=[Track(name="Tune", notes=notes)])


def train_step(composer, device, runs, sync) -> None:
    """One critic step (with gradient penalty) + one generator step on random windows,
    as ``ml.train.loop`` does them (straight-through decoding included)."""
    import numpy as np
    import torch

    from composer_gui.ml.data.meters import window_position_features
    from composer_gui.ml.model.networks import build_models
    from composer_gui.ml.train.losses import as_played, gradient_penalty, reconstruction_loss
    from composer_gui.ml.train.options import TrainOptions

    config = composer.config
    generator, critic = (m.to(device).train() for m in build_models(config))
    opt_g = torch.optim.Adam(generator.parameters(), 3e-4, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(critic.parameters(), 3e-4, betas=(0.5, 0.9))
    opts = TrainOptions(data_dir=".", out_dir=".")
    rng = np.random.default_rng(0)
    gen = torch.Generator().manual_seed(0)
    t = config.window_steps
    bars = np.arange(0, t, 4 * config.steps_per_beat)
    pos_np = window_position_features(config, bars, ["4/4"] * len(bars), t)
    for batch in (32, 64):
        mel = (torch.rand(batch, 2, t, config.pitches) < 0.02).float().to(device)
        real = (torch.rand(batch, config.tracks, 2, t, config.pitches) < 0.02).float().to(device)
        mask = torch.zeros(batch, config.tracks, t, device=device)
        pos = torch.from_numpy(pos_np).to(device)[None].expand(batch, -1, -1)
        noise = torch.randn(batch, t, config.noise_dim, device=device)

        def step(mel=mel, real=real, mask=mask, pos=pos, noise=noise):
            with torch.no_grad():
                probs = torch.sigmoid(generator(mel, real, mask, pos, noise))
            fake = as_played(probs, config, rng, opts)
            d_loss = critic(mel, fake, pos).mean() - critic(mel, real, pos).mean() \
                + 10 * gradient_penalty(critic, mel, real, fake, pos, gen)
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            logits = generator(mel, real, mask, pos, noise)
            g_loss = reconstruction_loss(logits, real, mask) \
                - 0.1 * critic(mel, as_played(torch.sigmoid(logits), config, rng, opts), pos).mean()
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()

        ms = median_ms(step, max(5, runs // 2), sync)
        print(f"training step (critic + generator), batch {batch}: {ms:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder (default composer_gui/assets/models/chorale)")
    parser.add_argument("--style", default=None, help="a shipped style's model (e.g. folk)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--cli", action="store_true")
    parser.add_argument("--train-step", action="store_true",
                        help="also time one critic + one generator step at batch 32 and 64")
    args = parser.parse_args()

    import torch

    from composer_gui.ml.data.meters import window_position_features
    from composer_gui.ml.device import configure_threads
    from composer_gui.ml.generate.sample import Composer
    from composer_gui.ml.model.networks import bar_noise

    if args.style:
        from composer_gui.ml.model.registry import resolve_style

        args.model = str(resolve_style(args.style))
    args.model = args.model or "composer_gui/assets/models/chorale"
    configure_threads()
    composer = Composer(Path(args.model), args.device)
    config, device = composer.config, composer.device
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    print(f"device: {composer.device_name}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads; model {args.model}")

    t = 8 * 4 * config.steps_per_beat
    starts = [b * 4 * config.steps_per_beat for b in range(8)]
    import numpy as np

    pos_np = window_position_features(config, np.array(starts), ["4/4"] * len(starts), t)

    def inputs(batch):
        pos = torch.from_numpy(pos_np).to(device)[None].expand(batch, -1, -1)
        return (torch.zeros(batch, 2, t, config.pitches, device=device),
                torch.zeros(batch, config.tracks, 2, t, config.pitches, device=device),
                torch.zeros(batch, config.tracks, t, device=device), pos,
                bar_noise(pos, config, torch.Generator().manual_seed(0)))

    with torch.inference_mode():
        one = inputs(1)
        ms = median_ms(lambda: composer.generator(*one), args.runs, sync)
        print(f"generator forward, 8 bars x {config.tracks} parts, batch 1: {ms:.2f} ms")
        many = inputs(64)

        def nets64():
            probs = torch.sigmoid(composer.generator(*many))
            composer.critic(many[0], probs, many[3])

        ms = median_ms(nets64, args.runs, sync)
        print(f"64 candidates, generator + critic forward (batch 64): {ms:.2f} ms")
    song = tune(8)
    if composer.drums is not None:
        ms = median_ms(lambda: composer.drums.part(song, seed=0, style=config.style),
                       max(3, args.runs // 5), sync)
        print(f"drum part alone, 8 bars, 1 candidate: {ms:.1f} ms")
        ms = median_ms(lambda: composer.compose(song, seed=0, candidates=4),
                       max(3, args.runs // 5), sync)
        print(f"4 candidates ranked, whole 8-bar generation with drums: {ms:.1f} ms")
    ms = median_ms(lambda: composer.compose(song, seed=0, candidates=64), max(3, args.runs // 5), sync)
    print(f"64 candidates ranked, whole 8-bar generation (windows, decoding, critic): {ms:.1f} ms")
    song32 = tune(32)
    ms = median_ms(lambda: composer.compose(song32, seed=0), max(3, args.runs // 5), sync)
    print(f"32-bar melody, 1 candidate, in process (default guidance): {ms:.1f} ms")
    if composer.conductor is not None:
        # the conductor's cost: each level against off, 8 bars, 1 candidate
        base = median_ms(lambda: composer.compose(song, seed=0, guidance="off"), args.runs, sync)
        print(f"8 bars, 1 candidate, guidance off: {base:.1f} ms")
        for level in ("light", "strong"):
            ms = median_ms(lambda g=level: composer.compose(song, seed=0, guidance=g), args.runs, sync)
            print(f"8 bars, 1 candidate, guidance {level}: {ms:.1f} ms ({ms - base:+.1f} ms)")
    else:
        print("no conductor in this model: guidance off")

    if args.train_step:
        train_step(composer, device, args.runs, sync)

    if args.cli:
        from composer_gui.midi.smf import write_midi

        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "tune32.mid"
            write_midi(song32, src)
            cmd = [sys.executable, "-m", "composer_gui", "generate", str(src), "--model",
                   args.model, "--device", "cpu", "-o", str(Path(tmp) / "out.mid")]
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                times.append(time.perf_counter() - t0)
            print(f"composer-gui generate, 32 bars, CPU, fresh process: "
                  f"median {statistics.median(times):.2f} s over 5")


if __name__ == "__main__":
    main()
