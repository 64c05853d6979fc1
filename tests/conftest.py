"""Shared test fixtures. Qt runs offscreen; datasets skip with a reason when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("COMPOSER_GUI_DATASETS", REPO.parent / "shared" / "datasets"))


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """``../shared/datasets`` (or $COMPOSER_GUI_DATASETS); skips when it is missing."""
    if not DATASETS.is_dir():
        pytest.skip(f"real MIDI datasets not found at {DATASETS}")
    return DATASETS


@pytest.fixture
def isolated_home(tmp_path, monkeypatch) -> Path:
    """Point every per-user folder (settings, data, cache) at a throwaway directory."""
    home = tmp_path / "home"
    for var, sub in (
        ("HOME", ""),
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        path = home / sub
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(path))
    return home


def save_tiny_model(base: Path, name: str = "tiny") -> Path:
    """A models folder ``base`` holding ``name``: chorale parts, seeded untrained tiny
    networks (fast to load and run in window tests)."""
    import torch

    from composer_gui.ml.model.checkpoint import save_model
    from composer_gui.ml.model.config import style_config
    from composer_gui.ml.model.networks import build_models

    config = style_config("chorale")
    config.gen_width, config.gen_blocks = 32, 3
    config.critic_width, config.critic_blocks = 32, 2
    config.noise_dim = 8
    torch.manual_seed(0)
    torch.set_num_threads(1)
    generator, critic = build_models(config)
    save_model(base / name, config, generator, critic, step=0)
    (base / name / "README.md").write_text(f"# {name}\n\nA tiny untrained test model.\n")
    return base


def open_main_window(qtbot, width: int = 1400, height: int = 900):
    """The real main window, shown and active (window shortcuts need an active window
    under Xvfb)."""
    from composer_gui.ui.mainwindow import MainWindow

    win = MainWindow()
    win.resize(width, height)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    return win


def close_main_window(win) -> None:
    """Close without the unsaved-changes prompt."""
    win.document.undo_stack.setClean()
    win.close()
    win.deleteLater()
