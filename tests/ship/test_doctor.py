"""``composer-gui doctor``: one line per finding, its fix, and exit 1 only when the app
cannot work here (Qt with its libraries, torch or the shipped models missing)."""

from __future__ import annotations

import re
import sys

import pytest

from composer_gui.assets import models_dir
from composer_gui.cli import main

LINE = re.compile(r"^(ok  |warn|FAIL) (?P<topic>[^:]+): (?P<text>.+)$")


def _doctor(capsys) -> tuple[int, list[str]]:
    code = main(["doctor"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("doctor: ")
    return code, lines[:-1]


def _topics(lines) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in lines:
        match = LINE.match(line)
        assert match, f"not a finding line: {line!r}"
        found.setdefault(match["topic"], []).append(line)
    return found


@pytest.fixture
def qt_works(monkeypatch):
    """Qt's probes answer at once as on a desktop (the real ones are tested once below)."""
    from composer_gui.ui import qt_probe

    monkeypatch.setattr(qt_probe, "_run", lambda platform: (0, f"{platform} 6.11.3\n", ""))


def test_a_machine_without_display_audio_or_gpu_still_passes(isolated_home, monkeypatch,
                                                              capsys):
    monkeypatch.delenv("COMPOSER_GUI_MODELS", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)  # what a user's shell has
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, lines = _doctor(capsys)
    topics = _topics(lines)
    for topic in ("Python", "Qt", "Qt platform", "audio synthesizer", "SoundFont", "torch",
                  "torch device", "shipped models", "user models", "settings file",
                  "data folder", "cache folder"):
        assert topic in topics, f"no {topic} line in {lines}"
    assert any(t.startswith("MIDI") for t in topics) and any(t.startswith("audio ") for t in topics)
    assert topics["Qt"][0].startswith("ok   Qt: PySide6 ")
    # no display: said, with the fix, and not fatal
    platform = topics["Qt platform"][0]
    assert platform.startswith("warn Qt platform: platform plugin xcb loads, but there is no "
                               "display") and "fix: " in platform and "xvfb-run" in platform
    shipped = topics["shipped models"][0]
    assert shipped.startswith("ok   shipped models: chorale, folk, pop")
    assert str(models_dir()) in shipped
    assert str(isolated_home) in topics["settings file"][0]
    assert str(isolated_home) in topics["user models"][0]
    # every warning says what to do, except the per-backend details under a summary line
    for line in lines:
        if line.startswith("warn") and not re.match(r"warn (MIDI|audio) \w+: ", line):
            assert " \u2014 fix: " in line, line
    assert code == 0


def test_missing_shipped_models_fail_naming_the_folder(isolated_home, qt_works, tmp_path,
                                                       monkeypatch, capsys):
    empty = tmp_path / "installed" / "composer_gui" / "assets" / "models"
    empty.mkdir(parents=True)
    monkeypatch.setenv("COMPOSER_GUI_MODELS", str(empty))
    code, lines = _doctor(capsys)
    failed = [line for line in lines if line.startswith("FAIL")]
    assert len(failed) == 1 and failed[0].startswith(f"FAIL shipped models: no shipped models "
                                                     f"in {empty}")
    assert "fix: " in failed[0]
    assert code == 1


def test_torch_missing_fails(isolated_home, qt_works, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    code, lines = _doctor(capsys)
    torch_lines = [line for line in lines if line.startswith(("ok   torch", "FAIL torch"))]
    assert torch_lines == [line for line in torch_lines if line.startswith("FAIL torch: ")]
    assert len(torch_lines) == 1 and "fix: pip install torch" in torch_lines[0]
    assert code == 1


def test_qt_missing_its_xcb_library_fails_with_the_package_to_install(isolated_home, monkeypatch,
                                                                      capsys):
    from composer_gui.ui import qt_probe

    def run(platform):
        if platform == "xcb":
            return 134, "", (
                'qt.core.library: "/x/plugins/platforms/libqxcb.so" cannot load: Cannot load '
                "library /x/plugins/platforms/libqxcb.so: (libxcb-cursor.so.0: cannot open "
                "shared object file: No such file or directory)\n"
                'qt.qpa.plugin: Could not load the Qt platform plugin "xcb" in "" even though '
                "it was found.\n")
        return 0, f"{platform} 6.11.3\n", ""

    monkeypatch.setattr(qt_probe, "_run", run)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    code, lines = _doctor(capsys)
    if not sys.platform.startswith("linux"):
        pytest.skip("xcb is Linux's platform")
    (platform,) = [line for line in lines if line.startswith(("ok   Qt platform",
                                                              "warn Qt platform",
                                                              "FAIL Qt platform"))]
    assert platform.startswith("FAIL Qt platform: platform plugin xcb cannot load "
                               "libxcb-cursor.so.0")
    assert "sudo apt install libxcb-cursor0" in platform
    assert code == 1
