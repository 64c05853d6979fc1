"""User settings, each declared once with its type and default (after Picard's options).

Values are stored with ``QSettings`` in an INI file under the platform's configuration
folder (``$XDG_CONFIG_HOME/composer-gui/settings.ini`` on Linux). Tests redirect it by
pointing ``XDG_CONFIG_HOME`` elsewhere (the ``isolated_home`` fixture) or by calling
:func:`use_settings_file`; ``COMPOSER_GUI_CONFIG`` overrides the path as well.

Usage::

    from composer_gui import settings
    grid = settings.get(settings.SNAP_GRID)
    settings.put(settings.SNAP_GRID, "1/8")

Qt is imported lazily so that the command line can read settings cheaply.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

APP_DIR_NAME = "composer-gui"


@dataclass(frozen=True)
class Setting:
    """One declared setting: its key in the file, value type, default and meaning."""

    key: str
    type: type
    default: Any
    doc: str = ""


#: Every declared setting by key; :func:`declare` fills it.
REGISTRY: dict[str, Setting] = {}


def declare(key: str, type_: type, default: Any, doc: str = "") -> Setting:
    """Declare a setting (once: a second declaration of a key is a programming error)."""
    if key in REGISTRY:
        raise ValueError(f"setting {key!r} declared twice")
    setting = Setting(key, type_, default, doc)
    REGISTRY[key] = setting
    return setting


# -- the settings ---------------------------------------------------------------------
WINDOW_GEOMETRY = declare("window/geometry", bytes, b"", "main window geometry (Qt blob)")
WINDOW_STATE = declare("window/state", bytes, b"", "dock and toolbar layout (Qt blob)")
LAST_FOLDER = declare("files/last_folder", str, "", "folder of the last opened/saved file")
RECENT_FILES = declare("files/recent", list, [], "recently opened files, newest first")
RECENT_LIMIT = declare("files/recent_limit", int, 10, "how many recent files to keep")
SNAP_GRID = declare("editor/snap_grid", str, "1/16", "snap grid: 1/1 .. 1/32, 'T' = triplet")
SNAP_ENABLED = declare("editor/snap_enabled", bool, True, "snap to the grid")
NOTE_LENGTH = declare("editor/note_length", str, "1/8", "length of a clicked note")
ZOOM_X = declare("editor/zoom_x", float, 0.1, "horizontal zoom, pixels per tick")
ZOOM_Y = declare("editor/zoom_y", int, 12, "vertical zoom, pixels per semitone")
QUANTIZE_STRENGTH = declare("editor/quantize_strength", int, 100, "quantize strength, percent")
AUTOSAVE_SECONDS = declare("safety/autosave_seconds", int, 30, "autosave period while modified")
MIDI_INPUT = declare("live/midi_input", str, "", "MIDI input port name (empty: none)")
MIDI_OUTPUT = declare("live/midi_output", str, "",
                      "MIDI output port for playback (empty: the built-in sound)")
MIDI_API = declare("live/midi_api", str, "", "MIDI API: alsa, jack, ... (empty: automatic)")
RECORD_INTO_NEW = declare("live/record_new_track", bool, False, "record into a new track")
RECORD_QUANTIZE = declare("live/record_quantize", bool, False,
                          "quantize recorded onsets to the snap grid")
RECORD_MERGE = declare("live/record_merge", bool, False, "merge a take instead of replacing")


def config_path() -> Path:
    """The settings file in use."""
    override = os.environ.get("COMPOSER_GUI_CONFIG")
    if override:
        return Path(override)
    if _path_override is not None:
        return _path_override
    return Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False)) / "settings.ini"


def app_data_dir() -> Path:
    """The per-user data folder (autosave, log file); created on demand."""
    path = Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


_path_override: Path | None = None
_store: Any = None  # the QSettings object, made on first use
_store_path: Path | None = None


def use_settings_file(path: str | os.PathLike[str] | None) -> None:
    """Store settings in ``path`` from now on (``None``: back to the default place)."""
    global _path_override, _store
    _path_override = Path(path) if path is not None else None
    if _store is not None:
        _store.sync()
    _store = None


def _qsettings():
    global _store, _store_path
    path = config_path()
    if _store is None or _store_path != path:
        from PySide6.QtCore import QSettings

        path.parent.mkdir(parents=True, exist_ok=True)
        _store = QSettings(str(path), QSettings.Format.IniFormat)
        _store_path = path
    return _store


def _convert(setting: Setting, raw: Any) -> Any:
    kind = setting.type
    if kind is bool:
        if isinstance(raw, str):
            return raw.strip().lower() in ("1", "true", "yes", "on")
        return bool(raw)
    if kind is bytes:
        return bytes(raw.data()) if hasattr(raw, "data") else bytes(raw)
    if kind is list:
        if raw is None or raw == "":
            return []
        if isinstance(raw, str):
            return [raw]
        return [str(v) for v in raw]
    return kind(raw)


def get(setting: Setting) -> Any:
    """The stored value, or the default when missing or unreadable."""
    raw = _qsettings().value(setting.key)
    if raw is None:
        return _copy_default(setting)
    try:
        return _convert(setting, raw)
    except (TypeError, ValueError):
        return _copy_default(setting)


def put(setting: Setting, value: Any) -> None:
    """Store a value (converted to the declared type first)."""
    if setting.type is bytes:
        from PySide6.QtCore import QByteArray

        value = QByteArray(bytes(value))
    elif setting.type is list:
        value = [str(v) for v in value]
    else:
        value = setting.type(value)
    _qsettings().setValue(setting.key, value)


def reset(setting: Setting) -> None:
    """Forget the stored value, so :func:`get` gives the default again."""
    _qsettings().remove(setting.key)


def sync() -> None:
    """Write pending changes to disk."""
    if _store is not None:
        _store.sync()


def _copy_default(setting: Setting) -> Any:
    default = setting.default
    return list(default) if isinstance(default, list) else default
