"""The Generate panel's pickers that fill and remember themselves: the Style picker (the
shipped and user models, read from their config files only, never torch, the one last
used picked again), the Melody picker (the
song's tracks, keeping the pick while its track exists), and what generating again does
(ask, replace or add; remembered), with the question asked when it is "ask", how
hard the conductor steers sampling (remembered), and the panel's word-wrapped style text
that is never cut.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QMessageBox, QWidget

from composer_gui import settings
from composer_gui.core.song import Song

LAST_MODEL = settings.declare("generate/model", str, "", "model folder last used to generate")
REGENERATE_MODE = settings.declare("generate/mode", str, "ask",
                                   "generating again: ask, replace or add")
MODES = (("ask", "Ask"), ("replace", "Replace the generated parts"),
         ("add", "Add new parts alongside"))
GUIDANCE = settings.declare("generate/guidance", str, "light",
                            "the conductor's guidance while generating: off, light or strong")
LEVELS = (("off", "Off (the plain network)"), ("light", "Light"), ("strong", "Strong (slower)"))


class ConductorPicker(QComboBox):
    """How hard the conductor (the critic trained after the generator) steers sampling:
    each variation is sampled several times per window and the conductor keeps the best;
    remembered across runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conductor_combo")
        for key, label in LEVELS:
            self.addItem(label, key)
        self.setToolTip("How hard the conductor steers the generator, window by window: "
                        "light samples each window 4 times and keeps the one it judges most "
                        "real, strong 16 times. Styles without a conductor play it off.")
        keys = [key for key, _ in LEVELS]
        saved = settings.get(GUIDANCE)
        self.setCurrentIndex(keys.index(saved) if saved in keys else 1)
        self.currentIndexChanged.connect(lambda _i: settings.put(GUIDANCE, self.level()))

    def level(self) -> str:
        return self.currentData()


class ModelPicker(QComboBox):
    """The Style picker: one item per usable model, its data the model's registry entry."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("model_combo")

    def refresh(self) -> None:
        """List shipped and user models (reads config files only; no torch)."""
        from composer_gui.ml.model.registry import list_models

        self.blockSignals(True)
        self.clear()
        last = settings.get(LAST_MODEL)
        pick = 0
        for entry in list_models():
            if entry.error:
                continue
            label = entry.name if entry.source == "shipped" else f"{entry.name} (yours)"
            self.addItem(label, entry)
            if str(entry.path) == last:
                pick = self.count() - 1
        self.blockSignals(False)
        if self.count():
            self.setCurrentIndex(pick)

    def select(self, name: str) -> bool:
        """Pick a model by name or by its folder's path (a user model of a shipped
        model's name is told apart by its path)."""
        for i in range(self.count()):
            entry = self.itemData(i)
            if name in (entry.name, str(entry.path)):
                self.setCurrentIndex(i)
                return True
        return False


class MelodyPicker(QComboBox):
    """The Melody picker: one item per track of the song, its data the track's index."""

    def set_song(self, song: Song) -> None:
        """List the tracks of ``song``; the pick stays while its track exists, else the
        melody track (by role), else the first track with notes (no signal fires)."""
        current = self.currentData()
        self.blockSignals(True)
        self.clear()
        for i, track in enumerate(song.tracks):
            self.addItem(f"{i + 1}: {track.name or 'Track'}", i)
        default = song.track_index_by_role("melody")
        if default is None:
            default = next((i for i, t in enumerate(song.tracks) if t.notes), 0)
        keep = current if isinstance(current, int) and current < len(song.tracks) else default
        self.setCurrentIndex(keep if song.tracks else -1)
        self.blockSignals(False)

    def track_index(self) -> int:
        """The picked track (0 when there is none)."""
        data = self.currentData()
        return data if isinstance(data, int) else 0


class RegenerateModePicker(QComboBox):
    """What generating again does (``MODES``; its data the key), kept in the settings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for key, label in MODES:
            self.addItem(label, key)
        saved = settings.get(REGENERATE_MODE)
        self.setCurrentIndex(max(0, [k for k, _ in MODES].index(saved)
                                 if saved in dict(MODES) else 0))
        self.currentIndexChanged.connect(
            lambda _i: settings.put(REGENERATE_MODE, self.currentData()))


def ask_regenerate_mode(parent: QWidget) -> str | None:
    """Ask whether generating again replaces the generated parts or adds new ones:
    "replace", "add", or None when cancelled."""
    box = QMessageBox(QMessageBox.Icon.Question, "Generate again",
                      "Replace the generated parts, or add new ones alongside?",
                      QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("regenerate_prompt")
    replace = box.addButton("Replace", QMessageBox.ButtonRole.AcceptRole)
    add = box.addButton("Add alongside", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.clickedButton()
    if clicked is replace:
        return "replace"
    if clicked is add:
        return "add"
    return None


class WrappedLabel(QLabel):
    """A word-wrapped label never shorter than its text needs at its width: in a form
    inside a scroll area the layout does not ask labels for their height at their width,
    and a long style text was cut at some panel widths."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)

    def _fit(self) -> None:
        need = self.heightForWidth(max(1, self.width()))
        if need > 0 and need != self.minimumHeight():
            self.setMinimumHeight(need)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit()
