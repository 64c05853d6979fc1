"""The window stays responsive while generating; Cancel is quick; errors are shown."""

from __future__ import annotations

import gc
import shutil
import time

import numpy as np
from PySide6.QtCore import QElapsedTimer, Qt, QTimer

from composer_gui.core.song import Note, Song, TimeSignature, Track


def long_melody(bars: int = 96) -> Song:
    """A plain hand-made tune, long enough that generating it takes a while."""
    shape = [60, 62, 64, 65, 67, 65, 64, 62]
    notes = [Note(shape[i % 8] + 12 * ((i // 32) % 2), i * 240, 220, 90)
             for i in range(bars * 8)]
    return Song(time_signatures=[TimeSignature(0, 4, 4)],
                tracks=[Track(name="Melody", role="melody", notes=notes)])


def start_long(win, panel, candidates=16):
    win.document.replace_song(long_melody())
    panel.select_model("tiny")
    panel.candidates_spin.setValue(candidates)
    panel.generate()
    assert panel.cancel_button.isEnabled()


def timer_gaps_while(qtbot, panel, start) -> np.ndarray:
    """Intervals (ms) of a 16 ms timer on the GUI thread from ``start()`` until the
    generation's result arrives (putting it into the song afterwards is one ordinary
    edit on the GUI thread, not part of the wait)."""
    intervals: list[float] = []
    stamps: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(16)

    def tick():
        intervals.append(clock.nsecsElapsed() / 1e6)
        stamps.append(time.perf_counter())
        clock.restart()

    timer.timeout.connect(tick)
    arrived: list[float] = []
    panel.result_received.connect(lambda _j: arrived.append(time.perf_counter()))
    gc.collect()  # earlier tests' garbage is not this test's business
    start()
    clock.start()
    timer.start()
    t0 = time.perf_counter()
    with qtbot.waitSignal(panel.generation_applied, timeout=60_000):
        pass
    busy = time.perf_counter() - t0
    timer.stop()
    gaps = np.array([g for g, t in zip(intervals, stamps) if t <= arrived[0]][1:])
    assert busy > 0.5, "the generation must be long enough to measure anything"
    assert len(gaps) > 20
    return gaps


def assert_smooth(gaps: np.ndarray) -> None:
    stats = f"p95 {np.percentile(gaps, 95):.1f} ms, max {gaps.max():.1f} ms, n {len(gaps)}"
    assert np.percentile(gaps, 95) < 25, stats
    assert gaps.max() < 50, stats


def test_gui_thread_keeps_serving_events_while_generating(gen_window, qtbot):
    win, panel = gen_window, gen_window.generate_panel
    # warm up: torch and the model load in the first run (not what is measured)
    win.document.replace_song(long_melody(8))
    panel.select_model("tiny")
    with qtbot.waitSignal(panel.generation_applied, timeout=30_000):
        panel.generate()
    assert_smooth(timer_gaps_while(qtbot, panel, lambda: start_long(win, panel)))


def test_first_generation_loading_torch_does_not_freeze_the_window(gen_window, qtbot):
    """The first Generate starts the engine: torch's import and the model load happen in
    the engine's process, so the window keeps serving events throughout."""
    win, panel = gen_window, gen_window.generate_panel

    def start():
        win.document.replace_song(long_melody(8))
        panel.select_model("tiny")
        panel.generate()

    assert_smooth(timer_gaps_while(qtbot, panel, start))


def test_cancel_stops_the_worker_quickly(gen_window, qtbot):
    win, panel = gen_window, gen_window.generate_panel
    worker_song = long_melody()
    start_long(win, panel)
    # the model is loaded and windows are being generated
    qtbot.waitUntil(lambda: panel.progress.maximum() > 1 and panel.progress.value() > 0,
                    timeout=30_000)
    tracks_before = len(win.document.song.tracks)
    with qtbot.waitSignal(panel.cancel_confirmed, timeout=5_000):
        t0 = time.perf_counter()
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
        assert panel.generate_button.isEnabled()  # the window is idle at once
    assert time.perf_counter() - t0 < 0.1
    assert "Cancelled" in panel.status_label.text()
    assert len(win.document.song.tracks) == tracks_before == len(worker_song.tracks)
    # and the next generation works normally
    win.document.replace_song(long_melody(4))
    with qtbot.waitSignal(panel.generation_applied, timeout=30_000):
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert len(win.document.song.tracks) == 4


def test_broken_model_is_reported_in_the_window(gen_window, qtbot, tiny_models, tmp_path,
                                                monkeypatch):
    broken = tmp_path / "models"
    shutil.copytree(tiny_models / "tiny", broken / "broken")
    weights = broken / "broken" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    monkeypatch.setenv("COMPOSER_GUI_MODELS", str(broken))
    win, panel = gen_window, gen_window.generate_panel
    panel.refresh_models()
    win.document.replace_song(long_melody(4))
    assert panel.select_model("broken")
    with qtbot.waitSignal(panel.generation_failed, timeout=30_000) as blocker:
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert "truncated" in blocker.args[0] or "corrupt" in blocker.args[0]
    assert "broken" in panel.status_label.text()
    assert panel.generate_button.isEnabled()
    assert len(win.document.song.tracks) == 1


def test_empty_melody_is_refused_with_a_reason(gen_window, qtbot):
    panel = gen_window.generate_panel
    panel.select_model("tiny")
    with qtbot.waitSignal(panel.generation_failed, timeout=1000):
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert "no notes" in panel.status_label.text()


def test_gpu_out_of_memory_falls_back_to_the_cpu(gen_window, qtbot, monkeypatch):
    """A model that does not fit the GPU is loaded on the CPU, with a message."""
    from composer_gui.ml.generate import sample
    real = sample.Composer

    class TightGpu(real):
        def __init__(self, folder, device="auto"):
            if device != "cpu":
                raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
            super().__init__(folder, device)

    monkeypatch.setattr(sample, "Composer", TightGpu)
    # the patched class lives in this process: run the engine on the worker thread
    monkeypatch.setenv("COMPOSER_GUI_GEN_ENGINE", "thread")
    win, panel = gen_window, gen_window.generate_panel
    win.document.replace_song(long_melody(4))
    panel.select_model("tiny")
    with qtbot.waitSignal(panel.status_changed, timeout=30_000,
                          check_params_cb=lambda text: "out of memory" in text):
        with qtbot.waitSignal(panel.generation_applied, timeout=30_000):
            qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert len(win.document.song.tracks) == 4
    assert panel.device_label.text().startswith("CPU")


def test_opening_another_song_drops_the_running_generation(gen_window, qtbot):
    win, panel = gen_window, gen_window.generate_panel
    start_long(win, panel)
    win.document.replace_song(long_melody(2))
    assert not panel.cancel_button.isEnabled()
    with qtbot.waitSignal(panel.cancel_confirmed, timeout=30_000):
        pass
    assert len(win.document.song.tracks) == 1
    assert not panel.next_button.isEnabled()
