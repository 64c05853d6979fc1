"""The transport bar: play / pause / stop, record and arm, count-in, metronome, loop,
follow, and the playhead position.

A standalone widget: buttons emit requests (signals named for what the user did); the
owner runs the players and reports back through the ``set_*`` slots. It holds no song.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QStyle, QToolButton, QWidget

__all__ = ["TransportBar"]

_LIGHT_OFF = "QLabel { color: #888; border: 1px solid #888; border-radius: 3px; padding: 1px; }"
_LIGHT_ON = (
    "QLabel { color: black; background: #5fd35f; border: 1px solid #3a3;"
    " border-radius: 3px; padding: 1px; }"
)


def _button(text: str, tip: str, checkable: bool = False) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setCheckable(checkable)
    button.setAutoRaise(False)
    return button


class TransportBar(QWidget):
    """Transport controls."""

    play_requested = Signal()
    pause_requested = Signal()
    stop_requested = Signal()
    record_requested = Signal()  # start recording (count-in first)
    arm_toggled = Signal(bool)
    count_in_changed = Signal(int)  # bars: 0, 1 or 2
    metronome_toggled = Signal(bool)
    loop_toggled = Signal(bool)
    follow_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = _button("▶", "Play from the playhead (Space)")
        # "⏸" is missing from common fonts (a box was drawn): the style's own icon
        self.pause_button = _button("", "Pause")
        self.pause_button.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPause))
        self.stop_button = _button("■", "Stop and return to the start")
        self.record_button = _button("●", "Record into the armed track (count-in first)")
        self.arm_button = _button("Arm", "Arm recording on the selected track", True)
        self.metronome_button = _button("Click", "Metronome while recording", True)
        self.loop_button = _button("Loop", "Loop the selected range", True)
        self.follow_button = _button("Follow", "Scroll to follow the playhead", True)
        self.count_in = QComboBox()
        self.count_in.addItems(["No count-in", "Count-in 1 bar", "Count-in 2 bars"])
        self.count_in.setCurrentIndex(1)
        self.midi_light = QLabel("MIDI")
        self.midi_light.setToolTip("Lights while MIDI input arrives")
        self.midi_light.setStyleSheet(_LIGHT_OFF)
        self._light_timer = QTimer(self, singleShot=True, interval=150)
        self._light_timer.timeout.connect(lambda: self.midi_light.setStyleSheet(_LIGHT_OFF))
        self.position_label = QLabel("1.1.000")
        self.position_label.setMinimumWidth(80)
        self.metronome_button.setChecked(True)
        self.follow_button.setChecked(True)
        self.record_button.setEnabled(False)  # until a track is armed

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for widget in (self.play_button, self.pause_button, self.stop_button,
                       self.record_button, self.arm_button, self.count_in,
                       self.metronome_button, self.loop_button, self.follow_button,
                       self.position_label, self.midi_light):
            layout.addWidget(widget)
        layout.addStretch(1)

        self.play_button.clicked.connect(self.play_requested)
        self.pause_button.clicked.connect(self.pause_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.record_button.clicked.connect(self.record_requested)
        self.arm_button.toggled.connect(self._on_arm_toggled)
        self.metronome_button.toggled.connect(self.metronome_toggled)
        self.loop_button.toggled.connect(self.loop_toggled)
        self.follow_button.toggled.connect(self.follow_toggled)
        self.count_in.currentIndexChanged.connect(self.count_in_changed)

    @property
    def count_in_bars(self) -> int:
        return self.count_in.currentIndex()

    def _on_arm_toggled(self, armed: bool) -> None:
        self.record_button.setEnabled(armed)
        self.arm_toggled.emit(armed)

    # ------------------------------------------------------------------ slots in

    def set_playing(self, playing: bool) -> None:
        """Show whether the song plays (play disabled while it does)."""
        self.play_button.setEnabled(not playing)
        self.pause_button.setEnabled(playing)

    def set_recording(self, recording: bool) -> None:
        """Show a take in progress (the record button stays down)."""
        self.record_button.setCheckable(True)
        self.record_button.setChecked(recording)
        self.arm_button.setEnabled(not recording)

    def _on_midi_activity(self) -> None:
        """Flash the MIDI light (connect ``LiveInput.activity`` here)."""
        self.midi_light.setStyleSheet(_LIGHT_ON)
        self._light_timer.start()

    @property
    def midi_light_on(self) -> bool:
        return self.midi_light.styleSheet() == _LIGHT_ON

    def set_position_text(self, text: str) -> None:
        """The playhead as the owner formats it ("bar.beat.tick")."""
        self.position_label.setText(text)
