"""Real songs for the bridge tests, read with the project's own MIDI reader."""

from __future__ import annotations

from pathlib import Path

from composer_gui.core.song import Song
from composer_gui.midi.smf import read_midi


def song_from_file(path: Path) -> Song:
    return read_midi(path)
