"""The "New model" form of the Fine-tune window's data tab: what the run will be.

:class:`SettingsForm` holds the base model (every readable shipped and user model), the
new model's name, steps or minutes, learning rate, batch size, critic steps, preview and
validation intervals, the device (with what the GPU probe found), Start with the reason
it is disabled, and the list of unfinished runs with Resume Run. It gathers the settings
of a new run (:meth:`SettingsForm.settings`); the window decides when Start is allowed
and connects the controls.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
)

from composer_gui.ml.train.options import TRAIN_DEFAULTS  # declared once, torch-free
from composer_gui.ui.finetune.runs import unfinished_runs

DEFAULT_STEPS = 1000
DEFAULT_PREVIEW_EVERY = 200
#: The red of what the window says is wrong (Start's reason, the run's messages).
ERROR_STYLE = "QLabel { color: #c0392b; }"


class SettingsForm(QGroupBox):
    """See the module docstring."""

    def __init__(self) -> None:
        super().__init__("New model")
        form = QFormLayout(self)
        self.base_combo = QComboBox()
        self.base_combo.setObjectName("base_combo")
        form.addRow("Base model", self.base_combo)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("name_edit")
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
        form.addRow(self.start_button)
        self.start_reason = QLabel("")
        self.start_reason.setObjectName("start_reason")
        self.start_reason.setWordWrap(True)
        self.start_reason.setStyleSheet(ERROR_STYLE)
        form.addRow(self.start_reason)
        self.runs_combo = QComboBox()
        self.runs_combo.setObjectName("runs_combo")
        form.addRow("Unfinished", self.runs_combo)
        self.resume_run_button = QPushButton("Resume Run")
        form.addRow(self.resume_run_button)
        self.setMinimumWidth(330)

    # -- models and runs -------------------------------------------------------------------
    def list_models(self) -> None:
        """Base models: every readable shipped and user model (no torch); the one picked
        stays picked. Lists without a ``currentIndexChanged``."""
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

    def select_base(self, name: str) -> bool:
        for i in range(self.base_combo.count()):
            if self.base_combo.itemData(i).name == name:
                self.base_combo.setCurrentIndex(i)
                return True
        return False

    def list_runs(self, busy: bool) -> None:
        """The unfinished runs (Resume Run is disabled while ``busy``)."""
        self.runs_combo.clear()
        for run in unfinished_runs():
            steps = f" of {run.steps:,}" if run.steps else ""
            self.runs_combo.addItem(f"{run.name} (step {run.step:,}{steps})", run)
        self.resume_run_button.setEnabled(self.runs_combo.count() > 0 and not busy)

    # -- settings --------------------------------------------------------------------------
    def settings(self) -> dict:
        """The new run's settings, as ``train_command`` takes them."""
        return {
            "steps": self.steps_spin.value() if self.steps_radio.isChecked() else None,
            "minutes": self.minutes_spin.value() if self.minutes_radio.isChecked() else None,
            "lr": self.lr_spin.value(), "batch_size": self.batch_spin.value(),
            "critic_steps": self.critic_spin.value(), "device": self.device_combo.currentData(),
            "preview_every": self.preview_spin.value(),
            "validate_every": self.validate_spin.value(),
        }

    def show_start_problem(self, problem: str) -> None:
        """Enable Start, or disable it and say why (``problem``)."""
        self.start_button.setEnabled(not problem)
        self.start_reason.setText(problem[:1].upper() + problem[1:] if problem else "")

    def show_device(self, kind: str, name: str) -> None:
        """Offer the GPU the probe found (``kind``: "cuda", "mps" or none)."""
        if kind == "cuda":
            self.device_combo.addItem(f"GPU: {name}", "cuda")
            self.device_label.setText(f"GPU: {name}")
            self.device_label.setToolTip("Automatic trains on this GPU")
        elif kind == "mps":
            self.device_combo.addItem("Apple GPU", "mps")
            self.device_label.setText("Apple GPU")
        else:
            self.device_label.setText("No GPU found: the CPU trains")
