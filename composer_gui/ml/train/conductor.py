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
from collections.abc import Callable, Iterator, Sequence
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
    of ``data_dir`` for about ``minutes`` (0: keep the network of the conductor it has, or
    its GAN critic, and fit the ear and the reference anew); returns its record (also in
    conductor.json)."""
    from composer_gui.ml.data.dataset import load_dataset
    from composer_gui.ml.errors import DataError
    from composer_gui.ml.model.conductor import load_conductor
    from composer_gui.ml.model.config import ModelConfig

    config = ModelConfig.load(Path(folder))
    current = load_conductor(Path(folder), config) if minutes <= 0 else None
    dataset = load_dataset(Path(data_dir), config)
    if not dataset.train or not dataset.validation:
        raise DataError(f"{data_dir}: the conductor needs training and validation songs")
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(dataset.train), min(songs, len(dataset.train)), replace=False))
    return fit_conductor(folder, [dataset.train[i] for i in pick], dataset.validation,
                         minutes=max(0.0, minutes), seed=seed, lr=lr, batch=batch,
                         progress=progress, data=str(data_dir),
                         start=current[0] if current else None,
                         weights=current[1].get("weights") if current else None)


def fit_conductor(folder: Path, train_real: Sequence[SongArrays],
                  validation: Sequence[SongArrays], *, minutes: float,
                  progress: Callable[[str], None] | None = None, **options) -> dict:
    """Train and save the conductor of the model in ``folder`` (see
    :func:`conductor_records`, whose ``options`` it takes); ``progress`` gets a line per
    judgement. Returns its record (also in conductor.json)."""
    say = progress or (lambda _line: None)
    records = conductor_records(folder, train_real, validation, minutes=minutes, **options)
    while True:
        try:
            record = next(records)
        except StopIteration as done:
            return done.value
        say(record["message"])


def conductor_records(folder: Path, train_real: Sequence[SongArrays],
                      validation: Sequence[SongArrays], *, minutes: float, seed: int = 0,
                      lr: float = 1e-4, batch: int = 32, start=None,
                      patience: int | None = None, passes: int | None = None,
                      control=None, data: str = "",
                      weights: dict | None = None) -> Iterator[dict]:
    """Train and save the conductor of the model in ``folder``: ``train_real`` songs against
    the model's own accompaniment of their melodies, judged on ``validation`` songs, for
    about ``minutes`` (paused time not counted), or until ``control`` (a
    :class:`~composer_gui.ml.train.control.TrainControl`) asks to stop, ``patience``
    judgements pass without a better validation AUC, or ``passes`` passes over the training
    windows are done. It starts from the network ``start`` (a base model's conductor) or
    else the model's GAN critic (``minutes`` 0 keeps that network as it is). Then the
    conductor's ear (:mod:`composer_gui.ml.model.ear`) is fitted on the bars of
    the same windows; ``weights`` (``network``, ``ear``; default :data:`DEFAULT_WEIGHTS`)
    say how the two make the conductor's score. Yields ``{"phase": "progress", "message",
    "steps", "validation_auc"}`` per judgement and ``{"kind": "paused"}`` /
    ``{"kind": "resumed"}`` around a pause; returns the conductor's record (also in
    conductor.json)."""
    import copy

    import torch

    from composer_gui.ml.generate.guidance import Judge
    from composer_gui.ml.generate.sample import Composer
    from composer_gui.ml.model.conductor import save_conductor

    folder = Path(folder)
    composer = Composer(folder, "cpu")
    config = composer.config
    rng = np.random.default_rng(seed)
    t0 = time.monotonic()
    train_fake = [generated_song(composer, s, seed + 1000 + k) for k, s in enumerate(train_real)]
    val_fake = [generated_song(composer, s, seed + k) for k, s in enumerate(validation)]
    yield {"phase": "progress", "steps": 0, "validation_auc": None,
           "message": f"generated {len(train_fake)} training and {len(val_fake)} validation "
                      f"songs in {time.monotonic() - t0:.0f} s"}
    real, fake = song_windows(train_real, config), song_windows(train_fake, config)
    val_real, val_gen = song_windows(validation, config), song_windows(val_fake, config)
    x = [np.concatenate([a, b]) for a, b in zip(real, fake)]
    y = np.r_[np.ones(len(real[0])), np.zeros(len(fake[0]))].astype(np.float32)
    batch = min(batch, len(y))
    max_steps = max(20, passes * len(y) // batch) if passes else None
    every = min(100, max(10, max_steps // 10)) if max_steps else 100

    torch.manual_seed(seed)
    network = copy.deepcopy(start if start is not None
                            else getattr(composer.critic, "net", composer.critic)).train()
    optimizer = torch.optim.Adam(network.parameters(), lr=lr, betas=(0.5, 0.9))
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def judged() -> float:
        network.eval()
        auc = _auc(_logits(network, val_real, "cpu"), _logits(network, val_gen, "cpu"))
        network.train()
        return auc

    best_auc, best_state, step, since_best = judged(), copy.deepcopy(network.state_dict()), 0, 0
    start_auc = best_auc
    yield {"phase": "progress", "steps": 0, "validation_auc": round(best_auc, 4),
           "message": f"step 0: validation AUC {best_auc:.3f} "
                      f"({'the conductor it starts from' if start is not None else 'the GAN critic'})"}
    t0 = time.monotonic()
    stopped = (lambda: control.stop_requested) if control is not None else (lambda: False)
    while (time.monotonic() - t0 < minutes * 60 and not stopped()
           and (max_steps is None or step < max_steps)
           and (patience is None or since_best < patience)):
        if control is not None and control.paused:
            paused_at = time.monotonic()
            yield {"kind": "paused"}
            while control.paused and not control.stop_requested:
                control.wait(1.0)
            t0 += time.monotonic() - paused_at
            yield {"kind": "resumed"}
            continue
        idx = rng.choice(len(y), batch, replace=False)
        logits = network(*(torch.from_numpy(a[idx]) for a in x)).reshape(-1)
        loss = loss_fn(logits, torch.from_numpy(y[idx]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        if step % every == 0:
            auc = judged()
            since_best += 1
            if auc > best_auc:
                best_auc, best_state, since_best = auc, copy.deepcopy(network.state_dict()), 0
            yield {"phase": "progress", "steps": step, "validation_auc": round(auc, 4),
                   "message": f"step {step}: loss {loss.item():.3f}, validation AUC {auc:.3f}"}
    network.load_state_dict(best_state)
    network.eval()
    ear_model, ear_record = _fit_ear(real, fake, val_real, val_gen, config, seed)
    yield {"phase": "progress", "steps": step, "validation_auc": round(best_auc, 4),
           "message": f"ear: tells validation bars apart with AUC "
                      f"{ear_record['validation_bar_auc']:.3f} (windows "
                      f"{ear_record['validation_window_auc']:.3f})"}
    weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
    judge = Judge(network, ear_model, config, weights["network"], weights["ear"])
    reference = np.sort(_logits(judge, val_real, "cpu"))
    judge_auc = _auc(reference, _logits(judge, val_gen, "cpu"))
    info = {
        "data": data, "train_songs": len(train_real),
        "validation_songs": len(validation), "steps": step,
        "minutes": round((time.monotonic() - t0) / 60, 1), "seed": seed,
        "validation_auc": round(best_auc, 4),
        ("start_validation_auc" if start is not None else "critic_validation_auc"):
            round(start_auc, 4),
        "weights": weights, "judge_validation_auc": round(judge_auc, 4),
        "ear": ear_record,
        "reference": [round(float(v), 5) for v in reference],
    }
    save_conductor(folder, network, info, ear_model)
    return info


#: How the network and the ear make the conductor's score (:class:`Judge`). The ear alone:
#: on validation songs the network's preferences among generated windows made the
#: two-sample test's job easier (chorale) or helped half as much as the ear's (folk).
DEFAULT_WEIGHTS = {"network": 0.0, "ear": 1.0}


def _fit_ear(real, fake, val_real, val_gen, config, seed: int):
    """(ear, record): the bar-feature trees fitted on the real (1) and generated (0)
    training windows' bars, with how well they tell the validation windows' bars apart."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from composer_gui.ml.generate.guidance import window_feature_rows
    from composer_gui.ml.metrics.bars import FEATURES
    from composer_gui.ml.model.ear import Ear

    def rows(windows):
        return window_feature_rows(*windows, config)

    x_real, x_fake = np.concatenate(rows(real)), np.concatenate(rows(fake))
    classifier = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1,
                                                max_leaf_nodes=15, random_state=seed)
    classifier.fit(np.r_[x_real, x_fake], np.r_[np.ones(len(x_real)), np.zeros(len(x_fake))])
    ear = Ear.from_classifier(classifier)
    v_real, v_gen = rows(val_real), rows(val_gen)
    record = {
        "features": list(FEATURES), "parts": [s.name for s in config.roles if not s.is_drum],
        "train_bars": int(len(x_real) + len(x_fake)),
        "validation_bar_auc": round(_auc(ear.raw(np.concatenate(v_real)),
                                         ear.raw(np.concatenate(v_gen))), 4),
        "validation_window_auc": round(_auc(np.array([ear.raw(r).mean() for r in v_real]),
                                            np.array([ear.raw(r).mean() for r in v_gen])), 4),
    }
    return ear, record


#: Training songs (spread over the set) a training run's own conductor learns from.
STAGE_SONGS = 40
#: Judgements without a better validation AUC that end a training run's conductor stage.
STAGE_PATIENCE = 5


def conductor_stage(out: Path, dataset, base: Path | None, minutes: float, step: int,
                    control=None, seed: int = 0, data: str = "") -> Iterator[dict]:
    """The conductor stage at the end of a training run (``train --conductor-minutes``):
    the run's own conductor, trained on its training songs and judged on its validation
    songs (whose real windows become the "how real" reference), starting from the base
    model's conductor when a fine-tune's base has one. Yields the protocol's ``conductor``
    records (and ``paused``/``resumed``); returns the conductor's record, or None when it
    could not be trained (a ``warning`` record says why; the model stays usable,
    unguided)."""
    from composer_gui.ml.errors import UserError
    from composer_gui.ml.model.conductor import load_conductor
    from composer_gui.ml.model.config import ModelConfig

    out = Path(out)
    train_songs = dataset.train[:: max(1, len(dataset.train) // STAGE_SONGS)][:STAGE_SONGS]
    start, weights = None, None
    try:
        config = ModelConfig.load(out)
        if base is not None:
            from composer_gui.ml.model.registry import resolve_model

            loaded = load_conductor(resolve_model(str(base)), config)
            if loaded is not None:
                start, weights = loaded[0], loaded[1].get("weights")
    except UserError:
        start = None  # a broken base conductor: start from the run's critic
    yield {"kind": "conductor", "step": step, "phase": "start", "train_songs": len(train_songs),
           "validation_songs": len(dataset.validation), "minutes": minutes,
           "from": "base conductor" if start is not None else "critic"}
    records = conductor_records(out, train_songs, dataset.validation, minutes=minutes,
                                seed=seed, start=start, patience=STAGE_PATIENCE, passes=40,
                                control=control, data=data, weights=weights)
    try:
        while True:
            try:
                record = next(records)
            except StopIteration as done:
                info = done.value
                break
            if "kind" in record:
                yield {**record, "step": step}
            else:
                yield {"kind": "conductor", "step": step, **record}
    except (UserError, RuntimeError, MemoryError, ValueError, OSError) as exc:
        yield {"kind": "warning", "step": step,
               "message": f"no conductor trained ({exc}): the model generates unguided"}
        return None
    yield {"kind": "conductor", "step": step, "phase": "done",
           "validation_auc": info["validation_auc"], "steps": info["steps"],
           "message": f"conductor trained: validation AUC {info['validation_auc']:.3f}"}
    return info
