"""What the Transport dock shows: the transport bar (``ui/transport.py``) above one row of
the MIDI input and output pickers and the recording options (into the selected or a new
track, replace or merge, quantize input), those options kept in the settings. A widget
only: :class:`~composer_gui.ui.live_panels.LivePanels` fills the pickers with the ports it
finds and acts on what is picked.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from composer_gui import settings
from composer_gui.ui.transport import TransportBar

NO_INPUT = "(no MIDI input)"
BUILT_IN = "Built-in sound"
MIDI_UNAVAILABLE = "(MIDI unavailable)"


class TransportDock(QWidget):
    """The transport bar and, below it, the ports and recording options."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.transport = TransportBar()
        self.input_combo = QComboBox()
        self.input_combo.setToolTip("MIDI input (keyboard) to play and record from")
        self.input_combo.addItem(NO_INPUT)
        self.output_combo = QComboBox()
        self.output_combo.setToolTip("Where playback and monitoring sound")
        self.output_combo.addItem(BUILT_IN)
        self.target_combo = QComboBox()
        self.target_combo.addItems(["Into selected track", "Into new track"])
        self.target_combo.setCurrentIndex(int(settings.get(settings.RECORD_INTO_NEW)))
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(["Replace", "Merge"])
        self.mode_combo.setCurrentIndex(int(settings.get(settings.RECORD_MERGE)))
        self.quantize_box = QCheckBox("Quantize input")
        self.quantize_box.setToolTip("Snap recorded onsets to the grid (off: as played)")
        self.quantize_box.setChecked(settings.get(settings.RECORD_QUANTIZE))
        #: why there is no MIDI here (hidden while there is)
        self.midi_label = QLabel()
        self.midi_label.setStyleSheet("QLabel { color: #c0392b; }")
        self.midi_label.setWordWrap(True)
        self.midi_label.hide()
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.addWidget(self.transport)
        row = QHBoxLayout()
        row.setContentsMargins(4, 0, 4, 2)
        for widget in (QLabel("In"), self.input_combo, QLabel("Out"), self.output_combo,
                       self.target_combo, self.mode_combo, self.quantize_box):
            row.addWidget(widget)
        row.addStretch(1)
        rows.addLayout(row)
        rows.addWidget(self.midi_label)
        self.target_combo.currentIndexChanged.connect(
            lambda i: settings.put(settings.RECORD_INTO_NEW, bool(i)))
        self.mode_combo.currentIndexChanged.connect(
            lambda i: settings.put(settings.RECORD_MERGE, bool(i)))
        self.quantize_box.toggled.connect(
            lambda on: settings.put(settings.RECORD_QUANTIZE, on))

    def show_midi_unavailable(self, reason: str) -> None:
        """No MIDI ports at all: say why under the pickers; the input picker is off and
        playback stays on the built-in sound."""
        self.input_combo.clear()
        self.input_combo.addItem(MIDI_UNAVAILABLE)
        self.input_combo.setEnabled(False)
        self.output_combo.clear()
        self.output_combo.addItem(BUILT_IN)
        for combo in (self.input_combo, self.output_combo):
            combo.setToolTip(reason)
        self.midi_label.setText(reason)
        self.midi_label.setToolTip(reason)
        self.midi_label.show()

    def list_inputs(self, inputs: list) -> None:
        """Offer ``inputs`` (after "no input"); nothing is picked yet."""
        self.input_combo.clear()
        self.input_combo.addItems([NO_INPUT, *inputs])

    def show_input(self, port_name: str | None, inputs: list) -> None:
        """Pick the listed input that the open port ``port_name`` is (None: no input)."""
        listed = listed_input(port_name, inputs)
        self.input_combo.setCurrentIndex(inputs.index(listed) + 1
                                         if port_name and listed else 0)

    def list_outputs(self, outputs: list) -> None:
        """Offer ``outputs`` (after the built-in sound); nothing is picked yet."""
        self.output_combo.clear()
        self.output_combo.addItems([BUILT_IN, *outputs])

    def show_output(self, name: str, outputs: list) -> None:
        """Pick output ``name``, one of ``outputs``."""
        self.output_combo.setCurrentIndex(outputs.index(name) + 1)


def listed_input(port_name: str | None, inputs: list) -> str | None:
    """The listed input name an open port corresponds to."""
    if port_name is None:
        return None
    for name in inputs:
        if name == port_name or name in port_name or port_name in name:
            return name
    return None
