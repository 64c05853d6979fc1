"""Puts the live features into the main window: the Transport dock (top), the Mixer
(bottom, hidden at first) and Keyboard (bottom) docks, the Play menu before Help (Play /
Pause on Space, Stop, Record on Ctrl+R) and File > Export WAV. The sound and the port
watching start later, with :meth:`~composer_gui.ui.live_panels.LivePanels.start`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from composer_gui.ui.live_panels import LivePanels


def install(window) -> LivePanels:
    """Dock the transport, mixer and keyboard panels in ``window`` and add File >
    Export WAV. Call :meth:`LivePanels.start` to load the sound and watch ports."""
    live = LivePanels(window)
    window.live = live
    window.add_panel("transport", "Transport", live.transport_widget,
                     Qt.DockWidgetArea.TopDockWidgetArea)
    window.add_panel("mixer", "Mixer", live.mixer, Qt.DockWidgetArea.BottomDockWidgetArea,
                     visible=False)
    window.add_panel("keyboard", "Keyboard", live.keyboard,
                     Qt.DockWidgetArea.BottomDockWidgetArea)
    menu = window.menuBar().insertMenu(
        next(a for a in window.menuBar().actions() if a.text() == "&Help"), QMenu("&Play", window))
    for text, slot, key in (("&Play / Pause", live.toggle_play, "Space"),
                            ("&Stop", live.stop, None),
                            ("&Record", live._on_record_requested, "Ctrl+R")):
        play_act = QAction(text, window)
        if key:
            play_act.setShortcut(QKeySequence(key))
        play_act.triggered.connect(slot)
        window.addAction(play_act)
        menu.menu().addAction(play_act)
    from composer_gui.ui.typing_keys import MusicalTyping

    live.typing = MusicalTyping(window, live.keyboard, window.panels.get("keyboard"))
    menu.menu().addSeparator()
    menu.menu().addAction(live.typing.action)
    act = QAction("Export &WAV\u2026", window)
    act.setStatusTip("Render the song to a WAV file (44.1 kHz, 16-bit, stereo)")
    act.triggered.connect(live.export_wav_dialog)
    window.act_export_wav = act
    file_menu = next(a.menu() for a in window.menuBar().actions()
                     if a.menu() is not None and a.text() == "&File")
    file_menu.insertAction(window.act_quit, act)
    return live
