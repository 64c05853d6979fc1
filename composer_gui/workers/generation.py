"""Generation off the GUI thread.

:class:`GenerationWorker` is a QObject that lives on its own ``QThread``. The panel sends
it requests through queued signals (:meth:`request_load`, :meth:`request_generate`);
it answers with signals only. The work itself is done by an engine
(:mod:`composer_gui.ml.generate.engine`): by default a child process that imports torch and
keeps the model warm, so torch's import (which holds the GIL for ~0.3 s) never freezes
the window; the worker thread only waits on the pipe. ``COMPOSER_GUI_GEN_ENGINE=thread``
runs the same engine on the worker thread instead (used by tests that monkeypatch it).

A request carries a *copy* of the song (plain data); the result carries new tracks the
worker no longer touches, so nothing is shared between threads.

Cancel: :meth:`cancel` (called on the GUI thread) marks the running job; the engine checks
the mark before every network call (see :class:`~composer_gui.ml.generate.controls.Watched`), so
a generation stops at the next window; the panel forgets a cancelled job at once, so the
window is idle the moment Cancel is clicked.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from composer_gui.core.errors import UserError
from composer_gui.ml.generate.engine import (
    Cancelled,
    Engine,
    EngineFailure,
    GenerateJob,
    GenerateResult,
    ModelInfo,
    ProcessEngine,
)

__all__ = ["GenerateJob", "GenerateResult", "GenerationThread", "GenerationWorker", "ModelInfo"]

log = logging.getLogger(__name__)


def make_engine():
    """The child-process engine unless ``COMPOSER_GUI_GEN_ENGINE=thread``."""
    if os.environ.get("COMPOSER_GUI_GEN_ENGINE", "process") == "thread":
        return Engine()
    return ProcessEngine()


class GenerationWorker(QObject):
    """Loads models and generates through its engine, on the thread it was moved to."""

    #: Requests (emitted by the GUI thread, queued to the worker thread).
    load_requested = Signal(object, str)
    generate_requested = Signal(object)
    #: Answers.
    model_loaded = Signal(object)  # ModelInfo
    progressed = Signal(int, int, int)  # job id, done, total
    generated = Signal(object)  # GenerateResult
    failed = Signal(int, str)  # job id (-1: loading), message
    cancelled = Signal(int)
    warned = Signal(str)
    percentiles_ready = Signal(int, object)  # job id, percentiles of its candidates or None

    def __init__(self, engine=None) -> None:
        super().__init__()
        self.engine = engine if engine is not None else make_engine()
        self._lock = threading.Lock()
        self._cancelled: set[int] = set()
        self._current = -1
        self._reference_done: set[Path] = set()
        self.load_requested.connect(self._on_load_requested)
        self.generate_requested.connect(self._on_generate_requested)

    # -- GUI-thread API ----------------------------------------------------------------
    def cancel(self) -> None:
        """Stop the running generation at its next network call (thread-safe)."""
        with self._lock:
            job = self._current
            self._cancelled.add(job)
        if isinstance(self.engine, ProcessEngine):
            self.engine.cancel(job)

    def request_load(self, folder: Path, device: str = "auto") -> None:
        self.load_requested.emit(Path(folder), device)

    def request_generate(self, job: GenerateJob) -> None:
        with self._lock:
            self._current = job.job_id
            self._cancelled.discard(job.job_id)
        self.generate_requested.emit(job)

    def shutdown(self) -> None:
        """End the engine (its child process); call when the worker's thread is idle."""
        self.engine.close()

    # -- worker thread ---------------------------------------------------------------------
    def _is_cancelled(self, job_id: int) -> bool:
        with self._lock:
            return job_id in self._cancelled

    @Slot(object, str)
    def _on_load_requested(self, folder: Path, device: str) -> None:
        try:
            info = self.engine.load(folder, device, self.warned.emit)
        except UserError as exc:
            self.failed.emit(-1, str(exc))
        except Exception as exc:  # noqa: BLE001 - shown in the window, never a crash
            log.error("loading %s failed:\n%s", folder, traceback.format_exc())
            self.failed.emit(-1, f"Cannot load the model: {_describe(exc)}")
        else:
            if info is not None:
                self.model_loaded.emit(info)

    @Slot(object)
    def _on_generate_requested(self, job: GenerateJob) -> None:
        try:
            result = self.engine.generate(
                job, lambda: self._is_cancelled(job.job_id),
                lambda done, total: self.progressed.emit(job.job_id, done, total),
                self.warned.emit, self.model_loaded.emit)
        except Cancelled:
            self.cancelled.emit(job.job_id)
        except UserError as exc:
            self.failed.emit(job.job_id, str(exc))
        except Exception as exc:  # noqa: BLE001 - shown in the window, never a crash
            log.error("generation failed:\n%s", traceback.format_exc())
            self.failed.emit(job.job_id, f"Generation failed: {_describe(exc)}")
        else:
            self.generated.emit(result)
            if job.folder not in self._reference_done:
                self._reference_done.add(job.folder)
                self._send_percentiles(result)

    def _send_percentiles(self, result: GenerateResult) -> None:
        """The critic's reference scores of real passages (once per model, cached on
        disk): asked for after the first result is out, so it is not kept waiting."""
        try:
            values = self.engine.percentiles(result.scores)
        except Exception:  # noqa: BLE001 - the percentile is a nicety; log and go on
            log.error("critic reference scores:\n%s", traceback.format_exc())
            return
        # None: the model's training data is not on this machine (nothing to compare with)
        self.percentiles_ready.emit(result.job_id, values)


def _describe(exc: Exception) -> str:
    if isinstance(exc, EngineFailure):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class GenerationThread(QObject):
    """Owns the worker and its QThread; :meth:`stop` ends the thread cleanly."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("generation")
        self.worker = GenerationWorker()
        self.worker.moveToThread(self.thread)
        self.thread.start()

    def stop(self) -> None:
        if self.thread.isRunning():
            self.worker.cancel()
            self.thread.quit()
            self.thread.wait()
        self.worker.shutdown()
