"""Fixtures for the ml tests: a few real chorales, tiny configs and tiny model folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from composer_gui.core.song import Note, Song, TimeSignature, Track

N_CHORALES = 8


def tiny_config(**changes):
    """The chorale roles with a network small enough to train in seconds."""
    from composer_gui.ml.model.config import style_config

    config = style_config("chorale")
    config.gen_width = 32
    config.gen_blocks = 3
    config.critic_width = 32
    config.critic_blocks = 2
    config.noise_dim = 8
    for key, value in changes.items():
        setattr(config, key, value)
    return config


@pytest.fixture(scope="session")
def chorale_files(datasets_dir) -> list[Path]:
    files = sorted((datasets_dir / "bach_chorales").glob("*.mid"))[:N_CHORALES]
    if len(files) < N_CHORALES:
        pytest.skip("bach_chorales has too few files")
    return files


@pytest.fixture
def chorale_dir(tmp_path, chorale_files) -> Path:
    """A throwaway folder with a few real chorales."""
    folder = tmp_path / "chorales"
    folder.mkdir()
    for f in chorale_files:
        shutil.copy(f, folder / f.name)
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A model folder with untrained (seeded) tiny networks: enough for the mechanics
    of generation, loading and the command line."""
    import torch

    from composer_gui.ml.model.checkpoint import save_model
    from composer_gui.ml.model.networks import build_models

    folder = tmp_path_factory.mktemp("models") / "tiny"
    config = tiny_config()
    torch.manual_seed(0)
    generator, critic = build_models(config)
    save_model(folder, config, generator, critic, step=0)
    return folder


def melody_song(bars: int = 8, numerator: int = 4, denominator: int = 4,
                ticks_per_beat: int = 480) -> Song:
    """A hand-made tune (a nursery-rhyme shape, not from any dataset), one track."""
    shape = [72, 72, 79, 79, 81, 81, 79, None, 77, 77, 76, 76, 74, 74, 72, None]
    beat = ticks_per_beat * 4 // denominator
    notes, t, i = [], 0, 0
    for _ in range(bars * numerator):
        p = shape[i % len(shape)]
        if p is not None:
            notes.append(Note(p, t, beat - 10, 90))
        t += beat
        i += 1
    return Song(ticks_per_beat=ticks_per_beat,
                time_signatures=[TimeSignature(0, numerator, denominator)],
                tracks=[Track(name="Tune", program=73, channel=0, notes=notes)])


@pytest.fixture
def melody_mid(tmp_path) -> Path:
    from composer_gui.midi.smf import write_midi

    path = tmp_path / "tune.mid"
    write_midi(melody_song(), path)
    return path


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """One thread: on a shared 2-core CI machine two torch threads spin against each
    other and every other process (measured several times slower)."""
    import torch

    torch.set_num_threads(1)
