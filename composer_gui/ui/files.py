"""Files: open/save with clear errors, recent files, autosave and crash recovery.

Autosave: while the song is modified, every ``AUTOSAVE_SECONDS`` the song is written to
``<app data>/autosave/session-<pid>.mid`` with a ``.json`` note beside it (original path,
time). A clean exit, a save, New and Open remove them. On start, autosaves whose process
is gone (a crash, ``kill -9``) are offered for recovery.

Writes go through the MIDI writer, which writes a temporary file and renames it, so a
failed save never destroys the previous file.

Where file dialogs start (:func:`start_folder`): the last folder the user opened, saved or
exported in, else the user's music folder (else home); never the package's own data (the
bundled sample melodies), which open as templates (:func:`is_bundled`): untitled, so Save
asks where and the sample is never overwritten.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from composer_gui import settings
from composer_gui.core.errors import UserError
from composer_gui.core.song import Song
from composer_gui.ui.document import Document

log = logging.getLogger(__name__)

MIDI_FILTER = "MIDI files (*.mid *.midi *.smf *.kar);;All files (*)"
MIDI_SUFFIXES = (".mid", ".midi", ".smf", ".kar")


def read_song(path: str | os.PathLike[str]) -> Song:
    """Read a MIDI file; raises a ``UserError`` naming the file and the problem."""
    from composer_gui.midi.smf import read_midi

    try:
        return read_midi(path)
    except UserError:
        raise
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from exc


def write_song(song: Song, path: str | os.PathLike[str]) -> None:
    """Write a MIDI file atomically (temporary file + rename)."""
    from composer_gui.midi.smf import write_midi

    write_midi(song, path)


def autosave_dir() -> Path:
    path = settings.app_data_dir() / "autosave"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class Recoverable:
    """An autosave left behind by a process that is gone."""

    song_path: Path
    info_path: Path
    original: str
    saved_at: float

    def discard(self) -> None:
        for path in (self.song_path, self.info_path):
            path.unlink(missing_ok=True)


def find_recoverable() -> list[Recoverable]:
    """Autosaves of processes that no longer run, newest first."""
    out = []
    for info_path in autosave_dir().glob("session-*.json"):
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
            pid = int(info["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _pid_alive(pid):
            continue
        song_path = info_path.with_suffix(".mid")
        if not song_path.exists():
            info_path.unlink(missing_ok=True)
            continue
        out.append(Recoverable(song_path, info_path, str(info.get("original", "")),
                               float(info.get("saved_at", 0))))
    out.sort(key=lambda r: r.saved_at, reverse=True)
    return out


class Autosaver(QObject):
    """Writes the document to the autosave folder on a timer while it is modified."""

    autosaved = Signal(str)

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.timer = QTimer(self)
        self.timer.setInterval(max(1, settings.get(settings.AUTOSAVE_SECONDS)) * 1000)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()
        document.modified_changed.connect(self._on_modified_changed)

    @property
    def song_path(self) -> Path:
        return autosave_dir() / f"session-{os.getpid()}.mid"

    @property
    def info_path(self) -> Path:
        return self.song_path.with_suffix(".json")

    def save_now(self) -> bool:
        """Write the autosave if the song is modified; returns whether it wrote."""
        if not self.document.modified:
            return False
        try:
            write_song(self.document.song, self.song_path)
            info = {"pid": os.getpid(), "original": self.document.path,
                    "saved_at": time.time()}
            tmp = self.info_path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(info), encoding="utf-8")
            os.replace(tmp, self.info_path)
        except Exception:  # autosave must never take the editor down
            log.exception("autosave failed")
            return False
        self.autosaved.emit(str(self.song_path))
        return True

    def clear(self) -> None:
        """Remove this session's autosave (saved, closed, or a new song)."""
        for path in (self.song_path, self.info_path):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                log.exception("cannot remove %s", path)

    def _on_modified_changed(self, modified: bool) -> None:
        if not modified:
            self.clear()


def is_bundled(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` lies in the data the package carries (the sample melodies...)."""
    from composer_gui.assets import asset_dir

    try:
        Path(path).resolve().relative_to(asset_dir("").resolve())
    except ValueError:
        return False
    return True


def music_folder() -> Path:
    """The user's music folder (as the desktop names it), else the home folder."""
    from PySide6.QtCore import QStandardPaths

    music = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MusicLocation)
    if music and Path(music).is_dir():
        return Path(music)
    return Path.home()


def start_folder() -> Path:
    """Where a file dialog starts: the last folder used, else the music folder; never
    the package's own data (see the module docstring)."""
    last = settings.get(settings.LAST_FOLDER)
    if last and Path(last).is_dir() and not is_bundled(last):
        return Path(last)
    return music_folder()


def remember_folder(path: str | os.PathLike[str]) -> None:
    """A file was picked in a dialog: its folder is where the next dialog starts."""
    folder = Path(path).resolve()
    if not folder.is_dir():
        folder = folder.parent
    if not is_bundled(folder):
        settings.put(settings.LAST_FOLDER, str(folder))


def remember_recent(path: str) -> list[str]:
    """Put ``path`` first in the recent-files list; returns the new list."""
    path = str(Path(path).resolve())
    recent = [p for p in settings.get(settings.RECENT_FILES) if p != path]
    recent.insert(0, path)
    recent = recent[: settings.get(settings.RECENT_LIMIT)]
    settings.put(settings.RECENT_FILES, recent)
    remember_folder(path)
    return recent


def song_with_tracks(song: Song, indices: list[int]) -> Song:
    """A copy of the song holding only the given tracks (export selected tracks)."""
    out = song.copy()
    out.tracks = [out.tracks[i] for i in indices]
    return out
