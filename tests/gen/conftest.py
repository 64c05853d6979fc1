"""Fixtures for the Generate-panel tests: a tiny untrained model as the only shipped
model, a throwaway home, a shown main window with a sample melody."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer_gui import settings
from composer_gui.assets import models_dir
from tests.conftest import close_main_window, open_main_window, save_tiny_model

SHIPPED_MODELS = models_dir()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/gen/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore("propagateSizeHints"))


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    """A models folder holding ``tiny`` (chorale roles, seeded untrained tiny networks)."""
    return save_tiny_model(tmp_path_factory.mktemp("models"))


def _window(models: Path, monkeypatch, qtbot):
    monkeypatch.setenv("COMPOSER_GUI_MODELS", str(models))
    monkeypatch.setenv("COMPOSER_GUI_THREADS", "1")
    settings.use_settings_file(None)
    win = open_main_window(qtbot)
    yield win
    close_main_window(win)
    settings.use_settings_file(None)


@pytest.fixture
def gen_window(isolated_home, tiny_models, monkeypatch, qtbot):
    yield from _window(tiny_models, monkeypatch, qtbot)


@pytest.fixture
def shipped_window(isolated_home, monkeypatch, qtbot):
    """The window with the project's shipped models (``models/``)."""
    yield from _window(SHIPPED_MODELS, monkeypatch, qtbot)
