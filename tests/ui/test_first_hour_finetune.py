"""The Fine-tune window as a musician first meets it (issue 21, item 8): it starts from
the style the main window is on, says nothing about files before there is a folder, has
one button per meaning, and explains its plots' abbreviations."""

from __future__ import annotations

import pyqtgraph as pg
import pytest

from composer_gui import settings
from composer_gui.assets import models_dir
from tests.conftest import close_main_window, open_main_window

pytestmark = [pytest.mark.qt_log_ignore("propagateSizeHints")]


@pytest.fixture
def main(isolated_home, monkeypatch, qtbot):
    monkeypatch.setenv("COMPOSER_GUI_MODELS", str(models_dir()))
    settings.use_settings_file(None)
    win = open_main_window(qtbot, 1600, 900)
    yield win
    close_main_window(win)
    settings.use_settings_file(None)


def test_fine_tune_window_starts_from_the_main_windows_style(main, qtbot):
    panel = main.generate_panel
    assert panel.select_model("folk")
    main.act_finetune.trigger()
    ft = main.finetune.window
    qtbot.waitExposed(ft)
    assert ft.settings_form.base_combo.currentData().name == "folk"
    # the scan shows no file count before there is a folder
    assert "0 /" not in ft.scan_page.scan_progress.text()
    assert "100" not in ft.scan_page.scan_progress.text()
    # one name per meaning: stopping the training is not stopping the preview
    page = ft.training_page
    assert page.stop_button.text() != page.preview.stop_button.text()
    assert "Training" in page.stop_button.text()
    # the plots say what EB, UPC, QN and TD mean
    texts = " ".join(item.text for item in page.plots.view.ci.items
                     if isinstance(item, pg.LabelItem))
    for words in ("EB: empty bars", "UPC: used pitch classes", "QN: qualified notes",
                  "TD to melody: tonal distance"):
        assert words in texts

    # closed and opened again after the main window moved to pop: it follows
    ft.close()
    assert panel.select_model("pop")
    main.act_finetune.trigger()
    qtbot.waitExposed(ft)
    assert ft.settings_form.base_combo.currentData().name == "pop"
