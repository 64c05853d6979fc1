"""A musician's first hour with the Generate panel (issue 21), driven with real clicks:
changing style and replacing, regenerating a few bars of one part, a panel that does not
jump under the mouse, and style texts a musician reads."""

from __future__ import annotations

from PySide6.QtCore import Qt

from composer_gui.ui.sample_melodies import sample_melodies
from tests.gen.test_generate_flow import generate, open_sample
from tests.gen.test_generate_flow import set_combo as pick


def click_generate(qtbot, panel, timeout=60_000):
    generate(qtbot, panel, timeout)


def tracks(win):
    return [(t.name, t.program) for t in win.document.song.tracks]


def test_replace_with_another_style_replaces_every_generated_part(shipped_window, qtbot):
    win = shipped_window
    panel = win.generate_panel
    open_sample(win)
    panel.candidates_spin.setValue(1)
    pick(panel.mode_combo, "replace")
    assert panel.select_model("chorale")
    click_generate(qtbot, panel)
    chorale = tracks(win)
    assert chorale == [("Melody", 73), ("Alto", 52), ("Tenor", 52), ("Bass", 52)]

    assert panel.select_model("pop")
    click_generate(qtbot, panel)
    # no choir left singing a pop bass line: the pop parts, each with its instrument
    assert tracks(win) == [("Melody", 73), ("Bass", 33), ("Piano", 0), ("Strings", 48),
                           ("Drums", 0)]
    assert win.document.song.tracks[4].is_drum
    assert all(t.notes for t in win.document.song.tracks[1:])

    # one undo step brings the chorale back as it was
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert tracks(win) == chorale


def bar_ticks(win):
    from composer_gui.ui.generate_plan import bar_starts

    return bar_starts(win.document.song)


def test_regenerating_a_few_bars_of_one_part_gives_different_variations(shipped_window,
                                                                          qtbot):
    win = shipped_window
    panel = win.generate_panel
    open_sample(win)
    assert panel.select_model("folk")
    pick(panel.mode_combo, "replace")
    panel.candidates_spin.setValue(1)
    click_generate(qtbot, panel)
    qtbot.mouseClick(panel.keep_button, Qt.MouseButton.LeftButton)
    starts = bar_ticks(win)
    lo, hi = starts[2], starts[4]
    bass = 2
    old = [n for n in win.document.song.tracks[bass].notes if lo <= n.start < hi]

    win.document.state.set_loop(lo, hi)
    pick(panel.range_combo, "loop")
    for r in range(panel.role_list.count()):
        item = panel.role_list.item(r)
        item.setCheckState(Qt.CheckState.Checked if item.text() == "Bass"
                           else Qt.CheckState.Unchecked)
    panel.candidates_spin.setValue(4)
    for seed in (0, 7):
        panel.seed_spin.setValue(seed)
        click_generate(qtbot, panel)
        offered = []
        n = panel.variation_count()
        for k in range(n):
            if k:
                qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
            assert f"Variation {k + 1} of {n}" in panel.variation_label.text()
            offered.append(tuple(n for n in win.document.song.tracks[bass].notes
                                 if lo <= n.start < hi))
        # every variation offered is a different bass line in bars 3-4 ...
        assert n >= 1 and len(set(offered)) == n
        # ... and when fewer than four came, the panel says why and what to change
        status = panel.status_label.text()
        assert (n == 4) != ("the model is sure of this part here" in status)
        if n < 4:
            assert "raise Variation" in status and "bars 3-4" in status
    assert any(o != tuple(old) for o in offered)


def test_the_panel_does_not_move_under_the_mouse(shipped_window, qtbot):
    win = shipped_window
    win.resize(1600, 900)
    panel = win.generate_panel
    open_sample(win)
    pick(panel.mode_combo, "replace")
    panel.candidates_spin.setValue(2)

    def places():
        qtbot.wait(50)  # let the layouts settle
        return {name: (w.mapTo(win, w.rect().topLeft()).y(), w.height(), w.width()) for name, w in
                (("style text", panel.card_label), ("parts", panel.role_list),
                 ("generate", panel.generate_button), ("keep", panel.keep_button))}

    for style in ("chorale", "folk", "pop"):
        assert panel.select_model(style)
        before = places()
        with qtbot.waitSignal(panel.status_changed):  # the generation starts
            qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
        assert places() == before
        qtbot.waitUntil(lambda: panel.variation_count() > 0, timeout=60_000)
        assert places() == before
        qtbot.mouseClick(panel.keep_button, Qt.MouseButton.LeftButton)
        assert places() == before


def test_style_texts_speak_to_musicians_with_the_card_one_click_away(shipped_window, qtbot):
    from composer_gui.ui.tracklist import COL_PROGRAM

    win = shipped_window
    panel = win.generate_panel
    open_sample(win)
    for style, instrument, meters in (("chorale", "53 Choir Aahs", "3/2"),
                                      ("folk", "33 Acoustic Bass", "9/8"),
                                      ("pop", "34 Electric Bass (finger)", "4/4")):
        assert panel.select_model(style)
        text = panel.card_label.text()
        assert text.startswith("Plays ") and instrument in text and meters in text
        for jargon in ("tracks named exactly", "program", "GM 52", "`", "**"):
            assert jargon not in text
        # nothing cut: the label is as tall as its text needs
        label = panel.card_label
        qtbot.waitUntil(lambda lb=label: lb.height() >= lb.heightForWidth(lb.width()),
                        timeout=2000)

    # the card in full is one click away
    qtbot.mouseClick(panel.card_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.card_dialog is not None and panel.card_dialog.isVisible())
    assert "POP909" in panel.card_dialog.browser.toPlainText()
    panel.card_dialog.close()

    # the sample opens as a template, titled
    assert panel.select_model("folk")
    qtbot.mouseClick(panel.sample_button, Qt.MouseButton.LeftButton)
    assert "Fr" in panel.sample_button.text()
    from composer_gui.midi.smf import read_midi

    sample = next(p for p in sample_melodies() if p.stem == "frere_jacques")
    assert win.document.song.tracks[0].notes == read_midi(sample).tracks[0].notes
    assert win.document.path == ""

    # the instrument the style text names is the one the track list shows
    assert panel.select_model("chorale")
    panel.candidates_spin.setValue(1)
    click_generate(qtbot, panel)
    table = win.track_list.table
    alto = next(r for r in range(table.rowCount()) if "Alto" in table.item(r, 1).text())
    assert table.cellWidget(alto, COL_PROGRAM).currentText() == "53 Choir Aahs"
    assert "53 Choir Aahs" in panel.card_label.text()


def test_smaller_things_a_musician_notices(shipped_window, qtbot):
    from PySide6.QtGui import QFontMetrics

    from composer_gui.ui.tracklist import COL_PROGRAM

    win = shipped_window
    panel = win.generate_panel
    open_sample(win)
    # the window is titled by the song, not "Untitled"
    assert win.windowTitle().startswith("Ode To Joy")
    # every transport button shows a glyph the font has, or an icon
    transport = win.live.transport
    for button in (transport.play_button, transport.pause_button, transport.stop_button,
                   transport.record_button):
        metrics = QFontMetrics(button.font())
        assert not button.icon().isNull() or all(metrics.inFontUcs4(ord(c))
                                                for c in button.text())
    # zoomed in on the melody, as a musician would be
    win.roll.set_zoom(px_per_tick=0.1, row_height=14)
    win.roll.scroll_to_pitch(72)
    assert panel.select_model("pop")
    pick(panel.mode_combo, "replace")
    panel.candidates_spin.setValue(2)
    click_generate(qtbot, panel)
    assert panel.device_label.text() == "CPU (1 thread)"
    # the new bass line is on screen, not below it
    lowest = min(n.pitch for t in win.document.song.tracks for n in t.notes)
    first, last = win.roll.geom.rows(win.roll.viewport().height())
    assert first <= 127 - lowest <= last
    # instrument names are not cut in the track list
    table = win.track_list.table
    combo = table.cellWidget(1, COL_PROGRAM)
    assert combo.currentText() == "34 Electric Bass (finger)"
    assert table.columnWidth(COL_PROGRAM) > QFontMetrics(combo.font()).horizontalAdvance(
        combo.currentText()) + 20
    # Keep keeps the verdict in view
    qtbot.mouseClick(panel.keep_button, Qt.MouseButton.LeftButton)
    assert "conductor" in panel.variation_label.text()
    assert panel.variation_label.text().startswith("Kept variation 1 of 2")
    # the Generate menu comes before Help
    assert [a.text() for a in win.menuBar().actions()][-1] == "&Help"
