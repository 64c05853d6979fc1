"""The scan half of the Fine-tune window: sources, progress, summary, rules, the table.

:class:`ScanPage` scans the chosen folders / files against the base model's config on a
thread (:class:`~composer_gui.workers.finetune.ScanJob`), shows the files found, usable
and skipped (with reasons, listed by the Show filter), and lets the user change the melody
or part tracks per file (double-click a cell) or for every file by a rule. It reports
``changed`` whenever what Start depends on changes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from composer_gui.ui.finetune.scan_table import RULES, ScanFilter, ScanModel, TrackDelegate
from composer_gui.workers.finetune import ScanJob


class ScanPage(QWidget):
    """See the module docstring. ``result`` is the last finished scan (or None)."""

    scan_finished = Signal(object)  # ScanResult
    sources_changed = Signal(list)
    #: The result, a file's choices or the scanning state changed.
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sources: list[str] = []
        self.scan_job: ScanJob | None = None
        self.result = None
        self.config = None
        self.model = ScanModel(self)
        self.model.choices_changed.connect(self._on_choices_changed)
        self._build()

    @property
    def scanning(self) -> bool:
        return self.scan_job is not None

    def set_config(self, config) -> None:
        """The base model's config; a finished scan is redone (verdicts depend on the
        model's parts and meters)."""
        self.config = config
        self.rule_part.clear()
        self.rule_part.addItem("Melody", "melody")
        for name in config.role_names() if config else []:
            self.rule_part.addItem(name, name)
        if self.result is not None and self.sources:
            self.start_scan()
        else:
            self.changed.emit()

    def _build(self) -> None:
        left = QVBoxLayout(self)
        left.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.add_folder_button = QPushButton("Add Folder\u2026")
        self.add_folder_button.clicked.connect(self._on_add_folder_clicked)
        self.add_files_button = QPushButton("Add Files\u2026")
        self.add_files_button.clicked.connect(self._on_add_files_clicked)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(lambda: self.set_sources([]))
        self.scan_button = QPushButton("Scan")
        self.scan_button.clicked.connect(self.start_scan)
        self.cancel_scan_button = QPushButton("Cancel Scan")
        self.cancel_scan_button.clicked.connect(self._on_cancel_clicked)
        self.cancel_scan_button.setEnabled(False)
        for b in (self.add_folder_button, self.add_files_button, self.clear_button,
                  self.scan_button, self.cancel_scan_button):
            row.addWidget(b)
        row.addStretch(1)
        left.addLayout(row)
        self.sources_label = QLabel("Add a folder of your MIDI files (or single files).")
        self.sources_label.setWordWrap(True)
        left.addWidget(self.sources_label)
        self.scan_progress = QProgressBar()
        # no "0 / 100 files" before there is a folder: the count shows once a scan runs
        self.scan_progress.setFormat("")
        self.scan_progress.setValue(0)
        left.addWidget(self.scan_progress)
        self.counts_label = QLabel("")
        self.counts_label.setObjectName("counts_label")
        left.addWidget(self.counts_label)
        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        left.addWidget(self.summary_label)

        rules = QHBoxLayout()
        rules.addWidget(QLabel("Set"))
        self.rule_part = QComboBox()
        rules.addWidget(self.rule_part)
        rules.addWidget(QLabel("to the"))
        self.rule_kind = QComboBox()
        for key, label in RULES:
            self.rule_kind.addItem(label, key)
        rules.addWidget(self.rule_kind)
        self.rule_text = QLineEdit()
        self.rule_text.setPlaceholderText("part of a track name")
        rules.addWidget(self.rule_text, 1)
        self.rule_button = QPushButton("Apply to All Files")
        self.rule_button.clicked.connect(self._on_rule_clicked)
        rules.addWidget(self.rule_button)
        left.addLayout(rules)

        show = QHBoxLayout()
        show.addWidget(QLabel("Show"))
        self.filter_combo = QComboBox()
        for key, label in ScanFilter.MODES:
            self.filter_combo.addItem(label, key)
        show.addWidget(self.filter_combo)
        show.addStretch(1)
        left.addLayout(show)
        self.proxy = ScanFilter(self)
        self.proxy.setSourceModel(self.model)
        self.filter_combo.currentIndexChanged.connect(
            lambda _i: self.proxy.set_mode(self.filter_combo.currentData()))
        self.table = QTableView()
        self.table.setObjectName("scan_table")
        self.table.setModel(self.proxy)
        self.table.setItemDelegate(TrackDelegate(self.model, self.proxy, self.table))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.SelectedClicked)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setDefaultAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        # column widths from the first rows only: measuring 1,000 rows took 0.6 s
        self.table.horizontalHeader().setResizeContentsPrecision(40)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 8)
        left.addWidget(self.table, 1)

    def _on_add_folder_clicked(self) -> None:
        from composer_gui.ui.files import remember_folder, start_folder

        folder = QFileDialog.getExistingDirectory(self, "Folder of MIDI files",
                                                  str(start_folder()))
        if folder:
            remember_folder(folder)
            self.set_sources([*self.sources, folder])

    def _on_add_files_clicked(self) -> None:
        from composer_gui.ui.files import MIDI_FILTER, remember_folder, start_folder

        files, _ = QFileDialog.getOpenFileNames(self, "MIDI files", str(start_folder()),
                                                MIDI_FILTER)
        if files:
            remember_folder(files[0])
            self.set_sources([*self.sources, *files])

    def set_sources(self, paths: list[str], scan: bool = True) -> None:
        """Use these folders / files; scans them at once (unless ``scan`` is False)."""
        self.sources = [str(p) for p in paths]
        if not self.sources:
            self.sources_label.setText("Add a folder of your MIDI files (or single files).")
            self.cancel_scan()
            self.result = None
            self.model.set_result(None, self.config)
            self.counts_label.setText("")
            self.summary_label.setText("")
            self.scan_progress.setFormat("")
            self.scan_progress.setValue(0)
            self.changed.emit()
            return
        shown = ", ".join(Path(p).name or p for p in self.sources[:4])
        more = f" and {len(self.sources) - 4} more" if len(self.sources) > 4 else ""
        self.sources_label.setText(f"From: {shown}{more}")
        self.sources_changed.emit(list(self.sources))
        if scan:
            self.start_scan()

    def start_scan(self) -> None:
        """Scan the sources against the base model on a thread."""
        if not self.sources or self.config is None:
            return
        self.cancel_scan()
        job = ScanJob(list(self.sources), self.config, self)
        job.progressed.connect(self._on_scan_progressed)
        job.finished.connect(self._on_scan_finished)
        job.failed.connect(self._on_scan_failed)
        self.scan_job = job
        self.scan_progress.setRange(0, 0)  # busy until the first count arrives
        self.scan_progress.setFormat("%v / %m files")
        self.counts_label.setText("Looking for MIDI files\u2026")
        self.cancel_scan_button.setEnabled(True)
        self.scan_button.setEnabled(False)
        self.changed.emit()
        job.start()

    def cancel_scan(self) -> None:
        job, self.scan_job = self.scan_job, None
        if job is not None:
            job.cancel()
            job.progressed.disconnect(self._on_scan_progressed)
            job.finished.disconnect(self._on_scan_finished)
            job.failed.disconnect(self._on_scan_failed)
            if job.wait(5):  # it stops after the file in hand (milliseconds)
                job.deleteLater()
            self.changed.emit()
        self.cancel_scan_button.setEnabled(False)
        self.scan_button.setEnabled(True)

    def _on_cancel_clicked(self) -> None:
        """The user stopped the scan: nothing half-scanned is offered for training."""
        done, total = self.scan_progress.value(), self.scan_progress.maximum()
        self.cancel_scan()
        self.result = None
        self.model.set_result(None, self.config)
        self.summary_label.setText("")
        self.counts_label.setText(f"Scan cancelled after {max(0, done):,} of {total:,} files; "
                                  "press Scan to start again")
        self.changed.emit()

    def _on_scan_progressed(self, done: int, total: int, usable: int, _name: str) -> None:
        if self.sender() is not self.scan_job:
            return
        self.scan_progress.setRange(0, max(1, total))
        self.scan_progress.setValue(done)
        self.counts_label.setText(f"{total:,} MIDI files found, {done:,} scanned: "
                                  f"{usable:,} usable, {done - usable:,} skipped")

    def _end_scan(self) -> bool:
        """Let go of the finished scan job; False when the signal came from an old one."""
        if self.sender() is not self.scan_job:
            return False
        self.scan_job.deleteLater()
        self.scan_job = None
        self.cancel_scan_button.setEnabled(False)
        self.scan_button.setEnabled(True)
        return True

    def _on_scan_failed(self, message: str) -> None:
        if not self._end_scan():
            return
        self.scan_progress.setRange(0, 1)
        self.counts_label.setText(message)
        self.changed.emit()

    def _on_scan_finished(self, result) -> None:
        if not self._end_scan():
            return
        self.result = result
        self.model.set_result(result, self.config)
        self.table.resizeColumnsToContents()
        # the status column (why a file is skipped) is the one a user reads: never cut
        status = self.model.status_column
        header = self.table.horizontalHeader()
        header.resizeSection(status, max(header.sectionSize(status),
                                         self.table.sizeHintForColumn(status)))
        self.scan_progress.setRange(0, max(1, len(result.files)))
        self.scan_progress.setValue(len(result.files))
        self._show_summary()
        self.scan_finished.emit(result)

    def _show_summary(self) -> None:
        if self.result is None:
            return
        s = self.result.summary()
        self.counts_label.setText(
            f"{s['files']:,} files found: {s['usable']:,} usable, {s['skipped']:,} skipped"
            + (" (scan cancelled)" if s["cancelled"] else ""))
        reasons = "; ".join(f"{n} {r}" for r, n in s["reasons"].items())
        meters = ", ".join(f"{m} ({n})" for m, n in s["meters"].items())
        self.summary_label.setText(
            f"{s['train_songs']} songs to train on, {s['validation_songs']} kept apart for "
            f"validation; {s['bars']:,} bars" + (f"; meters: {meters}" if meters else "")
            + (f".\nSkipped: {reasons} (Show: Skipped lists them)" if reasons else "."))
        self.changed.emit()

    def _on_choices_changed(self) -> None:
        # Re-filter after the edit has finished: filtering now would pull the open
        # editor out from under the view while it commits.
        QTimer.singleShot(0, self.proxy.invalidate)
        self._show_summary()

    def _on_rule_clicked(self) -> None:
        if self.result is None:
            return
        part = self.rule_part.currentData()
        rule = self.rule_kind.currentData()
        hits = self.model.apply_rule(part, rule, self.rule_text.text())
        if rule != "auto":
            self.counts_label.setText(self.counts_label.text()
                                      + f" \u2014 rule matched {hits} file(s)")

