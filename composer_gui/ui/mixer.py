"""The mixer panel: one strip per track (volume, pan, mute, solo) and a master volume.

Standalone: :meth:`MixerPanel.set_tracks` fills it; every user change emits
``mixer_changed(Mixer)`` with the whole new state (an immutable-strip
:class:`~composer_gui.audio.mixer.Mixer`), which the owner passes to the playback
controller (it applies while playing) and keeps for the WAV export.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDial,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from composer_gui.audio.mixer import Mixer, TrackMix

__all__ = ["MixerPanel", "ChannelStrip"]


class ChannelStrip(QWidget):
    """Volume slider, pan dial, mute and solo for one track."""

    strip_changed = Signal(int, object)  # track index, TrackMix

    def __init__(self, index: int, name: str, strip: TrackMix, parent=None) -> None:
        super().__init__(parent)
        self.index = index
        self.name_label = QLabel(name or f"Track {index + 1}")
        self.name_label.setAlignment(Qt.AlignCenter)
        self.pan = QDial()
        self.pan.setRange(-64, 64)
        self.pan.setFixedSize(40, 40)
        self.pan.setToolTip("Pan")
        self.volume = QSlider(Qt.Vertical)
        self.volume.setRange(0, 127)
        self.volume.setToolTip("Volume")
        self.mute = QToolButton(text="M", checkable=True, toolTip="Mute")
        self.solo = QToolButton(text="S", checkable=True, toolTip="Solo")
        buttons = QHBoxLayout()
        buttons.addWidget(self.mute)
        buttons.addWidget(self.solo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.name_label)
        layout.addWidget(self.pan, 0, Qt.AlignHCenter)
        layout.addWidget(self.volume, 1, Qt.AlignHCenter)
        layout.addLayout(buttons)
        self.set_strip(strip)
        self.volume.valueChanged.connect(self._on_control_changed)
        self.pan.valueChanged.connect(self._on_control_changed)
        self.mute.toggled.connect(self._on_control_changed)
        self.solo.toggled.connect(self._on_control_changed)

    def set_strip(self, strip: TrackMix) -> None:
        for widget in (self.volume, self.pan, self.mute, self.solo):
            widget.blockSignals(True)
        self.volume.setValue(strip.volume_cc)
        self.pan.setValue(round(strip.pan * 64))
        self.mute.setChecked(strip.mute)
        self.solo.setChecked(strip.solo)
        for widget in (self.volume, self.pan, self.mute, self.solo):
            widget.blockSignals(False)

    def strip(self) -> TrackMix:
        return TrackMix(volume=self.volume.value() / 127, pan=self.pan.value() / 64,
                        mute=self.mute.isChecked(), solo=self.solo.isChecked())

    def _on_control_changed(self, *_args) -> None:
        self.strip_changed.emit(self.index, self.strip())


class MixerPanel(QWidget):
    """Strips for the song's tracks plus the master fader."""

    mixer_changed = Signal(object)  # Mixer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._mixer = Mixer()
        self.strips: list[ChannelStrip] = []
        self._strip_row = QHBoxLayout()
        self.master = QSlider(Qt.Vertical)
        self.master.setRange(0, 100)
        self.master.setValue(100)
        self.master.setToolTip("Master volume")
        master_box = QVBoxLayout()
        master_box.addWidget(QLabel("Master"), 0, Qt.AlignHCenter)
        master_box.addWidget(self.master, 1, Qt.AlignHCenter)
        layout = QHBoxLayout(self)
        layout.addLayout(self._strip_row)
        layout.addStretch(1)
        layout.addLayout(master_box)
        self.master.valueChanged.connect(self._on_master_changed)

    @property
    def mixer(self) -> Mixer:
        return self._mixer

    def set_tracks(self, names: Sequence[str], mixer: Mixer | None = None) -> None:
        """Rebuild the strips for these track names (e.g. after tracks are added)."""
        mixer = mixer or Mixer([TrackMix() for _ in names])
        self._mixer = Mixer([mixer.strip(i) for i in range(len(names))], mixer.master)
        for strip in self.strips:
            self._strip_row.removeWidget(strip)
            strip.hide()  # gone at once, not when the deferred delete runs
            strip.deleteLater()
        self.strips = []
        for i, name in enumerate(names):
            strip = ChannelStrip(i, name, self._mixer.strip(i))
            strip.strip_changed.connect(self._on_strip_changed)
            self._strip_row.addWidget(strip)
            self.strips.append(strip)
        self.master.blockSignals(True)
        self.master.setValue(round(self._mixer.master * 100))
        self.master.blockSignals(False)

    def _on_strip_changed(self, index: int, strip: TrackMix) -> None:
        strips = list(self._mixer.tracks)
        strips[index] = strip
        self._mixer = Mixer(strips, self._mixer.master)
        self.mixer_changed.emit(self._mixer)

    def _on_master_changed(self, value: int) -> None:
        self._mixer = Mixer(list(self._mixer.tracks), value / 100)
        self.mixer_changed.emit(self._mixer)
