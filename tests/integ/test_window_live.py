"""The live features in the real main window: playback, recording, audition, mixer,
keyboard dock and the start without sound."""

from __future__ import annotations

import threading
import time
import wave
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from composer_gui.core.song import Note, Song, TempoChange, Track
from tests.live.conftest import melody_events
from tests.ui.conftest import click, drag, point


def _song(notes, tempo_us=500_000) -> Song:
    return Song(tempos=[TempoChange(0, tempo_us)],
                tracks=[Track(name="Melody", role="melody", notes=notes)])


class _Receiver:
    """A virtual JACK MIDI input standing in for an external synthesizer."""

    def __init__(self, client: str) -> None:
        import rtmidi

        self.messages: list[tuple[int, ...]] = []
        self._in = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name=client)
        self._in.set_callback(lambda event, _d: self.messages.append(tuple(event[0])))
        self._in.open_virtual_port("synth")
        self.port = f"{client}:synth"

    def close(self) -> None:
        self._in.close_port()
        self._in.delete()


def test_play_moves_the_playhead_and_stop_sends_all_notes_off(window, qtbot, jack_server,
                                                              unique):
    # The last note ends at 10 s: Stop comes while the song still plays.
    window.document.replace_song(_song([Note(60, 240, 480, 100), Note(64, 960, 480, 90),
                                        Note(67, 9600, 240, 90)]))
    live, bar = window.live, window.live.transport
    # The asynchronous JACK server may drop an event of a client that missed a cycle on a
    # loaded machine: play again then (at most twice), judging only a clean delivery.
    for _attempt in range(3):
        receiver = _Receiver(f"{unique}rx{_attempt}")
        try:
            assert live.open_output(receiver.port)
            time.sleep(0.15)  # JACK connects asynchronously
            window.document.state.set_playhead(0)
            qtbot.mouseClick(bar.play_button, Qt.LeftButton)
            qtbot.waitUntil(lambda: window.document.state.playhead > 1000, timeout=3000)
            assert not bar.play_button.isEnabled()
            qtbot.mouseClick(bar.stop_button, Qt.LeftButton)
            qtbot.wait(100)
            messages = list(receiver.messages)
        finally:
            live.open_output(None)
            receiver.close()
        ons = [m[1] for m in messages if m[0] & 0xF0 == 0x90 and m[2] > 0]
        if ons == [60, 64] and any(m[0] & 0xF0 == 0xB0 and m[1] == 123 for m in messages):
            break
    assert ons == [60, 64]
    assert any(m[0] & 0xF0 == 0xB0 and m[1] == 123 for m in messages), "all notes off"
    assert bar.play_button.isEnabled()


def test_playback_follows_the_playhead_and_edits(window, qtbot, fake_engine):
    window.document.replace_song(_song([Note(60, 0, 480, 100)]))
    roll = window.roll
    roll.set_zoom(px_per_tick=1.0)
    qtbot.mouseClick(window.live.transport.play_button, Qt.LeftButton)
    # At 1 px a tick the playhead leaves the view within a second: the roll pages on.
    qtbot.waitUntil(lambda: roll.horizontalScrollBar().value() > 0, timeout=3000)
    # An edit while playing reaches the player.
    window.document.push(_add_note(Note(72, 1920, 480, 80)))
    qtbot.waitUntil(lambda: any(m[0] & 0xF0 == 0x90 and m[1] == 72
                                for m in fake_engine.timeline.messages), timeout=2000)
    assert fake_engine.state().playing  # the edit did not stop playback
    qtbot.mouseClick(window.live.transport.stop_button, Qt.LeftButton)
    assert (0xB0, 123, 0) in fake_engine.sent


def _add_note(note):
    from composer_gui.core.edits import AddNotes

    return AddNotes(0, [note])


def test_take_from_a_virtual_keyboard_is_one_undo_step(window, qtbot, jack_server, keyboard,
                                                       unique):
    from tests.live.conftest import Witness

    doc, live = window.document, window.live
    bar = live.transport
    bar.count_in.setCurrentIndex(0)
    bar.metronome_button.setChecked(False)
    qtbot.mouseClick(bar.arm_button, Qt.LeftButton)
    assert live.open_input(keyboard.port)
    events = melody_events([(60, 0, 1, 90), (64, 1, 1, 91)], tempo=240.0)
    faults = []
    for attempt in range(4):  # again only when the rig (player, JACK) failed
        doc.replace_song(_song([Note(48, 0, 480, 70)], tempo_us=250_000))  # 240 bpm
        witness = Witness(keyboard.port, f"{unique}w{attempt}")
        shown = []
        def on_update(_notes, shown=shown):
            shown.append(list(window.roll.live_notes))

        live.takes.take_updated.connect(on_update)
        time.sleep(0.15)
        with qtbot.waitSignal(live.takes.recording_started, timeout=3000):
            qtbot.mouseClick(bar.record_button, Qt.LeftButton)
        player = threading.Thread(target=keyboard.play, args=(events, time.perf_counter()))
        player.start()
        while player.is_alive():
            qtbot.wait(20)
        qtbot.wait(50)
        with qtbot.waitSignal(live.takes.take_finished, timeout=3000):
            qtbot.mouseClick(bar.stop_button, Qt.LeftButton)
        live.takes.take_updated.disconnect(on_update)
        fault = witness.rig_fault(keyboard)
        if fault is None:
            break
        faults.append(fault)
    else:
        pytest.fail("the test rig failed in every take: " + "; ".join(faults))
    notes = doc.song.tracks[0].notes
    # Replace mode: the old note under the take is gone, the played ones are there.
    assert [(n.pitch, n.velocity) for n in notes] == [(60, 90), (64, 91)]
    assert abs(notes[1].start - 480) < 30 and abs(notes[0].duration - 480) < 30
    assert any(s for s in shown), "the roll showed the notes while they were played"
    assert window.roll.live_notes == []
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert [n.pitch for n in doc.song.tracks[0].notes] == [48]
    live.open_input(None)


def test_vanished_keyboard_keeps_the_take_and_says_so(window, qtbot, jack_server, keyboard):
    doc, live = window.document, window.live
    doc.replace_song(_song([], tempo_us=250_000))
    live.start(sound=False, ports=True)  # hot-plug watching
    live.open_input(keyboard.port)
    live.transport.count_in.setCurrentIndex(0)
    live.transport.metronome_button.setChecked(False)
    live.target_combo.setCurrentIndex(1)  # into a new track
    time.sleep(0.1)
    with qtbot.waitSignal(live.takes.recording_started, timeout=3000):
        live.record()
    keyboard.send((0x90, 67, 100))
    qtbot.wait(150)
    keyboard.send((0x80, 67, 0))
    qtbot.waitUntil(lambda: window.roll.live_notes != [], timeout=2000)
    messages = []
    live.status_shown.connect(messages.append)
    keyboard.close()
    with qtbot.waitSignal(live.takes.take_finished, timeout=6000):
        pass
    assert [n.pitch for n in doc.song.tracks[-1].notes] == [67]
    assert len(doc.song.tracks) == 2
    assert any("kept" in m for m in messages)


def test_gutter_click_and_drawn_note_sound_through_the_synth(window, qtbot, fake_engine):
    roll = window.roll
    gutter = window.editor.gutter
    y = roll.geom.y_of(60) + roll.geom.row_height // 2
    QTest.mouseClick(gutter, Qt.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(10, y))
    assert [m[1] for m in fake_engine.note_ons()] == [60]
    roll.set_tool("draw")
    click(roll, point(roll, 480, 64))
    assert [m[1] for m in fake_engine.note_ons()] == [60, 64]
    # Moved to a new pitch: heard again at the new pitch.
    roll.set_tool("select")
    drag(roll.viewport(), point(roll, 600, 64), point(roll, 600, 67))
    assert [n.pitch for n in window.document.song.tracks[0].notes] == [67]
    assert [m[1] for m in fake_engine.note_ons()][-1] == 67
    # ...and each stops shortly after.
    qtbot.waitUntil(lambda: sum(1 for m in fake_engine.sent if m[0] & 0xF0 == 0x80) >= 3,
                    timeout=2000)


def test_on_screen_keyboard_sounds_and_records_merged(window, qtbot, fake_engine):
    live = window.live
    window.document.replace_song(_song([Note(48, 0, 480, 70)]))
    live.mode_combo.setCurrentIndex(1)  # merge: the take adds to what the track has
    live.transport.count_in.setCurrentIndex(0)
    live.transport.metronome_button.setChecked(False)
    piano = live.keyboard
    window.panels["keyboard"].show()
    with qtbot.waitSignal(live.takes.recording_started, timeout=3000):
        live.record()
    # The song plays along, without the track being recorded into.
    assert fake_engine.state().playing and fake_engine.mixer.strip(0).mute
    rect = piano.key_rect(67)
    pos = QPoint(int(rect.center().x()), int(rect.top() + rect.height() * 0.8))
    QTest.mousePress(piano, Qt.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    qtbot.wait(100)
    QTest.mouseRelease(piano, Qt.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    assert [m[1] for m in fake_engine.note_ons()] == [67]
    with qtbot.waitSignal(live.takes.take_finished, timeout=3000):
        live.stop()
    assert not fake_engine.state().playing
    assert sorted(n.pitch for n in window.document.song.tracks[0].notes) == [48, 67]


def test_mixer_mute_and_track_list_mute_stay_in_sync(window, qtbot, fake_engine):
    from composer_gui.ui.tracklist import COL_MUTE

    doc, live = window.document, window.live
    doc.replace_song(Song(tracks=[Track(name="A", notes=[Note(60, 0, 480, 90)]),
                                  Track(name="B", notes=[Note(64, 0, 480, 90)])]))
    window.panels["mixer"].show()
    strip = live.mixer.strips[1]
    qtbot.waitExposed(strip)
    qtbot.mouseClick(strip.mute, Qt.LeftButton)
    assert doc.song.tracks[1].muted
    assert live.mixer.mixer.strip(1).mute
    table = window.track_list.table
    item = table.item(1, COL_MUTE)
    assert item.toolTip() == "Unmute"
    # The other way round: the track list's mute unmutes the mixer strip.
    rect = table.visualItemRect(item)
    QTest.mouseClick(table.viewport(), Qt.LeftButton, Qt.KeyboardModifier.NoModifier,
                     rect.center())
    assert not doc.song.tracks[1].muted
    assert not live.mixer.strips[1].mute.isChecked()
    assert not live.mixer.mixer.strip(1).mute
    # Volume changes reach the player while it plays (the WAV export uses the same mixer).
    qtbot.mouseClick(live.transport.play_button, Qt.LeftButton)
    live.mixer.strips[0].volume.setFocus()
    QTest.keyClick(live.mixer.strips[0].volume, Qt.Key.Key_PageDown)
    assert fake_engine.mixer.strip(0).volume < 1.0
    assert fake_engine.mixer.strip(0).volume == live.mixer.mixer.strip(0).volume
    assert not fake_engine.mixer.strip(1).mute
    qtbot.mouseClick(live.transport.stop_button, Qt.LeftButton)


def test_window_opens_without_the_synth_and_says_what_is_missing(window, qtbot, tmp_path):
    live = window.live
    with qtbot.waitSignal(live.sound_unavailable, timeout=10000):
        live.start(sound=True, ports=False, soundfont=str(tmp_path / "gone.sf2"))
    text = window.statusBar().currentMessage()
    assert "No built-in sound" in text and "gone.sf2" in text
    assert live.sound_label.isVisible() and "gone.sf2" in live.sound_label.toolTip()
    assert window.isVisible()
    # A menu hint replaces the status message (issue 21, item 9) ...
    window.act_finetune.showStatusText(window)  # what hovering a menu item does
    assert "gone.sf2" not in window.statusBar().currentMessage()
    # ... but the reason stays one click away, in full
    from tests.ui.conftest import answer_next_dialog

    seen: list[str] = []
    answer_next_dialog(seen=seen)
    qtbot.mouseClick(live.sound_label, Qt.LeftButton)
    assert len(seen) == 1 and "gone.sf2" in seen[0] and "doctor" in seen[0]
    # Playing with nothing to play through plays silently: the playhead moves, and the
    # status bar says why nothing sounds.
    window.document.replace_song(_song([Note(60, 0, 480, 100), Note(64, 1920, 480, 100)]))
    with qtbot.waitSignal(live.playback.position_changed, timeout=3000,
                          check_params_cb=lambda tick: tick > 0):
        qtbot.mouseClick(live.transport.play_button, Qt.LeftButton)
    assert "Playing silently" in window.statusBar().currentMessage()
    qtbot.mouseClick(live.transport.stop_button, Qt.LeftButton)


def test_export_wav_renders_on_a_worker(window, qtbot, tmp_path):
    import os

    import pretty_midi

    small = os.path.join(os.path.dirname(pretty_midi.__file__), "TimGM6mb.sf2")
    live = window.live
    with qtbot.waitSignal(live.sound_ready, timeout=10000):
        live.start(sound=True, ports=False, soundfont=small, open_device=False)
    window.document.replace_song(_song([Note(69, 0, 960, 100)]))
    out = tmp_path / "song.wav"
    with qtbot.waitSignal(live.wav_exported, timeout=20000):
        live.export_wav(str(out))
    with wave.open(str(out)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 44100)
        assert 1.0 <= w.getnframes() / 44100 <= 3.1
    assert Path(out).stat().st_size > 1000


def test_space_plays_the_loop_range_and_pauses(window, qtbot, fake_engine):
    doc, live = window.document, window.live
    doc.replace_song(_song([Note(60, 0, 480, 100), Note(62, 1920, 480, 100)]))
    doc.state.set_loop(960, 1920)  # beats 3-4 at 120 bpm: 1 s to 2 s
    qtbot.mouseClick(live.transport.loop_button, Qt.LeftButton)
    window.roll.setFocus()
    QTest.keyClick(window.roll, Qt.Key.Key_Space)
    assert live.playing and fake_engine.state().playing
    assert fake_engine.loop == pytest.approx((1.0, 2.0))
    QTest.keyClick(window.roll, Qt.Key.Key_Space)
    assert not live.playing and not fake_engine.state().playing


def test_metronome_counts_in_through_the_built_in_sound(window, qtbot, fake_engine, jack_server,
                                                        keyboard):
    doc, live = window.document, window.live
    doc.replace_song(_song([], tempo_us=125_000))  # 480 bpm: a count-in bar is 0.5 s
    live.open_input(keyboard.port)
    live.transport.count_in.setCurrentIndex(1)
    assert live.transport.metronome_button.isChecked()
    qtbot.mouseClick(live.transport.arm_button, Qt.LeftButton)
    with qtbot.waitSignal(live.takes.recording_started, timeout=3000):
        qtbot.mouseClick(live.transport.record_button, Qt.LeftButton)
    clicks = [m for m in fake_engine.note_ons() if m[0] == 0x99]
    assert len(clicks) >= 4 and clicks[0][1] == 76  # accented downbeat first
    # Monitoring: what the keyboard plays sounds through the built-in sound at once.
    keyboard.send((0x90, 72, 99))
    qtbot.waitUntil(lambda: (0x90, 72, 99) in fake_engine.sent, timeout=1000)
    keyboard.send((0x80, 72, 0))
    with qtbot.waitSignal(live.takes.take_finished, timeout=3000):
        qtbot.mouseClick(live.transport.record_button, Qt.LeftButton)
    assert [n.pitch for n in doc.song.tracks[0].notes] == [72]
    live.open_input(None)


def test_remembered_keyboard_is_opened_when_plugged_in_and_lights_up(window, qtbot, jack_server,
                                                                     unique):
    from composer_gui import settings
    from tests.live.conftest import VirtualKeyboard

    live = window.live
    settings.put(settings.MIDI_INPUT, f"{unique}late:keys")
    live.start(sound=False, ports=True)
    assert live.live_input.port_name is None
    late = VirtualKeyboard(unique + "late")  # plugged in after the window started
    try:
        qtbot.waitUntil(lambda: live.live_input.port_name is not None, timeout=3500)
        assert live.input_combo.currentText() == late.port
        time.sleep(0.1)
        for _ in range(5):  # JACK may drop an event under load: a few key presses
            late.send((0x90, 60, 80))
            qtbot.wait(60)
            if live.transport.midi_light_on:
                break
        assert live.transport.midi_light_on
    finally:
        late.close()
    # Unplugged: the picker goes back to no input and the user is told.
    qtbot.waitUntil(lambda: live.live_input.port_name is None, timeout=3500)
    assert live.input_combo.currentIndex() == 0
    assert "disconnected" in window.statusBar().currentMessage()
