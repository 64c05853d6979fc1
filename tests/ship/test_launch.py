"""Child processes start the same way from Python and from a frozen bundle
(composer_gui.launch): ``python -c/-m`` here, the app's hidden sub-commands there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from composer_gui import launch
from composer_gui.cli import main
from tests.conftest import save_tiny_model

REPO = Path(__file__).resolve().parents[2]


def test_from_python_children_are_this_interpreter_running_this_package():
    assert launch.child_command("engine")[:2] == [sys.executable, "-c"]
    assert "composer_gui.ml.generate.engine" in launch.child_command("engine")[2]
    assert launch.child_command("probe")[:2] == [sys.executable, "-c"]
    assert launch.child_command("qt")[:2] == [sys.executable, "-c"]
    assert launch.child_command("cli") == [sys.executable, "-m", "composer_gui"]
    assert launch.package_root() == str(REPO)
    env = launch.child_environment({"PYTHONPATH": "/elsewhere", "LANG": "C"})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO), "/elsewhere"]
    assert env["LANG"] == "C"
    with pytest.raises(ValueError, match="unknown child process"):
        launch.child_command("trainer")


def test_a_frozen_app_starts_itself_with_hidden_sub_commands(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/composer-gui/composer-gui")
    assert launch.child_command("engine") == ["/opt/composer-gui/composer-gui", "_engine"]
    assert launch.child_command("probe") == ["/opt/composer-gui/composer-gui", "_probe"]
    assert launch.child_command("cli") == ["/opt/composer-gui/composer-gui"]
    # a bundle finds its own modules: its PYTHONPATH is left alone
    assert launch.child_environment({"PYTHONPATH": "/x"})["PYTHONPATH"] == "/x"


def test_hidden_sub_commands_stay_out_of_help(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = capsys.readouterr().out
    assert "generate" in shown and "doctor" in shown
    assert "_engine" not in shown and "_probe" not in shown and "_qtprobe" not in shown


def test_the_probe_sub_command_names_the_device(capsys):
    assert main(["_probe"]) == 0
    kind, *_name = capsys.readouterr().out.split(" ", 1)
    assert kind in ("cpu", "cuda", "mps")


@pytest.fixture
def fake_bundle(tmp_path, monkeypatch):
    """An executable standing in for a frozen app: it runs ``composer_gui.cli.main`` with
    its arguments, as a bundle's entry point does; ``sys.frozen`` is set."""
    exe = tmp_path / "composer-gui"
    exe.write_text(f"#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m composer_gui \"$@\"\n")
    exe.chmod(0o755)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    return exe


@pytest.mark.skipif(os.name != "posix", reason="the stand-in bundle is a shell script")
def test_the_engine_starts_as_a_frozen_apps_sub_command(fake_bundle, tmp_path):
    from composer_gui.ml.generate.engine import ProcessEngine

    models = save_tiny_model(tmp_path / "models")
    engine = ProcessEngine()
    try:
        info = engine.load(models / "tiny", "cpu", warn=lambda _m: None)
        assert info.roles == ["Alto", "Tenor", "Bass"]
        assert engine._proc.args == [str(fake_bundle), "_engine"]
    finally:
        engine.close()


@pytest.mark.skipif(os.name != "posix", reason="the stand-in bundle is a shell script")
def test_the_device_probe_and_training_start_as_a_frozen_app(fake_bundle, isolated_home,
                                                             qtbot):
    from composer_gui.workers.finetune import DeviceProbe, default_program

    probe = DeviceProbe()
    with qtbot.waitSignal(probe.found, timeout=30_000) as found:
        probe.start()
    assert found.args[0] in ("cpu", "cuda", "mps")
    # "cpu" is also the answer of a probe that failed: it must have run and exited cleanly
    assert probe._proc.arguments() == ["_probe"] and probe._proc.exitCode() == 0
    probe.stop()
    # training: the app itself with the ``train ...`` arguments (under nice where there is one)
    program = default_program()
    assert program[-1] == str(fake_bundle)
    out = subprocess.run([*program, "models"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith("chorale\t")


@pytest.mark.skipif(os.name != "posix", reason="the stand-in bundle is a shell script")
def test_doctors_qt_probe_starts_as_a_frozen_apps_sub_command(fake_bundle):
    from composer_gui.ui import qt_probe

    assert launch.child_command("qt") == [str(fake_bundle), "_qtprobe"]
    check = qt_probe.check_qt_libraries()
    assert check.ok and check.text.startswith("PySide6 ")
