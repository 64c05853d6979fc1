"""The per-file choices of a fine-tune (``train --mapping MAP.json``), no torch.

The window's scan step writes it; the training reads it::

    {"version": 1,
     "files": {"/abs/path.mid": {"skip": false, "melody": 0,
                                 "roles": {"Bass": 2, "Piano": 1}}, ...}}

With a mapping, only the files it lists with ``skip`` false are read. ``melody`` and
``roles`` (track indices as in ``composer-gui info --json``; missing or null = automatic)
override :func:`composer_gui.ml.data.roles.find_melody` / ``assign_roles`` for that file. Role
keys are a role's track name or role, case-insensitive ("Bass" or "bass").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from composer_gui.ml.errors import DataError

MAPPING_VERSION = 1


@dataclass(frozen=True)
class FileChoice:
    """What the user chose for one file."""

    skip: bool = False
    melody: int | None = None
    roles: dict[str, int | None] = field(default_factory=dict)

    def role_overrides(self) -> dict[str, int]:
        """Only the roles given a track (null means automatic)."""
        return {k: v for k, v in self.roles.items() if v is not None}


@dataclass
class FileMapping:
    """Every listed file (absolute, resolved path) and its choice."""

    files: dict[str, FileChoice]
    source: str = ""

    def used(self) -> list[Path]:
        """The files to read, sorted."""
        return sorted(Path(p) for p, c in self.files.items() if not c.skip)

    def excluded(self) -> int:
        return sum(1 for c in self.files.values() if c.skip)

    def choice(self, path: Path) -> FileChoice:
        return self.files.get(_key(path), FileChoice())


def _key(path: str | Path) -> str:
    return str(Path(path).expanduser().resolve())


def _index(value, what: str, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DataError(f"{where}: {what} must be a track index (0, 1, ...) or null, got {value!r}")
    return value


def parse_mapping(data, where: str = "mapping") -> FileMapping:
    """A :class:`FileMapping` from decoded JSON; DataError naming the bad entry."""
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise DataError(f"{where}: expected an object with a \"files\" object")
    if data.get("version") != MAPPING_VERSION:
        raise DataError(f"{where}: mapping version {data.get('version')!r}, this program reads "
                        f"version {MAPPING_VERSION}")
    files: dict[str, FileChoice] = {}
    for name, entry in data["files"].items():
        here = f"{where}: {name}"
        if entry is None:
            entry = {}
        if not isinstance(entry, dict):
            raise DataError(f"{here}: expected an object")
        roles = entry.get("roles") or {}
        if not isinstance(roles, dict):
            raise DataError(f"{here}: \"roles\" must be an object of role name -> track index")
        files[_key(name)] = FileChoice(
            skip=bool(entry.get("skip", False)),
            melody=_index(entry.get("melody"), "melody", here),
            roles={str(k): _index(v, f"role {k}", here) for k, v in roles.items()},
        )
    return FileMapping(files, where)


def load_mapping(path: Path) -> FileMapping:
    """Read ``MAP.json``; a missing or malformed file is a DataError."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: mapping file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: unreadable mapping ({exc})") from exc
    return parse_mapping(data, str(path))
