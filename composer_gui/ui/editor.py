"""The roll editor: ruler on top, key gutter at the left, velocity lane below the roll."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QSplitter, QWidget

from composer_gui.ui.document import Document
from composer_gui.ui.lanes import KeyGutter, Ruler, VelocityLane
from composer_gui.ui.pianoroll import PianoRoll


class RollEditor(QSplitter):
    """Ruler + key gutter + roll, and the velocity lane under a splitter handle."""

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        from PySide6.QtCore import Qt

        super().__init__(Qt.Orientation.Vertical, parent)
        self.document = document
        self.roll = PianoRoll(document)
        self.ruler = Ruler(self.roll)
        self.gutter = KeyGutter(self.roll)
        self.velocity_lane = VelocityLane(self.roll)
        scrollbar_w = self.roll.verticalScrollBar().sizeHint().width()

        top = QWidget()
        grid = QGridLayout(top)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        grid.addWidget(self.ruler, 0, 1)
        grid.addWidget(self.gutter, 1, 0)
        grid.addWidget(self.roll, 1, 1, 1, 2)
        grid.setColumnMinimumWidth(2, scrollbar_w)
        grid.setRowStretch(1, 1)
        grid.setColumnStretch(1, 1)

        bottom = QWidget()
        lane = QGridLayout(bottom)
        lane.setContentsMargins(0, 0, 0, 0)
        lane.setSpacing(0)
        label = QLabel("Velocity")
        label.setFixedWidth(KeyGutter.WIDTH)
        label.setStyleSheet("font-size: 8pt; color: #9aa0a8; background: #1a1c20;")
        lane.addWidget(label, 0, 0)
        lane.addWidget(self.velocity_lane, 0, 1)
        lane.setColumnMinimumWidth(2, scrollbar_w)
        lane.setColumnStretch(1, 1)

        self.addWidget(top)
        self.addWidget(bottom)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 0)
        self.setSizes([600, 90])
        self.setChildrenCollapsible(False)
