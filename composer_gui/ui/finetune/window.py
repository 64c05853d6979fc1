"""The Fine-tune window (Tools > Fine-tune...): your MIDI files -> a model in your style.

Two tabs:

* **Data and settings**: add a folder or files; the scan (:mod:`composer_gui.ml.data.scan`,
  on a thread; the left half is :mod:`~composer_gui.ui.finetune.scan_page`) fills a progress bar, a summary (files, usable, skipped by reason, songs,
  bars, meters) and a table of every file with its skip reason or the tracks taken as
  melody and as each part, editable per file or by rule. Then the base model (shipped or
  yours), the new model's name, steps or minutes, learning rate, batch size, critic steps
  per generator step, the device (the GPU torch sees, named by a subprocess probe), and
  Start (the right half, :mod:`~composer_gui.ui.finetune.settings_form`). Start stays
  disabled with the reason shown while there is nothing to train on.
* **Training**: the run in a subprocess (:class:`~composer_gui.workers.finetune.TrainingProcess`;
  torch never loads in the window), Pause / Resume / Stop, live plots, previews, and the
  messages of a failed run with what to do next (smaller batch or CPU after running out
  of memory, resume after a crash; the last checkpoint is always kept). The tab is
  :mod:`~composer_gui.ui.finetune.training_page`; this module runs the process.

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
from PySide6.QtWidgets import QHBoxLayout, QTabWidget, QVBoxLayout, QWidget

from composer_gui.ui.finetune.runs import LOGGED_KINDS, RunInfo, default_name, name_problem
from composer_gui.ui.finetune.scan_page import ScanPage
from composer_gui.ui.finetune.settings_form import SettingsForm
from composer_gui.ui.finetune.training_page import TrainingPage
from composer_gui.workers.finetune import (
    DeviceProbe,
    TrainingProcess,
    resume_command,
    train_command,
)

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_MS = 60_000


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
        self._probed = False
        self.scan_page = ScanPage(self)
        self.scan_page.changed.connect(self._update_start)
        self.scan_page.sources_changed.connect(self._on_sources_changed)
        self.scan_page.scan_finished.connect(self.scan_finished)
        self._build()
        self.probe.found.connect(self.settings_form.show_device)
        self.refresh_models()
        self.follow_main_style()
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
        self.settings_form = form = SettingsForm()
        form.base_combo.currentIndexChanged.connect(self._on_base_changed)
        form.name_edit.textChanged.connect(lambda _t: self._update_start())
        form.start_button.clicked.connect(self.start_training)
        form.resume_run_button.clicked.connect(lambda: self.resume_run())
        outer.addWidget(form, 1)
        return page

    def _build_training_tab(self) -> QWidget:
        self.training_page = page = TrainingPage()
        page.pause_button.clicked.connect(self.pause)
        page.resume_button.clicked.connect(self.resume)
        page.stop_button.clicked.connect(self.stop)
        page.smaller_batch_button.clicked.connect(self._on_smaller_batch_clicked)
        page.cpu_button.clicked.connect(lambda: self.resume_run(self.run, device="cpu"))
        page.retry_button.clicked.connect(lambda: self.resume_run(self.run))
        page.preview.play_requested.connect(self._on_preview_play)
        page.preview.stop_requested.connect(self._on_preview_stop)
        return page

    # -- models and runs -------------------------------------------------------------------
    def refresh_models(self) -> None:
        """Base models: every readable shipped and user model (no torch)."""
        self.settings_form.list_models()
        self._on_base_changed()

    def refresh_runs(self) -> None:
        self.settings_form.list_runs(self.busy)

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
        if not self.settings_form.name_edit.isModified():
            self._suggest_name()

    def _on_base_changed(self, *_args) -> None:
        from composer_gui.ml.model.checkpoint import read_config

        form = self.settings_form
        entry = form.base_combo.currentData()
        self.config = None
        if entry is not None:
            try:
                self.config = read_config(entry.path)
            except Exception as exc:
                form.start_reason.setText(f"base model unreadable: {exc}")
        if not form.name_edit.text() or not form.name_edit.isModified():
            self._suggest_name()
        self.scan_page.set_config(self.config)

    def _suggest_name(self) -> None:
        entry = self.settings_form.base_combo.currentData()
        if entry is not None:
            self.settings_form.name_edit.setText(default_name(entry.name, self.sources))

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
        return name_problem(self.settings_form.name_edit.text())

    def _update_start(self) -> None:
        self.settings_form.show_start_problem(self.start_problem())

    def start_training(self) -> bool:
        """Write the mapping and start a new run (False, with the reason shown, if not)."""
        from composer_gui.ml.data.scan import write_mapping

        self._update_start()
        if self.start_problem():
            return False
        form = self.settings_form
        entry = form.base_combo.currentData()
        opts = form.settings()
        run = RunInfo(form.name_edit.text(), base=str(entry.path), sources=list(self.sources),
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
        self.training_page.hide_message()
        plots = self.training_page.plots
        plots.reset(self.config.role_names() if self.config else [])
        self._close_log()
        if resumed:  # the plots go on from where the earlier sessions left them
            for rec in run.logged_records():
                plots.add_record(rec)
            plots.flush()
        try:
            run.folder.mkdir(parents=True, exist_ok=True)
            self._log = open(run.log_path, "a" if resumed else "w", encoding="utf-8")
        except OSError as exc:
            log.warning("cannot keep the run's records in %s: %s", run.log_path, exc)
        self.state = "starting"
        self.training_page.show_starting(run.name)
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
        run = run or self.settings_form.runs_combo.currentData()
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
            self.training_page.state_label.setText("Pausing\u2026")

    def resume(self) -> None:
        if self.state == "paused":
            self.training.resume()
            self.training_page.state_label.setText("Resuming\u2026")

    def stop(self) -> None:
        """Stop the run; it saves and finishes the model as it is now."""
        if self.busy and self.state != "stopping":
            self._stop_requested = True
            if self.state == "paused":
                self.training.resume()
            self.training.stop()
            self.state = "stopping"
            self.training_page.state_label.setText("Stopping: saving the model\u2026")
            self._update_run_buttons()

    def _update_run_buttons(self) -> None:
        running = self.busy
        self.training_page.update_buttons(running, self.state)
        form = self.settings_form
        form.resume_run_button.setEnabled(form.runs_combo.count() > 0 and not running)

    # -- records ---------------------------------------------------------------------------
    def _on_record(self, rec: dict) -> None:
        kind = rec.get("kind")
        step = int(rec.get("step", 0) or 0)
        run = self.run
        if kind == "start":
            if run is not None:
                run.steps = rec.get("steps") or run.steps
            if self.state == "starting":
                self.state = "training"
        elif kind == "paused":
            self.state = "paused"
        elif kind == "resumed":
            self.state = "training"
        elif kind == "checkpoint" and run is not None:
            run.step = step
            run.save()
        self.training_page.show_record(rec, run)
        if kind == "step":
            if run is not None:
                run.step = step
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
        self.training_page.show_done(reason, run.step if run else 0, rec.get("seconds"), model)
        self._refresh_generate_panel(model, select=reason != "stop")
        self.model_ready.emit(model)

    def _refresh_generate_panel(self, model: str, select: bool = True) -> None:
        """List the new model in the Generate panel; a finished run's model becomes its
        Style, a stopped one's only listed (a barely trained model is no surprise)."""
        panel = getattr(self.main, "generate_panel", None)
        if panel is not None:
            current = panel.current_model()
            panel.refresh_models()
            if select:
                panel.select_model(str(Path(model)))
            elif current is not None:
                panel.select_model(str(current.path))
        self.refresh_models()

    def follow_main_style(self) -> None:
        """Start from the style the main window generates with (unless a run is on)."""
        panel = getattr(self.main, "generate_panel", None)
        entry = panel.current_model() if panel is not None else None
        if entry is None or self.busy:
            return
        form = self.settings_form
        for i in range(form.base_combo.count()):
            if form.base_combo.itemData(i).path == entry.path:
                form.base_combo.setCurrentIndex(i)
                return

    def _on_process_ended(self, code: int, crashed: bool, stderr: str) -> None:
        run = self.run
        page = self.training_page
        page.plots.flush()
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
        if outcome != "done" and not page.state_label.text().startswith(("Stopped", "Done")):
            page.state_label.setText(f"Run ended ({outcome}) at step {run.step if run else 0:,}")
        self.refresh_runs()
        self._update_run_buttons()
        self._update_start()
        if not self.isVisible() and self.main is not None:  # closed while it ran
            note = page.message_label.text() or page.state_label.text()
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
        self.training_page.show_message(text, oom, retry)
        self.message_shown.emit(text)

    def _smaller_batch(self) -> int:
        """The backend's suggestion after running out of memory, else half the batch."""
        suggested = (self.last_error or {}).get("suggest_batch_size")
        if isinstance(suggested, int) and suggested >= 1:
            return suggested
        batch = int((self.run.settings if self.run else {}).get("batch_size")
                    or self.settings_form.batch_spin.value())
        return max(1, batch // 2)

    def _on_smaller_batch_clicked(self) -> None:
        if self.run is not None:
            self.resume_run(self.run, batch_size=self._smaller_batch())

    # -- device ----------------------------------------------------------------------------
    def probe_device(self) -> None:
        if not self._probed:
            self._probed = True
            self.probe.start()

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
        self.training_page.plots.view.grab()
        self.training_page.preview.grab()

    def closeEvent(self, event) -> None:  # noqa: N802
        """Closing the window stops the run (it saves its checkpoint and model)."""
        self.scan_page.cancel_scan()
        self.training_page.preview.wait()  # a preview being read (milliseconds)
        if self.busy:
            self.stop()
            self.training.close_input()
        event.accept()

    def shutdown(self) -> None:
        """The app is quitting: stop everything and wait (bounded) for the run to save."""
        self.scan_page.cancel_scan()
        self.probe.stop()
        self.training_page.plots.stop()
        self.training_page.preview.wait()
        if self.busy:
            self.stop()
            self.training.close_input()
            if not self.training.wait(SHUTDOWN_WAIT_MS):
                log.warning("training process did not stop in time; killing it")
                self.training.kill()

