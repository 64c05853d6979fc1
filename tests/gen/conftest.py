"""Fixtures for the Generate-panel tests: a tiny untrained model as the only shipped
model, a throwaway home, a shown main window with a sample melody."""

from __future__ import annotations

from pathlib import Path

import pytest

from composer_gui import settings


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/gen/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore("propagateSizeHints"))


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    """A models folder holding ``tiny`` (chorale roles, seeded untrained tiny networks)."""
    import torch

    from composer_gui.ml.checkpoint import save_model
    from composer_gui.ml.config import style_config
    from composer_gui.ml.model import build_models

    base = tmp_path_factory.mktemp("models")
    config = style_config("chorale")
    config.gen_width, config.gen_blocks = 32, 3
    config.critic_width, config.critic_blocks = 32, 2
    config.noise_dim = 8
    torch.manual_seed(0)
    torch.set_num_threads(1)
    generator, critic = build_models(config)
    save_model(base / "tiny", config, generator, critic, step=0)
    (base / "tiny" / "README.md").write_text("# tiny\n\nA tiny untrained test model.\n")
    return base


@pytest.fixture
def gen_window(isolated_home, tiny_models, monkeypatch, qtbot):
    monkeypatch.setenv("COMPOSER_GUI_MODELS", str(tiny_models))
    monkeypatch.setenv("COMPOSER_GUI_THREADS", "1")
    settings.use_settings_file(None)
    from composer_gui.ui.mainwindow import MainWindow

    win = MainWindow()
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    yield win
    win.document.undo_stack.setClean()
    win.close()
    win.deleteLater()
    settings.use_settings_file(None)
