"""MIDI ports through python-rtmidi: API choice, listing, matching, input and output.

Threading rules (see docs/DESIGN.md, "Hazard"): no Python code ever runs on the MIDI
driver's thread. A driver callback racing a port close aborted the interpreter there,
and even rtmidi's cancel_callback() + wait + close_port() pattern segfaulted here in
about one run of 200 open/close cycles under a message flood (a callback waiting for
the GIL while its callable is released). So :class:`MidiInput` uses rtmidi's own queue:
a Python thread of ours polls it every millisecond or two, turns each message into an
immutable :class:`MidiRecord` and appends it to a deque (and, optionally, hands it to
a ``listener`` such as the synthesizer for monitoring). Closing stops and joins that
thread first, then closes the port: nothing can touch a closed port. Nothing here
imports Qt; the GUI drains the deque on a timer, and polls :class:`PortWatcher` every
2 s for hot-plugging.

Timestamps: each record's ``time`` is on the :func:`time.perf_counter` clock. The
driver stamps each message with the time since the previous one (exact, taken when it
reached the port); their running sum is anchored to the clock at the earliest-looking
arrival, so polling late does not shift a note; see :meth:`MidiInput.retime`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from composer_gui.core.errors import UserError
from composer_gui.midi.records import MidiRecord
from composer_gui.sysutil import quiet_stderr

__all__ = [
    "API_NAMES",
    "UNAVAILABLE",
    "MidiPortError",
    "MidiApiError",
    "NoSuchPortError",
    "PortList",
    "MidiInput",
    "MidiOutput",
    "PortWatcher",
    "api_name",
    "resolve_api",
    "list_ports",
    "api_report",
    "match_port",
]


def _unavailable_reason(exc: BaseException) -> str:
    """One line for the user on why python-rtmidi cannot be loaded, with the fix."""
    text = str(exc)
    if "libasound" in text:
        return ("MIDI unavailable: ALSA library libasound.so.2 not found \u2014 install "
                "libasound2 (Debian/Ubuntu: sudo apt install libasound2)")
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").startswith("rtmidi"):
        return "MIDI unavailable: python-rtmidi is not installed \u2014 pip install python-rtmidi"
    return f"MIDI unavailable: python-rtmidi does not load ({type(exc).__name__}: {text})"


# python-rtmidi links the system's ALSA library (libasound.so.2) when imported: without it
# the import fails, and the app must still start. Everything that needs a port goes
# through resolve_api(), which raises MidiApiError with the reason.
try:
    import rtmidi
except (ImportError, OSError) as _exc:
    rtmidi = None
    UNAVAILABLE: str | None = _unavailable_reason(_exc)
    del _exc
else:
    UNAVAILABLE = None

#: Names accepted by ``--api`` and the setting, mapped to rtmidi's constants (RtMidi's
#: ``RtMidi::Api`` enum, spelled out so the names exist without the library).
API_NAMES: dict[str, int] = {"alsa": 2, "jack": 3, "coremidi": 1, "winmm": 4}
if rtmidi is not None:
    API_NAMES = {
        "alsa": rtmidi.API_LINUX_ALSA,
        "jack": rtmidi.API_UNIX_JACK,
        "coremidi": rtmidi.API_MACOSX_CORE,
        "winmm": rtmidi.API_WINDOWS_MM,
    }

DEFAULT_CLIENT = "Composer GUI"
_log = logging.getLogger(__name__)


class MidiPortError(UserError):
    """A MIDI port problem the user can fix (unplugged keyboard, wrong name ...)."""


class MidiApiError(MidiPortError):
    """The requested MIDI system (ALSA, JACK ...) cannot be used here."""


class NoSuchPortError(MidiPortError):
    """No port matches the name the user gave."""


def api_name(api: int) -> str:
    """The short name of an rtmidi API constant ("alsa", "jack" ...)."""
    for name, value in API_NAMES.items():
        if value == api:
            return name
    return rtmidi.get_api_name(api) if rtmidi is not None else str(api)


def _probe(api: int) -> str | None:
    """None when ``api`` works now, else the driver's reason."""
    try:
        with quiet_stderr():
            probe = rtmidi.MidiIn(api, name=f"{DEFAULT_CLIENT} probe")
            probe.get_port_count()
            probe.delete()
    except (rtmidi.RtMidiError, OSError) as exc:
        return str(exc) or type(exc).__name__
    return None


_HINTS = {
    "alsa": "the ALSA sequencer is missing (no /dev/snd/seq: load snd-seq or use --api jack)",
    "jack": "no JACK server is running (start one, e.g. `jackd -d dummy`, or use --api alsa)",
}

_resolved_lock = threading.Lock()
_resolved: dict[str | None, int] = {}


def resolve_api(requested: str | None = None) -> int:
    """Pick the rtmidi API to use.

    ``requested`` is a name from :data:`API_NAMES` or None / "auto". Auto means the
    platform default, except on Linux: ALSA, falling back to JACK when ALSA is not
    available (containers, machines without /dev/snd). The environment variable
    ``COMPOSER_GUI_MIDI_API`` stands in for ``requested`` when that is None.
    Raises :class:`MidiApiError` with the reason when nothing usable is found.
    """
    if rtmidi is None:
        raise MidiApiError(UNAVAILABLE)
    if requested is None:
        requested = os.environ.get("COMPOSER_GUI_MIDI_API") or None
    key = None if requested in (None, "auto") else requested.lower()
    with _resolved_lock:
        if key in _resolved:
            return _resolved[key]
    compiled = rtmidi.get_compiled_api()
    if key is not None:
        if key not in API_NAMES:
            raise MidiApiError(
                f"unknown MIDI API {requested!r} (choose from auto, {', '.join(API_NAMES)})"
            )
        api = API_NAMES[key]
        if api not in compiled:
            raise MidiApiError(f"this python-rtmidi build has no {key} support")
        reason = _probe(api)
        if reason is not None:
            raise MidiApiError(f"MIDI API {key} is not available: {_HINTS.get(key, reason)}")
        candidates = [api]
    elif sys.platform.startswith("linux"):
        candidates = [a for a in (rtmidi.API_LINUX_ALSA, rtmidi.API_UNIX_JACK) if a in compiled]
    else:
        candidates = [a for a in compiled if a != rtmidi.API_RTMIDI_DUMMY][:1]
    reasons = []
    for api in candidates:
        reason = _probe(api) if key is None else None
        if reason is None:
            with _resolved_lock:
                _resolved[key] = api
            return api
        reasons.append(_HINTS.get(api_name(api), f"{api_name(api)}: {reason}"))
    raise MidiApiError("no MIDI system is available: " + "; ".join(reasons or ["none compiled"]))


def api_report() -> list[tuple[str, PortList | None, str | None]]:
    """Every MIDI system this python-rtmidi build has, as (name, its ports or None, why
    not or None): what ``composer-gui doctor`` shows. Raises :class:`MidiApiError` when
    python-rtmidi does not load at all."""
    if rtmidi is None:
        raise MidiApiError(UNAVAILABLE)
    report = []
    for api in rtmidi.get_compiled_api():
        if api == getattr(rtmidi, "API_RTMIDI_DUMMY", None):
            continue
        name = api_name(api)
        reason = _probe(api)
        if reason is not None:
            report.append((name, None, _HINTS.get(name, reason)))
            continue
        try:
            with quiet_stderr():
                report.append((name, list_ports(api), None))
        except MidiApiError as exc:
            report.append((name, None, str(exc)))
    return report


def _api_id(api: str | int | None) -> int:
    """An rtmidi constant as given, else :func:`resolve_api`'s choice (both raise
    :class:`MidiApiError` when python-rtmidi does not load)."""
    if rtmidi is None:
        raise MidiApiError(UNAVAILABLE)
    return api if isinstance(api, int) else resolve_api(api)


@dataclass(frozen=True, slots=True)
class PortList:
    """The port names one API shows now."""

    api: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


def list_ports(api: str | int | None = None) -> PortList:
    """Input and output port names of ``api`` (a name, an rtmidi constant or auto)."""
    api_id = _api_id(api)
    try:
        midi_in = rtmidi.MidiIn(api_id, name=f"{DEFAULT_CLIENT} list")
        midi_out = rtmidi.MidiOut(api_id, name=f"{DEFAULT_CLIENT} list")
        try:
            return PortList(
                api_name(api_id), tuple(midi_in.get_ports()), tuple(midi_out.get_ports())
            )
        finally:
            midi_in.delete()
            midi_out.delete()
    except (rtmidi.RtMidiError, OSError) as exc:
        raise MidiApiError(f"cannot list MIDI ports ({api_name(api_id)}): {exc}") from exc


def match_port(query: str, names: Sequence[str], kind: str = "input") -> str:
    """The port named exactly ``query`` or, failing that, the one containing it.

    The substring match ignores case. Several matches or none raise
    :class:`NoSuchPortError` naming the ports there are.
    """
    if query in names:
        return query
    low = query.lower()
    hits = [n for n in names if low in n.lower()]
    if len(hits) == 1:
        return hits[0]
    shown = ", ".join(repr(n) for n in names) or "none"
    if hits:
        listed = ", ".join(repr(n) for n in hits)
        raise NoSuchPortError(f"MIDI {kind} {query!r} is ambiguous: it matches {listed}")
    raise NoSuchPortError(
        f"no MIDI {kind} port matches {query!r} (is the keyboard plugged in?); "
        f"{kind} ports now: {shown}"
    )


#: How long the reader thread sleeps when rtmidi's queue is empty. Timestamps do not
#: depend on it (see the module notes); monitoring latency does, by up to this much.
POLL_S = 0.001


class MidiInput:
    """An open MIDI input: connected to a named source port, or a virtual port.

    Messages are collected by a reader thread as :class:`MidiRecord` items and taken
    with :meth:`drain` from any one thread. ``listener``, when given, is also called
    with each record on the reader thread (it must be quick and thread-safe, such as
    :meth:`composer_gui.audio.engine.Engine.send`; never a Qt call). Always
    :meth:`close` it (or use it as a context manager).
    """

    def __init__(
        self,
        port: str | None = None,
        *,
        api: str | int | None = None,
        client_name: str = DEFAULT_CLIENT,
        port_name: str = "input",
        virtual: bool = False,
        listener: Callable[[MidiRecord], None] | None = None,
    ) -> None:
        self.api = _api_id(api)
        self.listener = listener
        self._records: deque[MidiRecord] = deque()
        self._stamp = 0.0
        self._anchor = float("inf")
        self._closed = False
        self._lock = threading.Lock()  # close() against close()
        try:
            self._midi = rtmidi.MidiIn(self.api, name=client_name)
        except (rtmidi.RtMidiError, OSError) as exc:
            raise MidiApiError(f"cannot start MIDI input ({api_name(self.api)}): {exc}") from exc
        # Take everything: rtmidi's filter would hide clock/sensing messages from the
        # running sum of deltas, and that sum is what the timestamps are built on.
        # (Its queue holds 1024 messages; at one poll a millisecond it never fills.)
        self._midi.ignore_types(sysex=False, timing=False, active_sense=False)
        try:
            if virtual:
                self.name = f"{client_name}:{port_name}"
                self._midi.open_virtual_port(port_name)
            else:
                if port is None:
                    raise NoSuchPortError("no MIDI input port given")
                self.name = match_port(port, self._midi.get_ports(), "input")
                index = self._midi.get_ports().index(self.name)
                self._midi.open_port(index, port_name)
        except (rtmidi.RtMidiError, OSError, ValueError) as exc:
            self._midi.delete()
            raise MidiPortError(f"cannot open MIDI input {port!r}: {exc}") from exc
        except MidiPortError:
            self._midi.delete()
            raise
        self.source = None if virtual else self.name
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._poll_loop, name=f"midi-in {self.name}", daemon=True
        )
        self._thread.start()

    def _poll_loop(self) -> None:
        """Our reader thread: empties rtmidi's queue every ``POLL_S`` until closed."""
        get = self._midi.get_message
        records = self._records
        while not self._stop.is_set():
            try:
                event = get()
            except (rtmidi.RtMidiError, OSError):
                event = None
            if event is None:
                time.sleep(POLL_S)
                continue
            message, delta = event
            arrival = time.perf_counter()
            self._stamp += delta
            offset = arrival - self._stamp
            if offset < self._anchor:
                self._anchor = offset
            record = MidiRecord(self._anchor + self._stamp, tuple(message), stamp=self._stamp)
            records.append(record)
            listener = self.listener
            if listener is not None:
                try:
                    listener(record)
                except Exception:  # a broken monitor must not stop the input
                    _log.exception("MIDI input listener failed")

    def drain(self) -> list[MidiRecord]:
        """Take the records that arrived since the last call (oldest first)."""
        out = []
        records = self._records
        while records:
            out.append(records.popleft())
        return out

    def retime(self, records: Iterable[MidiRecord]) -> list[MidiRecord]:
        """The same records with times from the final clock anchor.

        Early records were stamped with the anchor known then; later arrivals can only
        lower it (a message cannot arrive before it was sent), so re-stamping a finished
        take with the last anchor puts every note on one consistent clock.
        """
        anchor = self._anchor
        if anchor == float("inf"):
            return list(records)
        return [
            MidiRecord(anchor + r.stamp, r.data, stamp=r.stamp) if r.stamp is not None else r
            for r in records
        ]

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop and join the reader thread, then close the port."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        try:
            self._midi.close_port()
        except (rtmidi.RtMidiError, OSError):
            pass  # the driver is gone already; nothing left to release but the handle
        finally:
            self._midi.delete()

    def __enter__(self) -> MidiInput:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class MidiOutput:
    """An open MIDI output: connected to a named destination, or a virtual port."""

    def __init__(
        self,
        port: str | None = None,
        *,
        api: str | int | None = None,
        client_name: str = DEFAULT_CLIENT,
        port_name: str = "output",
        virtual: bool = False,
    ) -> None:
        self.api = _api_id(api)
        self._lock = threading.Lock()  # sends from the scheduler and the GUI interleave
        self._closed = False
        try:
            self._midi = rtmidi.MidiOut(self.api, name=client_name)
        except (rtmidi.RtMidiError, OSError) as exc:
            raise MidiApiError(f"cannot start MIDI output ({api_name(self.api)}): {exc}") from exc
        try:
            if virtual:
                self.name = f"{client_name}:{port_name}"
                self._midi.open_virtual_port(port_name)
            else:
                if port is None:
                    raise NoSuchPortError("no MIDI output port given")
                self.name = match_port(port, self._midi.get_ports(), "output")
                self._midi.open_port(self._midi.get_ports().index(self.name), port_name)
        except (rtmidi.RtMidiError, OSError, ValueError) as exc:
            self._midi.delete()
            raise MidiPortError(f"cannot open MIDI output {port!r}: {exc}") from exc
        except MidiPortError:
            self._midi.delete()
            raise

    def send(self, data: Sequence[int]) -> None:
        """Send one message (status byte first); a closed port drops it silently."""
        with self._lock:
            if self._closed:
                return
            try:
                self._midi.send_message(data)
            except (rtmidi.RtMidiError, OSError, ValueError) as exc:
                raise MidiPortError(f"cannot send to MIDI output {self.name!r}: {exc}") from exc

    def all_notes_off(self) -> None:
        """Sustain off, all notes off and all sound off on every channel."""
        for channel in range(16):
            self.send((0xB0 | channel, 64, 0))
            self.send((0xB0 | channel, 123, 0))
            self.send((0xB0 | channel, 120, 0))

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._midi.close_port()
            except (rtmidi.RtMidiError, OSError):
                pass
            finally:
                self._midi.delete()

    def __enter__(self) -> MidiOutput:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class PortChanges:
    """What :meth:`PortWatcher.poll` found since the last poll."""

    added_inputs: tuple[str, ...] = ()
    removed_inputs: tuple[str, ...] = ()
    added_outputs: tuple[str, ...] = ()
    removed_outputs: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.added_inputs or self.removed_inputs or self.added_outputs or self.removed_outputs
        )


class PortWatcher:
    """Hot-plug detection by polling the port lists (call :meth:`poll` every 2 s).

    Keeps one listing client per direction open, so a poll costs two cheap queries.
    Our own ports (client name ``exclude_client``) are left out of the lists.
    """

    def __init__(self, api: str | int | None = None, exclude_client: str | None = None) -> None:
        self.api = _api_id(api)
        self._exclude = exclude_client
        try:
            self._in = rtmidi.MidiIn(self.api, name=f"{DEFAULT_CLIENT} watch")
            self._out = rtmidi.MidiOut(self.api, name=f"{DEFAULT_CLIENT} watch")
        except (rtmidi.RtMidiError, OSError) as exc:
            raise MidiApiError(f"cannot watch MIDI ports ({api_name(self.api)}): {exc}") from exc
        self.inputs: tuple[str, ...] = ()
        self.outputs: tuple[str, ...] = ()
        self.poll()

    def _keep(self, names: Iterable[str]) -> tuple[str, ...]:
        if not self._exclude:
            return tuple(names)
        prefix = self._exclude + ":"
        return tuple(n for n in names if not n.startswith(prefix))

    def poll(self) -> PortChanges:
        """Re-read the port lists; returns what appeared and disappeared."""
        try:
            inputs = self._keep(self._in.get_ports())
            outputs = self._keep(self._out.get_ports())
        except (rtmidi.RtMidiError, OSError):
            inputs, outputs = (), ()  # the MIDI system itself went away
        changes = PortChanges(
            tuple(n for n in inputs if n not in self.inputs),
            tuple(n for n in self.inputs if n not in inputs),
            tuple(n for n in outputs if n not in self.outputs),
            tuple(n for n in self.outputs if n not in outputs),
        )
        self.inputs, self.outputs = inputs, outputs
        return changes

    def close(self) -> None:
        for midi in (self._in, self._out):
            with contextlib.suppress(rtmidi.RtMidiError, OSError):
                midi.delete()
