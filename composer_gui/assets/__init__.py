"""The data the package carries: the shipped style models, the built-in SoundFont and the
sample melodies (``models/``, ``soundfonts/``, ``melodies/`` beside this file).

They are found through :mod:`importlib.resources`, so a checkout, an editable install, a
wheel (pip, pipx, ``uv tool install``) and a frozen bundle all find them the same way.
The repository's top-level ``models`` and ``resources/{melodies,soundfonts}`` are links
to these folders, for people browsing the checkout. Nothing here imports the app's
other layers; any layer may import this module.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["asset_dir", "models_dir", "soundfonts_dir", "melodies_dir"]


def asset_dir(name: str) -> Path:
    """The folder ``name`` of the package's data, as a real path on disk.

    Every way this package is installed unpacks it into files (setuptools' wheels are
    never imported zipped; PyInstaller puts data files under ``sys._MEIPASS``), so the
    resource is a :class:`~pathlib.Path`; the code reading models and SoundFonts needs
    one (safetensors and TinySoundFont open files by name).
    """
    folder = resources.files(__name__) / name
    if isinstance(folder, Path):
        return folder
    # A loader that serves resources from an archive: only files have a real-path
    # context manager there, so say plainly why the data cannot be used.
    raise RuntimeError(f"composer_gui's data is not on disk ({folder!r}): install the "
                       "package unpacked (pip, pipx and uv do)")


def models_dir() -> Path:
    """The shipped style models, one folder each."""
    return asset_dir("models")


def soundfonts_dir() -> Path:
    """The built-in General MIDI SoundFont and its licence."""
    return asset_dir("soundfonts")


def melodies_dir() -> Path:
    """The sample melodies (written by ``resources/make_melodies.py`` in a checkout)."""
    return asset_dir("melodies")
