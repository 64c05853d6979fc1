"""Take the "Your first composition" screenshots of the real window (run under Xvfb)::

    xvfb-run -a -s "-screen 0 1600x900x24" \\
        python -m composer_gui.ui.generate_screenshot docs/first_composition [STYLE]

Opens the sample melody "Ode to Joy", grabs the window (``..._before.png``), clicks
Generate with the pop model (``STYLE`` as a second argument picks another), waits for the parts and the conductor's verdict,
and grabs it again (``..._after.png``). Settings go to a throwaway folder.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print("usage: python -m composer_gui.ui.generate_screenshot OUT_PREFIX [STYLE]",
              file=sys.stderr)
        return 2
    prefix = argv[0]
    style = argv[1] if len(argv) == 2 else "pop"
    from composer_gui.ui.sample_melodies import sample_melodies
    from composer_gui.ui.screenshot import grab_window, start_window

    tune = next(p for p in sample_melodies() if p.stem == "ode_to_joy")
    started = start_window(str(tune))
    if started is None:
        return 1
    app, window = started

    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest

    panel = window.generate_panel
    if not panel.select_model(style):
        print(f"no model named {style!r}", file=sys.stderr)
        return 2
    panel.candidates_spin.setValue(8)
    window.roll.zoom_to_fit()

    def grab(path: str) -> None:
        grab_window(app, window, path)

    def before() -> None:
        grab(f"{prefix}_before.png")
        panel.generation_applied.connect(lambda _k: QTimer.singleShot(500, wait_verdict))
        QTest.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)

    waited = [0]

    def wait_verdict() -> None:
        # the "how real" percentile arrives after the parts (real passages are scored once)
        text = panel.variation_label.text()
        if "\u2026" in text and waited[0] < 40:
            waited[0] += 1
            QTimer.singleShot(500, wait_verdict)
        else:
            after()

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
