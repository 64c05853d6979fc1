"""Exports as a musician expects them (issue 21, item 6): every track offered and ticked,
the name gets .mid, the window says what it wrote; the picture is the whole song, not
the part of it the editor shows."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog

from composer_gui.core.song import Note
from composer_gui.midi.smf import read_midi
from tests.ui.conftest import answer_next_dialog, song_with

TPB = 480


def two_track_song(bars=16):
    song = song_with([Note(60 + (b % 5), b * 4 * TPB, 2 * TPB, 90) for b in range(bars)])
    bass = song.tracks[0].copy()
    bass.name, bass.role = "Bass", "bass"
    bass.notes = [Note(36, b * 4 * TPB, 4 * TPB, 80) for b in range(bars)]
    song.tracks.append(bass)
    return song


def test_export_tracks_offers_all_ticked_adds_mid_and_confirms(window, qtbot, tmp_path,
                                                               monkeypatch):
    window.document.replace_song(two_track_song())
    window.document.state.set_current_track(1)
    seen = {}

    def act(dialog):
        listing = dialog.listing
        seen["ticked"] = [listing.item(i).checkState() == Qt.CheckState.Checked
                          for i in range(listing.count())]
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        qtbot.mouseClick(dialog.none_button, Qt.MouseButton.LeftButton)
        seen["ok_with_none"] = ok.isEnabled()
        qtbot.mouseClick(dialog.all_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)

    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "both"), ""))
    answer_next_dialog(act=act)
    window.act_export.trigger()
    assert seen == {"ticked": [True, True], "ok_with_none": False}
    out = tmp_path / "both.mid"
    assert out.exists()
    assert [t.name for t in read_midi(out).tracks] == ["Melody", "Bass"]
    message = window.statusBar().currentMessage()
    assert "Exported 2 tracks" in message and "both.mid" in message


def test_piano_roll_image_is_the_whole_song_whatever_the_view(window, qtbot, tmp_path,
                                                               monkeypatch):
    window.document.replace_song(two_track_song(bars=32))
    paths = iter([tmp_path / "a.png", tmp_path / "b.png"])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(next(paths)), ""))
    window.act_export_png.trigger()
    # zoom in, scroll away and select every note: the picture must not change
    roll = window.roll
    roll.set_zoom(px_per_tick=0.4, row_height=20)
    roll.horizontalScrollBar().setValue(roll.horizontalScrollBar().maximum())
    QTest.keyClick(roll, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert window.document.state.selection
    window.act_export_png.trigger()
    a, b = QImage(str(tmp_path / "a.png")), QImage(str(tmp_path / "b.png"))
    assert not a.isNull() and a == b
    # every one of the 32 bars is in it (24 px a beat), far wider than the editor
    assert a.width() >= 32 * 4 * 24
    assert a.width() > roll.viewport().width() * 2
