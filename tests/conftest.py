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
