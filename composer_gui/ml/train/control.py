"""Pause, resume and stop a running training from another thread (no torch).

The training loop asks :class:`TrainControl` between steps; whoever drives it (a reader of
stdin lines for ``train --control-stdin``, a test, a worker) calls :meth:`pause`,
:meth:`resume` and :meth:`stop`. Nothing here touches the networks: a stop only asks the
loop to finish at its next step boundary, where it saves as at the end.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

COMMANDS = ("pause", "resume", "stop")


class TrainControl:
    """Thread-safe pause / stop flags with a wait that wakes on any change."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._paused = False
        self._stopped = False

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stop_requested(self) -> bool:
        return self._stopped

    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def stop(self) -> None:
        """Ask the loop to finish (a stop also ends a pause)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def wait(self, timeout: float) -> None:
        """Sleep until the state changes or ``timeout`` seconds pass."""
        with self._cond:
            if self._paused and not self._stopped:
                self._cond.wait(timeout)

    def command(self, line: str) -> bool:
        """Apply one text command (``pause``/``resume``/``stop``); False if unknown."""
        word = line.strip().lower()
        if word == "pause":
            self.pause()
        elif word == "resume":
            self.resume()
        elif word == "stop":
            self.stop()
        else:
            return False
        return True


def read_commands(control: TrainControl, stream: TextIO | None = None) -> threading.Thread:
    """Start a daemon thread feeding ``stream``'s lines (stdin by default) to
    ``control``; the end of the stream (the window closed, the pipe broke) means stop,
    so an abandoned run saves and finishes instead of training on unseen."""
    stream = sys.stdin if stream is None else stream

    def run() -> None:
        try:
            for line in stream:
                if line.strip() and not control.command(line):
                    print(f"composer-gui: warning: unknown control command {line.strip()!r} "
                          f"(known: {', '.join(COMMANDS)})", file=sys.stderr, flush=True)
        except (OSError, ValueError):
            pass  # a closed stream ends the run like EOF
        control.stop()

    thread = threading.Thread(target=run, name="train-control", daemon=True)
    thread.start()
    return thread


# ----- SIGTERM ------------------------------------------------------------------------------
# torchrun stops the other processes of a run with SIGTERM when one of them fails (a GPU out
# of memory on one rank); `kill` and a shutdown send it too. Training treats it as Ctrl+C
# (rank 0 saves, then the command ends with 130), except while a checkpoint is being
# written: the signal then waits until the write is complete.
_saving = {"active": False, "pending": False}


def _on_terminate(_signum, _frame) -> None:
    if _saving["active"]:
        _saving["pending"] = True
        return
    raise KeyboardInterrupt


class terminate_as_interrupt:  # noqa: N801 - used as a context manager, like a function
    """``with terminate_as_interrupt(): ...``: SIGTERM raises KeyboardInterrupt inside
    (main thread, where signals exist; elsewhere nothing changes)."""

    def __enter__(self):
        import signal

        self._previous = None
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGTERM"):
            self._previous = signal.signal(signal.SIGTERM, _on_terminate)
        return self

    def __exit__(self, *exc) -> None:
        import signal

        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


class checkpoint_write:  # noqa: N801
    """``with checkpoint_write(): save()``: a SIGTERM arriving meanwhile takes effect
    (KeyboardInterrupt) only once the block has finished."""

    def __enter__(self):
        _saving["active"] = True
        return self

    def __exit__(self, *exc) -> None:
        _saving["active"] = False
        if _saving["pending"]:
            _saving["pending"] = False
            raise KeyboardInterrupt
