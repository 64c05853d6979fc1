"""The piano-roll canvas: notes of the current track over faint notes of the others.

Painting goes through :mod:`composer_gui.ui.rollrender` (numpy rasterization of only
the visible notes, found by binary search in each track's :class:`TrackIndex`). Edits
repaint only the columns of the tick range that changed; scrolling blits the viewport
and paints the uncovered strip. Mouse gestures live in
:mod:`composer_gui.ui.interactions`; each finished gesture is one undo step.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from composer_gui.core.song import Note
from composer_gui.ui import editing
from composer_gui.ui import interactions as gestures
from composer_gui.ui.document import Document
from composer_gui.ui.rollrender import (
    Layer,
    RollGeometry,
    argb,
    render_region,
    shade_palette,
    time_map,
    velocity_shade,
)

TRACK_COLORS = (
    "#4fa3ff", "#ff8a4f", "#6ad66a", "#e86ad6", "#f2d14b", "#4fd6d0",
    "#b08aff", "#ff5f6d", "#9ccc65", "#ffb74d", "#81d4fa", "#f48fb1",
)  # fmt: skip
BG_WHITE = "#2b2f36"
BG_BLACK = "#22252b"
BAR_LINE = "#6a717d"
BEAT_LINE = "#3c424b"
GRID_LINE = "#31353c"
ROW_LINE = QColor(0, 0, 0, 70)
NOTE_EDGE = "#101216"
SELECTED = "#ffd54a"
GHOST = "#ffffff"
ERASING = "#ff4d4d"
PLAYHEAD = QColor("#ff5252")
LOOP_FILL = QColor(120, 180, 255, 28)
LIVE_NOTE = QColor(255, 120, 80, 200)  # notes of a take being recorded

BLACK_KEYS = {1, 3, 6, 8, 10}
MIN_PX_PER_TICK = 1e-4
MAX_PX_PER_TICK = 4.0
MIN_ROW = 3
LABEL_LIMIT = 400
SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
FLAT_KEYS = {"F", "Bb", "Eb", "Ab", "Db", "Gb", "Cb", "Dm", "Gm", "Cm", "Fm", "Bbm", "Ebm",
             "Abm"}  # above this many labelled notes in view, skip the labels
MAX_ROW = 40


def track_color(song, index: int) -> str:
    track = song.tracks[index]
    return track.color or TRACK_COLORS[index % len(TRACK_COLORS)]


def _row_colors() -> np.ndarray:
    white, black = argb(BG_WHITE), argb(BG_BLACK)
    return np.array(
        [black if (127 - r) % 12 in BLACK_KEYS else white for r in range(128)], dtype=np.uint32
    )


class _DragEvent:
    """The parts of a mouse event a gesture reads, for moves made by autoscrolling."""

    def __init__(self, pos: QPointF, mods: Qt.KeyboardModifier) -> None:
        self._pos, self._mods = pos, mods

    def position(self) -> QPointF:
        return self._pos

    def modifiers(self) -> Qt.KeyboardModifier:
        return self._mods


class PianoRoll(QAbstractScrollArea):
    """The note canvas. ``view_changed`` fires on every scroll or zoom."""

    view_changed = Signal()
    hover_moved = Signal(int, int)  # tick, pitch under the mouse
    tool_changed = Signal(str)

    TOOLS = ("select", "draw", "erase", "velocity")

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.geom = RollGeometry()
        self.tool = "select"
        self.gesture: gestures.Gesture | None = None
        self._row_colors = _row_colors()
        self._sel_arrays: tuple[np.ndarray, ...] | None = None
        self._sel_span: tuple[int, int] | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setMouseTracking(True)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.horizontalScrollBar().valueChanged.connect(self._on_hscroll)
        self.verticalScrollBar().valueChanged.connect(self._on_vscroll)
        self.setMinimumSize(200, 120)
        self.setFrameShape(QAbstractScrollArea.Shape.NoFrame)
        doc = document
        doc.notes_changed.connect(self._on_notes_changed)
        doc.tracks_changed.connect(self._on_song_changed)
        doc.song_replaced.connect(self._on_song_changed)
        doc.conductor_changed.connect(self._on_song_changed)
        doc.state.selection_changed.connect(self._on_selection_changed)
        doc.state.current_track_changed.connect(lambda _i: self.viewport().update())
        doc.state.playhead_moved.connect(self._on_playhead_moved)
        doc.state.loop_changed.connect(lambda *_: self.viewport().update())
        doc.state.grid_changed.connect(self.viewport().update)
        self._playhead_tick = 0
        self.live_notes: list[Note] = []  # a take being recorded, drawn on top
        self._last_drag: tuple[QPointF, Qt.KeyboardModifier] | None = None
        self._autoscroll = QTimer(self)
        self._autoscroll.setInterval(30)
        self._autoscroll.timeout.connect(self._on_autoscroll)
        self.geom.scroll_y = 127 * self.geom.row_height // 2

    # -- geometry ---------------------------------------------------------------------
    def content_ticks(self) -> int:
        """Ticks the horizontal scroll bar spans: the song plus room to write on."""
        bar = self.document.song.ticks_per_beat * 4
        return max(self.document.end_tick() + 8 * bar, 64 * bar)

    def _update_scrollbars(self) -> None:
        vw, vh = self.viewport().width(), self.viewport().height()
        g = self.geom
        hbar, vbar = self.horizontalScrollBar(), self.verticalScrollBar()
        width = int(self.content_ticks() * g.px_per_tick)
        hbar.blockSignals(True)
        vbar.blockSignals(True)
        hbar.setRange(0, max(0, width - vw))
        hbar.setPageStep(max(1, vw))
        hbar.setSingleStep(max(1, vw // 20))
        vbar.setRange(0, max(0, 128 * g.row_height - vh))
        vbar.setPageStep(max(1, vh))
        vbar.setSingleStep(g.row_height)
        hbar.setValue(g.scroll_x)
        vbar.setValue(g.scroll_y)
        hbar.blockSignals(False)
        vbar.blockSignals(False)
        g.scroll_x = hbar.value()
        g.scroll_y = vbar.value()

    def set_zoom(self, px_per_tick: float | None = None, row_height: int | None = None,
                 anchor: QPointF | None = None) -> None:
        """Zoom keeping the tick/pitch under ``anchor`` (viewport coordinates) in place."""
        g = self.geom
        ax = anchor.x() if anchor is not None else self.viewport().width() / 2
        ay = anchor.y() if anchor is not None else self.viewport().height() / 2
        tick = g.tick_at(ax)
        row = (ay + g.scroll_y) / g.row_height
        if px_per_tick is not None:
            g.px_per_tick = min(MAX_PX_PER_TICK, max(MIN_PX_PER_TICK, px_per_tick))
        if row_height is not None:
            g.row_height = int(min(MAX_ROW, max(MIN_ROW, row_height)))
        g.scroll_x = max(0, int(tick * g.px_per_tick - ax))
        g.scroll_y = max(0, int(row * g.row_height - ay))
        self._update_scrollbars()
        self.viewport().update()
        self.view_changed.emit()

    def zoom_to_fit(self) -> None:
        """Show the whole song and the pitch range it uses."""
        song = self.document.song
        vw, vh = max(1, self.viewport().width()), max(1, self.viewport().height())
        end = max(self.document.end_tick(), song.ticks_per_beat * 16)
        lo, hi = 48, 84
        for i in range(len(song.tracks)):
            idx = self.document.index(i)
            if len(idx):
                lo, hi = min(lo, int(idx.pitch.min())), max(hi, int(idx.pitch.max()))
        g = self.geom
        g.px_per_tick = min(MAX_PX_PER_TICK, max(MIN_PX_PER_TICK, (vw - 4) / end))
        g.row_height = int(min(MAX_ROW, max(MIN_ROW, vh // (hi - lo + 3))))
        g.scroll_x = 0
        g.scroll_y = max(0, (127 - hi - 1) * g.row_height)
        self._update_scrollbars()
        self.viewport().update()
        self.view_changed.emit()

    def scroll_to_tick(self, tick: int) -> None:
        self.horizontalScrollBar().setValue(int(tick * self.geom.px_per_tick))

    def ensure_tick_visible(self, tick: int, margin: float = 0.1) -> None:
        """Scroll so that ``tick`` is on screen (a following playhead pages forward)."""
        x = self.geom.x_of(tick)
        width = self.viewport().width()
        if not margin * width <= x <= (1 - margin) * width:
            self.horizontalScrollBar().setValue(int(tick * self.geom.px_per_tick
                                                    - margin * width))

    def scroll_to_pitch(self, pitch: int) -> None:
        g = self.geom
        self.verticalScrollBar().setValue(
            int((127 - pitch) * g.row_height - self.viewport().height() / 2)
        )

    def note_rect(self, note: Note) -> QRectF:
        """The note's rectangle in viewport coordinates."""
        g = self.geom
        x0 = g.x_of(note.start)
        return QRectF(x0, g.y_of(note.pitch), max(1.0, g.x_of(note.end) - x0), g.row_height)

    def set_tool(self, tool: str) -> None:
        if tool not in self.TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        if tool != self.tool:
            self.tool = tool
            self.tool_changed.emit(tool)
            self.viewport().unsetCursor()

    # -- painting ---------------------------------------------------------------------
    def grid_columns(self, x0: int, width: int) -> list[tuple[np.ndarray, int]]:
        """Viewport columns of grid, beat and bar lines inside ``[x0, x0 + width)``."""
        g = self.geom
        tm = time_map(self.document.song)
        t0 = max(0, int(g.tick_at(x0)))
        t1 = int(g.tick_at(x0 + width)) + 2
        beat_px = tm.beat_length(t0) * g.px_per_tick
        grid = editing.grid(self.document)

        def cols(ticks: np.ndarray) -> np.ndarray:
            return np.unique(np.floor(ticks * g.px_per_tick - g.scroll_x).astype(np.int64))

        out = []
        if grid * g.px_per_tick >= 6:
            out.append((cols(tm.grid_starts(t1, grid, t0)), argb(GRID_LINE)))
        if beat_px >= 4:
            out.append((cols(tm.beat_starts(t1, t0)), argb(BEAT_LINE)))
        out.append((cols(tm.bar_starts(t1, t0)), argb(BAR_LINE)))
        return out

    def _layers(self, t0: float, t1: float) -> list[Layer]:
        doc = self.document
        song = doc.song
        layers: list[Layer] = []
        current = doc.state.current_track
        bg = argb(BG_WHITE)
        for i, track in enumerate(song.tracks):
            if i == current or not track.notes:
                continue
            idx = doc.index(i)
            vis = idx.visible(t0, t1)
            if len(vis) == 0:
                continue
            faint = QColor(track_color(song, i))
            faint = QColor.fromRgbF(
                (faint.redF() + 2 * QColor(BG_WHITE).redF()) / 3,
                (faint.greenF() + 2 * QColor(BG_WHITE).greenF()) / 3,
                (faint.blueF() + 2 * QColor(BG_WHITE).blueF()) / 3,
            )
            layers.append(Layer(idx.start[vis], idx.duration[vis], idx.pitch[vis],
                                np.ones(len(vis), np.int64),
                                np.array([0, argb(faint)], np.uint32), edges=False))
        if 0 <= current < len(song.tracks):
            idx = doc.index(current)
            vis = idx.visible(t0, t1)
            hidden = self.gesture.hidden_notes() if self.gesture else None
            if hidden:
                positions = [idx.position(n) for n in hidden]
                vis = vis[~np.isin(vis, [p for p in positions if p is not None])]
            layers.append(Layer(idx.start[vis], idx.duration[vis], idx.pitch[vis],
                                velocity_shade(idx.velocity[vis]),
                                shade_palette(track_color(song, current), bg)))
            sel = self._selection_arrays(hidden)
            if sel is not None and len(sel[0]):
                s, d, p, v = sel
                m = (s < t1) & (s + d > t0)
                layers.append(Layer(s[m], d[m], p[m], velocity_shade(v[m]),
                                    shade_palette(SELECTED, bg)))
        if self.gesture is not None:
            ghost = self.gesture.ghost_notes()
            if ghost:
                arr = np.array([(n.start, n.duration, n.pitch, n.velocity) for n in ghost],
                               dtype=np.int64)
                color = ERASING if self.gesture.ghost_kind == "erase" else GHOST
                layers.append(Layer(arr[:, 0], arr[:, 1], arr[:, 2],
                                    velocity_shade(arr[:, 3]), shade_palette(color, bg)))
        return layers

    def _selection_arrays(self, hidden=None):
        """Arrays of the selected notes (cached), without those a gesture hides."""
        if hidden:
            sel = self.document.state.selection - hidden
            if not sel:
                return None
            arr = np.array([(n.start, n.duration, n.pitch, n.velocity) for n in sel],
                           dtype=np.int64)
            return arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3]
        if self._sel_arrays is None:
            sel = self.document.state.selection
            if not sel:
                self._sel_arrays = (np.zeros(0, np.int64),) * 4
            else:
                arr = np.array([(n.start, n.duration, n.pitch, n.velocity) for n in sel],
                               dtype=np.int64)
                self._sel_arrays = (arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])
        return self._sel_arrays

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        rect = event.rect()
        g = self.geom
        vh = self.viewport().height()
        x0, width = rect.x(), rect.width()
        t0, t1 = g.tick_at(x0), g.tick_at(x0 + width)
        image, _buffer, top, nrows = render_region(
            g, x0, width, vh, self._row_colors, self.grid_columns(x0, width),
            self._layers(t0, t1), argb(NOTE_EDGE),
        )
        painter = QPainter(self.viewport())
        painter.setClipRect(rect)
        painter.drawImage(QRectF(x0, top, width, nrows * g.row_height), image)
        del _buffer  # the image has been drawn; the buffer may go
        if g.row_height >= 5:
            painter.setPen(QPen(ROW_LINE, 1))
            y_first = top + g.row_height - 1
            painter.drawLines([
                QLineF(x0, y + 0.5, x0 + width, y + 0.5)
                for y in range(y_first, vh, g.row_height)
            ])
        self._paint_overlays(painter, rect)
        painter.end()

    def _paint_labels(self, painter: QPainter, rect: QRect) -> None:
        """Pitch names on the current track's notes when they are big enough to read."""
        g = self.geom
        doc = self.document
        if g.row_height < 11 or not doc.song.tracks:
            return
        track = doc.state.current_track
        index = doc.index(track)
        vis = index.visible(g.tick_at(rect.left()), g.tick_at(rect.right() + 1))
        if len(vis) == 0:
            return
        widths = index.duration[vis] * g.px_per_tick
        vis = vis[widths >= 26]
        if len(vis) == 0 or len(vis) > LABEL_LIMIT:
            return
        hidden = self.gesture.hidden_notes() if self.gesture else set()
        font = painter.font()
        font.setPixelSize(max(8, min(11, g.row_height - 3)))
        painter.setFont(font)
        painter.setPen(QColor(16, 18, 22, 210))
        names = SHARP_NAMES
        keys = [k for k in doc.song.key_signatures if k.tick <= g.tick_at(rect.left())]
        if keys and keys[-1].key in FLAT_KEYS:
            names = FLAT_NAMES
        notes = doc.song.tracks[track].notes
        for i in vis.tolist():
            note = notes[i]
            if note in hidden:
                continue
            x = max(g.x_of(note.start), 0.0) + 3
            y = g.y_of(note.pitch)
            painter.drawText(QRectF(x, y, g.x_of(note.end) - x - 1, g.row_height),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                             f"{names[note.pitch % 12]}{note.pitch // 12 - 1}")

    def _paint_overlays(self, painter: QPainter, rect: QRect) -> None:
        self._paint_labels(painter, rect)
        g = self.geom
        state = self.document.state
        vh = self.viewport().height()
        lo, hi = state.loop
        if hi > lo:
            painter.fillRect(QRectF(g.x_of(lo), 0, (hi - lo) * g.px_per_tick, vh), LOOP_FILL)
        x = round(g.x_of(state.playhead))
        if rect.left() - 1 <= x <= rect.right() + 1:
            painter.setPen(QPen(PLAYHEAD, 1))
            painter.drawLine(x, 0, x, vh)
        for note in self.live_notes:
            painter.fillRect(self.note_rect(note), LIVE_NOTE)
        if self.gesture is not None:
            self.gesture.paint(painter)

    def set_live_notes(self, notes: list[Note]) -> None:
        """Show the notes of a take while it is played (not yet in the song)."""
        old, self.live_notes = self.live_notes, list(notes)
        spans = old + self.live_notes
        if spans:
            self.update_ticks(min(n.start for n in spans), max(n.end for n in spans))

    # -- change notifications ---------------------------------------------------------
    def update_ticks(self, lo: int, hi: int) -> None:
        """Repaint the columns showing ticks ``[lo, hi]``."""
        g = self.geom
        x0 = int(np.floor(g.x_of(lo))) - 2
        x1 = int(np.ceil(g.x_of(hi))) + 2
        vw = self.viewport().width()
        x0, x1 = max(0, x0), min(vw, x1)
        if x1 > x0:
            self.viewport().update(QRect(x0, 0, x1 - x0, self.viewport().height()))

    def _on_notes_changed(self, track: int, lo: int, hi: int) -> None:
        self.update_ticks(lo, hi)
        if hi * self.geom.px_per_tick > self.horizontalScrollBar().maximum():
            self._update_scrollbars()  # the song grew: room to scroll further

    def _on_song_changed(self) -> None:
        self._sel_arrays = None
        self._update_scrollbars()
        self.viewport().update()
        self.view_changed.emit()

    def _on_selection_changed(self) -> None:
        self._sel_arrays = None
        sel = self.document.state.selection
        span = (min(n.start for n in sel), max(n.end for n in sel)) if sel else None
        for s in (self._sel_span, span):
            if s is not None:
                self.update_ticks(*s)
        self._sel_span = span

    def _on_playhead_moved(self, tick: int) -> None:
        h = self.viewport().height()
        # the old line is where the old tick is *now* (the view may have scrolled since)
        for t in (self._playhead_tick, tick):
            x = round(self.geom.x_of(t))
            self.viewport().update(QRect(x - 2, 0, 5, h))
        self._playhead_tick = tick

    def _on_hscroll(self, value: int) -> None:
        dx = self.geom.scroll_x - value
        self.geom.scroll_x = value
        self._after_scroll(dx, 0)

    def _on_vscroll(self, value: int) -> None:
        dy = self.geom.scroll_y - value
        self.geom.scroll_y = value
        self._after_scroll(0, dy)

    def _after_scroll(self, dx: int, dy: int) -> None:
        vp = self.viewport()
        if self.gesture is None and abs(dx) < vp.width() and abs(dy) < vp.height():
            vp.scroll(dx, dy)  # blit what stays visible, paint only the uncovered strip
        else:
            vp.update()
        self.view_changed.emit()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._update_scrollbars()
        self.view_changed.emit()

    def scrollContentsBy(self, dx: int, dy: int) -> None:  # noqa: N802
        pass  # handled by _on_hscroll / _on_vscroll

    # -- input ------------------------------------------------------------------------
    def wheelEvent(self, event) -> None:  # noqa: N802
        mods = event.modifiers()
        delta = event.angleDelta()
        steps = (delta.y() or delta.x()) / 120
        pos = event.position()
        if mods & Qt.KeyboardModifier.ControlModifier:
            self.set_zoom(px_per_tick=self.geom.px_per_tick * 1.25 ** steps, anchor=pos)
        elif mods & Qt.KeyboardModifier.ShiftModifier:
            self.set_zoom(row_height=self.geom.row_height + round(steps * 2) or
                          self.geom.row_height + (1 if steps > 0 else -1), anchor=pos)
        elif mods & Qt.KeyboardModifier.AltModifier or delta.x():
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - int(steps * bar.singleStep() * 3))
        else:
            bar = self.verticalScrollBar()
            bar.setValue(bar.value() - int(steps * 3 * self.geom.row_height))
        event.accept()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if self.gesture is not None:
            self.gesture.cancel()
            self.gesture = None
        if event.button() == Qt.MouseButton.RightButton:
            self.gesture = gestures.EraseGesture(self, event)
        elif event.button() == Qt.MouseButton.LeftButton:
            self.gesture = gestures.start(self, event)
        if self.gesture is not None and self.gesture.finished:
            self.gesture = None

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        pos = event.position()
        g = self.geom
        self.hover_moved.emit(int(g.tick_at(pos.x())), g.pitch_at(pos.y()))
        if self.gesture is not None:
            self._last_drag = (QPointF(pos), event.modifiers())
            self.gesture.move(event)
            if not self.viewport().rect().contains(pos.toPoint()):
                if not self._autoscroll.isActive():
                    self._autoscroll.start()
        else:
            self.viewport().setCursor(gestures.hover_cursor(self, pos))

    def _on_autoscroll(self) -> None:
        """While a drag is held outside the roll, scroll towards it and follow."""
        if self.gesture is None or self._last_drag is None:
            self._autoscroll.stop()
            return
        pos, mods = self._last_drag
        rect = self.viewport().rect()
        dx = pos.x() - rect.right() if pos.x() > rect.right() else min(0.0, pos.x())
        dy = pos.y() - rect.bottom() if pos.y() > rect.bottom() else min(0.0, pos.y())
        if not dx and not dy:
            self._autoscroll.stop()
            return
        for bar, delta in ((self.horizontalScrollBar(), dx), (self.verticalScrollBar(), dy)):
            if delta:
                step = int(max(-60, min(60, delta / 2))) or (1 if delta > 0 else -1)
                bar.setValue(bar.value() + step)
        self.gesture.move(_DragEvent(pos, mods))

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._autoscroll.stop()
        self._last_drag = None
        if self.gesture is not None:
            gesture, self.gesture = self.gesture, None
            gesture.release(event)
            self.viewport().update()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        self.mousePressEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        key = event.key()
        mods = event.modifiers()
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        doc = self.document
        if key == Qt.Key.Key_Escape and self.gesture is not None:
            self.gesture.cancel()
            self.gesture = None
            self.viewport().update()
        elif key == Qt.Key.Key_Escape:
            doc.state.set_selection(())
        elif key == Qt.Key.Key_Left and not mods & ~Qt.KeyboardModifier.ShiftModifier:
            editing.nudge(doc, steps_time=-1, big=shift)
        elif key == Qt.Key.Key_Right and not mods & ~Qt.KeyboardModifier.ShiftModifier:
            editing.nudge(doc, steps_time=1, big=shift)
        elif key == Qt.Key.Key_Up and not mods & ~Qt.KeyboardModifier.ShiftModifier:
            editing.nudge(doc, steps_pitch=1, big=shift)
        elif key == Qt.Key.Key_Down and not mods & ~Qt.KeyboardModifier.ShiftModifier:
            editing.nudge(doc, steps_pitch=-1, big=shift)
        else:
            super().keyPressEvent(event)
