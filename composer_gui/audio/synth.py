"""The built-in SoundFont synthesizer: TinySoundFont through the ``tinysoundfont`` package.

Why TinySoundFont: its wheels carry the synthesizer itself (no system library), it
reads SF2 and Ogg-compressed SF3 files, and it renders a General MIDI SoundFont about a
thousand times faster than real time on one core. The package declares PyAudio as a
dependency, which does not build without PortAudio headers; we never use its PyAudio
playback (audio goes out through miniaudio, see :mod:`composer_gui.audio.device`), so it
is installed with ``pip install --no-deps tinysoundfont``.

:class:`SoundFontSynth` is not thread-safe; :class:`composer_gui.audio.engine.Engine`
serialises every call.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from composer_gui.assets import soundfonts_dir
from composer_gui.core.errors import UserError
from composer_gui.core.song import DRUM_CHANNEL

__all__ = [
    "SoundUnavailable",
    "SoundFontSynth",
    "find_soundfont",
    "synth_available",
    "INSTALL_HINT",
]

INSTALL_HINT = "pip install --no-deps tinysoundfont"
SAMPLE_RATE = 44100
_SYSTEM_SOUNDFONTS = (
    Path("/usr/share/sounds/sf3/default-GM.sf3"),
    Path("/usr/share/sounds/sf3/FluidR3Mono_GM.sf3"),
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)


class SoundUnavailable(UserError):
    """The built-in sound cannot work here; the message says what is missing and how
    to get it. MIDI output and the rest of the app keep working."""


def _tinysoundfont():
    try:
        import tinysoundfont
    except ImportError as exc:
        raise SoundUnavailable(
            "built-in sound needs the Python package 'tinysoundfont' "
            f"(install it with: {INSTALL_HINT})"
        ) from exc
    return tinysoundfont


def synth_available() -> str | None:
    """None when the synthesizer package imports, else what is missing."""
    try:
        _tinysoundfont()
    except SoundUnavailable as exc:
        return str(exc)
    return None


def find_soundfont(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The SoundFont to use: ``explicit``, ``$COMPOSER_GUI_SOUNDFONT``, the shipped one,
    then the system's General MIDI SoundFont."""
    for given in (explicit, os.environ.get("COMPOSER_GUI_SOUNDFONT")):
        if given:
            path = Path(given)
            if not path.is_file():
                raise SoundUnavailable(f"{path}: SoundFont not found")
            return path
    candidates = sorted(soundfonts_dir().glob("*.sf[23]")) + list(_SYSTEM_SOUNDFONTS)
    for path in candidates:
        if path.is_file():
            return path
    raise SoundUnavailable(
        f"no General MIDI SoundFont found (the package's own belongs in {soundfonts_dir()}): "
        "set $COMPOSER_GUI_SOUNDFONT, or install Debian's fluidr3mono-gm-soundfont"
    )


class SoundFontSynth:
    """A 16-channel General MIDI synthesizer taking raw MIDI messages.

    Adds what TinySoundFont leaves to its caller: the sustain pedal (controller 64
    holds released notes until it comes up) and channel 10 as the drum kit.
    """

    def __init__(
        self,
        soundfont: str | os.PathLike[str] | None = None,
        *,
        sample_rate: int = SAMPLE_RATE,
        gain_db: float = 6.0,
        max_voices: int = 256,
    ) -> None:
        tsf = _tinysoundfont()
        self.path = find_soundfont(soundfont)
        self.sample_rate = sample_rate
        self._synth = tsf.Synth(gain=gain_db, samplerate=sample_rate)
        try:
            self._sfid = self._synth.sfload(str(self.path), max_voices=max_voices)
        except Exception as exc:  # the binding raises plain Exceptions for bad files
            raise SoundUnavailable(f"{self.path}: not a usable SoundFont ({exc})") from exc
        self._pedal = [False] * 16
        self._pedal_held: list[set[int]] = [set() for _ in range(16)]
        self._sounding: list[set[int]] = [set() for _ in range(16)]  # keys on, not off
        self.reset()

    def reset(self) -> None:
        """Silence everything and return every channel to its power-on state."""
        synth = self._synth
        synth.sounds_off()
        for channel in range(16):
            drums = channel == DRUM_CHANNEL
            synth.program_select(channel, self._sfid, 0, 0, is_drums=drums)
            synth.control_change(channel, 121, 0)  # reset controllers
            synth.control_change(channel, 7, 100)
            synth.control_change(channel, 10, 64)
            self._pedal[channel] = False
            self._pedal_held[channel].clear()
            self._sounding[channel].clear()

    def notes_off(self, *, immediately: bool = False) -> None:
        """Release every note (pedal too); ``immediately`` cuts the release tails."""
        for channel in range(16):
            self._pedal[channel] = False
            self._pedal_held[channel].clear()
            self._sounding[channel].clear()
        if immediately:
            self._synth.sounds_off()
        else:
            self._synth.notes_off()

    def handle(self, data: tuple[int, ...] | list[int]) -> None:
        """Apply one MIDI channel message."""
        if not data or data[0] >= 0xF0:
            return
        status, channel = data[0] & 0xF0, data[0] & 0x0F
        synth = self._synth
        if status == 0x90 and len(data) >= 3 and data[2] > 0:
            sounding = self._sounding[channel]
            if data[1] in sounding:
                # Re-struck while it still sounds (key held, or kept by the pedal):
                # release the old sound first. TinySoundFont ends one note-on per
                # note-off, so an unmatched one would ring (and cost CPU) forever.
                self._pedal_held[channel].discard(data[1])
                synth.noteoff(channel, data[1])
            sounding.add(data[1])
            synth.noteon(channel, data[1], data[2])
        elif status == 0x80 or (status == 0x90 and len(data) >= 3):
            if self._pedal[channel]:
                if data[1] in self._sounding[channel]:
                    self._pedal_held[channel].add(data[1])
            elif data[1] in self._sounding[channel]:
                self._sounding[channel].discard(data[1])
                synth.noteoff(channel, data[1])
        elif status == 0xB0 and len(data) >= 3:
            control, value = data[1], data[2]
            if control == 64:
                down = value >= 64
                if self._pedal[channel] and not down:
                    for pitch in self._pedal_held[channel]:
                        synth.noteoff(channel, pitch)
                        self._sounding[channel].discard(pitch)
                    self._pedal_held[channel].clear()
                self._pedal[channel] = down
            elif control in (120, 123):  # all sound off / all notes off
                self._pedal_held[channel].clear()
                self._sounding[channel].clear()
                (synth.sounds_off if control == 120 else synth.notes_off)(channel)
            else:
                synth.control_change(channel, control, value)
        elif status == 0xC0 and len(data) >= 2:
            drums = channel == DRUM_CHANNEL
            synth.program_change(channel, 0 if drums else data[1], is_drums=drums)
        elif status == 0xE0 and len(data) >= 3:
            synth.pitchbend(channel, data[1] | (data[2] << 7))

    def generate(self, frames: int) -> np.ndarray:
        """The next ``frames`` stereo frames as a float32 array of shape (frames, 2)."""
        if frames <= 0:
            return np.zeros((0, 2), dtype=np.float32)
        out = np.empty((frames, 2), dtype=np.float32)
        self._synth.generate_simple(frames, buffer=memoryview(out).cast("B"))
        return out
