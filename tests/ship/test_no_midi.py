"""Without the system's ALSA library python-rtmidi does not import: the window must still
open, and its MIDI controls must say why there is no MIDI and how to get it."""

from __future__ import annotations

import importlib.abc
import sys

import pytest

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

NO_LIBASOUND = "libasound.so.2: cannot open shared object file: No such file or directory"


class _NoAlsa(importlib.abc.MetaPathFinder):
    """Fails ``import rtmidi`` the way python-rtmidi's wheel does without libasound2."""

    def find_spec(self, name, path=None, target=None):
        if name == "rtmidi" or name.startswith("rtmidi."):
            raise ImportError(NO_LIBASOUND)
        return None


def _ours(name: str) -> bool:
    return name.split(".")[0] in ("composer_gui", "rtmidi")


@pytest.fixture
def without_libasound(isolated_home, monkeypatch):
    """The app's modules imported afresh on a machine where rtmidi cannot load; the
    modules as they were come back afterwards."""
    saved = {name: mod for name, mod in sys.modules.items() if _ours(name)}
    for name in saved:
        del sys.modules[name]
    monkeypatch.setattr(sys, "meta_path", [_NoAlsa(), *sys.meta_path])
    yield
    for name in [n for n in sys.modules if _ours(n)]:
        del sys.modules[name]
    sys.modules.update(saved)


def test_the_window_opens_and_its_midi_controls_say_why(without_libasound, qtbot):
    with pytest.raises(ImportError, match="libasound"):
        import rtmidi  # noqa: F401 - the simulation works
    from composer_gui.ui.mainwindow import MainWindow
    from composer_gui.ui.transport_dock import MIDI_UNAVAILABLE

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.live.start(sound=False)  # what run_app does: watch the MIDI ports
    dock = win.live.transport_widget
    reason = ("MIDI unavailable: ALSA library libasound.so.2 not found \u2014 install "
              "libasound2")
    assert dock.midi_label.isVisible() and dock.midi_label.text().startswith(reason)
    assert not dock.input_combo.isEnabled()
    assert dock.input_combo.currentText() == MIDI_UNAVAILABLE
    assert dock.input_combo.toolTip().startswith(reason)
    assert dock.output_combo.currentText() == "Built-in sound"
    assert win.statusBar().currentMessage().startswith(reason)
    win.document.undo_stack.setClean()
    win.close()


def test_the_ports_command_fails_with_the_reason(without_libasound, capsys):
    from composer_gui.cli import main

    assert main(["ports"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("composer-gui: error: MIDI unavailable: ALSA library libasound.so.2")
    assert "install libasound2" in err


def test_doctor_names_the_missing_library_and_still_passes(without_libasound, monkeypatch,
                                                           capsys):
    from composer_gui.cli import main
    from composer_gui.ui import qt_probe

    monkeypatch.delenv("COMPOSER_GUI_MODELS", raising=False)
    monkeypatch.setattr(qt_probe, "_run", lambda platform: (0, f"{platform} 6.11.3\n", ""))
    assert main(["doctor"]) == 0
    midi = [line for line in capsys.readouterr().out.splitlines() if line.startswith("warn MIDI")]
    assert midi == ["warn MIDI: MIDI unavailable: ALSA library libasound.so.2 not found \u2014 "
                    "fix: install libasound2 (Debian/Ubuntu: sudo apt install libasound2)"]
