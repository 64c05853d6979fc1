"""Take the README screenshot of the real window (run under Xvfb)::

    xvfb-run -a -s "-screen 0 1600x900x24" \\
        python -m composer_gui.ui.screenshot ../shared/datasets/bach_chorales/bwv10.7.mid \\
        docs/screenshot.png

Opens the file, shows the first bars with a loop range, the playhead and a selection,
then grabs the screen with ``QScreen.grabWindow(0)``. Settings go to a throwaway folder.
"""

from __future__ import annotations

import os
import sys
import tempfile


def start_window(song_path: str):
    """A QApplication and a shown 1600x900 main window with ``song_path`` open, settings
    in a throwaway folder; ``(app, window)``, or ``None`` if the file did not open."""
    home = tempfile.mkdtemp(prefix="composer-gui-shot-")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(home, "config")
    os.environ["XDG_DATA_HOME"] = os.path.join(home, "data")

    from PySide6.QtWidgets import QApplication

    from composer_gui.ui.mainwindow import MainWindow

    app = QApplication([sys.argv[0]])
    window = MainWindow()
    window.resize(1600, 900)
    window.move(0, 0)
    window.show()
    if not window.open_file(song_path, ask=False):
        return None
    return app, window


def grab_window(app, window, path: str) -> None:
    """Save what the screen shows of ``window`` (frame included) as ``path``."""
    app.primaryScreen().grabWindow(0).copy(window.frameGeometry()).save(path)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m composer_gui.ui.screenshot SONG.mid OUT.png", file=sys.stderr)
        return 2
    song_path, out = argv
    started = start_window(song_path)
    if started is None:
        return 1
    app, window = started

    from PySide6.QtCore import QTimer

    doc, roll = window.document, window.roll
    tpb = doc.song.ticks_per_beat
    bar = 4 * tpb
    roll.set_zoom(px_per_tick=34 / tpb, row_height=14)
    roll.horizontalScrollBar().setValue(0)
    roll.scroll_to_pitch(63)
    doc.state.set_playhead(2 * bar + tpb)
    doc.state.set_loop(2 * bar + tpb, 4 * bar + tpb)
    doc.state.set_selection(n for n in doc.song.tracks[0].notes
                            if 5 * bar + tpb <= n.start < 6 * bar + tpb)

    def grab() -> None:
        grab_window(app, window, out)
        doc.undo_stack.setClean()
        app.quit()

    QTimer.singleShot(1500, grab)
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
