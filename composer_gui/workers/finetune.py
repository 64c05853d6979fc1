"""Qt glue of the Fine-tune window: the folder scan on a thread, training in a subprocess.

* :class:`ScanJob` runs :func:`composer_gui.ml.data.scan.scan_files` on a Python thread and
  reports through queued signals (progress, result, failure); :meth:`ScanJob.cancel`
  stops it between files.
* :class:`TrainingProcess` runs ``python -m composer_gui train ... --jsonl
  --control-stdin`` in a :class:`QProcess` (the contract in ``docs/finetune_protocol.md``):
  torch lives in that process, never in the window's, so the GUI thread only parses a
  few JSON lines per second. Pause / resume / stop are lines on the child's stdin; closing
  stdin also stops it (the child saves first). stderr is kept (last lines) for the
  message when the process dies.
* :class:`DeviceProbe` asks a short-lived subprocess which accelerator torch sees, so
  the window can name the GPU without importing torch.

No widgets here.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections import deque

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from composer_gui.launch import child_command, package_root
from composer_gui.launch import child_environment as launch_environment

log = logging.getLogger(__name__)

#: The folder holding the ``composer_gui`` package the window runs, so the child runs
#: the same code (a checkout or an installed copy).
PACKAGE_ROOT = package_root()
#: Scheduling priority offset of the training process (POSIX ``nice``).
NICENESS = 5


def child_environment() -> QProcessEnvironment:
    """The window's environment with this package first on ``PYTHONPATH``."""
    env = QProcessEnvironment()
    for key, value in launch_environment().items():
        env.insert(key, value)
    env.insert("PYTHONUNBUFFERED", "1")
    return env


class ScanJob(QObject):
    """One scan on its own thread; signals arrive on the GUI thread (queued)."""

    progressed = Signal(int, int, int, str)  # done, total, usable so far, file name
    finished = Signal(object)  # ScanResult (cancelled flag set when stopped)
    failed = Signal(str)

    def __init__(self, sources, config, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sources = sources
        self._config = config
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="finetune-scan", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        from composer_gui.core.errors import UserError
        from composer_gui.ml.data.scan import scan_files

        usable = [0]

        def count(scan) -> None:
            usable[0] += scan.usable

        try:
            result = scan_files(
                self._sources, self._config, cancel=self._cancel, every=5, on_file=count,
                progress=lambda d, t, n: self.progressed.emit(d, t, usable[0], n))
        except UserError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # a bug must not kill the thread silently
            log.exception("scan failed")
            self.failed.emit(f"the scan failed unexpectedly ({type(exc).__name__}: {exc})")
            return
        self.finished.emit(result)


def train_command(data: str, base: str, out_dir: str, *, steps: int | None,
                  minutes: float | None, lr: float, batch_size: int, critic_steps: int,
                  device: str, mapping: str | None, preview_every: int | None,
                  validate_every: int | None) -> list[str]:
    """Arguments of ``composer_gui train`` for a new run (see the contract)."""
    args = ["train", str(data), "--from", str(base), "-o", str(out_dir),
            "--lr", repr(float(lr)), "--batch-size", str(batch_size),
            "--critic-steps", str(critic_steps), "--device", device]
    if steps is not None:
        args += ["--steps", str(steps)]
    if minutes is not None:
        args += ["--minutes", repr(float(minutes))]
    if mapping:
        args += ["--mapping", str(mapping)]
    if preview_every:
        args += ["--preview-every", str(preview_every)]
    if validate_every:
        args += ["--validate-every", str(validate_every)]
    return args + ["--jsonl", "--control-stdin"]


def resume_command(out_dir: str, **extra) -> list[str]:
    """Arguments that continue the run saved in ``out_dir`` (``extra``: e.g.
    ``batch_size=8`` or ``device="cpu"`` after running out of memory)."""
    args = ["train", "--resume", "-o", str(out_dir)]
    for key, value in extra.items():
        if value is not None:
            args += [f"--{key.replace('_', '-')}", str(value)]
    return args + ["--jsonl", "--control-stdin"]


def default_program() -> list[str]:
    """``python -m composer_gui`` (a frozen app: itself), under ``nice`` where there is
    one: training takes every cycle it gets, and the window must keep getting its share
    first."""
    base = child_command("cli")
    nice = shutil.which("nice") if os.name == "posix" else None
    return [nice, "-n", str(NICENESS), *base] if nice else base


class TrainingProcess(QObject):
    """The training subprocess and its records.

    ``record_received(dict)`` for every JSON line on stdout; ``ended(exit_code, crashed,
    stderr_tail)`` once the process is gone. ``program`` (tests) replaces
    ``[python, -m, composer_gui]``.
    """

    record_received = Signal(dict)
    started = Signal()
    ended = Signal(int, bool, str)

    def __init__(self, parent: QObject | None = None, program: list[str] | None = None) -> None:
        super().__init__(parent)
        self.program = program or default_program()
        self._proc: QProcess | None = None
        self._buffer = b""
        self._stderr: deque[str] = deque(maxlen=40)
        self._err_buffer = b""
        self.arguments: list[str] = []

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.state() != QProcess.ProcessState.NotRunning

    def start(self, arguments: list[str]) -> None:
        if self.running:
            raise RuntimeError("a training process is already running")
        self._buffer = self._err_buffer = b""
        self._stderr.clear()
        proc = QProcess(self)
        proc.setProcessEnvironment(child_environment())
        proc.setWorkingDirectory(PACKAGE_ROOT)
        proc.readyReadStandardOutput.connect(self._on_stdout)
        proc.readyReadStandardError.connect(self._on_stderr)
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_error)
        proc.started.connect(self.started)
        self._proc = proc
        self.arguments = list(arguments)
        proc.start(self.program[0], [*self.program[1:], *arguments])

    def send(self, command: str) -> None:
        """Write a control line (``pause``, ``resume``, ``stop``)."""
        if self.running:
            self._proc.write((command + "\n").encode())

    def pause(self) -> None:
        self.send("pause")

    def resume(self) -> None:
        self.send("resume")

    def stop(self) -> None:
        self.send("stop")

    def close_input(self) -> None:
        """EOF on the child's stdin: it saves and stops, as with ``stop``."""
        if self.running:
            self._proc.closeWriteChannel()

    def wait(self, msecs: int) -> bool:
        """Block until the process ended (only for shutting the window down)."""
        if not self.running:
            return True
        return self._proc.waitForFinished(msecs)

    def kill(self) -> None:
        if self.running:
            self._proc.kill()
            self._proc.waitForFinished(3000)

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr)

    # -- reading ---------------------------------------------------------------------------
    def _on_stdout(self) -> None:
        proc = self.sender() or self._proc
        data = self._buffer + bytes(proc.readAllStandardOutput().data())
        *lines, self._buffer = data.split(b"\n")
        for raw in lines:
            raw = raw.strip()
            if not raw:
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError:
                log.warning("training: not a JSON record: %r", raw[:200])
                continue
            if isinstance(record, dict) and "kind" in record:
                self.record_received.emit(record)

    def _on_stderr(self) -> None:
        proc = self.sender() or self._proc
        data = self._err_buffer + bytes(proc.readAllStandardError().data())
        *lines, self._err_buffer = data.split(b"\n")
        for raw in lines:
            text = raw.decode("utf-8", "replace").rstrip()
            if text:
                self._stderr.append(text)
                log.info("training: %s", text)

    def _on_error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._stderr.append(f"could not start {self.program[0]}")
            self.ended.emit(-1, True, self.stderr_tail())

    def _on_finished(self, code: int, status) -> None:
        self._on_stdout()
        if self._err_buffer:
            self._stderr.append(self._err_buffer.decode("utf-8", "replace"))
            self._err_buffer = b""
        crashed = status == QProcess.ExitStatus.CrashExit
        self.ended.emit(int(code), crashed, self.stderr_tail())


class DeviceProbe(QObject):
    """Which accelerator torch sees, asked of a subprocess (torch never loads here).

    ``found(kind, name)``: kind is "cuda", "mps" or "cpu" (also when the probe fails).
    """

    found = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._proc: QProcess | None = None
        self.kind = ""
        self.name = ""

    def start(self) -> None:
        proc = QProcess(self)
        proc.setProcessEnvironment(child_environment())
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_error)
        self._proc = proc
        program, *arguments = child_command("probe")
        proc.start(program, arguments)

    def _on_finished(self, code: int, _status) -> None:
        text = bytes(self._proc.readAllStandardOutput().data()).decode("utf-8", "replace")
        parts = text.strip().split(" ", 1) if code == 0 else []
        if parts and parts[0] in ("cuda", "mps", "cpu"):
            self._report(parts[0], parts[1] if len(parts) > 1 else "")
        else:
            self._report("cpu", "")

    def _on_error(self, _error) -> None:
        self._report("cpu", "")

    def _report(self, kind: str, name: str) -> None:
        if self.kind:
            return
        self.kind, self.name = kind, name
        self.found.emit(kind, name)

    def stop(self) -> None:
        if self._proc is not None and self._proc.state() != QProcess.ProcessState.NotRunning:
            self._proc.errorOccurred.disconnect(self._on_error)
            self._proc.finished.disconnect(self._on_finished)
            self._proc.kill()
            self._proc.waitForFinished(2000)
