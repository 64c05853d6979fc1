"""Small operating-system helpers shared by the layers (no Qt, no torch, no mido)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence C libraries' own complaints on file descriptor 2 for a short probe.

    ALSA, libjack and the audio back-ends print there when they cannot connect ("Cannot
    connect to server socket", "cannot find card"); the user gets our one clear message
    instead. Use only around short probes on the calling thread: the whole process's
    stderr is redirected meanwhile.
    """
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
