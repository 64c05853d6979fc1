"""An on-screen piano keyboard that also plays from the computer keyboard.

Mouse: press a key to play it (velocity from how far down the key you click), release
to stop; dragging slides from key to key. Computer keyboard (when the widget has focus),
the layout most DAWs use:

    W E   T Y U   O P        black keys  (C# D#  F# G# A#  C# D#)
   A S D F G H J K L ;       white keys  (C D E F G A B C D E)
   Z / X   octave down / up          C / V   velocity down / up

The widget only emits ``note_pressed(pitch, velocity)`` and ``note_released(pitch)``; the
owner sends them to the synthesizer and the recorder. :meth:`set_note_active` lights keys
for notes arriving from elsewhere (a MIDI keyboard).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

__all__ = ["PianoKeyboard", "KEY_LAYOUT"]

_BLACK = {1, 3, 6, 8, 10}
#: Computer key -> semitone above the current octave's C.
KEY_LAYOUT: dict[int, int] = {
    Qt.Key_A: 0, Qt.Key_W: 1, Qt.Key_S: 2, Qt.Key_E: 3, Qt.Key_D: 4, Qt.Key_F: 5,
    Qt.Key_T: 6, Qt.Key_G: 7, Qt.Key_Y: 8, Qt.Key_H: 9, Qt.Key_U: 10, Qt.Key_J: 11,
    Qt.Key_K: 12, Qt.Key_O: 13, Qt.Key_L: 14, Qt.Key_P: 15, Qt.Key_Semicolon: 16,
}
VELOCITY_STEPS = (20, 40, 60, 80, 100, 127)


def is_black(pitch: int) -> bool:
    return pitch % 12 in _BLACK


class PianoKeyboard(QWidget):
    """Piano keys from ``low`` to ``high`` (MIDI pitches, inclusive)."""

    note_pressed = Signal(int, int)  # pitch, velocity
    note_released = Signal(int)  # pitch
    octave_changed = Signal(int)  # the computer keyboard's C (a MIDI pitch)
    velocity_changed = Signal(int)

    def __init__(self, low: int = 36, high: int = 96, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if is_black(low) or is_black(high) or not 0 <= low < high <= 127:
            raise ValueError("the keyboard must start and end on white keys")
        self.low, self.high = low, high
        self.base = 60  # computer keyboard's C
        self.velocity = 100
        self._active: set[int] = set()  # lit by set_note_active (MIDI in)
        self._pressed: set[int] = set()  # held here (mouse or keys)
        self._mouse_pitch: int | None = None
        self._held_keys: dict[int, int] = {}  # Qt key -> pitch it started
        #: Draw the computer key that plays each key (the current octave's).
        self.show_letters = False
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMinimumSize(300, 60)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setFixedHeight(90)
        self.setToolTip("Click to play; or type A-; (white keys) and W-P (black keys); "
                        "Z/X octave, C/V velocity")

    # ------------------------------------------------------------------ geometry

    def _white_keys(self) -> list[int]:
        return [p for p in range(self.low, self.high + 1) if not is_black(p)]

    def key_rect(self, pitch: int) -> QRectF:
        """Where ``pitch`` is drawn (widget coordinates)."""
        whites = self._white_keys()
        w = self.width() / len(whites)
        if not is_black(pitch):
            i = whites.index(pitch)
            return QRectF(i * w, 0, w, self.height())
        i = whites.index(pitch - 1)
        return QRectF((i + 1) * w - w * 0.3, 0, w * 0.6, self.height() * 0.6)

    def pitch_at(self, x: float, y: float) -> int | None:
        """The key under a point (black keys lie on top)."""
        for pitch in range(self.low, self.high + 1):
            if is_black(pitch) and self.key_rect(pitch).contains(x, y):
                return pitch
        for pitch in self._white_keys():
            if self.key_rect(pitch).contains(x, y):
                return pitch
        return None

    def _velocity_at(self, pitch: int, y: float) -> int:
        rect = self.key_rect(pitch)
        depth = (y - rect.top()) / max(1.0, rect.height())
        return max(1, min(127, round(40 + 87 * depth)))

    # ------------------------------------------------------------------ slots

    def set_note_active(self, pitch: int, active: bool) -> None:
        """Light (or unlight) a key for a note played elsewhere."""
        if active:
            self._active.add(pitch)
        else:
            self._active.discard(pitch)
        self.update()

    def _on_note_started(self, pitch: int, _velocity: int = 0) -> None:
        self.set_note_active(pitch, True)

    def _on_note_stopped(self, pitch: int) -> None:
        self.set_note_active(pitch, False)

    def release_all(self) -> None:
        """Release everything held here (focus lost, window hidden)."""
        for pitch in sorted(self._pressed):
            self.note_released.emit(pitch)
        self._pressed.clear()
        self._held_keys.clear()
        self._mouse_pitch = None
        self.update()

    # ------------------------------------------------------------------ playing

    def _press(self, pitch: int, velocity: int) -> None:
        if pitch in self._pressed or not 0 <= pitch <= 127:
            return
        self._pressed.add(pitch)
        self.note_pressed.emit(pitch, velocity)
        self.update()

    def _release(self, pitch: int) -> None:
        if pitch in self._pressed:
            self._pressed.discard(pitch)
            self.note_released.emit(pitch)
            self.update()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() != Qt.LeftButton:
            return
        pos = event.position()
        pitch = self.pitch_at(pos.x(), pos.y())
        if pitch is not None:
            self._mouse_pitch = pitch
            self._press(pitch, self._velocity_at(pitch, pos.y()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._mouse_pitch is None:
            return
        pos = event.position()
        pitch = self.pitch_at(pos.x(), pos.y())
        if pitch is not None and pitch != self._mouse_pitch:
            self._release(self._mouse_pitch)
            self._mouse_pitch = pitch
            self._press(pitch, self._velocity_at(pitch, pos.y()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.LeftButton and self._mouse_pitch is not None:
            self._release(self._mouse_pitch)
            self._mouse_pitch = None

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        if event.isAutoRepeat() and (key in KEY_LAYOUT or key in self._held_keys):
            return  # a held key must not retrigger
        if key in KEY_LAYOUT:
            pitch = self.base + KEY_LAYOUT[key]
            self._held_keys[key] = pitch
            self._press(pitch, self.velocity)
        elif key in (Qt.Key_Z, Qt.Key_X):
            step = -12 if key == Qt.Key_Z else 12
            if 0 <= self.base + step <= 108:
                self.base += step
                self.octave_changed.emit(self.base)
        elif key in (Qt.Key_C, Qt.Key_V):
            steps = VELOCITY_STEPS
            i = min(range(len(steps)), key=lambda k: abs(steps[k] - self.velocity))
            i = max(0, i - 1) if key == Qt.Key_C else min(len(steps) - 1, i + 1)
            self.velocity = steps[i]
            self.velocity_changed.emit(self.velocity)
        else:
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.isAutoRepeat():
            return
        pitch = self._held_keys.pop(event.key(), None)
        if pitch is not None:
            self._release(pitch)
        else:
            super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self.release_all()
        super().focusOutEvent(event)

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        lit = self._active | self._pressed
        pen = QColor("#444444")
        for pitch in self._white_keys():
            painter.setPen(pen)
            painter.setBrush(QColor("#7fb2ff") if pitch in lit else QColor("#fafafa"))
            painter.drawRect(self.key_rect(pitch).adjusted(0, 0, -1, -1))
            if pitch % 12 == 0:
                painter.drawText(self.key_rect(pitch).adjusted(2, 0, 0, -4),
                                 Qt.AlignBottom | Qt.AlignHCenter, f"C{pitch // 12 - 1}")
        for pitch in range(self.low, self.high + 1):
            if is_black(pitch):
                painter.setPen(pen)
                painter.setBrush(QColor("#3d7be0") if pitch in lit else QColor("#222222"))
                painter.drawRect(self.key_rect(pitch))
        if self.show_letters:
            for key, semitone in KEY_LAYOUT.items():
                pitch = self.base + semitone
                if self.low <= pitch <= self.high:
                    painter.setPen(QColor("#c0c0c0") if is_black(pitch) else QColor("#1f5fbf"))
                    painter.drawText(self.key_rect(pitch).adjusted(0, 2, 0, 0),
                                     Qt.AlignTop | Qt.AlignHCenter, self.letter(key))
        painter.end()

    @staticmethod
    def letter(key: int) -> str:
        """The character a computer key types (";" for Key_Semicolon)."""
        return ";" if key == Qt.Key_Semicolon else chr(int(key)).upper()
