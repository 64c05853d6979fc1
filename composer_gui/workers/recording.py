"""Qt glue for live MIDI input and recording (no widgets, no song edits).

* :class:`LiveInput` owns the selected MIDI input port: opens it by name, drains it on a
  10 ms GUI timer into signals, passes each message straight to a monitor (the built-in
  synthesizer's thread-safe ``send``) from the port's reader thread, watches the port
  lists every 2 s for hot-plugging, and tells when the open port disappears.
* :class:`TakeController` runs one take: count-in, metronome, the take's notes while
  they are played (for the roll), and the finished :class:`TakeResult`. It never touches
  the song: :func:`take_edit` turns a result into one undoable edit for the document.

Every signal is emitted on the GUI thread (timers), except none: the MIDI reader thread
only calls the monitor callable.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from composer_gui.audio.playback import PortPlayer
from composer_gui.core.edits import AddNotes, AddTrack, CompoundEdit, Edit, ReplaceRange
from composer_gui.core.errors import UserError
from composer_gui.core.song import DRUM_CHANNEL, Note, Song, TempoChange, Track
from composer_gui.midi.live import LiveTake, TakeResult
from composer_gui.midi.ports import MidiApiError, MidiInput, PortWatcher
from composer_gui.midi.records import MidiRecord

__all__ = [
    "LiveInput",
    "TakeController",
    "take_edit",
    "engine_monitor",
    "port_monitor",
    "HOTPLUG_MS",
    "DRAIN_MS",
]

HOTPLUG_MS = 2000
DRAIN_MS = 10
TAKE_UPDATE_S = 0.033
CLIENT = "Composer GUI"


class LiveInput(QObject):
    """The app's MIDI input (one port at a time)."""

    #: (input names, output names) whenever the lists change (and once at start)
    ports_changed = Signal(list, list)
    #: records drained from the port (oldest first), every 10 ms while some arrive
    messages_received = Signal(list)
    note_started = Signal(int, int)  # pitch, velocity
    note_stopped = Signal(int)  # pitch
    activity = Signal()  # something arrived (for the activity light)
    input_lost = Signal(str)  # the open port vanished: a message for the user
    error_occurred = Signal(str)
    #: no MIDI at all here (python-rtmidi does not load, no ALSA sequencer and no JACK
    #: server): why, with the fix; the on-screen keyboard still plays and records
    unavailable = Signal(str)

    def __init__(
        self,
        api: str | None = None,
        monitor: Callable[[MidiRecord], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.api = api
        self.monitor = monitor
        self._input: MidiInput | None = None
        self._watcher: PortWatcher | None = None
        self._drain_timer = QTimer(self, interval=DRAIN_MS)
        self._drain_timer.timeout.connect(self._on_drain_timeout)
        self._hotplug_timer = QTimer(self, interval=HOTPLUG_MS)
        self._hotplug_timer.timeout.connect(self._on_hotplug_timeout)

    @property
    def port_name(self) -> str | None:
        return None if self._input is None else self._input.name

    @property
    def midi_input(self) -> MidiInput | None:
        return self._input

    def start_watching(self) -> None:
        """Begin hot-plug polling (emits ``ports_changed`` now and on every change)."""
        try:
            self._watcher = PortWatcher(self.api, exclude_client=CLIENT)
        except MidiApiError as exc:
            self.unavailable.emit(str(exc))
            return
        except UserError as exc:
            self.error_occurred.emit(str(exc))
            return
        self.ports_changed.emit(list(self._watcher.inputs), list(self._watcher.outputs))
        self._hotplug_timer.start()

    def open_port(self, name: str) -> bool:
        """Open ``name`` (exact or a unique part); False (and ``error_occurred``) if not."""
        self.close_port()
        try:
            self._input = MidiInput(name, api=self.api, client_name=CLIENT,
                                    listener=self._on_record)
        except UserError as exc:
            self.error_occurred.emit(str(exc))
            return False
        self._drain_timer.start()
        return True

    def close_port(self) -> None:
        self._drain_timer.stop()
        if self._input is not None:
            self._input.close()
            self._input = None

    def shutdown(self) -> None:
        """Close everything (call before the app quits)."""
        self._hotplug_timer.stop()
        self.close_port()
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None

    # Runs on the MIDI reader thread: only the thread-safe monitor, never Qt.
    def _on_record(self, record: MidiRecord) -> None:
        monitor = self.monitor
        if monitor is not None:
            monitor(record)

    def _on_drain_timeout(self) -> None:
        if self._input is None:
            return
        records = self._input.drain()
        if not records:
            return
        self.activity.emit()
        for r in records:
            if r.is_note_on:
                self.note_started.emit(r.data[1], r.data[2])
            elif r.is_note_off:
                self.note_stopped.emit(r.data[1])
        self.messages_received.emit(records)

    def _on_hotplug_timeout(self) -> None:
        if self._watcher is None:
            return
        changes = self._watcher.poll()
        if changes:
            self.ports_changed.emit(list(self._watcher.inputs), list(self._watcher.outputs))
        if self._input is not None and self._input.source in changes.removed_inputs:
            name = self._input.source
            self.close_port()
            self.input_lost.emit(f"MIDI input {name!r} was disconnected")


def engine_monitor(engine) -> Callable[[MidiRecord], None]:
    """A ``LiveInput.monitor`` that plays incoming notes through the built-in synthesizer
    (thread-safe; the arrival time feeds the engine's latency figures)."""

    def monitor(record: MidiRecord) -> None:
        engine.send(record.data, record.time)

    return monitor


def port_monitor(output) -> Callable[[MidiRecord], None]:
    """A ``LiveInput.monitor`` that echoes incoming channel messages to a MIDI output
    (MIDI thru; :class:`~composer_gui.midi.ports.MidiOutput` sends are thread-safe)."""

    def monitor(record: MidiRecord) -> None:
        if record.data and record.data[0] < 0xF0:
            output.send(record.data)

    return monitor


class _ClickSink:
    """Lets :class:`PortPlayer` play metronome clicks into any ``send`` callable."""

    def __init__(self, send: Callable[[tuple[int, ...]], None]) -> None:
        self._send = send

    def send(self, data) -> None:
        self._send(tuple(data))

    def all_notes_off(self) -> None:
        self._send((0xB0 | DRUM_CHANNEL, 123, 0))


class TakeController(QObject):
    """One take at a time, fed by a :class:`LiveInput` and/or on-screen keys."""

    count_in_started = Signal()
    recording_started = Signal()
    take_updated = Signal(list)  # list[Note]: the take so far, open notes to now
    take_finished = Signal(object)  # TakeResult
    take_lost = Signal(str)  # the input vanished; the take so far is in take_finished

    def __init__(self, live_input: LiveInput | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.live_input = live_input
        self._take: LiveTake | None = None
        self._clicks: PortPlayer | None = None
        self._pending: list[MidiRecord] = []
        self._announced = False
        self._next_update = 0.0
        self._timer = QTimer(self, interval=DRAIN_MS)
        self._timer.timeout.connect(self._on_tick)
        if live_input is not None:
            live_input.messages_received.connect(self._on_messages_received)

    @property
    def active(self) -> bool:
        return self._take is not None

    def start(
        self,
        song: Song,
        *,
        start_tick: int = 0,
        bars: int | None = None,
        count_in_bars: int = 1,
        click: Callable[[tuple[int, ...]], None] | None = None,
        quantize: float | None = None,
    ) -> None:
        """Count in and record from ``start_tick`` (a bar line) for ``bars`` bars (None:
        until :meth:`stop`). ``click`` receives metronome messages (channel 10) on a
        thread of its own: the engine's ``send`` or a MIDI output's."""
        self.stop()
        midi_input = None if self.live_input is None else self.live_input.midi_input
        begin = time.perf_counter() + 0.05
        self._take = LiveTake(midi_input, song, start_tick=start_tick, bars=bars,
                              count_in_bars=count_in_bars, begin=begin, quantize=quantize)
        self._pending = []
        self._announced = False
        self._next_update = 0.0
        if click is not None:
            self._clicks = self._start_clicks(click, begin, bars)
        self._timer.start()
        self.count_in_started.emit()

    def _start_clicks(self, click, begin: float, bars: int | None) -> PortPlayer | None:
        take = self._take
        # Metronome beats as a drum track, played by the same thread-based scheduler as
        # MIDI playback (so a busy GUI does not delay a click).
        if bars is None:
            end = take.time_map.bar_to_tick(take.time_map.bar_of(take.start_tick) + 200)
        else:
            end = take.end_tick
        tm = take.time_map
        notes = []
        for tick in tm.beat_starts(end, take.count_in_tick):
            accented = tm.tick_to_bar_beat(int(tick)).beat == 0
            start = int(tick) - take.count_in_tick
            notes.append(Note(76 if accented else 77, start, 30, 110 if accented else 80))
        click_song = Song(
            ticks_per_beat=take.time_map.ticks_per_beat,
            tempos=[TempoChange(0, tm.tempo_at(take.count_in_tick).us_per_beat)]
            + [TempoChange(t.tick - take.count_in_tick, t.us_per_beat)
               for t in tm.tempos if t.tick > take.count_in_tick],
            tracks=[Track(name="click", channel=DRUM_CHANNEL, is_drum=True, notes=notes)],
        )
        player = PortPlayer(_ClickSink(click), click_song)
        player.play(0.0, at=begin)
        return player

    def feed_key(self, record: MidiRecord) -> None:
        """A note from the on-screen or computer keyboard (perf_counter time)."""
        if self._take is not None:
            self._pending.append(record)

    def stop(self) -> None:
        """End the take now (emits ``take_finished``); nothing if none runs."""
        if self._take is None:
            return
        self._take.poll(records=self._pending)
        self._pending = []
        self._take.stop()
        self._finish()

    def _on_messages_received(self, records: list) -> None:
        if self._take is not None:
            self._pending.extend(records)

    def _on_tick(self) -> None:
        take = self._take
        if take is None:
            return
        now = time.perf_counter()
        if not self._announced and now >= take.start_time:
            self._announced = True
            self.recording_started.emit()
        records, self._pending = self._pending, []
        running = take.poll(now, records=records)
        if now >= self._next_update or records:
            # Open notes grow every tick; ~30 redraws a second are plenty for the roll,
            # but a new key press shows at once.
            self._next_update = now + TAKE_UPDATE_S
            self.take_updated.emit(take.recorder.notes(now))
        if not running:
            self._finish()

    def _finish(self) -> None:
        take, self._take = self._take, None
        self._timer.stop()
        if self._clicks is not None:
            self._clicks.close()
            self._clicks = None
        result = take.result()
        if result.source_lost:
            self.take_lost.emit(result.message)
        self.take_finished.emit(result)


def take_edit(
    song: Song, result: TakeResult, track: int | None, *, merge: bool = False,
    new_track_name: str = "Take",
) -> Edit:
    """The one undoable edit that puts a take into ``song``.

    ``track`` None makes a new track (melody role). Otherwise the take replaces what the
    track had between the take's start and end (``merge=False``) or is added to it.
    """
    if track is None:
        index = len(song.tracks)
        new = Track(name=new_track_name, role="melody")
        return CompoundEdit([AddTrack(new), AddNotes(index, result.notes)], "Record take")
    if merge:
        return AddNotes(track, result.notes, "Record take (merge)")
    return ReplaceRange(track, result.start_tick, result.end_tick, result.notes,
                        text="Record take")
