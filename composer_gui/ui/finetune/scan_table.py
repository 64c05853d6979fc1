"""The scan's results as a table: one row per file, melody and role tracks editable.

:class:`ScanModel` shows a :class:`~composer_gui.ml.data.scan.ScanResult` (file, status or skip
reason, split, bars, meters, melody track, one column per role). Double-clicking a
melody or role cell opens a combo box of the file's tracks (``Automatic`` first); the
choice re-judges the file at once (:func:`composer_gui.ml.data.scan.assess`), so a skipped
file can become usable. :meth:`ScanModel.apply_rule` sets one part for every file by a
rule (a track whose name contains a text, the highest or the lowest track).
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QComboBox, QStyledItemDelegate

from composer_gui.ml.data.scan import FileScan, ScanResult, assess
from composer_gui.ml.model.config import ModelConfig

AUTOMATIC = "Automatic"
#: Columns: these, one per role of the model, then "Status" (the skip reason, long: last).
FIXED_COLUMNS = ("File", "Split", "Bars", "Meters", "Melody")
MELODY_COLUMN = 4
RULES = (("name", "track named\u2026"), ("highest", "highest track"),
         ("lowest", "lowest track"), ("auto", "automatic"))
_SKIPPED = QColor("#c0392b")
_ROOT = QModelIndex()


def track_label(scan: FileScan, index: int | None) -> str:
    if index is None or not 0 <= index < len(scan.tracks):
        return "\u2014"
    return scan.tracks[index].label


class ScanModel(QAbstractTableModel):
    """Rows: scanned files; emits ``choices_changed`` after a user edit."""

    choices_changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.result: ScanResult | None = None
        self.config: ModelConfig | None = None
        self.roles: list[str] = []

    # -- content -------------------------------------------------------------------------
    def set_result(self, result: ScanResult | None, config: ModelConfig | None) -> None:
        self.beginResetModel()
        self.result, self.config = result, config
        self.roles = config.role_names() if config is not None else []
        self.endResetModel()

    def files(self) -> list[FileScan]:
        return self.result.files if self.result is not None else []

    def rowCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.files())

    def columnCount(self, parent=_ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(FIXED_COLUMNS) + len(self.roles) + 1

    @property
    def status_column(self) -> int:
        return len(FIXED_COLUMNS) + len(self.roles)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        columns = [*FIXED_COLUMNS, *self.roles, "Status"]
        return columns[section] if 0 <= section < len(columns) else None

    def role_of_column(self, column: int) -> str | None:
        """'melody', a role name, or None for the read-only columns."""
        if column == MELODY_COLUMN:
            return "melody"
        k = column - len(FIXED_COLUMNS)
        return self.roles[k] if 0 <= k < len(self.roles) else None  # Status: None

    def column_of(self, part: str) -> int:
        return MELODY_COLUMN if part == "melody" else len(FIXED_COLUMNS) + self.roles.index(part)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        f = self.files()[index.row()]
        col = index.column()
        status = self.status_column
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return f.name
            if col == status:
                return "usable" if f.usable else f.reason
            if col == 1:
                return "validation" if f.validation else "training"
            if col == 2:
                return f.bars or ""
            if col == 3:
                return ", ".join(f.meters)
            part = self.role_of_column(col)
            index_ = f.melody if part == "melody" else f.roles.get(part)
            chosen = f.melody_set if part == "melody" else f.roles_set.get(part, False)
            text = track_label(f, index_)
            return text if chosen or not f.tracks else f"{text} (auto)"
        if role == Qt.ItemDataRole.ToolTipRole:
            if col in (0, status):
                return f"{f.path}\n{'usable' if f.usable else f.reason}"
        if role == Qt.ItemDataRole.ForegroundRole and col == status and not f.usable:
            return QBrush(_SKIPPED)
        if role == Qt.ItemDataRole.UserRole:
            return f.usable
        return None

    def flags(self, index: QModelIndex):
        base = super().flags(index)
        if index.isValid() and self.role_of_column(index.column()) is not None:
            if self.files()[index.row()].tracks:
                return base | Qt.ItemFlag.ItemIsEditable
        return base

    def choices(self, f: FileScan) -> tuple[int | None, dict[str, int | None]]:
        """The user's current choices for a file (None = automatic)."""
        melody = f.melody if f.melody_set else None
        roles = {k: v for k, v in f.roles.items() if f.roles_set.get(k)}
        return melody, roles

    def choose(self, row: int, part: str, track: int | None) -> None:
        """Set the melody or a role of one file (None: automatic) and re-judge it."""
        self._rejudge(self.files()[row], part, track)
        self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))
        self.choices_changed.emit()

    def _rejudge(self, f: FileScan, part: str, track: int | None) -> None:
        melody, roles = self.choices(f)
        if part == "melody":
            melody = track
        else:
            roles[part] = track
        assess(f, self.config, melody, roles)

    def apply_rule(self, part: str, rule: str, text: str = "") -> int:
        """Set ``part`` in every file by a rule; returns how many files found a track."""
        hits = 0
        text = text.strip().lower()
        for f in self.files():
            if not f.tracks:
                continue
            pitched = [t for t in f.tracks if t.notes and not t.is_drum]
            track = None
            if rule == "name" and text:
                track = next((t.index for t in f.tracks if t.notes and text in t.name.lower()),
                             None)
            elif rule == "highest" and pitched:
                track = max(pitched, key=lambda t: t.mean_pitch).index
            elif rule == "lowest" and pitched:
                track = min(pitched, key=lambda t: t.mean_pitch).index
            hits += track is not None
            self._rejudge(f, part, track)
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self.rowCount() - 1, self.columnCount() - 1))
        self.choices_changed.emit()
        return hits


class TrackDelegate(QStyledItemDelegate):
    """A combo box of the file's tracks for the melody and role cells."""

    def __init__(self, model: ScanModel, proxy: QSortFilterProxyModel, parent=None) -> None:
        super().__init__(parent)
        self._model = model
        self._proxy = proxy

    def _source(self, index: QModelIndex) -> QModelIndex:
        return self._proxy.mapToSource(index) if index.model() is self._proxy else index

    def createEditor(self, parent, option, index):  # noqa: N802
        src = self._source(index)
        f = self._model.files()[src.row()]
        combo = QComboBox(parent)
        combo.setObjectName("track_combo")
        combo.addItem(AUTOMATIC, None)
        for t in f.tracks:
            combo.addItem(f"{t.label} ({t.notes} notes)", t.index)
        # the choice is committed on Return, Tab or when the focus leaves the combo
        return combo

    def setEditorData(self, editor: QComboBox, index) -> None:  # noqa: N802
        src = self._source(index)
        f = self._model.files()[src.row()]
        part = self._model.role_of_column(src.column())
        chosen = f.melody_set if part == "melody" else f.roles_set.get(part, False)
        current = (f.melody if part == "melody" else f.roles.get(part)) if chosen else None
        editor.setCurrentIndex(max(0, editor.findData(current)))

    def setModelData(self, editor: QComboBox, model, index) -> None:  # noqa: N802
        src = self._source(index)
        part = self._model.role_of_column(src.column())
        self._model.choose(src.row(), part, editor.currentData())


class ScanFilter(QSortFilterProxyModel):
    """Shows all files, only the usable ones or only the skipped ones."""

    MODES = (("all", "All files"), ("usable", "Usable"), ("skipped", "Skipped"))

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.mode = "all"
        # An edit that makes a skipped file usable must not drop its row while the
        # editor commits: the window re-filters after the edit (``invalidate``).
        self.setDynamicSortFilter(False)

    def set_mode(self, mode: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+
            self.beginFilterChange()
            self.mode = mode
            self.endFilterChange()
        else:
            self.mode = mode
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent) -> bool:  # noqa: N802
        if self.mode == "all":
            return True
        usable = self.sourceModel().index(row, 0, parent).data(Qt.ItemDataRole.UserRole)
        return bool(usable) == (self.mode == "usable")
