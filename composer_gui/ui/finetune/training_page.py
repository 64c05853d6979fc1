"""The Training tab of the Fine-tune window: what a run is doing, shown, not driven.

:class:`TrainingPage` holds the run's state line with Pause / Resume / Stop, the step,
speed, time-left, device and targets labels, the message line with its recovery buttons
(smaller batch, CPU, resume), and the live plots beside the preview. It turns the
training records into those texts (:meth:`TrainingPage.show_record`); the window keeps
the run itself (its process, state and files) and connects the buttons.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from composer_gui.ui.finetune.plots import TrainingPlots
from composer_gui.ui.finetune.preview import PreviewPanel
from composer_gui.ui.finetune.runs import RunInfo
from composer_gui.ui.finetune.settings_form import ERROR_STYLE


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "\u2014"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class TrainingPage(QWidget):
    """See the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.state_label = QLabel("No run yet.")
        self.state_label.setObjectName("state_label")
        row.addWidget(self.state_label, 1)
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.stop_button = QPushButton("Stop Training")
        self.stop_button.setToolTip("Stop and keep the model as it is now")
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
        self.message_label.setStyleSheet(ERROR_STYLE)
        msg.addWidget(self.message_label, 1)
        self.smaller_batch_button = QPushButton("Resume with a Smaller Batch")
        self.cpu_button = QPushButton("Resume on the CPU")
        self.retry_button = QPushButton("Resume")
        for b in (self.smaller_batch_button, self.cpu_button, self.retry_button):
            b.hide()
            msg.addWidget(b)
        layout.addLayout(msg)
        split = QSplitter(Qt.Orientation.Horizontal)
        self.plots = TrainingPlots()
        split.addWidget(self.plots)
        self.preview = PreviewPanel()
        split.addWidget(self.preview)
        split.setSizes([800, 360])
        layout.addWidget(split, 1)

    # -- the run ---------------------------------------------------------------------------
    def show_starting(self, name: str) -> None:
        self.state_label.setText(f"Starting {name}\u2026")
        self.step_label.setText("")
        self.rate_label.setText("")
        self.eta_label.setText("")
        self.targets_label.setText("")

    def update_buttons(self, running: bool, state: str) -> None:
        self.pause_button.setEnabled(running and state == "training")
        self.resume_button.setEnabled(running and state == "paused")
        self.stop_button.setEnabled(running and state in ("starting", "training",
                                                          "paused"))

    def show_record(self, rec: dict, run: RunInfo | None) -> None:
        """Show one record of the run (``error`` and ``done`` are the window's)."""
        kind = rec.get("kind")
        step = int(rec.get("step", 0) or 0)
        if kind == "data":
            self.state_label.setText(f"Reading your files: {rec.get('done', 0)} of "
                                     f"{rec.get('total', 0)}")
        elif kind == "start":
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
            self.state_label.setText(f"Paused at step {step:,}")
        elif kind == "resumed":
            self.state_label.setText(f"Training (resumed at step {step:,})")
        elif kind == "checkpoint":
            self.state_label.setToolTip(f"Saved at step {step:,} ({rec.get('reason', '')})")
        elif kind == "conductor":
            self.state_label.setText(_conductor_text(rec))

    def show_done(self, reason: str, step: int, seconds: float | None, model: str) -> None:
        self.eta_label.setText("")
        if reason == "stop":
            # a run stopped early is kept, but not put in the user's hands unasked
            where = (f"saved as {Path(model).name!r}: pick it as the Style in the Generate "
                     "panel to try it, or resume the run to train it further")
        else:
            where = f"the model {Path(model).name!r} is now the Generate panel's Style"
        self.state_label.setText(f"{'Stopped' if reason == 'stop' else 'Done'} at step "
                                 f"{step:,} after {_fmt_seconds(seconds)}: {where}")

    # -- messages --------------------------------------------------------------------------
    def show_message(self, text: str, oom: bool = False, retry: bool = False) -> None:
        self.message_label.setText(text)
        self.smaller_batch_button.setVisible(oom)
        self.cpu_button.setVisible(oom)
        self.retry_button.setVisible(retry and not oom)

    def hide_message(self) -> None:
        self.message_label.setText("")
        for b in (self.smaller_batch_button, self.cpu_button, self.retry_button):
            b.hide()


def _conductor_text(rec: dict) -> str:
    """The state line of the conductor stage (the judge trained after the generator)."""
    phase = rec.get("phase")
    if phase == "start":
        return (f"Training the conductor (the judge that guides generation) on "
                f"{rec.get('train_songs', 0)} of your songs, for up to "
                f"{rec.get('minutes', 0):g} min")
    auc = rec.get("validation_auc")
    if phase == "done":
        return (f"Conductor trained: it tells your validation songs from the model's "
                f"with AUC {auc:.2f}" if isinstance(auc, (int, float)) else "Conductor trained")
    return "Training the conductor: " + str(rec.get("message", ""))
