"""Fine-tuning keeps the conductor (issue 17, item 4): a run started in the Fine-tune
window ends by training the new model's own conductor, the window says so while it
happens, and the new model's generation in the Generate panel is guided by it and
labelled "how real" against the run's own validation songs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.ui.test_finetune import RUN_TIMEOUT, click, close_main, open_main, set_up_run

pytestmark = [pytest.mark.qt_log_ignore("raise"), pytest.mark.qt_log_ignore("propagateSizeHints")]


def test_a_fine_tune_ends_with_its_own_conductor_and_generation_uses_it(env, qtbot,
                                                                        datasets_dir,
                                                                        tmp_path):
    folder = tmp_path / "chorales"
    folder.mkdir()
    for f in sorted((datasets_dir / "bach_chorales").glob("*.mid"))[:10]:
        shutil.copy(f, folder / f.name)
    win = open_main(qtbot)
    ft = set_up_run(qtbot, win, folder, "conducted", steps=6, every=6)
    form, run_tab = ft.settings_form, ft.training_page
    shown: list[tuple[str, str]] = []  # (phase, the state line while the stage runs)
    records: list[dict] = []
    ft.record_received.connect(records.append)
    ft.record_received.connect(lambda r: shown.append((r.get("phase"), run_tab.state_label.text()))
                               if r["kind"] == "conductor" else None)

    with qtbot.waitSignal(ft.training_started):
        click(qtbot, form.start_button)
    with qtbot.waitSignal(ft.training_ended, timeout=RUN_TIMEOUT) as ended:
        pass
    assert ended.args == ["done"]
    assert shown[0][0] == "start" and shown[0][1].startswith("Training the conductor")
    assert shown[-1][0] == "done" and "AUC" in shown[-1][1]
    done = [r for r in records if r["kind"] == "done"][-1]
    out = Path(done["model"])
    info = json.loads((out / "conductor.json").read_text())
    start = next(r for r in records if r["kind"] == "start")
    assert info["validation_songs"] == start["validation_songs"]

    # the new model is the Style now; its generation is guided and labelled by its conductor
    panel = win.generate_panel
    assert panel.current_model().path == out
    from composer_gui.ui.sample_melodies import sample_melodies

    assert win.open_file(str(sample_melodies()[0]), ask=False)
    assert panel.conductor_combo.currentData() == "light"
    panel.candidates_spin.setValue(2)
    with qtbot.waitSignal(panel.generation_applied, timeout=60_000):
        click(qtbot, panel.generate_button)
    assert panel.variations.job.guidance == "light"
    qtbot.waitUntil(lambda: "% of real passages" in panel.variation_label.text(), timeout=10_000)
    close_main(win)
