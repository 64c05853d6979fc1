"""``composer-gui doctor``: what this machine has for the app, and what to do about what it
lacks, one line each.

Every line starts with ``ok``, ``warn`` or ``FAIL`` and its topic; a missing piece says
its fix after "fix:". Exit code 1 only when the app cannot work at all here: Qt with its
system libraries, torch or the shipped models missing. What only limits it (no display
now, no audio server, no MIDI port, no GPU) is a ``warn`` line and the exit code stays 0.

The probes live beside what they probe (:mod:`composer_gui.ui.qt_probe`,
:func:`composer_gui.midi.ports.api_report`, :func:`composer_gui.audio.device.backend_report`,
:mod:`composer_gui.ml.device`); this module only asks and prints.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

OK, WARN, FAIL = "ok", "warn", "FAIL"

#: audio back-end errors from miniaudio, in words
_AUDIO_REASONS = {
    "pulseaudio": "no PulseAudio/PipeWire server answers (or libpulse0 is missing)",
    "alsa": "no ALSA sound card (or libasound2 is missing)",
    "jack": "no JACK server is running (or libjack is missing)",
}

_AUDIO_FIX = ("start a sound server (PulseAudio or PipeWire: Debian's libpulse0 with "
              "pulseaudio or pipewire-pulse), use a sound card through ALSA (libasound2) "
              "or run a JACK server")


@dataclass(frozen=True)
class Finding:
    status: str  # OK, WARN or FAIL
    topic: str
    text: str
    fix: str = ""

    def line(self) -> str:
        text = " ".join(f"{self.topic}: {self.text}".split())
        fix = " ".join(self.fix.split())
        return f"{self.status:<4} {text}" + (f" \u2014 fix: {fix}" if fix else "")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "doctor", help="check Qt, MIDI, audio, torch and the models here, with fixes")
    p.set_defaults(func=cmd_doctor)


def cmd_doctor(_args) -> int:
    failed = warned = 0
    for finding in run_checks():
        print(finding.line(), flush=True)
        failed += finding.status == FAIL
        warned += finding.status == WARN
    if failed:
        print(f"doctor: {failed} missing piece(s) stop the app here (see FAIL above)")
        return 1
    print(f"doctor: the app can run here ({warned} warning(s))")
    return 0


def run_checks() -> Iterator[Finding]:
    """Every finding, in the order shown (each probe guarded: a probe that breaks is a
    finding too, never a traceback)."""
    checks: list[tuple[str, Callable[[], Iterator[Finding]], str]] = [
        ("Python", _python, FAIL),
        ("Qt", _qt, FAIL),
        ("MIDI", _midi, WARN),
        ("audio", _audio, WARN),
        ("SoundFont", _soundfont, WARN),
        ("torch", _torch, FAIL),
        ("models", _models, FAIL),
        ("folders", _folders, WARN),
    ]
    for topic, check, on_error in checks:
        try:
            yield from check()
        except Exception as exc:  # noqa: BLE001 - reported as a finding
            yield Finding(on_error, topic, f"the check itself failed: {type(exc).__name__}: "
                                           f"{exc}")


def _python() -> Iterator[Finding]:
    version = platform.python_version()
    status = OK if sys.version_info >= (3, 11) else FAIL
    where = "frozen app" if getattr(sys, "frozen", False) else sys.executable
    yield Finding(status, "Python", f"{version} ({where})",
                  "" if status == OK else "install Python 3.11 or newer")


def _qt() -> Iterator[Finding]:
    from composer_gui.ui.qt_probe import check_platform, check_qt_libraries

    libraries = check_qt_libraries()
    yield _qt_finding("Qt", libraries)
    if libraries.ok:
        yield _qt_finding("Qt platform", check_platform())


def _qt_finding(topic: str, check) -> Finding:
    if check.ok:
        return Finding(OK, topic, check.text)
    return Finding(FAIL if check.fatal else WARN, topic, check.text, check.fix)


def _midi() -> Iterator[Finding]:
    from composer_gui.midi.ports import MidiApiError, api_report

    try:
        report = api_report()
    except MidiApiError as exc:  # python-rtmidi does not load: the text carries the fix
        text, _, fix = str(exc).partition(" \u2014 ")
        yield Finding(WARN, "MIDI", text, fix)
        return
    working = []
    for name, ports, reason in report:
        if ports is None:
            yield Finding(WARN, f"MIDI {name}", f"not available: {reason}")
            continue
        working.append(ports)
        inputs = ", ".join(ports.inputs) or "none"
        outputs = ", ".join(ports.outputs) or "none"
        yield Finding(OK, f"MIDI {name}", f"inputs: {inputs}; outputs: {outputs}")
    if not working:
        yield Finding(WARN, "MIDI", "no MIDI system works here (the on-screen keyboard "
                                    "still plays and records)",
                      "load the ALSA sequencer (sudo modprobe snd-seq) or start a JACK "
                      "server")
    elif not any(p.inputs for p in working):
        yield Finding(WARN, "MIDI", "no MIDI input port: no keyboard is connected",
                      "plug in a USB MIDI keyboard (the on-screen keyboard works meanwhile)")


def _audio() -> Iterator[Finding]:
    from composer_gui.audio.device import backend_report
    from composer_gui.audio.synth import INSTALL_HINT, synth_available

    missing = synth_available()
    if missing:
        yield Finding(WARN, "audio synthesizer", "tinysoundfont is not installed: no "
                      "built-in sound and no WAV export (MIDI output still works)", INSTALL_HINT)
    else:
        yield Finding(OK, "audio synthesizer", "tinysoundfont")
    try:
        report = backend_report()
    except Exception as exc:  # noqa: BLE001 - miniaudio missing: SoundUnavailable
        yield Finding(WARN, "audio output", str(exc), "pip install miniaudio")
        return
    found = False
    for name, devices, error in report:
        if devices is None:
            reason = _AUDIO_REASONS.get(name, "not available")
            yield Finding(WARN, f"audio {name}", f"{reason} ({error})")
        elif not devices:
            yield Finding(WARN, f"audio {name}", "works, but offers no output device")
        else:
            found = True
            yield Finding(OK, f"audio {name}", "outputs: " + ", ".join(devices))
    if not found:
        yield Finding(WARN, "audio output", "no audio output device: the window works "
                      "without sound; MIDI output and WAV export still work", _AUDIO_FIX)


def _soundfont() -> Iterator[Finding]:
    from composer_gui.audio.synth import SoundUnavailable, find_soundfont

    try:
        path = find_soundfont()
    except SoundUnavailable as exc:
        text, _, fix = str(exc).partition(": ")
        yield Finding(WARN, "SoundFont", text, fix)
        return
    size = path.stat().st_size / 1e6
    yield Finding(OK, "SoundFont", f"{path} ({size:.1f} MB)")


def _torch() -> Iterator[Finding]:
    try:
        import torch
    except (ImportError, OSError) as exc:
        yield Finding(FAIL, "torch", f"does not import ({type(exc).__name__}: {exc})",
                      "pip install torch (a CPU build from pytorch.org is enough)")
        return
    from composer_gui.ml.device import probe_device

    cuda = torch.version.cuda
    build = f"CUDA {cuda} build" if cuda else ("ROCm build" if getattr(
        torch.version, "hip", None) else "CPU build")
    yield Finding(OK, "torch", f"{torch.__version__} ({build})")
    kind, name = probe_device()
    if kind == "cuda":
        yield Finding(OK, "torch device", f"CUDA: {name}")
    elif kind == "mps":
        yield Finding(OK, "torch device", "Apple MPS")
    else:
        threads = torch.get_num_threads()
        fix = ("no GPU is needed; for an NVIDIA GPU check its driver (nvidia-smi)" if cuda
               else "no GPU is needed; for an NVIDIA GPU install a CUDA build of torch "
                    "(pytorch.org)")
        yield Finding(WARN, "torch device", f"CPU only ({threads} threads): generation "
                      "and fine-tuning run on the CPU, slower", fix)


def _models() -> Iterator[Finding]:
    from composer_gui.ml.model.registry import (
        list_models,
        shipped_models_dir,
        shipped_models_missing,
        user_models_dir,
    )

    missing = shipped_models_missing()
    entries = list_models()
    if missing:
        text, _, fix = missing.partition(": ")
        yield Finding(FAIL, "shipped models", text, fix)
    else:
        shipped = [e for e in entries if e.source == "shipped"]
        broken = [e for e in shipped if e.error]
        names = ", ".join(e.name for e in shipped if not e.error)
        yield Finding(OK, "shipped models", f"{names} ({shipped_models_dir()})")
        for e in broken:
            yield Finding(FAIL, "shipped models", f"{e.name} is unusable: {e.error}",
                          "reinstall composer-gui")
    user = [e for e in entries if e.source == "user"]
    folder = user_models_dir()
    if not user:
        yield Finding(OK, "user models", f"none yet ({folder}; Tools > Fine-tune makes one)")
    for e in user:
        if e.error:
            yield Finding(WARN, "user models", f"{e.name} is unusable: {e.error}",
                          f"delete or fix {e.path}")
    good = [e.name for e in user if not e.error]
    if good:
        yield Finding(OK, "user models", f"{', '.join(good)} ({folder})")


def _folders() -> Iterator[Finding]:
    import platformdirs

    from composer_gui import settings

    places = [
        ("settings file", settings.config_path()),
        ("data folder", platformdirs.user_data_dir(settings.APP_DIR_NAME, appauthor=False)),
        ("cache folder", platformdirs.user_cache_dir(settings.APP_DIR_NAME)),
    ]
    for topic, place in places:
        place = os.fspath(place)
        existing = place
        while existing and not os.path.exists(existing):
            parent = os.path.dirname(existing)
            existing = "" if parent == existing else parent
        state = "exists" if existing == place else "made on first use"
        if existing and not os.access(existing, os.W_OK):
            yield Finding(WARN, topic, f"{place} ({state}) is not writable",
                          f"make {existing} writable for this user")
        else:
            yield Finding(OK, topic, f"{place} ({state})")
