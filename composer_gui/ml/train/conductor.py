"""Train the conductor: a critic that learns, after the generator is frozen, to tell real
accompaniment from what the shipped generator and decoder write.

A WGAN critic at the end of training is no calibrated judge: its scores drift with the
generator it was last trained against, and on the chorale its pick of 16 candidates was no
better than a random one. The conductor starts from that critic's weights and is trained
with a logistic loss on windows of training songs: the real accompaniment (1) against the
accompaniment the frozen model writes under the same melody, decoded exactly as generation
decodes it (line model, rules, key guard) (0). It never sees a validation song; those judge
it (ROC AUC of its logits, real against generated windows) and give the reference of the
"how real" label (its logits of real validation windows,
:mod:`composer_gui.ml.model.conductor`). The best state by validation AUC is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from composer_gui.ml.data.dataset import MARGIN, SongArrays

#: Windows per song (evenly spaced), real and generated alike.
PER_SONG = 8


def generated_song(composer, song: SongArrays, seed: int) -> SongArrays:
    """``song`` with its accompaniment replaced by one candidate of ``composer`` (guidance
    off) under its melody."""
    config = composer.config
    state, _ = composer.accompany_arrays(song, seed)
    codes = song.codes.copy()
    codes[1:] = 0
    codes[1:, :, MARGIN:MARGIN + config.pitches] = state[0]
    return replace(song, codes=codes)


def song_windows(songs: Sequence[SongArrays], config) -> tuple[np.ndarray, ...]:
    """(melody, accompaniment, position) channels of up to :data:`PER_SONG` evenly spaced
    windows per song (validation's windows), at the same starts for a song and its
    generated twin."""
    from composer_gui.ml.data.windows import fixed_windows

    batch = fixed_windows(list(songs), config, per_song=PER_SONG, at_least=0)
    return tuple(np.asarray(a, dtype=np.float32)
                 for a in (batch.melody, batch.real, batch.position))


def _logits(network, windows, device, batch: int = 64) -> np.ndarray:
    import torch

    mel, acc, pos = windows
    out = []
    with torch.inference_mode():
        for a in range(0, len(mel), batch):
            b = a + batch
            out.append(network(torch.from_numpy(mel[a:b]).to(device),
                               torch.from_numpy(acc[a:b]).to(device),
                               torch.from_numpy(pos[a:b]).to(device)).cpu().numpy().reshape(-1))
    return np.concatenate(out)


def _auc(real: np.ndarray, fake: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    y = np.r_[np.ones(len(real)), np.zeros(len(fake))]
    return float(roc_auc_score(y, np.r_[real, fake]))


def train_conductor(folder: Path, data_dir: Path, songs: int = 120, minutes: float = 10.0,
                    seed: int = 0, lr: float = 1e-4, batch: int = 32,
                    progress: Callable[[str], None] | None = None) -> dict:
    """Train and save the conductor of the model in ``folder`` on ``songs`` training songs
    of ``data_dir`` for about ``minutes``; returns its record (also in conductor.json)."""
    import copy

    import torch

    from composer_gui.ml.data.dataset import load_dataset
    from composer_gui.ml.errors import DataError
    from composer_gui.ml.generate.sample import Composer
    from composer_gui.ml.model.conductor import save_conductor

    say = progress or (lambda _line: None)
    folder = Path(folder)
    composer = Composer(folder, "cpu")
    config = composer.config
    dataset = load_dataset(Path(data_dir), config)
    if not dataset.train or not dataset.validation:
        raise DataError(f"{data_dir}: the conductor needs training and validation songs")
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(dataset.train), min(songs, len(dataset.train)), replace=False))
    train_real = [dataset.train[i] for i in pick]
    t0 = time.monotonic()
    train_fake = [generated_song(composer, s, seed + 1000 + k) for k, s in enumerate(train_real)]
    val_fake = [generated_song(composer, s, seed + k) for k, s in enumerate(dataset.validation)]
    say(f"generated {len(train_fake)} training and {len(val_fake)} validation songs "
        f"in {time.monotonic() - t0:.0f} s")
    real, fake = song_windows(train_real, config), song_windows(train_fake, config)
    val_real, val_gen = song_windows(dataset.validation, config), song_windows(val_fake, config)
    x = [np.concatenate([a, b]) for a, b in zip(real, fake)]
    y = np.r_[np.ones(len(real[0])), np.zeros(len(fake[0]))].astype(np.float32)

    torch.manual_seed(seed)
    network = copy.deepcopy(getattr(composer.critic, "net", composer.critic)).train()
    optimizer = torch.optim.Adam(network.parameters(), lr=lr, betas=(0.5, 0.9))
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def judged() -> float:
        network.eval()
        auc = _auc(_logits(network, val_real, "cpu"), _logits(network, val_gen, "cpu"))
        network.train()
        return auc

    best_auc, best_state, step = judged(), copy.deepcopy(network.state_dict()), 0
    start_auc = best_auc
    say(f"step 0: validation AUC {best_auc:.3f} (the GAN critic)")
    t0 = time.monotonic()
    while time.monotonic() - t0 < minutes * 60:
        idx = rng.choice(len(y), batch, replace=False)
        logits = network(*(torch.from_numpy(a[idx]) for a in x)).reshape(-1)
        loss = loss_fn(logits, torch.from_numpy(y[idx]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        if step % 100 == 0:
            auc = judged()
            say(f"step {step}: loss {loss.item():.3f}, validation AUC {auc:.3f}")
            if auc > best_auc:
                best_auc, best_state = auc, copy.deepcopy(network.state_dict())
    network.load_state_dict(best_state)
    network.eval()
    reference = np.sort(_logits(network, val_real, "cpu"))
    info = {
        "data": str(data_dir), "train_songs": len(train_real),
        "validation_songs": len(dataset.validation), "steps": step,
        "minutes": round((time.monotonic() - t0) / 60, 1), "seed": seed,
        "validation_auc": round(best_auc, 4), "critic_validation_auc": round(start_auc, 4),
        "reference": [round(float(v), 5) for v in reference],
    }
    save_conductor(folder, network, info)
    return info
