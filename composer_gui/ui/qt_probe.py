"""Can the window open here? Qt's libraries and its platform plugin, asked of short-lived
subprocesses: a Qt that cannot find its platform aborts the whole process (no exception
to catch), and without a display the xcb plugin would end ours. Used by ``composer-gui
doctor``; imports no Qt itself.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass

from composer_gui.launch import child_command, child_environment

__all__ = ["QtCheck", "check_qt_libraries", "check_platform", "XCB_PACKAGES"]

#: How long one probe may take (a cold start of Qt on a loaded machine takes ~1 s).
TIMEOUT_S = 30


#: Libraries Qt's xcb plugin loads that desktops do not always have, and the Debian
#: package of each (Ubuntu names them the same).
XCB_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libX11-xcb.so.1": "libx11-xcb1",
}

_MISSING_SO = re.compile(r"([\w.+-]+\.so[.\d]*): cannot open shared object file")


@dataclass(frozen=True)
class QtCheck:
    """One finding: ``ok``; else ``fatal`` says whether the window can never open here
    (missing libraries) or only not now (no display); ``fix`` says what to do."""

    ok: bool
    text: str
    fix: str = ""
    fatal: bool = False


def main() -> None:
    """The probe child's whole job (:mod:`composer_gui.launch`, "qt"): start Qt on
    ``$QT_QPA_PLATFORM`` and print the platform's name and PySide6's version."""
    from PySide6 import __version__
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(["composer-gui-doctor"])
    print(app.platformName(), __version__)


def _run(platform: str) -> tuple[int, str, str]:
    env = child_environment()
    env.update(QT_QPA_PLATFORM=platform, QT_DEBUG_PLUGINS="1")
    try:
        proc = subprocess.run(child_command("qt"), env=env, capture_output=True,
                              text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return -1, "", f"no answer within {TIMEOUT_S} s"
    except OSError as exc:
        return -1, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr


def _missing_libraries(stderr: str) -> list[str]:
    return list(dict.fromkeys(_MISSING_SO.findall(stderr)))


def _install_hint(libraries: list[str]) -> str:
    packages = [XCB_PACKAGES[lib] for lib in libraries if lib in XCB_PACKAGES]
    if packages:
        return f"install {' '.join(packages)} (Debian/Ubuntu: sudo apt install {' '.join(packages)})"
    return f"install the system package that provides {', '.join(libraries)}"


def _last_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith(" ")]
    return lines[-1].strip() if lines else "no message"


def check_qt_libraries() -> QtCheck:
    """PySide6 and the system libraries Qt needs for any window (drawing without a display,
    the ``offscreen`` platform: fonts, OpenGL, D-Bus)."""
    code, out, err = _run("offscreen")
    if code == 0 and out.strip():
        _platform, _, version = out.strip().partition(" ")
        return QtCheck(True, f"PySide6 {version}: Qt and its libraries load")
    missing = _missing_libraries(err)
    if "No module named 'PySide6" in err:
        return QtCheck(False, "PySide6 is not installed", "pip install PySide6-Essentials",
                       fatal=True)
    if missing:
        return QtCheck(False, f"Qt cannot load {', '.join(missing)}", _install_hint(missing),
                       fatal=True)
    return QtCheck(False, f"Qt does not start: {_last_line(err)}",
                   "reinstall PySide6-Essentials", fatal=True)


def check_platform(platform: str | None = None) -> QtCheck:
    """The platform plugin the window would use (``$QT_QPA_PLATFORM``, else xcb on
    Linux): its libraries and, for xcb, a display to connect to."""
    chosen = platform or os.environ.get("QT_QPA_PLATFORM") or (
        "xcb" if sys.platform.startswith("linux") else "")
    if not chosen:
        return QtCheck(True, "the system's default platform plugin (not Linux: not probed)")
    name = chosen.split(":", 1)[0]
    code, out, err = _run(chosen)
    if code == 0:
        where = f" on DISPLAY={os.environ['DISPLAY']}" if name == "xcb" and os.environ.get(
            "DISPLAY") else ""
        return QtCheck(True, f"platform plugin {name} works{where}")
    # the window's own platforms: without them it never opens (another one the user
    # picked with QT_QPA_PLATFORM can be unset)
    essential = name in ("xcb", "offscreen") or not sys.platform.startswith("linux")
    missing = _missing_libraries(err)
    if missing:
        fix = _install_hint(missing) + ("" if essential else ", or unset QT_QPA_PLATFORM")
        return QtCheck(False, f"platform plugin {name} cannot load {', '.join(missing)}",
                       fix, fatal=essential)
    if "could not connect to display" in err or "failed to connect to display" in err.lower():
        display = os.environ.get("DISPLAY") or "not set"
        return QtCheck(False, f"platform plugin {name} loads, but there is no display "
                              f"(DISPLAY {display}): the window cannot open now",
                       "start composer-gui in a desktop session, or under Xvfb: "
                       "xvfb-run -a composer-gui (QT_QPA_PLATFORM=offscreen for headless "
                       "use)")
    return QtCheck(False, f"platform plugin {name} does not start: {_last_line(err)}",
                   "set QT_QPA_PLATFORM to a platform that works here (xcb, wayland)",
                   fatal=essential)
