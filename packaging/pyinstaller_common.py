"""What the three PyInstaller specs (packaging/linux, macos, windows) share.

A one-folder build of the ``composer-gui`` command line with a CPU torch: the app's
package data, only the Qt modules the app imports, none of torch's tests, headers and
native test programs, no Qt translations. The specs call :func:`datas`,
:func:`hiddenimports` and :func:`slim`; everything platform-specific stays in the spec.
"""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

from PyInstaller.utils.hooks import collect_data_files, collect_submodules

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ROOT / "packaging" / "composer_gui_entry.py"
NAME = "composer-gui"
APP_ID = "io.github.composer_gui.ComposerGUI"

#: The Qt modules the app and pyqtgraph import (``grep -r "PySide6.Qt" composer_gui``);
#: pyqtgraph's optional QtSvg / QtOpenGLWidgets / QtTest imports fall back cleanly.
QT_MODULES_USED = ("QtCore", "QtGui", "QtWidgets")
_QT_MODULES_ESSENTIALS = (
    "QtConcurrent", "QtDBus", "QtDesigner", "QtHelp", "QtNetwork", "QtOpenGL",
    "QtOpenGLWidgets", "QtPrintSupport", "QtQml", "QtQuick", "QtQuickControls2",
    "QtQuickTest", "QtQuickWidgets", "QtSql", "QtSvg", "QtSvgWidgets", "QtTest",
    "QtUiTools", "QtXml", "QtAsyncio", "QtMultimedia", "QtMultimediaWidgets",
    "QtWebEngineCore", "QtWebEngineWidgets", "QtPdf", "QtPdfWidgets", "QtCharts",
    "QtGraphs", "QtDataVisualization", "QtBluetooth", "QtNetworkAuth", "QtPositioning",
    "QtSerialPort", "QtWebSockets", "QtStateMachine", "QtRemoteObjects", "QtScxml",
    "QtSensors", "QtSpatialAudio", "QtTextToSpeech", "QtHttpServer", "QtLocation",
    "Qt3DCore", "Qt3DRender", "Qt3DInput", "Qt3DLogic", "Qt3DAnimation", "Qt3DExtras",
    "QtQuick3D", "QtNfc", "QtCanvasPainter",
)

EXCLUDES = [
    *(f"PySide6.{m}" for m in _QT_MODULES_ESSENTIALS if m not in QT_MODULES_USED),
    # torch's tooling that needs packages the app does not install. (The compiler
    # stack, torch._dynamo / _inductor / onnx, stays: training imports it.)
    "torch.utils.tensorboard",
    "torch.utils.benchmark",
    "triton",
    # development tools and heavy optional imports of the dependencies
    "tkinter",
    "matplotlib",
    "IPython",
    "pytest",
    "hypothesis",
    "pyaudio",
    "pandas",
    "PyQt5",
    "PyQt6",
    "PySide2",
]

#: Collected files (destination paths) the app never reads: tests, C/C++ headers, build
#: files, torch's native test programs and protoc, Qt's translations (the UI is English)
#: and the Qt plugins of modules left out above.
DROP = [
    # torch/bin: keep torch_shm_manager (import torch looks for it)
    "torch/bin/*Test",
    "torch/bin/test_*",
    "torch/bin/protoc*",
    "torch/bin/*.pt",
    "torch/bin/*.ptl",
    "torch/test/*",
    "torch/include/*",
    "torch/share/*",
    "torch/lib/*test*.so*",
    "torch/lib/libbackend_with_compiler.so",
    "torch/lib/libaoti_custom_ops.so",
    "*/tests/*",
    "*/testing/_private/*",
    "PySide6/Qt/translations/*",
    "PySide6/Qt/plugins/sqldrivers/*",
    "PySide6/Qt/plugins/qmltooling/*",
    "PySide6/Qt/plugins/designer/*",
    "PySide6/Qt/plugins/networkinformation/*",
    "PySide6/Qt/plugins/tls/*",
    "PySide6/Qt/plugins/generic/*",
    # platform plugins for framebuffers, VNC and Vulkan displays, and the GTK theme
    # (it needs GTK itself): a desktop uses xcb or wayland
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platforms/libqlinuxfb.so",
    "PySide6/Qt/plugins/platforms/libqvnc.so",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay.so",
    "PySide6/Qt/plugins/platforms/libqminimalegl.so",
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
    "PySide6/Qt/lib/libQt6EglFS*",
    "PySide6/Qt/qml/*",
    "PySide6/*.pyi",
    "*.pyi",
    "*.h",
    "*.hpp",
    "*.cmake",
]


def version() -> str:
    """The app's version, from pyproject.toml (one place)."""
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]["version"]


def datas() -> list[tuple[str, str]]:
    """The app's data: the package's own files (``composer_gui/assets``: models,
    conductors, SoundFont, sample melodies), found in the bundle as in a wheel
    (importlib.resources); a checkout's training leftovers and ignore files stay out."""
    return [(src, dest) for src, dest in collect_data_files("composer_gui")
            if not Path(src).name.startswith(("training_state", ".git"))]


def hiddenimports() -> list[str]:
    """Every module of the app: subcommands and child processes import theirs lazily."""
    return [m for m in collect_submodules("composer_gui") if "generate_screenshot" not in m]


def _dropped(dest: str) -> bool:
    dest = dest.replace("\\", "/")
    return any(fnmatch(dest, pattern) for pattern in DROP)


def slim(a) -> None:
    """Remove the files in :data:`DROP` from an Analysis, in place."""
    a.datas = [entry for entry in a.datas if not _dropped(entry[0])]
    a.binaries = [entry for entry in a.binaries if not _dropped(entry[0])]
