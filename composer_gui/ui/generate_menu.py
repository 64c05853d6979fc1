"""Puts the Generate panel into the main window: docks it on the right, adds the Generate
menu (Generate on Ctrl+G, Cancel Generation, Next and Previous Variation on Ctrl+] and
Ctrl+[, Keep Variation) and File > Export Piano Roll Image (``ui/roll_export.py``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from composer_gui.ui.generate_panel import GeneratePanel
from composer_gui.ui.roll_export import export_roll_png_dialog


def show_all_pitches(roll) -> None:
    """Bring the song's pitches into view after a generation (a new bass line written
    below the rows on screen): scroll to them, or fit the song when they do not fit."""
    song = roll.document.song
    pitches = [n.pitch for t in song.tracks for n in t.notes]
    if not pitches:
        return
    lo, hi = min(pitches), max(pitches)
    first, last = roll.geom.rows(roll.viewport().height())
    if first <= 127 - hi and 127 - lo <= last:
        return  # all in view already
    if (hi - lo + 2) * roll.geom.row_height <= roll.viewport().height():
        roll.scroll_to_pitch((lo + hi) // 2)
    else:
        roll.zoom_to_fit()


def install(window) -> GeneratePanel:
    """Dock the panel in ``window`` and add its menu: Generate (Ctrl+G), Cancel,
    variations, and File > Export Piano Roll Image."""
    panel = GeneratePanel(window.document, window)
    window.generate_panel = panel
    window.add_panel("generate", "Generate", panel, Qt.DockWidgetArea.RightDockWidgetArea)
    panel.sample_requested.connect(window.open_file)  # asks first when the song is edited
    panel.generation_applied.connect(lambda _k: show_all_pitches(window.roll))
    # before Help, as every app keeps Help last
    bar = window.menuBar()
    help_menu = next((a for a in bar.actions() if a.text() == "&Help"), None)
    menu = QMenu("&Generate", window)
    if help_menu is not None:
        bar.insertMenu(help_menu, menu)
    else:
        bar.addMenu(menu)

    def action(text: str, slot, shortcut: str | None = None) -> QAction:
        act = QAction(text, window)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        window.addAction(act)
        menu.addAction(act)
        return act

    variations = panel.variations
    window.act_generate = action("&Generate", panel.generate, "Ctrl+G")
    action("&Cancel Generation", panel.cancel)
    action("&Next Variation", lambda: panel.show_variation(variations.shown + 1), "Ctrl+]")
    action("&Previous Variation", lambda: panel.show_variation(variations.shown - 1), "Ctrl+[")
    action("&Keep Variation", panel.keep)
    png = QAction("Export Piano Roll &Image\u2026", window)
    png.triggered.connect(lambda: export_roll_png_dialog(window))
    file_menu = next((a.menu() for a in window.menuBar().actions()
                      if a.menu() is not None and a.text() == "&File"), menu)
    file_menu.insertAction(window.act_quit, png)
    window.act_export_png = png
    return panel
