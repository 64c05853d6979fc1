"""The strips around the roll: bar/beat ruler, piano-key gutter and velocity lane.

Each follows the roll's :class:`RollGeometry` (``PianoRoll.view_changed``) and the
document's signals; none keeps its own copy of the song.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QWidget

from composer_gui.core.song import Note
from composer_gui.ui import editing
from composer_gui.ui.pianoroll import (
    BLACK_KEYS,
    PLAYHEAD,
    SELECTED,
    PianoRoll,
    track_color,
)
from composer_gui.ui.rollrender import argb, time_map

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
LANE_BG = QColor("#1e2126")
#: The head of each velocity stalk, and how near (px) a press grabs a hidden one.
HEAD = QColor("#f4f4f4")
HEAD_GRAB = 4
TEXT = QColor("#c9cdd4")


def pitch_name(pitch: int) -> str:
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


class Ruler(QWidget):
    """Bar numbers, beats, tempo and meter changes, playhead and loop range.

    Click sets the playhead (snapped); Shift+drag or right-drag sets the loop range.
    """

    HEIGHT = 36
    #: Double-click: the user wants the song settings (tempo, meter, key) at this tick.
    settings_requested = Signal(int)

    def __init__(self, roll: PianoRoll, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.roll = roll
        self.doc = roll.document
        self.setFixedHeight(self.HEIGHT)
        self.setToolTip("Click: move the playhead. Shift+drag or right-drag: loop range. "
                        "Double-click: tempo, meter and key here.")
        self._loop_from: int | None = None
        roll.view_changed.connect(self.update)
        self.doc.conductor_changed.connect(self.update)
        self.doc.song_replaced.connect(self.update)
        self.doc.state.playhead_moved.connect(lambda _t: self.update())
        self.doc.state.loop_changed.connect(lambda *_: self.update())

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(400, self.HEIGHT)

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), LANE_BG)
        g = self.roll.geom
        song = self.doc.song
        w, h = self.width(), self.height()
        t0, t1 = g.tick_at(0), g.tick_at(w)
        font = QFont(self.font())
        font.setPointSizeF(8)
        p.setFont(font)
        lo, hi = self.doc.state.loop
        if hi > lo:
            p.fillRect(QRectF(g.x_of(lo), h - 8, (hi - lo) * g.px_per_tick, 8),
                       QColor(120, 180, 255, 150))
        tm = time_map(song)
        lo_t, hi_t = max(0, int(t0)), int(t1) + 2
        bars = tm.bar_starts(hi_t, lo_t)
        first = tm.bar_of(lo_t)
        if first >= 0 and tm.bar_to_tick(first) < lo_t:
            bars = np.concatenate(([tm.bar_to_tick(first)], bars))
        numbers = tm.bars_of_array(bars) + 1 if len(bars) else bars
        bar_px = tm.bar_length(first) * g.px_per_tick
        label_every = line_every = 1
        while bar_px * label_every < 28:
            label_every *= 2
        while bar_px * line_every < 4:
            line_every *= 2
        p.setPen(QPen(TEXT, 1))
        keep = (numbers - 1) % line_every == 0
        xs = np.floor(bars[keep] * g.px_per_tick - g.scroll_x) + 0.5
        p.drawLines([QLineF(x, h / 2, x, h) for x in xs.tolist()])
        labelled = (numbers - 1) % label_every == 0
        for number, start in zip(numbers[labelled].tolist(), bars[labelled].tolist()):
            p.drawText(QPointF(g.x_of(start) + 3, h - 4), str(number))
        if tm.beat_length(lo_t) * g.px_per_tick >= 6:
            p.setPen(QPen(QColor("#6b717b"), 1))
            for beat in tm.beat_starts(hi_t, lo_t).tolist():
                bx = g.x_of(beat) + 0.5
                p.drawLine(QPointF(bx, h - 6), QPointF(bx, h))
        p.setPen(QPen(QColor("#ffcc80"), 1))
        for tempo in song.tempos:
            if t0 - 1 <= tempo.tick <= t1:
                p.drawText(QPointF(g.x_of(tempo.tick) + 3, 11), f"\u2669={tempo.bpm:.4g}")
        p.setPen(QPen(QColor("#a5d6a7"), 1))
        for sig in song.time_signatures:
            if t0 - 1 <= sig.tick <= t1:
                p.drawText(QPointF(g.x_of(sig.tick) + 62, 11),
                           f"{sig.numerator}/{sig.denominator}")
        p.setPen(QPen(QColor("#90caf9"), 1))
        for key in song.key_signatures:
            if t0 - 1 <= key.tick <= t1:
                p.drawText(QPointF(g.x_of(key.tick) + 92, 11), key.key)
        x = g.x_of(self.doc.state.playhead)
        p.setPen(QPen(PLAYHEAD, 2))
        p.drawLine(QPointF(x, 0), QPointF(x, h))
        p.end()

    def _tick(self, x: float) -> int:
        return editing.snap(self.doc, self.roll.geom.tick_at(x))

    def mousePressEvent(self, event) -> None:  # noqa: N802
        tick = self._tick(event.position().x())
        if (event.button() == Qt.MouseButton.RightButton
                or event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self._loop_from = tick
            self.doc.state.set_loop(tick, tick)
        else:
            self.doc.state.set_playhead(tick)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        tick = self._tick(event.position().x())
        if self._loop_from is not None:
            self.doc.state.set_loop(self._loop_from, tick)
        elif event.buttons() & Qt.MouseButton.LeftButton:
            self.doc.state.set_playhead(tick)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._loop_from = None

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        tick = self._tick(event.position().x())
        self.doc.state.set_playhead(tick)
        self.settings_requested.emit(tick)


class KeyGutter(QWidget):
    """Piano keys beside the roll; clicking a key auditions it."""

    WIDTH = 58

    def __init__(self, roll: PianoRoll, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.roll = roll
        self.doc = roll.document
        self.setFixedWidth(self.WIDTH)
        roll.view_changed.connect(self.update)
        self._pressed: int | None = None

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.WIDTH, 400)

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        g = self.roll.geom
        p.fillRect(self.rect(), QColor("#f4f4f4"))
        first, last = g.rows(self.height())
        font = QFont(self.font())
        font.setPointSizeF(max(5.0, min(8.0, g.row_height * 0.7)))
        p.setFont(font)
        for row in range(first, last + 1):
            pitch = 127 - row
            y = g.y_of(pitch)
            rect = QRect(0, y, self.WIDTH, g.row_height)
            if pitch % 12 in BLACK_KEYS:
                p.fillRect(QRect(0, y, self.WIDTH * 3 // 5, g.row_height), QColor("#26282c"))
            if pitch == self._pressed:
                p.fillRect(rect, QColor(255, 180, 60, 160))
            p.setPen(QPen(QColor("#9a9a9a"), 1))
            if pitch % 12 in (0, 5):
                p.drawLine(0, y + g.row_height, self.WIDTH, y + g.row_height)
            if pitch % 12 == 0 and g.row_height >= 6:
                p.setPen(QPen(QColor("#303030"), 1))
                p.drawText(rect.adjusted(0, 0, -3, 0),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                           pitch_name(pitch))
        p.end()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        pitch = self.roll.geom.pitch_at(event.position().y())
        if 0 <= pitch <= 127:
            self._pressed = pitch
            self.doc.note_auditioned.emit(pitch, 100)
            self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._pressed = None
        self.update()


class VelocityLane(QWidget):
    """Velocity stalks of the current track; drag across them to set velocities.

    With a selection, only selected notes change. The whole drag is one undo step.
    Every note's velocity also has a head (a short dark line at its height, as a DAW's
    lollipops): a chord's softer notes stay visible behind the loudest one's stalk, and
    pressing on such a head drags that note alone.
    """

    velocity_dragged = Signal(int)

    def __init__(self, roll: PianoRoll, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.roll = roll
        self.doc = roll.document
        self.setMinimumHeight(40)
        self._overrides: dict[Note, Note] = {}
        self._last_x: float | None = None
        self._grabbed: Note | None = None  # a hidden note's head pressed: it alone moves
        roll.view_changed.connect(self.update)
        doc = self.doc
        doc.notes_changed.connect(self._on_notes_changed)
        doc.song_replaced.connect(self.update)
        doc.tracks_changed.connect(self.update)
        doc.state.selection_changed.connect(self.update)
        doc.state.current_track_changed.connect(lambda _i: self.update())

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(400, 80)

    def _on_notes_changed(self, track: int, lo: int, hi: int) -> None:
        if track == self.doc.state.current_track:
            g = self.roll.geom
            x0, x1 = int(g.x_of(lo)) - 3, int(g.x_of(hi)) + 3
            self.update(QRect(x0, 0, x1 - x0, self.height()))

    def _y_to_velocity(self, y: float) -> int:
        h = max(1, self.height() - 4)
        return int(max(1, min(127, round((self.height() - 2 - y) / h * 127))))

    def paintEvent(self, event) -> None:  # noqa: N802
        rect = event.rect()
        p = QPainter(self)
        p.fillRect(rect, LANE_BG)
        doc = self.doc
        song = doc.song
        if not song.tracks:
            p.end()
            return
        g = self.roll.geom
        x0, width, h = rect.x(), rect.width(), self.height()
        track_i = doc.state.current_track
        index = doc.index(track_i)
        vis = index.visible(g.tick_at(x0 - 2), g.tick_at(x0 + width + 2))
        vis = vis[index.start[vis] >= g.tick_at(x0 - 2)]
        starts = index.start[vis]
        vels = index.velocity[vis].copy()
        selected = np.zeros(len(vis), bool)
        notes = song.tracks[track_i].notes
        sel = doc.state.selection
        if sel and len(vis):
            if len(sel) < len(vis):
                for note in sel:
                    pos = index.position(note)
                    if pos is not None:
                        k = np.searchsorted(vis, pos)
                        if k < len(vis) and vis[k] == pos:
                            selected[k] = True
            else:
                selected = np.fromiter((notes[i] in sel for i in vis), bool, len(vis))
        for old, new in self._overrides.items():
            pos = index.position(old)
            if pos is not None:
                k = np.searchsorted(vis, pos)
                if k < len(vis) and vis[k] == pos:
                    vels[k] = new.velocity
        columns = []
        wide = g.px_per_tick * self.doc.song.ticks_per_beat >= 40  # room for wide stalks
        for mask in (~selected, selected):
            column = np.zeros(width, np.int64)
            if mask.any():
                xs = np.floor(starts[mask] * g.px_per_tick - g.scroll_x - x0).astype(np.int64)
                v = vels[mask]
                keep = (xs >= 0) & (xs < width)
                xs, v = xs[keep], v[keep]
                order = np.argsort(v, kind="stable")
                column[xs[order]] = v[order]  # the loudest note of a column wins
                if wide:
                    for shift in (1, 2):
                        column[shift:] = np.maximum(column[shift:], column[:-shift])
            columns.append(column)
        normal, chosen = columns
        heights = np.maximum(normal, chosen) * (h - 4) // 127
        colors = np.where(chosen >= normal, np.uint32(argb(SELECTED)),
                          np.uint32(argb(track_color(song, track_i))))
        rows = np.arange(h)[:, None]
        img = np.where((rows >= h - heights[None, :]) & (heights[None, :] > 0),
                       colors[None, :], np.uint32(argb(LANE_BG)))
        # every note's head, the loudest's and the ones behind it alike
        hx = np.floor(starts * g.px_per_tick - g.scroll_x - x0).astype(np.int64)
        hy = np.clip(h - vels * (h - 4) // 127, 0, h - 1)
        for dx in range(3 if wide else 1):
            inside = (hx + dx >= 0) & (hx + dx < width)
            img[hy[inside], hx[inside] + dx] = np.uint32(argb(HEAD))
        img = np.ascontiguousarray(img)
        qimg = QImage(img.data, width, h, width * 4, QImage.Format.Format_ARGB32)
        p.drawImage(x0, 0, qimg)
        p.end()

    def _targets(self, xa: float, xb: float) -> list[Note]:
        doc = self.doc
        g = self.roll.geom
        lo, hi = sorted((xa, xb))
        t0, t1 = g.tick_at(lo - 2), g.tick_at(hi + 2)
        index = doc.index(doc.state.current_track)
        vis = index.visible(t0, t1)
        vis = vis[(index.start[vis] >= t0) & (index.start[vis] <= t1)]
        found = doc.notes_at(doc.state.current_track, vis)
        sel = doc.state.selection
        return [n for n in found if n in sel] if sel else found

    def _hidden_head_at(self, pos: QPointF) -> Note | None:
        """The note whose head is under ``pos`` when it is not the loudest of its column
        (a softer chord note behind another's stalk)."""
        found = self._targets(pos.x(), pos.x())
        if len(found) < 2:
            return None
        h = self.height()
        loudest = max(n.velocity for n in found)

        def head_y(note: Note) -> int:
            return h - note.velocity * (h - 4) // 127

        near = min(found, key=lambda n: abs(head_y(n) - pos.y()))
        if near.velocity < loudest and abs(head_y(near) - pos.y()) <= HEAD_GRAB:
            return near
        return None

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if not self.doc.song.tracks or event.button() != Qt.MouseButton.LeftButton:
            return
        self._overrides = {}
        self._grabbed = self._hidden_head_at(event.position())
        self._last_x = event.position().x()
        self._apply(event.position())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._last_x is not None:
            self._apply(event.position())

    def _apply(self, pos: QPointF) -> None:
        velocity = self._y_to_velocity(pos.y())
        grabbed = [self._grabbed] if self._grabbed is not None else None
        for note in grabbed or self._targets(self._last_x, pos.x()):
            self._overrides[note] = note.replace(velocity=velocity)
        self._last_x = pos.x()
        self.velocity_dragged.emit(velocity)
        self.update()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._last_x is None:
            return
        changes = {o: n for o, n in self._overrides.items() if o != n}
        self._overrides = {}
        self._last_x = None
        self._grabbed = None
        if changes:
            state = self.doc.state
            kept = state.selection - set(changes)
            was_selected = bool(state.selection)
            self.doc.replace_notes(state.current_track, list(changes), list(changes.values()),
                                   "Set velocity", select=was_selected)
            if was_selected:  # the changed notes stay selected along with the others
                state.set_selection(kept | state.selection)
        self.update()
