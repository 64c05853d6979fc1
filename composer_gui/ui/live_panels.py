"""Live features in the main window: built-in sound, MIDI in/out, transport, recording,
mixer, on-screen keyboard, note audition and WAV export.

:class:`LivePanels` wires the widgets (``ui/transport_dock.py``: the transport bar with
the port pickers and recording options; ``ui/mixer.py``, ``ui/keyboard_widget.py``) to the
Qt workers (``workers/playback.py``, ``workers/recording.py``, ``ui/wav_export.py``);
``ui/live_menu.py`` docks them in the window. Nothing slow runs on the GUI thread: the
synthesizer loads on a thread of its own (:meth:`LivePanels.start`), WAV export renders on
another, and both report back through signals only.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QPushButton

from composer_gui import settings
from composer_gui.audio.mixer import Mixer, TrackMix
from composer_gui.core.errors import UserError
from composer_gui.core.song import DRUM_CHANNEL
from composer_gui.midi.records import note_off, note_on
from composer_gui.ui import edits_bridge as eb
from composer_gui.ui.document import grid_ticks
from composer_gui.ui.keyboard_widget import PianoKeyboard
from composer_gui.ui.mixer import MixerPanel
from composer_gui.ui.rollrender import bar_at
from composer_gui.ui.transport_dock import TransportDock
from composer_gui.ui.wav_export import WavExport, ask_wav_path
from composer_gui.workers.playback import PlaybackController, SoundLoader
from composer_gui.workers.recording import (
    LiveInput,
    TakeController,
    engine_monitor,
    port_monitor,
    take_edit,
)

log = logging.getLogger(__name__)

__all__ = ["LivePanels", "AUDITION_MS", "AUDITION_CHANNEL"]

AUDITION_MS = 300  # an auditioned note sounds this long
AUDITION_CHANNEL = 15  # a channel playback leaves alone (the drum channel is 9)
SONG_SYNC_MS = 100  # edits reach the player at most this late (coalesced)


class LivePanels(QObject):
    """Owns the live workers of one :class:`~composer_gui.ui.mainwindow.MainWindow`."""

    sound_ready = Signal()
    sound_unavailable = Signal(str)
    wav_exported = Signal(str)
    status_shown = Signal(str)  # every status-bar message this object shows

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.engine = None  # the built-in sound's Engine once loaded
        self.output = None  # a MidiOutput when one is chosen for playback
        self.sound_message = ""
        self.midi_message = ""  # why there is no MIDI here ("" while there is)
        self._armed = False
        self.playing = False
        self._take_track: int | None = None
        self._take_start = 0
        self._api = settings.get(settings.MIDI_API) or None

        self.loader = SoundLoader(self)
        self.playback = PlaybackController(self)
        self.live_input = LiveInput(api=self._api, parent=self)
        self.takes = TakeController(self.live_input, self)
        self.wav = WavExport(self)

        # widgets
        self.transport_widget = dock = TransportDock()
        self.transport = dock.transport
        self.input_combo, self.output_combo = dock.input_combo, dock.output_combo
        self.target_combo, self.mode_combo = dock.target_combo, dock.mode_combo
        self.quantize_box = dock.quantize_box
        self.mixer = MixerPanel()
        self.mixer.setMinimumHeight(160)  # room for the faders when the dock is shown
        self.keyboard = PianoKeyboard(36, 96)
        # a button, not a message: status messages give way to menu hints, and the
        # reason (with its fix) must stay one click away
        self.sound_label = QPushButton("No sound \u2013 why?")
        self.sound_label.setFlat(True)
        self.sound_label.setStyleSheet("QPushButton { color: #c0392b; }")
        self.sound_label.clicked.connect(self._explain_no_sound)
        self.sound_label.hide()
        window.statusBar().addPermanentWidget(self.sound_label)
        self._song_dirty = True  # the player's copy of the song is out of date
        self._song_timer = QTimer(self, singleShot=True, interval=SONG_SYNC_MS)
        self._song_timer.timeout.connect(self._on_song_timeout)
        self._connect()
        self._on_song_replaced()

    # ------------------------------------------------------------------ wiring

    def _connect(self) -> None:
        doc, t = self.document, self.transport
        self.loader.sound_ready.connect(self._on_sound_ready)
        self.loader.sound_unavailable.connect(self._on_sound_unavailable)
        t.play_requested.connect(self.play)
        t.pause_requested.connect(self.playback.pause)
        t.stop_requested.connect(self.stop)
        t.record_requested.connect(self._on_record_requested)
        t.arm_toggled.connect(self._on_arm_toggled)
        t.loop_toggled.connect(lambda _on: self._apply_loop())
        doc.state.loop_changed.connect(lambda _a, _b: self._apply_loop())
        self.playback.position_changed.connect(self._on_position_changed)
        self.playback.playing_changed.connect(t.set_playing)
        self.playback.playing_changed.connect(self._on_playing_changed)
        self.playback.error_occurred.connect(self.show_status)
        self.playback.noticed.connect(self.show_status)
        t.set_playing(False)
        for signal in (doc.notes_changed, doc.conductor_changed):
            signal.connect(self._on_song_edited)
        doc.tracks_changed.connect(self._on_tracks_changed)
        doc.song_replaced.connect(self._on_song_replaced)
        doc.note_auditioned.connect(self.audition)
        self.mixer.mixer_changed.connect(self._on_mixer_changed)
        li = self.live_input
        li.ports_changed.connect(self._on_ports_changed)
        li.activity.connect(t._on_midi_activity)
        li.note_started.connect(self.keyboard._on_note_started)
        li.note_stopped.connect(self.keyboard._on_note_stopped)
        li.input_lost.connect(self._on_input_lost)
        li.error_occurred.connect(self.show_status)
        li.unavailable.connect(self._on_midi_unavailable)
        self.input_combo.activated.connect(self._on_input_chosen)
        self.output_combo.activated.connect(self._on_output_chosen)
        self.keyboard.note_pressed.connect(self._on_key_pressed)
        self.keyboard.note_released.connect(self._on_key_released)
        tk = self.takes
        tk.count_in_started.connect(lambda: self.show_status("Count-in\u2026", 3000))
        tk.recording_started.connect(self._on_recording_started)
        tk.take_updated.connect(self.window.roll.set_live_notes)
        tk.take_lost.connect(self._on_take_lost)
        tk.take_finished.connect(self._on_take_finished)
        self.wav.status.connect(self.show_status)
        self.wav.exported.connect(self.wav_exported)
        self.wav.failed.connect(self._on_wav_failed)

    def start(self, *, sound: bool = True, ports: bool = True,
              soundfont: str | None = None, open_device: bool = True) -> None:
        """Start-up work that may take a while: load the built-in sound (off the GUI
        thread) and watch the MIDI ports. The window works before either finishes.
        ``open_device`` False loads the synthesizer without an audio output (tests)."""
        if sound:
            self.show_status("Loading the built-in sound\u2026")
            self.loader.load(soundfont, open_device=open_device)
        if ports:
            self.live_input.start_watching()

    def show_status(self, text: str, timeout_ms: int = 0) -> None:
        self.window.statusBar().showMessage(text, timeout_ms)
        self.status_shown.emit(text)

    # ------------------------------------------------------------------ sound

    def set_engine(self, engine) -> None:
        """Use ``engine`` (a loaded :class:`~composer_gui.audio.engine.Engine`, or a
        stand-in with the same methods) as the built-in sound."""
        self.engine = engine
        self.playback.set_engine(engine)
        self._update_monitor()
        self._song_dirty = True

    def _on_sound_ready(self, engine) -> None:
        self.set_engine(engine)
        self.sound_message = ""
        self.sound_label.hide()
        self.show_status("Built-in sound ready", 4000)
        self.sound_ready.emit()

    def _on_sound_unavailable(self, message: str) -> None:
        self.sound_message = f"No built-in sound: {message}"
        # Stays in the status bar (a message would be replaced by the next one).
        self.sound_label.setToolTip(self.sound_message)
        self.sound_label.show()
        log.warning("built-in sound unavailable: %s", message)
        self.show_status(self.sound_message)
        self.sound_unavailable.emit(message)

    def _explain_no_sound(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "No sound",
                          self.sound_message + "\n\nThe song still plays silently (the "
                          "playhead follows it); a MIDI output chosen in the Transport "
                          "panel plays it through another synthesizer. `composer-gui doctor` "
                          "lists what this machine lacks, with the fix.",
                          QMessageBox.StandardButton.Ok, self.window)
        box.setObjectName("no_sound")
        box.exec()

    def _sink(self):
        """Where live notes sound: the chosen MIDI output, else the built-in sound."""
        return self.output if self.output is not None else self.engine

    def _send(self, data: tuple[int, ...]) -> None:
        sink = self._sink()
        if sink is not None:
            sink.send(data)

    def _update_monitor(self) -> None:
        if self.output is not None:
            self.live_input.monitor = port_monitor(self.output)
        elif self.engine is not None:
            self.live_input.monitor = engine_monitor(self.engine)
        else:
            self.live_input.monitor = None

    def audition(self, pitch: int, velocity: int) -> None:
        """Play a short note in the current track's instrument (drawn, moved, clicked)."""
        if self._sink() is None:
            return
        song = self.document.song
        index = self.document.state.current_track
        track = song.tracks[index] if 0 <= index < len(song.tracks) else None
        if track is not None and track.is_drum:
            channel = DRUM_CHANNEL
        else:
            channel = AUDITION_CHANNEL
            self._send((0xC0 | channel, track.program if track is not None else 0))
        self._send((0x90 | channel, pitch, max(1, velocity)))
        QTimer.singleShot(AUDITION_MS, lambda: self._send((0x80 | channel, pitch, 0)))

    # ------------------------------------------------------------------ playback

    def _on_song_edited(self, *_args) -> None:
        # Building the player's timeline costs time on big songs: only while playing is
        # it done at once (coalesced); otherwise when play is pressed.
        self._song_dirty = True
        self._song_timer.start()

    def _on_song_timeout(self) -> None:
        if self.playing:
            self._sync_song()

    def _sync_song(self) -> None:
        self._song_timer.stop()
        self._song_dirty = False
        self.playback.set_song(self.document.song, self.mixer.mixer)

    def play(self) -> None:
        """Play from the playhead."""
        if self._song_dirty:
            self._sync_song()
        self._apply_loop()
        self.playback.play(self.document.state.playhead)

    def stop(self) -> None:
        if self.takes.active:
            self.takes.stop()
        self.playback.stop()

    def toggle_play(self) -> None:
        """Space: play from the playhead, or stop where it is."""
        if self.playing:
            self.playback.pause()
        else:
            self.play()

    def _on_playing_changed(self, playing: bool) -> None:
        self.playing = playing
        if playing and self._song_dirty:
            self._sync_song()

    def _apply_loop(self) -> None:
        lo, hi = self.document.state.loop
        if self.transport.loop_button.isChecked() and hi > lo:
            self.playback.set_loop(lo, hi)
        else:
            self.playback.set_loop(None)

    def _on_position_changed(self, tick: int) -> None:
        self.document.state.set_playhead(tick)
        number, start, beat, _beats = bar_at(self.document.song, tick)
        self.transport.set_position_text(
            f"{number}.{(tick - start) // beat + 1}.{int((tick - start) % beat):03d}")
        if self.transport.follow_button.isChecked():
            self.window.roll.ensure_tick_visible(tick)

    # ------------------------------------------------------------------ mixer

    def _on_song_replaced(self) -> None:
        # A new song brings its own levels (its volume and pan controllers).
        self.mixer.set_tracks([t.name for t in self.document.song.tracks],
                              Mixer.from_song(self.document.song))
        self._on_tracks_changed()

    def _on_tracks_changed(self) -> None:
        song = self.document.song
        old = self.mixer.mixer
        from_song = Mixer.from_song(song)
        strips = []
        for i, track in enumerate(song.tracks):
            base = old.strip(i) if i < len(old.tracks) else from_song.strip(i)
            strips.append(TrackMix(volume=base.volume, pan=base.pan, mute=track.muted,
                                   solo=track.solo))
        self.mixer.set_tracks([t.name for t in song.tracks], Mixer(strips, old.master))
        self.playback.set_mixer(self.mixer.mixer)
        self._on_song_edited()

    def _on_mixer_changed(self, mixer: Mixer) -> None:
        self.playback.set_mixer(mixer)
        song = self.document.song
        # Mute and solo live in the song too (the track list shows them): one edit each.
        for i, track in enumerate(song.tracks):
            if i >= len(mixer.tracks):
                break
            strip = mixer.strip(i)
            if (strip.mute, strip.solo) != (track.muted, track.solo):
                self.document.push(eb.SetTrackProperties(i, "Mixer mute/solo",
                                                         muted=strip.mute, solo=strip.solo))

    # ------------------------------------------------------------------ MIDI ports

    def _on_ports_changed(self, inputs: list, outputs: list) -> None:
        current = self.live_input.port_name
        wanted = current or settings.get(settings.MIDI_INPUT)
        dock = self.transport_widget
        dock.list_inputs(inputs)
        if wanted and current is None and wanted in inputs:
            self.open_input(wanted, remember=False)
        dock.show_input(self.live_input.port_name, inputs)
        out_now = self.output.name if self.output is not None else None
        dock.list_outputs(outputs)
        if out_now in outputs:
            dock.show_output(out_now, outputs)
        elif out_now is None and settings.get(settings.MIDI_OUTPUT) in outputs:
            self.open_output(settings.get(settings.MIDI_OUTPUT), remember=False)
            dock.show_output(settings.get(settings.MIDI_OUTPUT), outputs)

    def _on_midi_unavailable(self, reason: str) -> None:
        self.midi_message = reason
        self.transport_widget.show_midi_unavailable(reason)
        log.warning("%s", reason)
        self.show_status(reason, 10000)

    def open_input(self, name: str | None, remember: bool = True) -> bool:
        """Play and record from MIDI input ``name`` (None: none); remembered by name."""
        if remember:
            settings.put(settings.MIDI_INPUT, name or "")
        if not name:
            self.live_input.close_port()
            return True
        ok = self.live_input.open_port(name)
        if ok:
            self.show_status(f"MIDI input: {name}", 3000)
        return ok

    def open_output(self, name: str | None, remember: bool = True) -> bool:
        """Send playback and monitoring to MIDI output ``name`` (None: built-in sound)."""
        from composer_gui.midi.ports import MidiOutput

        if remember:
            settings.put(settings.MIDI_OUTPUT, name or "")
        old, self.output = self.output, None
        if name:
            try:
                self.output = MidiOutput(name, api=self._api, client_name="Composer GUI",
                                         port_name="playback")
            except UserError as exc:
                self.show_status(str(exc))
        self.playback.set_port_output(self.output)
        if old is not None:
            old.close()
        self._update_monitor()
        return self.output is not None or not name

    def _on_input_chosen(self, row: int) -> None:
        self.open_input(None if row <= 0 else self.input_combo.itemText(row))

    def _on_output_chosen(self, row: int) -> None:
        self.open_output(None if row <= 0 else self.output_combo.itemText(row))

    def _on_input_lost(self, message: str) -> None:
        self.input_combo.setCurrentIndex(0)
        if self.takes.active:
            # The notes played so far become the take (one undo step as always).
            self.takes.stop()
            self.show_status(f"{message}: the take so far was kept", 10000)
        else:
            self.show_status(message, 10000)

    # ------------------------------------------------------------------ keyboard

    def _on_key_pressed(self, pitch: int, velocity: int) -> None:
        self._send((0x90, pitch, velocity))
        self.takes.feed_key(note_on(time.perf_counter(), pitch, velocity))

    def _on_key_released(self, pitch: int) -> None:
        self._send((0x80, pitch, 0))
        self.takes.feed_key(note_off(time.perf_counter(), pitch))

    # ------------------------------------------------------------------ recording

    def _on_arm_toggled(self, armed: bool) -> None:
        self._armed = armed

    def _on_record_requested(self) -> None:
        if self.takes.active:
            self.stop()
            return
        if not self._armed:
            self.show_status("Arm recording first (the Arm button of the transport)", 4000)
            return
        self.record()

    def record(self, bars: int | None = None) -> None:
        """Count in and record from the bar at the playhead (``bars`` None: until Stop)."""
        doc = self.document
        song = doc.song
        new = self.target_combo.currentIndex() == 1 or not song.tracks
        self._take_track = None if new else doc.state.current_track
        _n, start, _beat, _beats = bar_at(song, doc.state.playhead)
        click = None
        if self.transport.metronome_button.isChecked():
            click = self._send if self._sink() is not None else None
        self._take_start = start
        quantize = None
        if self.quantize_box.isChecked():
            quantize = grid_ticks(doc.state.grid, song.ticks_per_beat)
        self.transport.set_recording(True)
        self.takes.start(song, start_tick=start, bars=bars,
                         count_in_bars=self.transport.count_in_bars, click=click,
                         quantize=quantize)

    def _on_recording_started(self) -> None:
        """Play the song along from the take's first bar (the recorded track silent)."""
        self.show_status("Recording", 3000)
        song = self.document.song
        if song.note_count == 0 or self._sink() is None:
            return
        mixer = self.mixer.mixer
        if self._take_track is not None:
            mixer = mixer.with_strip(self._take_track, mute=True)
        self.playback.set_song(song, mixer)
        self._song_dirty = False
        self.playback.play(self._take_start)
        self._song_dirty = True  # the next Play uses the real mixer again

    def _on_take_lost(self, message: str) -> None:
        self.show_status(f"{message}: the take so far was kept", 10000)

    def _on_take_finished(self, result) -> None:
        self.transport.set_recording(False)
        if self.playing:
            self.playback.pause()
        self.window.roll.set_live_notes([])
        if not result.notes:
            return
        doc = self.document
        track = self._take_track
        if track is not None and track >= len(doc.song.tracks):
            track = None
        doc.push(take_edit(doc.song, result, track, merge=self.mode_combo.currentIndex() == 1))
        if track is None:
            doc.state.set_current_track(len(doc.song.tracks) - 1)

    # ------------------------------------------------------------------ WAV export

    def export_wav_dialog(self) -> None:
        path = ask_wav_path(self.window)
        if path:
            self.export_wav(path)

    def export_wav(self, path: str) -> None:
        """Render the song (with the mixer) to ``path`` on a worker thread."""
        self.wav.export(self.document.song, path, self.mixer.mixer, self.engine)

    def _on_wav_failed(self, message: str) -> None:
        self.window.show_error("Cannot export WAV", message)

    # ------------------------------------------------------------------ shutdown

    def shutdown(self) -> None:
        """Stop takes, playback, ports and the audio device (window closing)."""
        self._song_timer.stop()
        typing = getattr(self, "typing", None)  # ui/typing_keys.py, set by live_menu
        if typing is not None:
            typing.shutdown()
        if self.takes.active:
            self.takes.stop()
        self.playback.shutdown()
        self.live_input.shutdown()
        if self.output is not None:
            self.output.close()
            self.output = None
        self.loader.shutdown()
