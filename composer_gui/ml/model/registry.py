"""Where models live: shipped ones in the package's data (``composer_gui/assets/models``,
found through :mod:`importlib.resources`), the user's own in the platform's data folder
(``<user data>/composer-gui/models``). No torch here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from composer_gui.ml.errors import ModelError
from composer_gui.ml.model.config import CONFIG_NAME


def shipped_models_dir() -> Path:
    """The models shipped in the package (``$COMPOSER_GUI_MODELS`` overrides, for tests)."""
    env = os.environ.get("COMPOSER_GUI_MODELS")
    if env:
        return Path(env)
    from composer_gui.assets import models_dir

    return models_dir()


def shipped_models_missing() -> str | None:
    """None when the shipped models are there, else one line saying where none was
    found (a package installed without its data, or ``$COMPOSER_GUI_MODELS`` pointing
    at an empty folder)."""
    base = shipped_models_dir()
    if base.is_dir() and any((p / CONFIG_NAME).is_file() for p in base.iterdir()):
        return None
    return (f"no shipped models in {base}: the installation is incomplete "
            "(reinstall composer-gui from a wheel or a checkout that carries its models)")


def user_models_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("composer-gui")) / "models"


@dataclass
class ModelEntry:
    name: str
    path: Path
    source: str  # "shipped" or "user"
    style: str
    roles: list[str]
    steps: int | None
    error: str | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "style": self.style, "roles": self.roles,
                "path": str(self.path), "source": self.source, "trained_steps": self.steps,
                "error": self.error}


def list_models() -> list[ModelEntry]:
    """Every model folder found, shipped first; unreadable ones carry their error."""
    from composer_gui.ml.model.checkpoint import read_config, trained_steps

    entries = []
    for source, base in (("shipped", shipped_models_dir()), ("user", user_models_dir())):
        if not base.is_dir():
            continue
        for folder in sorted(p for p in base.iterdir() if (p / CONFIG_NAME).is_file()):
            try:
                config = read_config(folder)
                entries.append(ModelEntry(folder.name, folder, source, config.style,
                                          config.role_names(), trained_steps(folder)))
            except ModelError as exc:
                entries.append(ModelEntry(folder.name, folder, source, "?", [], None, str(exc)))
    return entries


def resolve_model(name_or_dir: str) -> Path:
    """A model folder from a path, or a model name (user models shadow shipped ones)."""
    path = Path(name_or_dir).expanduser()
    if path.is_dir():
        return path
    if os.sep not in name_or_dir and "/" not in name_or_dir:
        for base in (user_models_dir(), shipped_models_dir()):
            if (base / name_or_dir).is_dir():
                return base / name_or_dir
    known = ", ".join(sorted({e.name for e in list_models()})) or "none"
    raise ModelError(f"model {name_or_dir!r} not found (known models: {known})")


def resolve_style(style: str) -> Path:
    """The model for ``--style NAME``: a model folder of that name, else any model whose
    config has that style (user models first)."""
    for base in (user_models_dir(), shipped_models_dir()):
        if (base / style / CONFIG_NAME).is_file():
            return base / style
    for entry in sorted(list_models(), key=lambda e: e.source != "user"):
        if entry.style == style and entry.error is None:
            return entry.path
    known = ", ".join(sorted({e.style for e in list_models() if e.error is None})) or "none"
    raise ModelError(f"no model for style {style!r} (styles available: {known})")
