"""How the app starts its own child processes: the generation engine, the device probe,
Qt's probe (``doctor``) and the training command.

From Python (a checkout, a wheel, an editable install) a child is this interpreter
running ``-c CODE`` or ``-m composer_gui``, with the folder holding this very package first
on ``PYTHONPATH`` so the child runs the same code as the parent. A frozen bundle
(PyInstaller sets ``sys.frozen``) has no interpreter to give ``-c`` to: ``sys.executable``
is the app itself, so the child is the app with a hidden sub-command (``_engine``,
``_probe``, ``_qtprobe``) that :mod:`composer_gui.cli.hidden` wires to the same
functions. The bundle's entry point must therefore be :func:`composer_gui.cli.main`.

Any layer may import this module: it imports nothing of the app's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

__all__ = ["CHILDREN", "child_command", "child_environment", "frozen", "package_root"]

#: The children there are: name -> (hidden sub-command, module, function run). "cli" is the
#: plain command line (``python -m composer_gui``; the caller appends its arguments).
CHILDREN: dict[str, tuple[str, str, str]] = {
    "engine": ("_engine", "composer_gui.ml.generate.engine", "main"),
    "probe": ("_probe", "composer_gui.ml.device", "print_probe"),
    "qt": ("_qtprobe", "composer_gui.ui.qt_probe", "main"),
    "cli": ("", "", ""),
}


def frozen() -> bool:
    """True inside a frozen bundle (PyInstaller and the like set ``sys.frozen``)."""
    return bool(getattr(sys, "frozen", False))


def package_root() -> str:
    """The folder holding the ``composer_gui`` package this process runs (a checkout's
    root, ``site-packages``, or a bundle's data folder)."""
    return str(Path(__file__).resolve().parents[1])


def child_command(kind: str) -> list[str]:
    """The command line that starts child ``kind`` ("engine", "probe" or "cli"; for "cli"
    append the sub-command and its arguments)."""
    try:
        hidden, module, function = CHILDREN[kind]
    except KeyError:
        raise ValueError(f"unknown child process {kind!r} (one of {', '.join(CHILDREN)})") from None
    if frozen():
        return [sys.executable, hidden] if hidden else [sys.executable]
    if not module:
        return [sys.executable, "-m", "composer_gui"]
    return [sys.executable, "-c", f"from {module} import {function}; {function}()"]


def child_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with :func:`package_root` first on
    ``PYTHONPATH`` (a frozen bundle finds its own modules and gets it unchanged)."""
    env = dict(os.environ if base is None else base)
    if not frozen():
        paths = [package_root(), *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env
