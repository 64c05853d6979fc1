"""The fine-tune window's preview panel: files are read off the GUI thread, a broken
file keeps the last preview, and only the newest of overlapping previews is shown."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import Qt

from composer_gui.core.song import Note, Song, Track
from composer_gui.midi.smf import write_midi


def _preview_file(path, pitches):
    song = Song(tracks=[
        Track(name="Melody", role="melody", notes=[Note(72, 0, 480, 90)]),
        Track(name="Bass", program=33, channel=1, role="bass",
              notes=[Note(p, i * 480, 480, 80) for i, p in enumerate(pitches)]),
    ])
    write_midi(song, path)
    return str(path)


@pytest.fixture
def panel(qtbot):
    from composer_gui.ui.finetune.preview import PreviewPanel

    widget = PreviewPanel()
    qtbot.addWidget(widget)
    widget.resize(480, 240)
    widget.show()
    yield widget
    widget.wait()


def _show(qtbot, panel, record):
    with qtbot.waitSignal(panel.loaded, timeout=5000) as blocker:
        panel.set_preview(record)
    return blocker.args[0]


def test_preview_files_are_read_off_the_gui_thread(qtbot, panel, tmp_path, monkeypatch):
    from composer_gui.ui.finetune import preview

    readers = []
    real = preview.read_song

    def spy(path):
        readers.append(threading.current_thread() is threading.main_thread())
        return real(path)

    monkeypatch.setattr(preview, "read_song", spy)
    run = _preview_file(tmp_path / "step_000010.mid", [40, 43, 45])
    base = _preview_file(tmp_path / "base.mid", [36, 36])
    assert _show(qtbot, panel, {"kind": "preview", "step": 10, "path": run,
                                "base_path": base, "melody": "song 7"})
    assert readers == [False, False]
    assert panel.paths == {"run": run, "base": base}
    assert "Step 10" in panel.title.text() and "song 7" in panel.title.text()
    shown = panel.roll.pixels
    assert shown is not None and shown.shape[0] == 73 - 39 + 1  # pitches 40..72 and a row around
    assert panel.play_button.isEnabled() and panel.base_button.isEnabled()
    # the base model's take is read once
    run2 = _preview_file(tmp_path / "step_000020.mid", [41])
    _show(qtbot, panel, {"kind": "preview", "step": 20, "path": run2, "base_path": base})
    assert len(readers) == 3
    qtbot.mouseClick(panel.base_button, Qt.LeftButton)
    assert panel.shown == "base" and panel.roll.pixels is panel.pixels["base"]


def test_a_broken_preview_file_keeps_the_last_one(qtbot, panel, tmp_path):
    good = _preview_file(tmp_path / "step_000010.mid", [40, 43])
    assert _show(qtbot, panel, {"kind": "preview", "step": 10, "path": good})
    before = panel.roll.pixels
    broken = tmp_path / "step_000020.mid"
    broken.write_bytes(b"MThd\x00\x00\x00\x06\x00")  # cut off while written
    assert not _show(qtbot, panel, {"kind": "preview", "step": 20, "path": str(broken)})
    assert panel.paths["run"] == good and panel.roll.pixels is before
    assert panel.play_button.isEnabled()


def test_only_the_newest_of_overlapping_previews_is_shown(qtbot, panel, tmp_path,
                                                           monkeypatch):
    from composer_gui.ui.finetune import preview

    slow = _preview_file(tmp_path / "step_000010.mid", [40])
    fast = _preview_file(tmp_path / "step_000020.mid", [50])
    real = preview.read_song

    def read(path):
        if path == slow:
            time.sleep(0.4)  # a big file on a busy machine
        return real(path)

    monkeypatch.setattr(preview, "read_song", read)
    shown = []
    panel.loaded.connect(lambda ok: shown.append(panel.paths["run"]))
    panel.set_preview({"kind": "preview", "step": 10, "path": slow})
    panel.set_preview({"kind": "preview", "step": 20, "path": fast})
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert panel.wait()
    qtbot.wait(50)  # the slow thread's late result, had it been taken
    assert shown == [fast] and panel.paths["run"] == fast
    assert "Step 20" in panel.title.text()
