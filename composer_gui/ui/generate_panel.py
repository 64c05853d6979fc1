"""The Generate panel: melody in, accompaniment out, inside the window.

The panel picks a model (with its card's summary and parts), the melody track, the bars
(whole song, loop or selected notes), which parts to (re)generate, seed, number of
candidates, density, dynamics, variation strength and the conductor's guidance. It runs
on :mod:`composer_gui.workers.generation` (torch never on the GUI thread); the result
lands as **one undo step** (worked out in ``ui/generate_plan.py``):

* no generated parts yet (or "add alongside"): new tracks named by role with their GM
  programs, after the existing ones; the melody is never touched;
* parts already there ("replace"): only the chosen bars of the chosen, unlocked parts are
  rewritten (the model inpaints them with everything else, hand edits included, as
  context); a locked track (``Track.locked``) is never overwritten.

Variations (``ui/generate_variations.py``): the K candidates come back ranked by the
conductor; next / previous swaps the shown one in the same undo step, and the label says
how real the conductor judged it. Pickers: ``ui/generate_pickers.py``; the dock and menu:
``ui/generate_menu.py``.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from composer_gui import settings
from composer_gui.core.edits import SetTrackProperties
from composer_gui.ui.document import Document
from composer_gui.ui.generate_pickers import (
    LAST_MODEL,
    ConductorPicker,
    MelodyPicker,
    ModelPicker,
    RegenerateModePicker,
    WrappedLabel,
    ask_regenerate_mode,
)
from composer_gui.ui.generate_plan import (
    GenerationPlan,
    alongside_suffix,
    bars_of_span,
    instrument_changes,
    job_input,
    other_style_parts,
    region_of,
    role_targets,
)
from composer_gui.ui.generate_variations import Variations, verdict
from composer_gui.ui.style_text import STYLE_SAMPLES, ModelCardDialog, sample_title, style_summary

log = logging.getLogger(__name__)

#: Candidates drawn per variation asked for when only part of the song is regenerated.
PARTIAL_TRIES = 4
RANGES = (("song", "Whole song"), ("loop", "Loop range"), ("selection", "Bars of the selection"))


class GeneratePanel(QWidget):
    """See the module docstring. ``generation_applied`` fires after a result landed."""

    generation_applied = Signal(int)  # candidate index shown
    generation_failed = Signal(str)
    status_changed = Signal(str)
    #: A result arrived from the worker (job id), just before it is put into the song.
    result_received = Signal(int)
    #: The worker stopped a cancelled job (job id); the panel was idle already.
    cancel_confirmed = Signal(int)
    #: The user asked to open a sample melody (its path) to try the style on.
    sample_requested = Signal(str)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._thread = None  # GenerationThread, created on first use
        #: Models whose training data is not here (no "how real" percentile for them).
        self._no_reference: set[str] = set()
        self._job_id = 0
        self._running = False
        self._shut_down = False
        #: The candidates of the last generation, flipped through with next / previous.
        self.variations = Variations(document)
        self._device_name = ""
        #: What the status adds after a result (another style's parts kept, ...).
        self._note = ""
        #: The song a partial regeneration was asked on (to tell a repeat of its notes).
        self._asked_on = None
        self._build()
        document.tracks_changed.connect(self._refresh_tracks)
        document.song_replaced.connect(self._refresh_tracks)
        document.song_replaced.connect(self._on_song_replaced)
        document.undo_stack.indexChanged.connect(self._update_variation_buttons)
        self.refresh_models()
        self._refresh_tracks()

    # -- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        # The panel scrolls rather than squeezes: squeezed, its word-wrapped texts gave up
        # height whenever the status changed, and every row below them jumped under the
        # mouse (issue 21). What changes while generating sits at the bottom, in rows of
        # fixed height.
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        scroll.setWidget(inner)
        outer.addWidget(scroll)
        self.scroll_area = scroll
        layout = QVBoxLayout(inner)
        form = QFormLayout()
        self.model_combo = ModelPicker()
        self.model_combo.currentIndexChanged.connect(self._on_model_changed)
        form.addRow("Style", self.model_combo)
        self.card_label = WrappedLabel()
        self.card_label.setObjectName("style_text")
        form.addRow(self.card_label)
        links = QHBoxLayout()
        self.card_button = QPushButton("Model card\u2026")
        self.card_button.setToolTip("The model card: its data, training and measures")
        self.card_button.clicked.connect(self.show_model_card)
        self.sample_button = QPushButton()
        self.sample_button.clicked.connect(self._on_sample_clicked)
        links.addWidget(self.card_button)
        links.addWidget(self.sample_button)
        links.addStretch(1)
        form.addRow(links)
        self.card_dialog: ModelCardDialog | None = None
        self.melody_combo = MelodyPicker()
        form.addRow("Melody", self.melody_combo)
        self.range_combo = QComboBox()
        for key, label in RANGES:
            self.range_combo.addItem(label, key)
        form.addRow("Bars", self.range_combo)
        self.role_list = QListWidget()
        self.role_list.setMaximumHeight(90)
        self.role_list.setToolTip("Parts to generate; a locked track is never overwritten")
        form.addRow("Parts", self.role_list)
        self.lock_button = QPushButton("Lock current track")
        self.lock_button.setCheckable(True)
        self.lock_button.clicked.connect(self._on_lock_clicked)
        self.document.state.current_track_changed.connect(lambda _i: self._refresh_lock_button())
        form.addRow(self.lock_button)
        self.seed_spin = QSpinBox(minimum=0, maximum=999_999)
        form.addRow("Seed", self.seed_spin)
        self.candidates_spin = QSpinBox()
        self.candidates_spin.setRange(1, 64)
        self.candidates_spin.setValue(4)
        self.candidates_spin.setToolTip("Variations generated at once, ranked by the conductor")
        form.addRow("Variations", self.candidates_spin)
        self.density_slider = self._slider(50, "Sparser \u2194 busier")
        form.addRow("Density", self.density_slider)
        self.dynamics_slider = self._slider(50, "Flat \u2194 strong accents")
        form.addRow("Dynamics", self.dynamics_slider)
        self.variation_slider = self._slider(50, "How far the generator strays (noise scale)")
        form.addRow("Variation", self.variation_slider)
        self.conductor_combo = ConductorPicker()
        form.addRow("Conductor", self.conductor_combo)
        self.device_combo = QComboBox()
        self.device_combo.addItems(["auto", "cpu", "cuda", "mps"])
        form.addRow("Device", self.device_combo)
        self.device_label = QLabel("loads on the first Generate")
        form.addRow("", self.device_label)
        self.mode_combo = RegenerateModePicker()
        form.addRow("Again", self.mode_combo)
        layout.addLayout(form)
        layout.addStretch(1)
        # the footer stays in view under the scrolling settings: Generate, the
        # variations and what happened are always where the eye left them
        footer = QWidget()
        layout = QVBoxLayout(footer)
        layout.setContentsMargins(9, 4, 9, 9)
        outer.addWidget(footer)

        row = QHBoxLayout()
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Generate accompaniment (Ctrl+G)")
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.generate_button)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        layout.addWidget(self.progress)
        row = QHBoxLayout()
        self.prev_button = QPushButton("\u25c0")
        self.prev_button.setToolTip("Previous variation")
        self.prev_button.clicked.connect(lambda: self.show_variation(self.variations.shown - 1))
        self.next_button = QPushButton("\u25b6")
        self.next_button.setToolTip("Next variation")
        self.next_button.clicked.connect(lambda: self.show_variation(self.variations.shown + 1))
        self.keep_button = QPushButton("Keep")
        self.keep_button.setToolTip("Keep this variation (ends flipping)")
        self.keep_button.clicked.connect(self.keep)
        for b in (self.prev_button, self.next_button, self.keep_button):
            row.addWidget(b)
        # a clicked button that disables itself (Generate, Keep) would hand the focus on,
        # and the scroll area would scroll to the new focus: the panel jumped under the mouse
        for b in (self.generate_button, self.cancel_button, self.prev_button,
                  self.next_button, self.keep_button):
            b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        layout.addLayout(row)
        self.variation_label = self._fixed_label(2)
        layout.addWidget(self.variation_label)
        self.status_label = self._fixed_label(5)
        self.status_label.setObjectName("generate_status")
        layout.addWidget(self.status_label)
        self._update_variation_buttons()
        scroll.setMinimumWidth(inner.minimumSizeHint().width()
                               + scroll.verticalScrollBar().sizeHint().width())

    def _fixed_label(self, lines: int) -> QLabel:
        """A word-wrapped label of ``lines`` lines' height whatever its text (longer text
        shows in full in its tooltip)."""
        label = QLabel()
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        label.setFixedHeight(label.fontMetrics().lineSpacing() * lines + 4)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _slider(self, value: int, tip: str) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(0, 100)
        slider.setValue(value)
        slider.setToolTip(tip)
        return slider

    # -- models and tracks --------------------------------------------------------------------
    def refresh_models(self) -> None:
        """List shipped and user models (reads config files only; no torch)."""
        self.model_combo.refresh()
        self._on_model_changed()

    def select_model(self, name: str) -> bool:
        """Pick a model by name or by its folder's path (a user model of a shipped
        model's name is told apart by its path)."""
        return self.model_combo.select(name)

    def current_model(self):
        return self.model_combo.currentData()

    def _on_model_changed(self, *_args) -> None:
        entry = self.current_model()
        self.role_list.clear()
        if entry is None:
            self.card_label.setText("No models found. Train one with `composer-gui train`.")
            self.generate_button.setEnabled(False)
            return
        self.generate_button.setEnabled(not self._running)
        self.card_label.setText(self._style_text(entry))
        sample = self._sample_for(entry)
        self.sample_button.setVisible(sample is not None)
        if sample is not None:
            self.sample_button.setText(f"Try it on \u201c{sample_title(sample.stem)}\u201d")
            self.sample_button.setToolTip(f"Open the sample melody {sample.name}")
        for role in entry.roles:
            item = QListWidgetItem(role)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.role_list.addItem(item)
        self._refresh_lock_marks()

    def _style_text(self, entry) -> str:
        from composer_gui.ml.model.checkpoint import read_config

        try:
            return style_summary(read_config(entry.path), entry.source)
        except Exception as exc:  # noqa: BLE001 - a broken folder says so; Generate says more
            return f"Cannot read this model: {exc}"

    def _sample_for(self, entry):
        from composer_gui.ui.sample_melodies import sample_melodies

        stem = STYLE_SAMPLES.get(entry.style)
        return next((p for p in sample_melodies() if p.stem == stem), None)

    def show_model_card(self) -> None:
        """Show the current model's card (its README) in a window of its own."""
        entry = self.current_model()
        if entry is None:
            return
        if self.card_dialog is not None:
            self.card_dialog.close()
            self.card_dialog.deleteLater()
        self.card_dialog = ModelCardDialog(entry.path, self)
        self.card_dialog.show()

    def _on_sample_clicked(self) -> None:
        entry = self.current_model()
        sample = self._sample_for(entry) if entry is not None else None
        if sample is not None:
            self.sample_requested.emit(str(sample))

    def _refresh_tracks(self, *_args) -> None:
        self.melody_combo.set_song(self.document.song)
        self._refresh_lock_marks()
        self._refresh_lock_button()

    def _on_song_replaced(self) -> None:
        """Another song was opened: a running job or live variations belong to the old one."""
        self.cancel()
        self.variations.drop()
        self._update_variation_buttons()

    def _refresh_lock_marks(self) -> None:
        entry = self.current_model()
        if entry is None:
            return
        targets = self._role_targets(entry.roles, self.melody_index())
        song = self.document.song
        for r in range(self.role_list.count()):
            item = self.role_list.item(r)
            idx = targets.get(r)
            locked = idx is not None and song.tracks[idx].locked
            item.setText(entry.roles[r] + (" (locked)" if locked else ""))

    def _refresh_lock_button(self) -> None:
        song = self.document.song
        i = self.document.state.current_track
        ok = 0 <= i < len(song.tracks)
        self.lock_button.setEnabled(ok)
        self.lock_button.setChecked(ok and song.tracks[i].locked)

    def _on_lock_clicked(self, checked: bool) -> None:
        i = self.document.state.current_track
        if 0 <= i < len(self.document.song.tracks):
            self.document.push(SetTrackProperties(
                i, "Lock track" if checked else "Unlock track", locked=checked))

    def melody_index(self) -> int:
        return self.melody_combo.track_index()

    def _specs(self) -> list:
        """The current model's output roles (empty for a broken folder)."""
        from composer_gui.ml.model.checkpoint import read_config

        entry = self.current_model()
        try:
            return read_config(entry.path).output_roles()
        except Exception:  # noqa: BLE001 - a broken folder shows its error on Generate
            return []

    def _role_targets(self, roles: list[str], melody: int) -> dict[int, int]:
        """Document tracks holding each role: exact name, then role (as the sampler maps)."""
        return role_targets(self._specs(), self.document.song, melody)

    # -- generating ------------------------------------------------------------------------
    def _worker(self):
        if self._thread is None:
            from composer_gui.workers.generation import GenerationThread

            self._thread = GenerationThread(self)
            w = self._thread.worker
            w.generated.connect(self._on_generated)
            w.failed.connect(self._on_failed)
            w.cancelled.connect(self._on_cancelled)
            w.progressed.connect(self._on_progressed)
            w.model_loaded.connect(self._on_model_loaded)
            w.warned.connect(self._on_warned)
            w.percentiles_ready.connect(self._on_percentiles_ready)
        return self._thread.worker

    def _bars(self) -> tuple[int, int] | None:
        """1-based inclusive bars of the chosen range (None: whole song)."""
        kind = self.range_combo.currentData()
        state = self.document.state
        if kind == "loop" and state.loop[1] > state.loop[0]:
            lo, hi = state.loop
        elif kind == "selection" and state.selection:
            lo = min(n.start for n in state.selection)
            hi = max(n.end for n in state.selection)
        else:
            return None
        return bars_of_span(self.document.song, lo, hi)

    def _set_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text)
        self.status_changed.emit(text)

    def generate(self) -> None:
        """Start a generation with the panel's settings (the Generate button)."""
        from composer_gui.workers.generation import GenerateJob

        if self._running:
            return
        entry = self.current_model()
        song = self.document.song
        if entry is None:
            self._fail("No model to generate with.")
            return
        melody = self.melody_index()
        if not song.tracks or not song.tracks[melody].notes:
            self._fail("The melody track has no notes: play, draw or open a melody first.")
            return
        roles = list(entry.roles)
        chosen = [r for r in range(self.role_list.count())
                  if self.role_list.item(r).checkState() == Qt.CheckState.Checked]
        if not chosen:
            self._fail("Tick at least one part to generate.")
            return
        specs = self._specs()
        targets = role_targets(specs, song, melody)
        foreign = other_style_parts(specs, song, melody, targets)
        bars = self._bars()
        mode = "update" if targets or foreign else "add"
        if targets or foreign:
            wanted = self.mode_combo.currentData()
            if wanted == "ask":
                wanted = ask_regenerate_mode(self)
                if wanted is None:
                    return
            mode = "update" if wanted == "replace" else "add"
        suffix = ""
        self._note = ""
        if mode == "add":
            targets, foreign = {}, []
            suffix = alongside_suffix(song, roles)
        # another style's parts: replaced whole (a locked one stays), and the parts both
        # styles write take this style's instrument
        remove = [i for i in foreign if not song.tracks[i].locked] if bars is None else []
        retarget = instrument_changes(specs, song, targets) if foreign else {}
        kept = [song.tracks[i].name for i in foreign if i not in remove]
        if kept:
            self._note = (f" Kept {', '.join(kept)} of another style"
                          + (" (locked)." if bars is None else
                             ": generate the whole song to replace them."))
        locked = [r for r, i in targets.items() if song.tracks[i].locked]
        regenerate = [r for r in chosen if r not in locked]
        if not regenerate:
            self._fail("Every chosen part is on a locked track: unlock one to regenerate it.")
            return
        plan = GenerationPlan(mode, roles, regenerate, targets, region_of(song, bars), suffix,
                              foreign, remove, retarget)
        self.variations.plan = plan
        job_song, tracks_arg, melody_arg = job_input(song, plan, melody)
        self._job_id += 1
        wanted = self.candidates_spin.value()
        self.variations.wanted = wanted
        # a few bars or parts: the network is often sure of them, so many candidates come
        # out equal; ask for more and offer the distinct ones (a few ms more)
        partial = mode == "update" and (bars is not None or len(regenerate) < len(roles))
        self._asked_on = song.copy() if partial else None
        job = GenerateJob(
            job_id=self._job_id, folder=entry.path, song=job_song, melody_track=melody_arg,
            seed=self.seed_spin.value(),
            candidates=min(64, wanted * PARTIAL_TRIES) if partial else wanted,
            bars=bars, tracks=tracks_arg, density=self.density_slider.value() / 100,
            dynamics=self.dynamics_slider.value() / 100,
            variation=self.variation_slider.value() / 50, device=self.device_combo.currentText(),
            guidance=self.conductor_combo.level())
        settings.put(LAST_MODEL, str(entry.path))
        self._running = True
        self.generate_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)  # busy until the first progress record
        self._set_status("Loading the model\u2026" if self._thread is None
                         else "Generating\u2026")
        self.variations.job = job
        self._worker().request_generate(job)

    def cancel(self) -> None:
        """Stop the running generation; the window is idle again at once."""
        if not self._running:
            return
        if self._thread is not None:
            self._thread.worker.cancel()
        self._job_id += 1  # a late result of the cancelled job is ignored
        self._finish("Cancelled.")

    def _finish(self, text: str) -> None:
        self._running = False
        self.generate_button.setEnabled(self.current_model() is not None)
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self._set_status(text)

    def _fail(self, text: str) -> None:
        self._set_status(text)
        self.generation_failed.emit(text)

    # -- worker answers --------------------------------------------------------------------------
    def _on_progressed(self, job_id: int, done: int, total: int) -> None:
        if job_id == self._job_id and self._running:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _on_model_loaded(self, info) -> None:
        self._device_name = info.device
        self.device_label.setText(info.device)
        self._set_status(f"Model loaded in {info.seconds:.1f} s on {info.device}; generating\u2026")

    def _on_warned(self, text: str) -> None:
        self._set_status(text)

    def _on_percentiles_ready(self, job_id: int, percentiles: list | None) -> None:
        model = self.current_model()
        if percentiles is None:
            if model is not None:
                self._no_reference.add(str(model.path))
        elif self.variations.result is not None and self.variations.result.job_id == job_id:
            self.variations.result.percentiles = list(percentiles)
        self._update_variation_buttons()

    def _on_failed(self, job_id: int, text: str) -> None:
        if job_id not in (-1, self._job_id):
            return
        self._finish(text)
        self.generation_failed.emit(text)

    def _on_cancelled(self, job_id: int) -> None:
        self.cancel_confirmed.emit(job_id)
        if job_id == self._job_id and self._running:
            self._finish("Cancelled.")

    def _on_generated(self, result) -> None:
        if result.job_id != self._job_id or not self._running:
            return
        self.result_received.emit(result.job_id)
        self.variations.take(result, self._asked_on)
        why = self.variations.why_few(self.variations.job.bars)
        self._finish(f"Generated in {result.seconds:.2f} s on {result.device}."
                     + ("".join(f" {w}" for w in result.warnings)) + self._note
                     + (f" {why}" if why else ""))
        self.device_label.setText(result.device)
        self.show_variation(0)

    # -- variations ------------------------------------------------------------------------------
    def variation_count(self) -> int:
        return self.variations.count()

    def show_variation(self, k: int) -> None:
        """Show candidate ``k`` (0 = the conductor's favourite) in place of the shown one."""
        if self.variations.show(k):
            self._update_variation_buttons()
            self.generation_applied.emit(self.variations.shown)

    def keep(self) -> None:
        """Keep the shown variation: flipping ends; the verdict on it stays in view."""
        kept = self.variation_label.text()
        self.variations.drop()
        self._update_variation_buttons()
        if kept.startswith("Variation"):
            self.variation_label.setText("Kept v" + kept[1:])
        self._set_status("Kept. Generate again for new variations.")

    def _update_variation_buttons(self, *_args) -> None:
        variations = self.variations
        live = variations.live()
        n = variations.count()
        shown = variations.shown
        self.prev_button.setEnabled(live and shown > 0)
        self.next_button.setEnabled(live and shown < n - 1)
        self.keep_button.setEnabled(live)
        if variations.result is None:
            self.variation_label.setText("")
            return
        if not live:
            self.variation_label.setText("Edited since: generate again for new variations.")
            return
        model = self.current_model()
        no_reference = model is not None and str(model.path) in self._no_reference
        judged = verdict(variations.result, variations.percentile_index(shown), no_reference)
        self.variation_label.setText(f"Variation {shown + 1} of {n}: {judged}.")

    # -- life cycle -----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the worker thread (the window is closing)."""
        self.variations.result = None
        if not self._shut_down:
            self._shut_down = True
            self.document.undo_stack.indexChanged.disconnect(self._update_variation_buttons)
        if self._thread is not None:
            self._thread.stop()
            self._thread = None
