"""Audio device output through miniaudio (its wheels carry the C library).

miniaudio talks to PulseAudio/PipeWire, ALSA or JACK on Linux, Core Audio on macOS and
WASAPI on Windows, loading the system's client library at run time. Where none is
present :class:`AudioOutput` raises :class:`SoundUnavailable` naming what is missing;
the rest of the app (MIDI output, WAV export) works without it.
"""

from __future__ import annotations

import sys

from composer_gui.audio.engine import Engine
from composer_gui.audio.synth import SoundUnavailable
from composer_gui.sysutil import quiet_stderr

__all__ = ["AudioOutput", "DEFAULT_BUFFER_MS", "BACKENDS", "backend_report"]

#: One device period. Key-to-sound latency is about two of these plus the wait for the
#: next callback; 5 ms keeps the total well under 20 ms on a normal desktop.
DEFAULT_BUFFER_MS = 5

#: Backend names accepted by ``backend=`` ("null" renders to nowhere, for tests).
BACKENDS = ("pulseaudio", "alsa", "jack", "coreaudio", "wasapi", "null")


def _miniaudio():
    try:
        import miniaudio
    except ImportError as exc:
        raise SoundUnavailable(
            "audio output needs the Python package 'miniaudio' (pip install miniaudio)"
        ) from exc
    return miniaudio


def _platform_backends() -> tuple[str, ...]:
    if sys.platform.startswith("linux"):
        return ("PULSEAUDIO", "ALSA", "JACK")
    if sys.platform == "darwin":
        return ("COREAUDIO",)
    if sys.platform.startswith("win"):
        return ("WASAPI", "DSOUND", "WINMM")
    return ("SNDIO", "AUDIO4", "OSS")


def _missing_hint() -> str:
    if sys.platform.startswith("linux"):
        return (
            "no audio output found: miniaudio needs PulseAudio/PipeWire (libpulse0), "
            "ALSA (libasound2 and a sound card) or a running JACK server (libjack); "
            "MIDI output and WAV export still work"
        )
    return "no audio output device found; MIDI output and WAV export still work"


def backend_report() -> list[tuple[str, list[str] | None, str | None]]:
    """The platform's audio systems as miniaudio finds them: (name, output device names
    or None, why not or None), for ``composer-gui doctor``. Opens no stream."""
    ma = _miniaudio()
    report = []
    for name in _platform_backends():
        try:
            with quiet_stderr():
                devices = ma.Devices(backends=[ma.Backend[name]])
                outputs = [d["name"] for d in devices.get_playbacks()]
        except (ma.MiniaudioError, KeyError) as exc:
            report.append((name.lower(), None, str(exc) or type(exc).__name__))
        else:
            report.append((name.lower(), outputs, None))
    return report


class AudioOutput:
    """Streams an :class:`Engine` to the sound card until :meth:`close`.

    ``backend`` picks one backend by name (see :data:`BACKENDS`); None tries the
    platform's real ones in miniaudio's order and never falls back to silence.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        buffer_ms: int = DEFAULT_BUFFER_MS,
        periods: int = 2,
        backend: str | None = None,
    ) -> None:
        ma = _miniaudio()
        self.engine = engine
        if backend is None:
            names = _platform_backends()
        elif backend.upper() in ma.Backend.__members__:
            names = (backend.upper(),)
        else:
            raise SoundUnavailable(
                f"unknown audio backend {backend!r} (choose from {', '.join(BACKENDS)})"
            )
        # miniaudio settles on the first backend whose library loads, even when that
        # one has no device (ALSA without a card), so try them one at a time.
        errors = []
        self._device = None
        for name in names:
            try:
                with quiet_stderr():
                    self._device = ma.PlaybackDevice(
                        output_format=ma.SampleFormat.FLOAT32,
                        nchannels=2,
                        sample_rate=engine.sample_rate,
                        buffersize_msec=buffer_ms,
                        callback_periods=periods,
                        backends=[ma.Backend[name]],
                        app_name="Composer GUI",
                    )
                break
            except ma.MiniaudioError as exc:
                errors.append(f"{name.lower()}: {exc}")
        if self._device is None:
            if backend is not None:
                raise SoundUnavailable(f"audio backend {backend} is not available ({errors[0]})")
            raise SoundUnavailable(_missing_hint())
        self.backend = self._device.backend
        # The binding does not expose what the device granted; these are what we asked.
        self.period_frames = max(1, round(engine.sample_rate * buffer_ms / 1000))
        self.periods = periods
        self.device_rate = engine.sample_rate
        self._gen = self._stream()
        next(self._gen)
        self._device.start(self._gen)

    @property
    def buffer_seconds(self) -> float:
        """The device's whole buffer (all periods) in seconds."""
        return self.period_frames * self.periods / self.device_rate

    def _stream(self):
        frames = yield b""
        render = self.engine.render
        while True:
            frames = yield render(frames).tobytes()

    def close(self) -> None:
        """Stop the stream and release the device (idempotent)."""
        device, self._device = getattr(self, "_device", None), None
        if device is not None:
            device.close()

    def __enter__(self) -> AudioOutput:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
