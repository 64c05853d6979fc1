"""Mouse gestures on the piano roll; each finished gesture is exactly one undo step.

A gesture is made on mouse press, follows the mouse (showing a preview: "ghost" notes
drawn over the hidden originals), and on release pushes one edit to the document, or
nothing when cancelled (Escape) or when the mouse did not really move. Modelled on
orange-canvas's interaction objects (start / move / end / cancel).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QApplication

from composer_gui.core.song import Note
from composer_gui.ui import editing

EDGE_PX = 4  # how close to a note's edge a press resizes it
DEFAULT_VELOCITY = 100


def note_at(roll, pos: QPointF) -> Note | None:
    """The current track's note under ``pos`` (a short note is hit within 3 pixels)."""
    doc = roll.document
    if not doc.song.tracks:
        return None
    g = roll.geom
    pitch = g.pitch_at(pos.y())
    tick = g.tick_at(pos.x())
    track_i = doc.state.current_track
    index = doc.index(track_i)
    found = index.at(tick, pitch)
    if found is None:
        slack = 3 / g.px_per_tick
        near = index.in_box(tick - slack, tick + slack, pitch, pitch)
        if len(near) == 0:
            return None
        found = int(near[-1])
    return doc.song.tracks[track_i].notes[found]


def edge_at(roll, note: Note, pos: QPointF) -> str | None:
    rect = roll.note_rect(note)
    if rect.width() < 3 * EDGE_PX:
        return "right" if pos.x() >= rect.right() - EDGE_PX / 2 and rect.width() >= 8 else None
    if abs(pos.x() - rect.right()) <= EDGE_PX:
        return "right"
    if abs(pos.x() - rect.left()) <= EDGE_PX:
        return "left"
    return None


def hover_cursor(roll, pos: QPointF) -> Qt.CursorShape:
    if roll.tool == "erase":
        return Qt.CursorShape.PointingHandCursor
    note = note_at(roll, pos)
    if note is None:
        return Qt.CursorShape.CrossCursor if roll.tool == "draw" else Qt.CursorShape.ArrowCursor
    if roll.tool == "velocity":
        return Qt.CursorShape.SizeVerCursor
    if edge_at(roll, note, pos):
        return Qt.CursorShape.SizeHorCursor
    return Qt.CursorShape.SizeAllCursor


def start(roll, event) -> Gesture | None:
    """The gesture a left press starts, given the tool and what is under the mouse."""
    pos = event.position()
    mods = event.modifiers()
    doc = roll.document
    if not doc.song.tracks:
        return None
    if roll.tool == "erase":
        return EraseGesture(roll, event)
    note = note_at(roll, pos)
    if roll.tool == "velocity":
        return VelocityGesture(roll, event, note) if note is not None else None
    if note is None:
        if roll.tool == "draw":
            return DrawGesture(roll, event)
        return RubberBand(roll, event)
    state = doc.state
    if mods & Qt.KeyboardModifier.ControlModifier:
        state.set_selection(state.selection ^ {note})
        return None
    if mods & Qt.KeyboardModifier.ShiftModifier:
        state.set_selection(state.selection | {note})
    elif note not in state.selection:
        state.set_selection({note})
    edge = edge_at(roll, note, pos)
    if edge:
        return ResizeGesture(roll, event, note, edge)
    return MoveGesture(roll, event, note)


class Gesture:
    """Base: keeps the roll and the press position; subclasses fill in the rest."""

    ghost_kind = "ghost"

    def __init__(self, roll, event) -> None:
        self.roll = roll
        self.doc = roll.document
        self.press = event.position()
        self.press_tick = roll.geom.tick_at(self.press.x())
        self.press_pitch = roll.geom.pitch_at(self.press.y())
        self._press_scroll = (roll.geom.scroll_x, roll.geom.scroll_y)
        self.finished = False
        self.active = False  # moved past the drag threshold

    def press_now(self) -> QPointF:
        """The press point in viewport coordinates now (the view may have scrolled)."""
        g = self.roll.geom
        sx, sy = self._press_scroll
        return self.press + QPointF(sx - g.scroll_x, sy - g.scroll_y)

    def _past_threshold(self, pos: QPointF) -> bool:
        if not self.active:
            d = pos - self.press_now()
            self.active = abs(d.x()) + abs(d.y()) >= QApplication.startDragDistance()
        return self.active

    def ghost_notes(self) -> list[Note]:
        return []

    def hidden_notes(self) -> set[Note]:
        return set()

    def paint(self, painter: QPainter) -> None:
        pass

    def move(self, event) -> None:
        pass

    def release(self, event) -> None:
        pass

    def cancel(self) -> None:
        self.finished = True
        self.roll.viewport().update()

    def _repaint(self, notes) -> None:
        if notes:
            self.roll.update_ticks(min(n.start for n in notes), max(n.end for n in notes))


class _PreviewGesture(Gesture):
    """A gesture that previews changed notes and replaces them on release."""

    text = "Edit notes"

    def __init__(self, roll, event, notes) -> None:
        super().__init__(roll, event)
        self.originals = sorted(notes, key=lambda n: (n.start, n.pitch))
        self.preview: list[Note] = list(self.originals)

    def ghost_notes(self) -> list[Note]:
        return self.preview if self.active else []

    def hidden_notes(self) -> set[Note]:
        return set(self.originals) if self.active else set()

    def _set_preview(self, notes: list[Note]) -> None:
        old = self.preview
        self.preview = notes
        self._repaint(old + notes + self.originals)

    def compute(self, pos: QPointF, mods) -> list[Note]:
        raise NotImplementedError

    def move(self, event) -> None:
        if self._past_threshold(event.position()):
            self._set_preview(self.compute(event.position(), event.modifiers()))

    def release(self, event) -> None:
        self.finished = True
        if not self._past_threshold(event.position()):
            return
        result = self.compute(event.position(), event.modifiers())
        self._repaint(self.preview + result + self.originals)
        self.preview = []
        if result != self.originals:
            self.doc.replace_notes(self.doc.state.current_track, self.originals, result,
                                   self.text)


class MoveGesture(_PreviewGesture):
    """Drag selected notes; snaps the grabbed note's start; Shift locks time or pitch."""

    text = "Move notes"

    def __init__(self, roll, event, anchor: Note) -> None:
        super().__init__(roll, event, roll.document.state.selection or {anchor})
        self.anchor = anchor
        self.press_mods = event.modifiers()
        self._last_dp = 0

    def delta(self, pos: QPointF, mods) -> tuple[int, int]:
        g = self.roll.geom
        raw = g.tick_at(pos.x()) - self.press_tick
        dt = editing.snap(self.doc, self.anchor.start + raw) - self.anchor.start
        dp = g.pitch_at(pos.y()) - self.press_pitch
        if (mods | self.press_mods) & Qt.KeyboardModifier.ShiftModifier:
            d = pos - self.press_now()
            if abs(d.x()) >= abs(d.y()):
                dp = 0
            else:
                dt = 0
        dt = max(dt, -min(n.start for n in self.originals))
        dp = max(min(dp, 127 - max(n.pitch for n in self.originals)),
                 -min(n.pitch for n in self.originals))
        return dt, dp

    def compute(self, pos: QPointF, mods) -> list[Note]:
        dt, dp = self.delta(pos, mods)
        if dp != self._last_dp:
            self._last_dp = dp
            self.doc.note_auditioned.emit(self.anchor.pitch + dp, self.anchor.velocity)
        return [n.replace(start=n.start + dt, pitch=n.pitch + dp) for n in self.originals]


class ResizeGesture(_PreviewGesture):
    """Drag the start or end edge of the selected notes (snapped, never below 1 tick)."""

    text = "Resize notes"

    def __init__(self, roll, event, anchor: Note, edge: str) -> None:
        super().__init__(roll, event, roll.document.state.selection or {anchor})
        self.anchor = anchor
        self.edge = edge

    def compute(self, pos: QPointF, mods) -> list[Note]:
        raw = self.roll.geom.tick_at(pos.x()) - self.press_tick
        out = []
        if self.edge == "right":
            d = editing.snap(self.doc, self.anchor.end + raw) - self.anchor.end
            for n in self.originals:
                out.append(n.replace(duration=max(1, n.duration + d)))
        else:
            d = editing.snap(self.doc, self.anchor.start + raw) - self.anchor.start
            for n in self.originals:
                new_start = max(0, min(n.end - 1, n.start + d))
                out.append(n.replace(start=new_start, duration=n.end - new_start))
        return out


class VelocityGesture(_PreviewGesture):
    """Drag up or down on a note to change its (and the selection's) velocity."""

    text = "Set velocity"

    def __init__(self, roll, event, note: Note) -> None:
        sel = roll.document.state.selection
        super().__init__(roll, event, sel if note in sel else {note})

    def compute(self, pos: QPointF, mods) -> list[Note]:
        dv = round((self.press.y() - pos.y()) / 2)
        return [n.replace(velocity=max(1, min(127, n.velocity + dv))) for n in self.originals]


class DrawGesture(Gesture):
    """Click for a note of the current length; drag right to size it."""

    def __init__(self, roll, event) -> None:
        super().__init__(roll, event)
        doc = self.doc
        self.start_tick = editing.snap(doc, self.press_tick, "floor")
        self.length = editing.note_length(doc)
        self.velocity = DEFAULT_VELOCITY
        self.note = Note(self.press_pitch, self.start_tick, self.length, self.velocity)
        self.active = True
        doc.note_auditioned.emit(self.note.pitch, self.note.velocity)
        self._repaint([self.note])

    def ghost_notes(self) -> list[Note]:
        return [self.note]

    def move(self, event) -> None:
        pos = event.position()
        if abs(pos.x() - self.press.x()) < QApplication.startDragDistance():
            return
        end = editing.snap(self.doc, self.roll.geom.tick_at(pos.x()), "ceil")
        old = self.note
        length = max(editing.grid(self.doc) if self.doc.state.snap else 1,
                     end - self.start_tick)
        self.note = old.replace(duration=length)
        self._repaint([old, self.note])

    def release(self, event) -> None:
        self.finished = True
        self._repaint([self.note])
        self.doc.replace_notes(self.doc.state.current_track, (), [self.note], "Draw note")


class EraseGesture(Gesture):
    """Click or drag across notes to delete them (also the right button in any tool)."""

    ghost_kind = "erase"

    def __init__(self, roll, event) -> None:
        super().__init__(roll, event)
        self.erased: list[Note] = []
        self.active = True
        self._take(event.position())

    def _take(self, pos: QPointF) -> None:
        note = note_at(self.roll, pos)
        if note is not None and note not in self.erased:
            self.erased.append(note)
            self._repaint([note])

    def ghost_notes(self) -> list[Note]:
        return self.erased

    def hidden_notes(self) -> set[Note]:
        return set(self.erased)

    def move(self, event) -> None:
        self._take(event.position())

    def release(self, event) -> None:
        self.finished = True
        self._repaint(self.erased)
        if self.erased:
            self.doc.replace_notes(self.doc.state.current_track, self.erased, (),
                                   "Erase notes", select=False)


class RubberBand(Gesture):
    """Drag a box to select; Shift adds to the selection, Ctrl toggles."""

    def __init__(self, roll, event) -> None:
        super().__init__(roll, event)
        self.mods = event.modifiers()
        self.pos = self.press

    def rect(self) -> QRectF:
        return QRectF(self.press_now(), self.pos).normalized()

    def paint(self, painter: QPainter) -> None:
        if self.active:
            painter.setPen(QPen(QColor(255, 255, 255, 200), 1, Qt.PenStyle.DashLine))
            painter.setBrush(QColor(120, 170, 255, 40))
            painter.drawRect(self.rect())

    def move(self, event) -> None:
        self.pos = event.position()
        if self._past_threshold(self.pos):
            self.roll.viewport().update()

    def release(self, event) -> None:
        self.finished = True
        self.pos = event.position()
        state = self.doc.state
        control = self.mods & Qt.KeyboardModifier.ControlModifier
        shift = self.mods & Qt.KeyboardModifier.ShiftModifier
        if not self._past_threshold(self.pos):
            if not (control or shift):
                state.set_selection(())
            return
        r = self.rect()
        g = self.roll.geom
        track_i = state.current_track
        index = self.doc.index(track_i)
        found = index.in_box(g.tick_at(r.left()), g.tick_at(r.right()),
                             g.pitch_at(r.bottom()), g.pitch_at(r.top()))
        notes = set(self.doc.notes_at(track_i, found))
        if control:
            state.set_selection(state.selection ^ notes)
        elif shift:
            state.set_selection(state.selection | notes)
        else:
            state.set_selection(notes)
        self.roll.viewport().update()
