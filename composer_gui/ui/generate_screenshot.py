"""Take the "Your first composition" screenshots of the real window (run under Xvfb)::

    xvfb-run -a -s "-screen 0 1600x900x24" \\
        python -m composer_gui.ui.generate_screenshot docs/first_composition

Opens the sample melody "Ode to Joy", grabs the window (``..._before.png``), clicks
Generate with the first shipped model, waits for the parts and the conductor's verdict,
and grabs it again (``..._after.png``). Settings go to a throwaway folder.
"""

from __future__ import annotations

import os
import sys
import tempfile


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m composer_gui.ui.generate_screenshot OUT_PREFIX", file=sys.stderr)
        return 2
    prefix = argv[0]
    home = tempfile.mkdtemp(prefix="composer-gui-shot-")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(home, "config")
    os.environ["XDG_DATA_HOME"] = os.path.join(home, "data")

    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from composer_gui.ui.generate_panel import sample_melodies
    from composer_gui.ui.mainwindow import MainWindow

    app = QApplication([sys.argv[0]])
    window = MainWindow()
    window.resize(1600, 900)
    window.move(0, 0)
    window.show()
    tune = next(p for p in sample_melodies() if p.stem == "ode_to_joy")
    if not window.open_file(str(tune), ask=False):
        return 1
    panel = window.generate_panel
    panel.candidates_spin.setValue(8)
    window.roll.zoom_to_fit()

    def grab(path: str) -> None:
        geometry = window.frameGeometry()
        app.primaryScreen().grabWindow(0).copy(geometry).save(path)

    def before() -> None:
        grab(f"{prefix}_before.png")
        panel.generation_applied.connect(lambda _k: QTimer.singleShot(2500, after))
        QTest.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)

    def after() -> None:
        window.roll.zoom_to_fit()
        window.document.state.set_current_track(1)
        app.processEvents()
        grab(f"{prefix}_after.png")
        window.document.undo_stack.setClean()
        app.quit()

    QTimer.singleShot(1500, before)
    QTimer.singleShot(60_000, app.quit)
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
