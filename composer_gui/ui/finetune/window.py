"""The Fine-tune window (Tools > Fine-tune...): your MIDI files -> a model in your style.

Two tabs:

* **Data and settings**: add a folder or files; the scan (:mod:`composer_gui.ml.data.scan`,
  on a thread; the left half is :mod:`~composer_gui.ui.finetune.scan_page`) fills a progress bar, a summary (files, usable, skipped by reason, songs,
  bars, meters) and a table of every file with its skip reason or the tracks taken as
  melody and as each part, editable per file or by rule. Then the base model (shipped or
  yours), the new model's name, steps or minutes, learning rate, batch size, critic steps
  per generator step, the device (the GPU torch sees, named by a subprocess probe), and
  Start. Start stays disabled with the reason shown while there is nothing to train on.
* **Training**: the run in a subprocess (:class:`~composer_gui.workers.finetune.TrainingProcess`;
  torch never loads in the window), Pause / Resume / Stop, live plots, previews, and the
  messages of a failed run with what to do next (smaller batch or CPU after running out
  of memory, resume after a crash; the last checkpoint is always kept).

Closing the window stops the run (it saves first); "Resume run" continues any run that
did not finish. When a run ends its model is listed in the Generate panel at once.
"""

from __future__ import annotations

import gc
import json
import logging
import os
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from composer_gui.ml.train.options import TRAIN_DEFAULTS  # declared once, torch-free
from composer_gui.ui.finetune.plots import TrainingPlots
from composer_gui.ui.finetune.preview import PreviewPanel
from composer_gui.ui.finetune.runs import (
    LOGGED_KINDS,
    RunInfo,
    default_name,
    name_problem,
    unfinished_runs,
)
from composer_gui.ui.finetune.scan_page import ScanPage
from composer_gui.workers.finetune import (
    DeviceProbe,
    TrainingProcess,
    resume_command,
    train_command,
)

log = logging.getLogger(__name__)

DEFAULT_STEPS = 1000
DEFAULT_PREVIEW_EVERY = 200
SHUTDOWN_WAIT_MS = 60_000
_ERROR_STYLE = "QLabel { color: #c0392b; }"


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "\u2014"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class FineTuneWindow(QWidget):
    """See the module docstring. ``main`` is the MainWindow (for the Generate panel and
    playback)."""

    scan_finished = Signal(object)  # ScanResult
    training_started = Signal()
    record_received = Signal(dict)
    #: The run's process ended: "done", "stopped", "error" or "crashed".
    training_ended = Signal(str)
    model_ready = Signal(str)  # model folder
    message_shown = Signal(str)

    def __init__(self, main=None) -> None:
        super().__init__(main, Qt.WindowType.Window)
        self.setObjectName("FineTuneWindow")
        self.setWindowTitle("Fine-tune a model on your MIDI files")
        self.main = main
        self.config = None
        self.run: RunInfo | None = None
        self.state = "idle"  # idle, starting, training, paused, stopping
        self.last_error: dict | None = None
        self._stop_requested = False
        self._log = None  # the run's records.jsonl while it runs
        self.training = TrainingProcess(self)
        self.training.record_received.connect(self._on_record)
        self.training.ended.connect(self._on_process_ended)
        self.probe = DeviceProbe(self)
        self.probe.found.connect(self._on_device_found)
        self._probed = False
        self.scan_page = ScanPage(self)
        self.scan_page.changed.connect(self._update_start)
        self.scan_page.sources_changed.connect(self._on_sources_changed)
        self.scan_page.scan_finished.connect(self.scan_finished)
        self._build()
        self.refresh_models()
        self.refresh_runs()
        self._update_start()
        self._update_run_buttons()
        self.resize(1200, 820)

    # -- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs)
        self.tabs.addTab(self._build_data_tab(), "Data and settings")
        self.tabs.addTab(self._build_training_tab(), "Training")

    def _build_data_tab(self) -> QWidget:
        page = QWidget()
        outer = QHBoxLayout(page)
        outer.addWidget(self.scan_page, 3)

        box = QGroupBox("New model")
        form = QFormLayout(box)
        self.base_combo = QComboBox()
        self.base_combo.setObjectName("base_combo")
        self.base_combo.currentIndexChanged.connect(self._on_base_changed)
        form.addRow("Base model", self.base_combo)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("name_edit")
        self.name_edit.textChanged.connect(lambda _t: self._update_start())
        form.addRow("Name", self.name_edit)
        self.steps_radio = QRadioButton("Steps")
        self.minutes_radio = QRadioButton("Minutes")
        self.steps_radio.setChecked(True)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 1_000_000)
        self.steps_spin.setValue(DEFAULT_STEPS)
        self.minutes_spin = QDoubleSpinBox()
        self.minutes_spin.setRange(0.1, 10_000)
        self.minutes_spin.setValue(10)
        self.steps_spin.setToolTip("Generator updates in all (a resumed run counts on)")
        self.minutes_spin.setToolTip("Stop after this many minutes of training")
        form.addRow(self.steps_radio, self.steps_spin)
        form.addRow(self.minutes_radio, self.minutes_spin)
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(6)
        self.lr_spin.setRange(1e-6, 0.01)
        self.lr_spin.setSingleStep(1e-5)
        self.lr_spin.setValue(TRAIN_DEFAULTS["lr"])
        form.addRow("Learning rate", self.lr_spin)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 1024)
        self.batch_spin.setValue(TRAIN_DEFAULTS["batch_size"])
        form.addRow("Batch size", self.batch_spin)
        self.critic_spin = QSpinBox()
        self.critic_spin.setRange(1, 20)
        self.critic_spin.setValue(TRAIN_DEFAULTS["critic_steps"])
        self.critic_spin.setToolTip("Conductor (critic) updates per generator update")
        form.addRow("Critic steps", self.critic_spin)
        self.preview_spin = QSpinBox()
        self.preview_spin.setRange(1, 100_000)
        self.preview_spin.setValue(DEFAULT_PREVIEW_EVERY)
        form.addRow("Preview every", self.preview_spin)
        self.validate_spin = QSpinBox()
        self.validate_spin.setRange(1, 100_000)
        self.validate_spin.setValue(TRAIN_DEFAULTS["validate_every"])
        form.addRow("Validate every", self.validate_spin)
        self.device_combo = QComboBox()
        self.device_combo.setObjectName("device_combo")
        self.device_combo.addItem("Automatic", "auto")
        self.device_combo.addItem("CPU", "cpu")
        form.addRow("Device", self.device_combo)
        self.device_label = QLabel("looking for a GPU\u2026")
        form.addRow("", self.device_label)
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("start_button")
        self.start_button.clicked.connect(self.start_training)
        form.addRow(self.start_button)
        self.start_reason = QLabel("")
        self.start_reason.setObjectName("start_reason")
        self.start_reason.setWordWrap(True)
        self.start_reason.setStyleSheet(_ERROR_STYLE)
        form.addRow(self.start_reason)
        self.runs_combo = QComboBox()
        self.runs_combo.setObjectName("runs_combo")
        form.addRow("Unfinished", self.runs_combo)
        self.resume_run_button = QPushButton("Resume Run")
        self.resume_run_button.clicked.connect(lambda: self.resume_run())
        form.addRow(self.resume_run_button)
        box.setMinimumWidth(330)
        outer.addWidget(box, 1)
        return page

    def _build_training_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        self.state_label = QLabel("No run yet.")
        self.state_label.setObjectName("state_label")
        row.addWidget(self.state_label, 1)
        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self.pause)
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(self.resume)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop and keep the model as it is now")
        self.stop_button.clicked.connect(self.stop)
        for b in (self.pause_button, self.resume_button, self.stop_button):
            row.addWidget(b)
        layout.addLayout(row)
        info = QHBoxLayout()
        self.step_label = QLabel("")
        self.rate_label = QLabel("")
        self.eta_label = QLabel("")
        self.device_run_label = QLabel("")
        self.targets_label = QLabel("")
        self.targets_label.setToolTip("The metric targets of the model card, met by this run "
                                      "on the validation melodies")
        for w in (self.step_label, self.rate_label, self.eta_label, self.device_run_label,
                  self.targets_label):
            info.addWidget(w)
        info.addStretch(1)
        layout.addLayout(info)
        msg = QHBoxLayout()
        self.message_label = QLabel("")
        self.message_label.setObjectName("message_label")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet(_ERROR_STYLE)
        msg.addWidget(self.message_label, 1)
        self.smaller_batch_button = QPushButton("Resume with a Smaller Batch")
        self.smaller_batch_button.clicked.connect(self._on_smaller_batch_clicked)
        self.cpu_button = QPushButton("Resume on the CPU")
        self.cpu_button.clicked.connect(lambda: self.resume_run(self.run, device="cpu"))
        self.retry_button = QPushButton("Resume")
        self.retry_button.clicked.connect(lambda: self.resume_run(self.run))
        for b in (self.smaller_batch_button, self.cpu_button, self.retry_button):
            b.hide()
            msg.addWidget(b)
        layout.addLayout(msg)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.plots = TrainingPlots()
        split.addWidget(self.plots)
        self.preview = PreviewPanel()
        self.preview.play_requested.connect(self._on_preview_play)
        self.preview.stop_requested.connect(self._on_preview_stop)
        split.addWidget(self.preview)
        split.setSizes([800, 360])
        layout.addWidget(split, 1)
        return page

    # -- models and runs -------------------------------------------------------------------
    def refresh_models(self) -> None:
        """Base models: every readable shipped and user model (no torch)."""
        from composer_gui.ml.model.registry import list_models

        current = self.base_combo.currentData()
        self.base_combo.blockSignals(True)
        self.base_combo.clear()
        for entry in list_models():
            if entry.error:
                continue
            label = entry.name if entry.source == "shipped" else f"{entry.name} (yours)"
            self.base_combo.addItem(f"{label} \u2014 {', '.join(entry.roles)}", entry)
            if current is not None and entry.path == current.path:
                self.base_combo.setCurrentIndex(self.base_combo.count() - 1)
        self.base_combo.blockSignals(False)
        self._on_base_changed()

    def select_base(self, name: str) -> bool:
        for i in range(self.base_combo.count()):
            if self.base_combo.itemData(i).name == name:
                self.base_combo.setCurrentIndex(i)
                return True
        return False

    def refresh_runs(self) -> None:
        self.runs_combo.clear()
        for run in unfinished_runs():
            steps = f" of {run.steps:,}" if run.steps else ""
            self.runs_combo.addItem(f"{run.name} (step {run.step:,}{steps})", run)
        self.resume_run_button.setEnabled(self.runs_combo.count() > 0 and not self.busy)

    @property
    def busy(self) -> bool:
        return self.training.running

    @property
    def result(self):
        """The last finished scan (:class:`~composer_gui.ml.data.scan.ScanResult`) or None."""
        return self.scan_page.result

    @property
    def sources(self) -> list[str]:
        return self.scan_page.sources

    def set_sources(self, paths: list[str], scan: bool = True) -> None:
        """Train on these folders / files (scanned at once unless ``scan`` is False)."""
        self.scan_page.set_sources(paths, scan)

    def _on_sources_changed(self, _sources: list) -> None:
        if not self.name_edit.isModified():
            self._suggest_name()

    def _on_base_changed(self, *_args) -> None:
        from composer_gui.ml.model.checkpoint import read_config

        entry = self.base_combo.currentData()
        self.config = None
        if entry is not None:
            try:
                self.config = read_config(entry.path)
            except Exception as exc:
                self.start_reason.setText(f"base model unreadable: {exc}")
        if not self.name_edit.text() or not self.name_edit.isModified():
            self._suggest_name()
        self.scan_page.set_config(self.config)

    def _suggest_name(self) -> None:
        entry = self.base_combo.currentData()
        if entry is not None:
            self.name_edit.setText(default_name(entry.name, self.sources))

    # -- start ------------------------------------------------------------------------------
    def start_problem(self) -> str:
        """Why Start is disabled ('' when it is not)."""
        if self.busy:
            return "a run is in progress"
        if self.config is None:
            return "pick a base model"
        if self.scan_page.scanning:
            return "scanning\u2026"
        if self.result is None:
            return ("press Scan to check the files" if self.sources
                    else "add a folder or files of your MIDI songs")
        s = self.result.summary()
        if s["usable"] == 0:
            top = next(iter(s["reasons"]), "")
            return (f"no usable file: all {s['files']} were skipped"
                    + (f" (most: {top})" if top else "")
                    + "; pick the melody or part tracks in the table, or add other files")
        if s["train_songs"] == 0:
            return ("every usable file is in the validation share; add more files to "
                    "train on")
        return name_problem(self.name_edit.text())

    def _update_start(self) -> None:
        problem = self.start_problem()
        self.start_button.setEnabled(not problem)
        self.start_reason.setText(problem[:1].upper() + problem[1:] if problem else "")

    def _settings(self) -> dict:
        return {
            "steps": self.steps_spin.value() if self.steps_radio.isChecked() else None,
            "minutes": self.minutes_spin.value() if self.minutes_radio.isChecked() else None,
            "lr": self.lr_spin.value(), "batch_size": self.batch_spin.value(),
            "critic_steps": self.critic_spin.value(), "device": self.device_combo.currentData(),
            "preview_every": self.preview_spin.value(),
            "validate_every": self.validate_spin.value(),
        }

    def start_training(self) -> bool:
        """Write the mapping and start a new run (False, with the reason shown, if not)."""
        from composer_gui.ml.data.scan import write_mapping

        self._update_start()
        if self.start_problem():
            return False
        entry = self.base_combo.currentData()
        opts = self._settings()
        run = RunInfo(self.name_edit.text(), base=str(entry.path), sources=list(self.sources),
                      settings=opts, steps=opts["steps"])
        try:
            write_mapping(self.result, run.mapping_path)
            run.save()
        except OSError as exc:
            self._show_message(f"Cannot write the run's files in {run.folder}: {exc}")
            return False
        data = self._data_folder()
        args = train_command(data, str(entry.path), str(run.out_dir),
                             mapping=str(run.mapping_path), **opts)
        self._launch(run, args)
        return True

    def _data_folder(self) -> str:
        """The training command's DATA: the folder holding every source (the mapping
        says which files in it are used)."""
        folders = [str(Path(p if Path(p).is_dir() else Path(p).parent).resolve())
                   for p in self.sources]
        try:
            return os.path.commonpath(folders)
        except ValueError:  # different drives (Windows): the mapping lists every file
            return folders[0]

    def _launch(self, run: RunInfo, args: list[str], resumed: bool = False) -> None:
        self.run = run
        self.last_error = None
        self._stop_requested = False
        self._hide_message()
        self.plots.reset(self.config.role_names() if self.config else [])
        self._close_log()
        if resumed:  # the plots go on from where the earlier sessions left them
            for rec in run.logged_records():
                self.plots.add_record(rec)
            self.plots.flush()
        try:
            run.folder.mkdir(parents=True, exist_ok=True)
            self._log = open(run.log_path, "a" if resumed else "w", encoding="utf-8")
        except OSError as exc:
            log.warning("cannot keep the run's records in %s: %s", run.log_path, exc)
        self.state = "starting"
        self.state_label.setText(f"Starting {run.name}\u2026")
        self.step_label.setText("")
        self.rate_label.setText("")
        self.eta_label.setText("")
        self.targets_label.setText("")
        self.tabs.setCurrentIndex(1)
        # Everything alive now lives as long as the window: out of the collector's sight,
        # a full collection (set off by the previews' notes) no longer walks through it;
        # one took 60 ms of the GUI thread while training.
        gc.freeze()
        self.training.start(args)
        self._update_run_buttons()
        self._update_start()
        self.refresh_runs()
        self.training_started.emit()

    def resume_run(self, run: RunInfo | None = None, **extra) -> bool:
        """Continue an unfinished run (the one picked in the list by default);
        ``extra``: settings to change, e.g. ``batch_size=8`` or ``device="cpu"``."""
        run = run or self.runs_combo.currentData()
        if run is None or self.busy:
            return False
        if not run.resumable():
            self._show_message(f"{run.name}: no saved training state in {run.out_dir} "
                               "to resume from")
            return False
        for key, value in extra.items():
            run.settings[key] = value
        run.save()
        self._launch(run, resume_command(str(run.out_dir), **extra), resumed=True)
        return True

    # -- controls --------------------------------------------------------------------------
    def pause(self) -> None:
        if self.state == "training":
            self.training.pause()
            self.state_label.setText("Pausing\u2026")

    def resume(self) -> None:
        if self.state == "paused":
            self.training.resume()
            self.state_label.setText("Resuming\u2026")

    def stop(self) -> None:
        """Stop the run; it saves and finishes the model as it is now."""
        if self.busy and self.state != "stopping":
            self._stop_requested = True
            if self.state == "paused":
                self.training.resume()
            self.training.stop()
            self.state = "stopping"
            self.state_label.setText("Stopping: saving the model\u2026")
            self._update_run_buttons()

    def _update_run_buttons(self) -> None:
        running = self.busy
        self.pause_button.setEnabled(running and self.state == "training")
        self.resume_button.setEnabled(running and self.state == "paused")
        self.stop_button.setEnabled(running and self.state in ("starting", "training",
                                                               "paused"))
        self.resume_run_button.setEnabled(self.runs_combo.count() > 0 and not running)

    # -- records ---------------------------------------------------------------------------
    def _on_record(self, rec: dict) -> None:
        kind = rec.get("kind")
        step = int(rec.get("step", 0) or 0)
        run = self.run
        if kind == "data":
            self.state_label.setText(f"Reading your files: {rec.get('done', 0)} of "
                                     f"{rec.get('total', 0)}")
        elif kind == "start":
            if run is not None:
                run.steps = rec.get("steps") or run.steps
            if self.state == "starting":
                self.state = "training"
            self.device_run_label.setText(f"on {rec.get('device', '?')}")
            self.plots.add_record(rec)
            skipped = (rec.get("report") or {}).get("skipped") or []
            self.state_label.setText(
                f"Training {run.name if run else ''}: {rec.get('train_songs', 0)} songs, "
                f"{rec.get('validation_songs', 0)} for validation"
                + (f"; {len(skipped)} file(s) could not be read (hover for why)"
                   if skipped else ""))
            self.state_label.setToolTip("\n".join(
                f"{Path(str(s.get('file', ''))).name}: {s.get('reason', '')}"
                for s in skipped[:30] if isinstance(s, dict)))
        elif kind == "step":
            self.plots.add_record(rec)
            total = run.steps if run is not None and run.steps else None
            self.step_label.setText(f"Step {step:,}" + (f" of {total:,}" if total else ""))
            rate = rec.get("steps_per_s")
            if isinstance(rate, (int, float)):
                self.rate_label.setText(f"{rate:.2f} steps/s")
            self.eta_label.setText(f"time left {_fmt_seconds(rec.get('eta_s'))}")
            if run is not None:
                run.step = step
        elif kind == "validation":
            self.plots.add_record(rec)
            met = [v for part in (rec.get("targets_met") or {}).values()
                   if isinstance(part, dict) for v in part.values()]
            if met:
                self.targets_label.setText(
                    f"validation at step {step:,}: {sum(map(bool, met))} of {len(met)} "
                    "targets met" + (" (all)" if rec.get("all_targets_met") else ""))
        elif kind == "warning":
            self.message_label.setText(f"Note: {rec.get('message', '')}")
        elif kind == "preview":
            self.preview.set_preview(rec)
        elif kind == "paused":
            self.state = "paused"
            self.state_label.setText(f"Paused at step {step:,}")
        elif kind == "resumed":
            self.state = "training"
            self.state_label.setText(f"Training (resumed at step {step:,})")
        elif kind == "checkpoint":
            if run is not None:
                run.step = step
                run.save()
            self.state_label.setToolTip(f"Saved at step {step:,} ({rec.get('reason', '')})")
        elif kind == "error":
            self.last_error = rec
            self._show_error(rec)
        elif kind == "done":
            self._on_done(rec)
        if kind in LOGGED_KINDS and self._log is not None:
            try:
                self._log.write(json.dumps(rec) + "\n")
            except (OSError, TypeError, ValueError):
                self._close_log()
        self._update_run_buttons()
        self.record_received.emit(rec)

    def _close_log(self) -> None:
        log_file, self._log = self._log, None
        if log_file is not None:
            try:
                log_file.close()
            except OSError:
                pass

    def _on_done(self, rec: dict) -> None:
        run = self.run
        reason = rec.get("reason", "")
        if run is not None:
            run.step = int(rec.get("step", run.step))
            run.finished = reason != "stop"
            run.reason = reason
            run.save()
        model = rec.get("model") or (str(run.out_dir) if run else "")
        self.eta_label.setText("")
        self.state_label.setText(
            f"{'Stopped' if reason == 'stop' else 'Done'} at step {run.step if run else 0:,} "
            f"after {_fmt_seconds(rec.get('seconds'))}: the model {Path(model).name!r} is "
            "ready in the Generate panel")
        self._refresh_generate_panel(model)
        self.model_ready.emit(model)

    def _refresh_generate_panel(self, model: str) -> None:
        panel = getattr(self.main, "generate_panel", None)
        if panel is not None:
            panel.refresh_models()
            panel.select_model(str(Path(model)))
        self.refresh_models()

    def _on_process_ended(self, code: int, crashed: bool, stderr: str) -> None:
        run = self.run
        self.plots.flush()
        self._close_log()
        if self.last_error is not None:
            outcome = "error"
        elif crashed or code != 0:
            outcome = "crashed"
            tail = stderr.strip().splitlines()[-3:]
            self._show_message(
                f"The training process ended unexpectedly (exit code {code}). "
                + (f"Its last words: {' / '.join(tail)}. " if tail else "")
                + ("The last checkpoint is kept: Resume continues from it."
                   if run is not None and run.resumable() else ""),
                retry=run is not None and run.resumable())
        else:
            outcome = "stopped" if self._stop_requested else "done"
        if run is not None and outcome != "done" and not run.finished:
            run.save()
        self.state = "idle"
        if outcome != "done" and not self.state_label.text().startswith(("Stopped", "Done")):
            self.state_label.setText(f"Run ended ({outcome}) at step {run.step if run else 0:,}")
        self.refresh_runs()
        self._update_run_buttons()
        self._update_start()
        if not self.isVisible() and self.main is not None:  # closed while it ran
            note = self.message_label.text() or self.state_label.text()
            self.main.statusBar().showMessage(f"Fine-tune: {note}", 15_000)
        self.training_ended.emit(outcome)

    # -- errors ----------------------------------------------------------------------------
    def _show_error(self, rec: dict) -> None:
        text = rec.get("message", "training failed")
        step = int(rec.get("step", 0) or 0)
        if rec.get("oom"):
            self._show_message(
                f"Out of memory at step {step:,}: {text}. The run stopped at its last "
                f"checkpoint. Try a smaller batch ({self._smaller_batch()}) or the CPU.",
                oom=True)
        elif rec.get("disk_full"):
            self._show_message(
                f"The disk is full: {text}. The previous checkpoint is intact; free some "
                "space, then Resume.", retry=True)
        else:
            self._show_message(text, retry=self.run is not None and self.run.resumable())

    def _show_message(self, text: str, oom: bool = False, retry: bool = False) -> None:
        self.message_label.setText(text)
        self.smaller_batch_button.setVisible(oom)
        self.cpu_button.setVisible(oom)
        self.retry_button.setVisible(retry and not oom)
        self.message_shown.emit(text)

    def _hide_message(self) -> None:
        self.message_label.setText("")
        for b in (self.smaller_batch_button, self.cpu_button, self.retry_button):
            b.hide()

    def _smaller_batch(self) -> int:
        """The backend's suggestion after running out of memory, else half the batch."""
        suggested = (self.last_error or {}).get("suggest_batch_size")
        if isinstance(suggested, int) and suggested >= 1:
            return suggested
        batch = int((self.run.settings if self.run else {}).get("batch_size")
                    or self.batch_spin.value())
        return max(1, batch // 2)

    def _on_smaller_batch_clicked(self) -> None:
        if self.run is not None:
            self.resume_run(self.run, batch_size=self._smaller_batch())

    # -- device ----------------------------------------------------------------------------
    def probe_device(self) -> None:
        if not self._probed:
            self._probed = True
            self.probe.start()

    def _on_device_found(self, kind: str, name: str) -> None:
        if kind == "cuda":
            self.device_combo.addItem(f"GPU: {name}", "cuda")
            self.device_label.setText(f"GPU: {name}")
            self.device_label.setToolTip("Automatic trains on this GPU")
        elif kind == "mps":
            self.device_combo.addItem("Apple GPU", "mps")
            self.device_label.setText("Apple GPU")
        else:
            self.device_label.setText("No GPU found: the CPU trains")

    # -- playback --------------------------------------------------------------------------
    def _on_preview_play(self, song) -> None:
        live = getattr(self.main, "live", None)
        if live is None:
            return
        from composer_gui.audio.mixer import Mixer

        live.playback.set_song(song, Mixer.from_song(song))
        live._song_dirty = True  # the document's song is re-synced on its next Play
        live.playback.play(0)

    def _on_preview_stop(self) -> None:
        live = getattr(self.main, "live", None)
        if live is not None:
            live.playback.stop()

    # -- window ----------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._probed:
            QTimer.singleShot(0, self._warm_up)
        self.probe_device()
        self.refresh_runs()

    def _warm_up(self) -> None:
        """Render the (hidden) Training tab once: the first drawing of the plots' text
        (fonts, glyph caches, rich-text layout) costs tens of milliseconds, which would
        otherwise land on the GUI thread just as the first records arrive."""
        self.plots.view.grab()
        self.preview.grab()

    def closeEvent(self, event) -> None:  # noqa: N802
        """Closing the window stops the run (it saves its checkpoint and model)."""
        self.scan_page.cancel_scan()
        self.preview.wait()  # a preview being read (milliseconds)
        if self.busy:
            self.stop()
            self.training.close_input()
        event.accept()

    def shutdown(self) -> None:
        """The app is quitting: stop everything and wait (bounded) for the run to save."""
        self.scan_page.cancel_scan()
        self.probe.stop()
        self.plots.stop()
        self.preview.wait()
        if self.busy:
            self.stop()
            self.training.close_input()
            if not self.training.wait(SHUTDOWN_WAIT_MS):
                log.warning("training process did not stop in time; killing it")
                self.training.kill()

