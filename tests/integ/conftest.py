"""Fixtures for the main-window integration tests: the window fixtures of tests/ui and
the JACK fixtures of tests/live (a real JACK server, virtual keyboards)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.live.conftest import jack_server, keyboard, unique  # noqa: F401  (fixtures)
from tests.ui.conftest import home, window  # noqa: F401  (fixtures)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integ/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore("propagateSizeHints"))


class FakeEngine:
    """Stands in for the built-in sound: records every live message and plays a song
    on a wall clock (the methods :class:`EnginePlayer` and the window call)."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, ...]] = []
        self._lock = threading.Lock()
        self._origin = None
        self._pos = 0.0
        self.timeline = None
        self.panics = 0

    def send(self, data, arrived=None) -> None:
        with self._lock:
            self.sent.append(tuple(data))

    def panic(self) -> None:
        self.panics += 1

    def load(self, timeline, mixer=None) -> None:
        self.timeline = timeline

    def set_mixer(self, mixer) -> None:
        self.mixer = mixer

    def play(self, seconds=None, *, stop_at=None) -> None:
        if seconds is not None:
            self._pos = seconds
        self._origin = time.perf_counter() - self._pos

    def pause(self) -> None:
        self._pos = self.state().seconds
        self._origin = None

    def stop(self) -> None:
        self._origin = None
        self._pos = 0.0
        self.send((0xB0, 123, 0))  # all notes off, as the real engine does

    def seek(self, seconds) -> None:
        self._pos = seconds

    def set_loop(self, start, end=None) -> None:
        self.loop = (start, end)

    def state(self):
        from composer_gui.audio.engine import TransportState

        playing = self._origin is not None
        pos = time.perf_counter() - self._origin if playing else self._pos
        return TransportState(playing, pos, False)

    def note_ons(self) -> list[tuple[int, ...]]:
        with self._lock:
            return [m for m in self.sent if m[0] & 0xF0 == 0x90 and m[2] > 0]


@pytest.fixture
def fake_engine(window):  # noqa: F811 (the imported fixture)
    engine = FakeEngine()
    window.live.set_engine(engine)
    return engine
