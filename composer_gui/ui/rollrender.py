"""Rasterize piano-roll notes with numpy: fast whether 50 notes or 50,000 are visible.

A ``QGraphicsItem`` or a ``QPainter`` call per note costs 1-2 us of Python each, so a
zoomed-out 50k-note song would take 100 ms per repaint. Instead, each repaint builds a
small image with one pixel row per visible pitch: every note adds ``+code`` at its first
column and ``-code`` after its last (``np.bincount``), a cumulative sum along the row fills
the runs, and a palette maps codes to colours. The image is then drawn scaled to the row
height in one ``drawImage`` call. Notes of one pitch never overlap inside a track (the
song model's invariant), so the runs of one layer do not add up except where notes are
narrower than a pixel. Cost is O(visible notes + pixels), independent of song length.

Only ``QImage`` is used from Qt here (no widgets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QColor, QImage

from composer_gui.core.song import Song
from composer_gui.core.timing import TimeMap

SHADES = 8  # velocity shades per note colour


@dataclass
class RollGeometry:
    """Mapping between ticks/pitches and viewport pixels.

    ``px_per_tick`` horizontal zoom; ``row_height`` pixels per semitone; ``scroll_x`` and
    ``scroll_y`` are the pixel offsets of the viewport into the whole roll (pitch 127 at
    the top, tick 0 at the left).
    """

    px_per_tick: float = 0.1
    row_height: int = 12
    scroll_x: int = 0
    scroll_y: int = 0

    def x_of(self, tick: float) -> float:
        return tick * self.px_per_tick - self.scroll_x

    def tick_at(self, x: float) -> float:
        return (x + self.scroll_x) / self.px_per_tick

    def y_of(self, pitch: int) -> int:
        """Top pixel row of a pitch."""
        return (127 - pitch) * self.row_height - self.scroll_y

    def pitch_at(self, y: float) -> int:
        return int(127 - (y + self.scroll_y) // self.row_height)

    def rows(self, height: int) -> tuple[int, int]:
        """First and last (inclusive) row numbers (127 - pitch) touching the viewport."""
        first = max(0, self.scroll_y // self.row_height)
        last = min(127, (self.scroll_y + height - 1) // self.row_height)
        return int(first), int(max(first, last))


def argb(color: QColor | str, alpha: int | None = None) -> int:
    c = QColor(color)
    if alpha is not None:
        c.setAlpha(alpha)
    return (c.alpha() << 24) | (c.red() << 16) | (c.green() << 8) | c.blue()


def shade_palette(color: QColor | str, background: QColor | str) -> np.ndarray:
    """``SHADES + 1`` colours: index 0 unused, 1..SHADES from dim to full ``color``."""
    c = QColor(color)
    b = QColor(background)
    out = np.zeros(SHADES + 1, dtype=np.uint32)
    for i in range(1, SHADES + 1):
        f = 0.45 + 0.55 * i / SHADES
        out[i] = argb(
            QColor(
                round(b.red() + (c.red() - b.red()) * f),
                round(b.green() + (c.green() - b.green()) * f),
                round(b.blue() + (c.blue() - b.blue()) * f),
            )
        )
    return out


def velocity_shade(velocity: np.ndarray) -> np.ndarray:
    return 1 + (velocity * (SHADES - 1) + 63) // 127


@dataclass
class Layer:
    """Notes of one layer, already limited to the region: arrays of equal length."""

    start: np.ndarray
    duration: np.ndarray
    pitch: np.ndarray
    code: np.ndarray  # 1..SHADES (velocity shade) or 1 for flat layers
    palette: np.ndarray  # uint32 ARGB, index by code
    edges: bool = True  # darken each note's first pixel column


def _runs(layer: Layer, geom: RollGeometry, x0: int, width: int, first_row: int,
          nrows: int) -> tuple[int, np.ndarray, np.ndarray | None] | None:
    """Fill codes per (row, column) for the rows the layer uses.

    Returns (first row used, fill codes (rows x width), start-column mask or None), or
    None when the layer has nothing in the region.
    """
    if len(layer.start) == 0:
        return None
    ppt = geom.px_per_tick
    offset = geom.scroll_x + x0
    xs = (layer.start * ppt - offset).astype(np.int64)
    xe = ((layer.start + layer.duration) * ppt - offset).astype(np.int64)
    np.maximum(xe, xs + 1, out=xe)
    np.clip(xs, 0, width, out=xs)
    np.clip(xe, 0, width, out=xe)
    rows = (127 - first_row) - layer.pitch
    keep = (rows >= 0) & (rows < nrows) & (xe > xs)
    if not keep.all():
        rows, xs, xe, code = rows[keep], xs[keep], xe[keep], layer.code[keep]
    else:
        code = layer.code
    if len(rows) == 0:
        return None
    r0 = int(rows.min())
    used = int(rows.max()) - r0 + 1
    stride = width + 1
    base = (rows - r0) * stride
    weights = code.astype(np.float64)
    diff = np.bincount(np.concatenate((base + xs, base + xe)),
                       weights=np.concatenate((weights, -weights)),
                       minlength=used * stride)
    # Integer cumsum: several times faster than float64 (codes are small integers).
    fill = np.cumsum(np.rint(diff.reshape(used, stride)[:, :width]).astype(np.int64), axis=1)
    edge = None
    if layer.edges:
        wide = (xe - xs) >= 3
        if wide.any():
            edge = np.zeros((used, stride), bool)
            edge[rows[wide] - r0, xs[wide]] = True
            edge = edge[:, :width]
    return r0, fill, edge


def render_region(
    geom: RollGeometry,
    x0: int,
    width: int,
    height: int,
    row_colors: np.ndarray,
    grid_columns: list[tuple[np.ndarray, int]],
    layers: list[Layer],
    edge_color: int,
) -> tuple[QImage, np.ndarray, int, int]:
    """Render columns ``[x0, x0 + width)`` of the viewport.

    Returns the image (one pixel row per pitch row), the buffer that must outlive it,
    the viewport y of the image's first row and the number of rows.
    ``row_colors`` is indexed by row number (127 - pitch); ``grid_columns`` pairs viewport
    columns with a colour, drawn before the notes in list order.
    """
    first, last = geom.rows(height)
    nrows = last - first + 1
    width = max(1, int(width))
    img = np.empty((nrows, width), dtype=np.uint32)
    img[:] = row_colors[first:last + 1, None]
    for columns, color in grid_columns:
        cols = columns[(columns >= x0) & (columns < x0 + width)] - x0
        if len(cols):
            img[:, cols] = color
    for layer in layers:
        runs = _runs(layer, geom, x0, width, first, nrows)
        if runs is None:
            continue
        r0, fill, edge = runs
        part = img[r0:r0 + len(fill)]
        mask = fill > 0
        codes = np.minimum(fill, len(layer.palette) - 1)
        np.copyto(part, layer.palette[codes], where=mask)
        if edge is not None:
            np.copyto(part, np.uint32(edge_color), where=edge & mask)
    img = np.ascontiguousarray(img)
    qimg = QImage(img.data, width, nrows, width * 4, QImage.Format.Format_ARGB32)
    top = first * geom.row_height - geom.scroll_y
    return qimg, img, top, nrows


# -- bars and beats -----------------------------------------------------------------------


def time_map(song: Song) -> TimeMap:
    return TimeMap.of(song)


def bar_at(song: Song, tick: int) -> tuple[int, int, float, int]:
    """The bar containing ``tick``: (bar number from 1, start tick, beat ticks, beats)."""
    tm = TimeMap.of(song)
    tick = max(0, int(tick))
    bar = tm.bar_of(tick)
    start = tm.bar_to_tick(bar)
    return bar + 1, start, tm.beat_length(start), tm.meter_at(start).numerator
