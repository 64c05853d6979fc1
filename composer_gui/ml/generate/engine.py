"""The generation engine the window uses, in-process or in a child process.

Why a child process: importing torch runs ``torch._C``'s initialisation (~0.3 s on these
machines) with the GIL held, so a first Generate on a worker *thread* froze the window for
that long (measured: 220-580 ms gaps in a 16 ms timer). A child process imports torch and
holds the model without touching the GUI's interpreter; the window's worker thread only
waits on a pipe (no GIL held while waiting).

* :class:`Engine` does the work: loads a :class:`~composer_gui.ml.generate.sample.Composer` once
  and keeps it warm, generates K ranked candidates with progress and cancel, and computes
  the critic's reference scores for the "how real" percentile.
* :func:`serve` runs an :class:`Engine` behind a pipe (a child Python running :func:`main`); :class:`ProcessEngine` is the parent's side with the same
  methods as :class:`Engine`. Messages are pickled tuples between our own two processes
  (no files, no network; model weights themselves load without pickle).

Cancel: the parent sends ``("cancel", job_id)`` at any time; a reader thread in the child
marks the job, and every network call checks the mark (``controls.Watched``), so a
generation stops at its next window (each call takes milliseconds).

Nothing here imports Qt; torch is imported only by the engine that loads a model.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from composer_gui.core.errors import UserError
from composer_gui.core.song import Song, Track
from composer_gui.launch import child_command, child_environment

log = logging.getLogger(__name__)


@dataclass
class GenerateJob:
    """One generation request (plain data, safe to hand to another thread or process)."""

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
    #: The conductor's guidance (``off``, ``light``, ``strong``; None: light).
    guidance: str | None = None


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


class Cancelled(Exception):
    """The job was cancelled before it finished."""


class EngineFailure(Exception):
    """Anything but a user error went wrong in the engine (message for the window)."""


Warn = Callable[[str], None]


class _Flag:
    """``is_set()`` view of "job ``job_id`` was cancelled" (what ``Watched`` checks)."""

    def __init__(self, test: Callable[[], bool]):
        self._test = test

    def is_set(self) -> bool:
        return self._test()


class Engine:
    """Loads a model once and generates with it (runs in whatever thread calls it)."""

    def __init__(self) -> None:
        self.composer = None
        self._folder: Path | None = None
        self._device = "auto"
        self._reference = None
        self._reference_done = False

    def load(self, folder: Path, device: str, warn: Warn) -> ModelInfo | None:
        """Load (or keep) the model; None when the warm one already matches."""
        if (self.composer is not None and self._folder == Path(folder)
                and self._device == device):
            return None
        t0 = time.perf_counter()
        import torch

        from composer_gui.ml.device import configure_threads, is_out_of_memory
        from composer_gui.ml.generate import sample
        from composer_gui.ml.generate.controls import generation_threads

        torch.set_num_threads(generation_threads())
        configure_threads()
        try:
            composer = sample.Composer(folder, device)
        except (RuntimeError, MemoryError) as exc:
            if not is_out_of_memory(exc):
                raise
            warn("The GPU ran out of memory loading the model; using the CPU")
            composer = sample.Composer(folder, "cpu")
        self.composer, self._folder, self._device = composer, Path(folder), device
        self._reference, self._reference_done = None, False
        return ModelInfo(Path(folder), composer.device_name, composer.config.role_names(),
                         time.perf_counter() - t0)

    def generate(self, job: GenerateJob, cancelled: Callable[[], bool],
                 progress: Callable[[int, int], None], warn: Warn,
                 loaded: Callable[[ModelInfo], None]) -> GenerateResult:
        from composer_gui.ml.generate import controls
        t0 = time.perf_counter()
        if cancelled():
            raise Cancelled()
        info = self.load(job.folder, job.device, warn)
        if info is not None:
            loaded(info)
        composer = self.composer
        total = controls.network_calls(composer, job.song)
        done = [0]

        def on_call() -> None:
            done[0] += 1
            progress(min(done[0], total), total)

        flag = _Flag(cancelled)
        gen, critic = composer.generator, composer.critic
        composer.generator = controls.Watched(gen, flag, on_call)
        composer.critic = controls.Watched(critic, flag, on_call)
        warnings: list[str] = []

        def warn_once(message: str) -> None:
            warnings.append(message)
            warn(message)

        try:
            comp = composer.compose(job.song, job.melody_track, job.seed, job.candidates,
                                    job.bars, job.tracks, noise_scale=job.variation,
                                    warn=warn_once, density=job.density,
                                    dynamics=job.dynamics, guidance=job.guidance)
        except controls.Cancelled:
            raise Cancelled() from None
        finally:
            composer.generator, composer.critic = gen, critic
        order = sorted(range(len(comp.scores)), key=lambda i: -comp.scores[i])
        # density and dynamics are applied by the panel to the candidate it shows (a few
        # ms on the GUI thread): doing all K here made the window stall (measured)
        candidates = [comp.candidates[i] for i in order]
        scores = [comp.scores[i] for i in order]
        percentiles = [controls.percentile(s, self._reference) for s in scores]
        return GenerateResult(job.job_id, candidates, scores, percentiles, comp.device,
                              time.perf_counter() - t0, warnings)

    def percentiles(self, scores: list[float]) -> list[float | None] | None:
        """Percentiles of ``scores`` among the critic's scores of real validation passages
        (computed once per model, cached on disk); None when there is no reference."""
        from composer_gui.ml.generate import controls
        if not self._reference_done:
            self._reference_done = True
            try:
                self._reference = controls.reference_scores(self.composer)
            except Exception:  # noqa: BLE001 - the percentile is a nicety; log and go on
                log.error("critic reference scores:\n%s", traceback.format_exc())
                self._reference = None
        if self._reference is None:
            return None
        return [controls.percentile(s, self._reference) for s in scores]

    def close(self) -> None:
        self.composer = None


# ----- the child process ---------------------------------------------------------------
def _failure(exc: BaseException) -> tuple:
    if isinstance(exc, UserError):
        return ("error", "user", str(exc))
    log.error("generation engine:\n%s", traceback.format_exc())
    return ("error", "other", f"{type(exc).__name__}: {exc}")


def serve(inp, out) -> None:
    """Answer requests read from ``inp`` on ``out`` (binary files) until EOF or quit.

    Requests: ``("load", folder, device)``, ``("generate", job)``,
    ``("percentiles", scores)``, ``("cancel", job_id)``, ``("quit",)``.
    Answers: ``("warn", text)``, ``("loaded", ModelInfo|None)``, ``("progress", job_id,
    done, total)``, ``("result", GenerateResult)``, ``("cancelled", job_id)``,
    ``("percentiles", list|None)``, ``("error", "user"|"other", text)``.
    """
    engine = Engine()
    requests: queue.Queue = queue.Queue()
    cancelled_ids: set[int] = set()
    write_lock = threading.Lock()

    def send(message: tuple) -> None:
        with write_lock:
            pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()

    def read() -> None:
        while True:
            try:
                message = pickle.load(inp)
            except (EOFError, OSError, pickle.UnpicklingError):
                requests.put(("quit",))
                return
            if message[0] == "cancel":
                cancelled_ids.add(message[1])
            else:
                requests.put(message)

    threading.Thread(target=read, name="genserver-reader", daemon=True).start()

    def warn(text: str) -> None:
        send(("warn", text))

    while True:
        message = requests.get()
        kind = message[0]
        if kind == "quit":
            return
        try:
            if kind == "load":
                send(("loaded", engine.load(Path(message[1]), message[2], warn)))
            elif kind == "generate":
                job: GenerateJob = message[1]
                try:
                    result = engine.generate(
                        job, lambda j=job.job_id: j in cancelled_ids,
                        lambda d, t, j=job.job_id: send(("progress", j, d, t)), warn,
                        lambda info: send(("loaded", info)))
                except Cancelled:
                    send(("cancelled", job.job_id))
                else:
                    send(("result", result))
            elif kind == "percentiles":
                send(("percentiles", engine.percentiles(message[1])))
        except Exception as exc:  # noqa: BLE001 - reported to the window, never a crash
            send(_failure(exc))


def main() -> None:
    """Child entry point: the protocol uses private copies of stdin/stdout; anything a
    library prints to stdout goes to stderr instead of corrupting the pipe."""
    if hasattr(os, "nice"):
        # the window's drawing comes first when the machine is busy; an idle machine
        # runs the engine at full speed all the same
        os.nice(4)
    inp = os.fdopen(os.dup(0), "rb")
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(inp, out)


# ----- the parent's side ----------------------------------------------------------------
class ProcessEngine:
    """:class:`Engine`'s methods, run in a child process started on first use.

    Call from one thread (the window's worker); only :meth:`cancel` may be called from
    any thread. When the child dies, the call in progress raises :class:`EngineFailure`
    and the next call starts a fresh child.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._write_lock = threading.Lock()

    def _start(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            # the child runs this very package, wherever it was imported from (or the
            # frozen app's hidden ``_engine`` sub-command)
            self._proc = subprocess.Popen(
                child_command("engine"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                env=child_environment())
        return self._proc

    def _send(self, message: tuple) -> None:
        proc = self._start()
        with self._write_lock:
            try:
                pickle.dump(message, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                proc.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise self._died() from exc

    def _died(self) -> EngineFailure:
        proc, self._proc = self._proc, None
        code = proc.wait(timeout=5) if proc is not None else None
        return EngineFailure(f"the generation process stopped unexpectedly (exit code {code}); "
                             "the next Generate starts it again")

    def _receive(self):
        try:
            return pickle.load(self._proc.stdout)
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            raise self._died() from exc

    def _answer(self, on_message: Callable[[tuple], object]):
        """Read answers until ``on_message`` returns something other than None."""
        while True:
            message = self._receive()
            if message[0] == "error":
                if message[1] == "user":
                    raise UserError(message[2])
                raise EngineFailure(message[2])
            value = on_message(message)
            if value is not None:
                return value

    def load(self, folder: Path, device: str, warn: Warn) -> ModelInfo | None:
        self._send(("load", Path(folder), device))

        def on(message):
            if message[0] == "warn":
                warn(message[1])
                return None
            return (message[1],)

        return self._answer(on)[0]

    def generate(self, job: GenerateJob, cancelled: Callable[[], bool],
                 progress: Callable[[int, int], None], warn: Warn,
                 loaded: Callable[[ModelInfo], None]) -> GenerateResult:
        if cancelled():
            raise Cancelled()
        self._send(("generate", job))
        if cancelled():  # cancelled while the child was starting: its cancel found no child
            self.cancel(job.job_id)

        def on(message):
            kind = message[0]
            if kind == "progress":
                progress(message[2], message[3])
            elif kind == "warn":
                warn(message[1])
            elif kind == "loaded":
                loaded(message[1])
            elif kind == "cancelled":
                raise Cancelled()
            elif kind == "result":
                return message[1]
            return None

        return self._answer(on)

    def cancel(self, job_id: int) -> None:
        """Ask the child to stop ``job_id`` at its next network call (any thread)."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        with self._write_lock:
            try:
                pickle.dump(("cancel", job_id), proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                proc.stdin.flush()
            except (BrokenPipeError, OSError):
                pass  # the reading side reports the dead child

    def percentiles(self, scores: list[float]) -> list[float | None] | None:
        self._send(("percentiles", list(scores)))
        return self._answer(lambda m: (m[1],) if m[0] == "percentiles" else None)[0]

    def close(self) -> None:
        """End the child (politely, then firmly)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            with self._write_lock:
                pickle.dump(("quit",), proc.stdin)
                proc.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
