"""Validation of a training run on fixed windows: the loss, the frame F1 and the critic's
gap of the parts decoded as generation decodes them, and the bar gates a fine-tune fits
to its training songs.
"""

from __future__ import annotations

import numpy as np

from composer_gui.ml.model.config import ModelConfig
from composer_gui.ml.train.losses import gated_probs, reconstruction_loss


def _window_batches(windows, device, size: int = 64):
    """(slice, melody, real, mask, position) tensors on ``device`` for fixed windows, in
    batches of ``size``."""
    import torch

    for lo in range(0, len(windows.melody), size):
        sl = slice(lo, lo + size)
        yield (sl, *(torch.from_numpy(a[sl]).to(device)
                     for a in (windows.melody, windows.real, windows.mask, windows.position)))


def validate(generator, critic, config: ModelConfig, windows, device, seed: int = 1234) -> dict:
    """Validation numbers on fixed windows with no context: BCE, the frame F1 of the
    decoded parts against the real parts, and the critic's real-minus-fake gap.

    The parts are decoded as generation decodes them (bar gates, key guard, pitches drawn
    at the model's temperature), with fixed seeds so that two validations differ only by
    the networks. Greedy pitches (the likeliest every time) gave the pop strings 1.7 pitch
    classes a bar where both the data and the app's generation have 3.1."""
    import torch

    from composer_gui.ml.data.encoding import channels
    from composer_gui.ml.generate.decode import decode_part, gate_bars, window_bars
    from composer_gui.ml.model.networks import bar_noise

    gen = torch.Generator().manual_seed(seed)
    draw = np.random.default_rng(seed)
    was_training = generator.training
    generator.eval()
    critic.eval()
    bce_sum, n, tp, fp, fn, gap = 0.0, 0, 0, 0, 0, 0.0
    decoded_all = []
    with torch.no_grad():
        for sl, mel, real, mask, pos in _window_batches(windows, device):
            logits = generator(mel, real, mask, pos, bar_noise(pos, config, gen))
            bce_sum += float(reconstruction_loss(logits, real, mask)) * len(mel)
            n += len(mel)
            probs = torch.sigmoid(logits).cpu().numpy()
            bars = window_bars(windows.position[sl], config)
            guard = None
            if config.key_guard < 1.0:  # decoded as generation decodes them
                from composer_gui.ml.generate.keys import key_guard_weights

                held = (windows.key_mass[sl] if windows.key_mass is not None
                        else windows.melody[sl][:, 0].sum(axis=1))
                guard = key_guard_weights(config, held, probs)
            decoded = np.stack([decode_part(*gated_probs(probs[:, r], bars, spec.bar_gate, gate_bars),
                                            spec.voices, draw, config.temperature, weights=guard)
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


def fitted_gates(generator, config: ModelConfig, windows, device, seed: int = 4321) -> dict:
    """The bar gates at which the generator's parts rest as often as the real parts of
    the training ``windows`` do (:func:`composer_gui.ml.generate.calibrate.fit_bar_gates`)."""
    import torch

    from composer_gui.ml.generate.calibrate import fit_bar_gates
    from composer_gui.ml.generate.decode import window_bars
    from composer_gui.ml.model.networks import bar_noise

    gen = torch.Generator().manual_seed(seed)
    was_training = generator.training
    generator.eval()
    probs = []
    with torch.no_grad():
        for _sl, mel, real, mask, pos in _window_batches(windows, device):
            logits = generator(mel, real, mask, pos, bar_noise(pos, config, gen))
            probs.append(torch.sigmoid(logits).float().cpu().numpy())
    if was_training:
        generator.train()
    return fit_bar_gates(np.concatenate(probs), windows.real,
                         window_bars(windows.position, config), config)
