"""Generation off the GUI thread.

:class:`GenerationWorker` is a QObject that lives on its own ``QThread``. The panel sends
it requests through queued signals (:meth:`request_load`, :meth:`request_generate`);
it answers with signals only. Torch is imported here, on the worker thread, the first
time a model is loaded, never at window start. The loaded
:class:`~composer_gui.ml.sample.Composer` stays warm for the next request.

A request carries a *copy* of the song (plain data); the result carries new tracks the
worker no longer touches, so nothing is shared between threads.

Cancel: :meth:`cancel` (called on the GUI thread) sets a flag that every network call
checks (see :class:`~composer_gui.ml.app_controls.Watched`), so a generation stops at the
next window; the panel forgets a cancelled job at once, so the window is idle the moment
Cancel is clicked.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from composer_gui.core.errors import UserError
from composer_gui.core.song import Song, Track

log = logging.getLogger(__name__)


@dataclass
class GenerateJob:
    """One generation request (plain data, safe to hand to the worker thread)."""

    job_id: int
    folder: Path
    song: Song
    melody_track: int
    seed: int = 0
    candidates: int = 4
    bars: tuple[int, int] | None = None
    tracks: list[str] | None = None
    density: float = 0.5
    dynamics: float = 0.5
    variation: float = 1.0
    device: str = "auto"


@dataclass
class GenerateResult:
    """What comes back: candidate role tracks ranked best first by the critic."""

    job_id: int
    candidates: list[list[Track]]
    scores: list[float]
    percentiles: list[float | None]
    device: str
    seconds: float
    warnings: list[str] = field(default_factory=list)


@dataclass
class ModelInfo:
    folder: Path
    device: str
    roles: list[str]
    seconds: float


class GenerationWorker(QObject):
    """Loads models and generates on the thread it was moved to (see module docstring)."""

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
    percentiles_ready = Signal(int, object)  # job id, percentiles of its candidates

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()
        self.composer = None
        self._folder: Path | None = None
        self._device = "auto"
        self._reference = None
        self._reference_done = False
        self.load_requested.connect(self._on_load_requested)
        self.generate_requested.connect(self._on_generate_requested)

    # -- GUI-thread API ----------------------------------------------------------------
    def cancel(self) -> None:
        """Stop the running generation at its next network call (thread-safe)."""
        self._cancel.set()

    def request_load(self, folder: Path, device: str = "auto") -> None:
        self.load_requested.emit(Path(folder), device)

    def request_generate(self, job: GenerateJob) -> None:
        self._cancel.clear()
        self.generate_requested.emit(job)

    # -- worker thread ---------------------------------------------------------------------
    def _ensure_model(self, folder: Path, device: str):
        if (self.composer is not None and self._folder == Path(folder)
                and self._device == device):
            return self.composer, None
        t0 = time.perf_counter()
        import torch

        from composer_gui.ml.app_controls import generation_threads
        from composer_gui.ml.device import configure_threads, is_out_of_memory
        from composer_gui.ml.sample import Composer

        torch.set_num_threads(generation_threads())
        configure_threads()
        try:
            composer = Composer(folder, device)
        except (RuntimeError, MemoryError) as exc:
            if not is_out_of_memory(exc):
                raise
            self.warned.emit("The GPU ran out of memory loading the model; using the CPU")
            composer = Composer(folder, "cpu")
        self.composer, self._folder, self._device = composer, Path(folder), device
        self._reference, self._reference_done = None, False
        info = ModelInfo(Path(folder), composer.device_name, composer.config.role_names(),
                         time.perf_counter() - t0)
        self.model_loaded.emit(info)
        return composer, info

    @Slot(object, str)
    def _on_load_requested(self, folder: Path, device: str) -> None:
        try:
            self._ensure_model(folder, device)
        except UserError as exc:
            self.failed.emit(-1, str(exc))
        except Exception as exc:  # noqa: BLE001 - shown in the window, never a crash
            log.error("loading %s failed:\n%s", folder, traceback.format_exc())
            self.failed.emit(-1, f"Cannot load the model: {type(exc).__name__}: {exc}")

    @Slot(object)
    def _on_generate_requested(self, job: GenerateJob) -> None:
        try:
            result = self._generate(job)
        except _CancelledJob:
            self.cancelled.emit(job.job_id)
        except UserError as exc:
            self.failed.emit(job.job_id, str(exc))
        except Exception as exc:  # noqa: BLE001 - shown in the window, never a crash
            log.error("generation failed:\n%s", traceback.format_exc())
            self.failed.emit(job.job_id, f"Generation failed: {type(exc).__name__}: {exc}")
        else:
            self.generated.emit(result)
            if not self._reference_done:
                self._compute_reference(result)

    def _compute_reference(self, result: GenerateResult) -> None:
        """The critic's scores of real passages (once per model, cached on disk): done
        after the first result is out, so the first generation is not kept waiting."""
        from composer_gui.ml import app_controls

        self._reference_done = True
        try:
            self._reference = app_controls.reference_scores(self.composer)
        except Exception:  # noqa: BLE001 - the percentile is a nicety; log and go on
            log.error("critic reference scores:\n%s", traceback.format_exc())
            self._reference = None
        if self._reference is not None:
            self.percentiles_ready.emit(result.job_id, [
                app_controls.percentile(s, self._reference) for s in result.scores])

    def _generate(self, job: GenerateJob) -> GenerateResult:
        from composer_gui.ml import app_controls

        t0 = time.perf_counter()
        if self._cancel.is_set():
            raise _CancelledJob()
        composer, _info = self._ensure_model(job.folder, job.device)
        total = app_controls.network_calls(composer, job.song)
        done = [0]

        def on_call() -> None:
            done[0] += 1
            self.progressed.emit(job.job_id, min(done[0], total), total)

        gen, critic = composer.generator, composer.critic
        composer.generator = app_controls.Watched(gen, self._cancel, on_call)
        composer.critic = app_controls.Watched(critic, self._cancel, on_call)
        warnings: list[str] = []

        def warn(message: str) -> None:
            warnings.append(message)
            self.warned.emit(message)

        try:
            comp = composer.compose(job.song, job.melody_track, job.seed, job.candidates,
                                    job.bars, job.tracks, noise_scale=job.variation,
                                    warn=warn, density=job.density, dynamics=job.dynamics)
        except app_controls.Cancelled:
            raise _CancelledJob() from None
        finally:
            composer.generator = getattr(composer.generator, "net", composer.generator)
            composer.critic = getattr(composer.critic, "net", composer.critic)
        order = sorted(range(len(comp.scores)), key=lambda i: -comp.scores[i])
        # density and dynamics are applied by the panel to the candidate it shows (a few
        # ms on the GUI thread): doing all K here made the window stall (measured)
        candidates = [comp.candidates[i] for i in order]
        scores = [comp.scores[i] for i in order]
        percentiles = [app_controls.percentile(s, self._reference) for s in scores]
        return GenerateResult(job.job_id, candidates, scores, percentiles, comp.device,
                              time.perf_counter() - t0, warnings)


class _CancelledJob(Exception):
    pass


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
