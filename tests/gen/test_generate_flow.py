"""The Generate panel driven with real clicks and keys: sample melody -> tracks, undo,
variations, partial regeneration keeping hand edits, locks, export."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from composer_gui.core.song import Note
from composer_gui.midi.smf import read_midi
from composer_gui.ui.generate_plan import bar_starts
from composer_gui.ui.roll_export import export_roll_png
from composer_gui.ui.sample_melodies import sample_melodies

ROLES = ["Alto", "Tenor", "Bass"]


def open_sample(win, name="ode_to_joy"):
    path = next(p for p in sample_melodies() if p.stem == name)
    assert win.open_file(str(path), ask=False)
    return path


def set_combo(combo, data):
    combo.setCurrentIndex(combo.findData(data))


def generate(qtbot, panel, timeout=30_000):
    with qtbot.waitSignal(panel.generation_applied, timeout=timeout):
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)


def names(win):
    return [t.name for t in win.document.song.tracks]


def notes_in(track, lo, hi):
    return [n for n in track.notes if lo <= n.start < hi]


def check_roles(panel, wanted):
    for r in range(panel.role_list.count()):
        item = panel.role_list.item(r)
        on = item.text().split(" ")[0] in wanted
        item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)


def test_generate_undo_variations_partial_lock_export(gen_window, qtbot, tmp_path):
    win = gen_window
    panel = win.generate_panel
    open_sample(win)
    melody_before = list(win.document.song.tracks[0].notes)
    assert panel.select_model("tiny")
    assert "Alto, Tenor, Bass" in panel.card_label.text()
    panel.candidates_spin.setValue(3)
    set_combo(panel.mode_combo, "replace")

    # Generate with the keyboard shortcut: three new parts named by role, GM programs set
    with qtbot.waitSignal(panel.generation_applied, timeout=30_000):
        QTest.keyClick(win, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    song = win.document.song
    assert names(win) == ["Melody", *ROLES]
    assert song.tracks[0].notes == melody_before
    assert all(t.notes for t in song.tracks[1:])
    from composer_gui.ml.model.checkpoint import read_config

    specs = read_config(panel.current_model().path).roles
    assert [(t.program, t.role) for t in song.tracks[1:]] == [(s.program, s.role) for s in specs]
    assert panel.device_label.text().startswith("CPU")
    assert "Variation 1 of 3" in panel.variation_label.text()

    # one undo step, redo brings it back
    stack = win.document.undo_stack
    steps = stack.index()
    QTest.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert names(win) == ["Melody"]
    QTest.keyClick(win, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert names(win) == ["Melody", *ROLES]

    # variations: next shows another candidate in place, still one undo step
    first = [list(t.notes) for t in win.document.song.tracks[1:]]
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    second = [list(t.notes) for t in win.document.song.tracks[1:]]
    assert names(win) == ["Melody", *ROLES]
    assert second != first
    assert stack.index() == steps
    assert "Variation 2 of 3" in panel.variation_label.text()
    qtbot.mouseClick(panel.prev_button, Qt.MouseButton.LeftButton)
    assert [list(t.notes) for t in win.document.song.tracks[1:]] == first
    qtbot.mouseClick(panel.keep_button, Qt.MouseButton.LeftButton)
    assert not panel.next_button.isEnabled()

    # a hand edit in bar 3 of the Alto survives regenerating bars 2-3 of the Tenor
    starts = bar_starts(win.document.song)
    lo, hi = starts[1], starts[3]
    hand = Note(62, starts[2] + 120, 240, 77)
    alto = win.document.song.tracks[1]
    win.document.replace_notes(1, [n for n in alto.notes if n.pitch == 62
                                   and n.start < hand.end and n.end > hand.start], [hand],
                               "Hand edit")
    before = [list(t.notes) for t in win.document.song.tracks]
    win.document.state.set_loop(lo, hi)
    set_combo(panel.range_combo, "loop")
    check_roles(panel, {"Tenor"})
    panel.seed_spin.setValue(5)
    generate(qtbot, panel)
    after = [list(t.notes) for t in win.document.song.tracks]
    assert len(after) == 4
    assert after[0] == before[0] and after[1] == before[1] and after[3] == before[3]
    assert hand in after[1]
    tenor_b, tenor_a = win.document.song.tracks[2], before[2]
    assert [n for n in tenor_a if n.start < lo] == [n for n in tenor_b.notes if n.start < lo]
    assert [n for n in tenor_a if n.start >= hi] == [n for n in tenor_b.notes if n.start >= hi]
    assert notes_in(tenor_b, lo, hi) != [n for n in tenor_a if lo <= n.start < hi]
    QTest.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [list(t.notes) for t in win.document.song.tracks] == before

    # lock the Bass (current track + the panel's lock button); regenerate everything
    win.document.state.set_current_track(3)
    qtbot.mouseClick(panel.lock_button, Qt.MouseButton.LeftButton)
    assert win.document.song.tracks[3].locked
    check_roles(panel, set(ROLES))
    set_combo(panel.range_combo, "song")
    panel.seed_spin.setValue(9)
    generate(qtbot, panel)
    now = [list(t.notes) for t in win.document.song.tracks]
    assert now[3] == before[3]
    assert now[0] == before[0]
    assert now[1] != before[1]

    # export all tracks as MIDI and the roll as PNG, then read both back
    out = tmp_path / "out.mid"
    assert win.export_tracks_to([0, 1, 2, 3], str(out))
    back = read_midi(out)
    assert [t.name for t in back.tracks] == ["Melody", *ROLES]
    assert [len(t.notes) for t in back.tracks] == [len(n) for n in now]
    png = tmp_path / "roll.png"
    assert export_roll_png(win, str(png))
    image = QImage(str(png))
    assert image.width() > 200 and image.height() > 200
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    assert len(colours) > 5  # notes, grid and lanes drawn, not a blank image


def test_add_alongside_keeps_first_generation(gen_window, qtbot):
    win = gen_window
    panel = win.generate_panel
    open_sample(win, "twinkle_twinkle")
    panel.select_model("tiny")
    panel.candidates_spin.setValue(1)
    generate(qtbot, panel)
    first = [list(t.notes) for t in win.document.song.tracks]
    set_combo(panel.mode_combo, "add")
    generate(qtbot, panel)
    assert names(win) == ["Melody", *ROLES, *(f"{r} 2" for r in ROLES)]
    assert [list(t.notes) for t in win.document.song.tracks[:4]] == first


def test_variation_shows_percentile_among_real_passages(gen_window, qtbot, tiny_models,
                                                        datasets_dir, tmp_path, monkeypatch):
    import json
    import shutil

    models = tmp_path / "models"
    shutil.copytree(tiny_models / "tiny", models / "tiny")
    config_path = models / "tiny" / "config.json"
    config = json.loads(config_path.read_text())
    config["training"] = {"data": str(datasets_dir / "bach_chorales")}
    config_path.write_text(json.dumps(config))
    monkeypatch.setenv("COMPOSER_GUI_MODELS", str(models))
    win, panel = gen_window, gen_window.generate_panel
    panel.refresh_models()
    open_sample(win)
    panel.select_model("tiny")
    panel.candidates_spin.setValue(2)
    generate(qtbot, panel)
    qtbot.waitUntil(lambda: "% of real passages" in panel.variation_label.text(),
                    timeout=30_000)
    first = panel.variation_label.text()
    qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert "Variation 2 of 2" in panel.variation_label.text()
    assert panel.variation_label.text() != first


def test_generating_again_asks_replace_or_add(gen_window, qtbot):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    win = gen_window
    panel = win.generate_panel
    open_sample(win, "frere_jacques")
    panel.select_model("tiny")
    panel.candidates_spin.setValue(1)
    set_combo(panel.mode_combo, "ask")
    generate(qtbot, panel)  # the first time there is nothing to ask
    first = [list(t.notes) for t in win.document.song.tracks]

    def answer(button_text):
        def click():
            box = QApplication.activeModalWidget()
            assert isinstance(box, QMessageBox) and box.objectName() == "regenerate_prompt"
            button = next(b for b in box.buttons() if b.text() == button_text)
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        QTimer.singleShot(50, click)

    answer("Add alongside")
    panel.seed_spin.setValue(3)
    generate(qtbot, panel)
    assert names(win) == ["Melody", *ROLES, *(f"{r} 2" for r in ROLES)]
    win.activateWindow()  # back from the dialog (no window manager offscreen)
    qtbot.waitUntil(win.isActiveWindow)
    QTest.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert names(win) == ["Melody", *ROLES]
    answer("Replace")
    generate(qtbot, panel)
    assert names(win) == ["Melody", *ROLES]
    after = [list(t.notes) for t in win.document.song.tracks]
    assert after[0] == first[0] and after[1:] != first[1:]


def test_without_its_training_data_the_verdict_says_so(gen_window, qtbot):
    """The tiny test model records no training folder: once the engine has looked for real
    passages, the variation line says there are none to compare with (not "comparing")."""
    win = gen_window
    panel = win.generate_panel
    open_sample(win)
    assert panel.select_model("tiny")
    generate(qtbot, panel)
    qtbot.waitUntil(lambda: "no real passages" in panel.variation_label.text(), timeout=20_000)
    assert "conductor score" in panel.variation_label.text()
