"""Live training plots (pyqtgraph), updated in place.

Records only append to numpy buffers; a timer (:data:`FLUSH_MS`) hands the buffers that
changed to their existing curves with ``setData`` (pyqtgraph's scrolling-plot pattern),
so a burst of records costs one redraw and no item is ever created per point; a tick
redraws at most :data:`PLOTS_PER_TICK` plots, so the GUI thread never holds for long.

Repaints stay cheap because the axes rarely change: auto-range is off, and a plot's
range grows only when data leaves it (x to the next 1-2-5 step count, y with a margin);
the axes are cached as pixmaps (drawing an axis's tick text costs ~3 ms, twelve of them
made every repaint 30-200 ms before).

* Losses: generator loss, critic (discriminator) loss and gradient penalty per step.
* Metrics: one plot per metric of ``ml.metrics`` (EB, UPC, QN, TD to melody, in-scale,
  notes per bar, and the harmony measures of all parts together: melody clash, inner
  clash, note-in-chord, parallels), one curve per generated part, and the data's own value
  of each part as a dashed horizontal line in the part's colour (the ``reference`` of the
  ``start`` record).
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGraphicsItem, QTabWidget, QVBoxLayout, QWidget

FLUSH_MS = 250
#: Plots redrawn per tick, and the wait before the next tick when more are waiting.
PLOTS_PER_TICK = 1
FOLLOW_UP_MS = 30
#: Metrics shown, in order (ml.metrics.tracks keys; records may also use the short labels).
METRIC_KEYS = ("empty_bar_rate", "used_pitch_classes", "qualified_note_rate",
               "tonal_distance", "in_scale_rate", "notes_per_bar", "melody_clash",
               "inner_clash", "note_in_chord", "parallels_per_100")
#: The metrics on the second tab (hidden plots cost no painting on the GUI thread).
HARMONY_TAB = ("notes_per_bar", "melody_clash", "inner_clash", "note_in_chord",
               "parallels_per_100")
#: The abbreviations of the plots' titles, in a musician's words.
METRIC_WORDS = (
    "EB: empty bars, the share of bars where a part rests",
    "UPC: used pitch classes, how many different notes (C, D, E...) a part plays in a bar",
    "QN: qualified notes, the share of notes at least a 32nd note long",
    "TD to melody: tonal distance, how far a part's harmony is from the melody's (lower: "
    "closer)",
)
LOSS_KEYS = (("g_loss", "G loss", "#2e86de"), ("d_loss", "D loss", "#e67e22"),
             ("gp", "GP", "#27ae60"))
ROLE_COLOURS = ("#8e44ad", "#16a085", "#c0392b", "#2980b9", "#d35400", "#7f8c8d")


def _nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 5 x 10^k at or above ``x``."""
    if x <= 1:
        return 1.0
    k = 10 ** np.floor(np.log10(x))
    return float(next(m * k for m in (1, 2, 5, 10) if m * k >= x))


#: Metrics that are rates in [0, 1]: their y range is fixed, so their axes never change.
RATE_METRICS = ("empty_bar_rate", "qualified_note_rate", "in_scale_rate", "note_in_chord")
# (the clashes are rates too, but of a few percent: on a fixed 0..1 axis they would lie flat)


class _Range:
    """A plot's view range that only grows, in coarse steps (see the module notes);
    ``y`` given: a fixed y range; ``floor``: the y range never goes below it."""

    def __init__(self, plot, y: tuple[float, float] | None = None,
                 floor: float | None = None) -> None:
        self.plot = plot
        self.x = 0.0
        self.y = y
        self.fixed = y is not None
        self.floor = floor
        if y is not None:
            plot.setYRange(*y, padding=0)
        plot.disableAutoRange()
        plot.setMouseEnabled(x=False, y=False)
        for name in ("left", "bottom"):
            plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def cover_x(self, xmax: float) -> None:
        if xmax > self.x:
            self.x = _nice_ceiling(xmax * 1.05)
            self.plot.setXRange(0, self.x, padding=0)

    def cover(self, xmax: float, ylo: float, yhi: float) -> None:
        self.cover_x(xmax)
        if self.fixed or not (np.isfinite(ylo) and np.isfinite(yhi)):
            return
        if self.y is None or ylo < self.y[0] or yhi > self.y[1]:
            lo = ylo if self.y is None else min(ylo, self.y[0])
            hi = yhi if self.y is None else max(yhi, self.y[1])
            # at least a tenth of the values' size: a flat metric (QN at 1.0) must not
            # zoom into rounding noise
            pad = 0.3 * max(hi - lo, 0.1 * max(abs(hi), abs(lo), 0.1))
            self.y = (lo - pad if self.floor is None else max(self.floor, lo - pad), hi + pad)
            self.plot.setYRange(*self.y, padding=0)


def _labels() -> dict[str, str]:
    from composer_gui.ml.metrics.harmony import HARMONY_LABELS, LINE_LABELS
    from composer_gui.ml.metrics.tracks import METRIC_LABELS

    return {**METRIC_LABELS, **LINE_LABELS, **HARMONY_LABELS}


def metric_label(key: str) -> str:
    return _labels().get(key, key)


def _canonical(key: str) -> str:
    """A record's metric name as an ml.metrics key (records may use the short label)."""
    for full, label in _labels().items():
        if key in (full, label) or key.lower().replace("-", "_") == label.lower().replace("-", "_"):
            return full
    return key


class Series:
    """A growing (x, y) buffer; ``view()`` gives the filled part without copying."""

    def __init__(self) -> None:
        self._x = np.zeros(256)
        self._y = np.zeros(256)
        self.n = 0

    def append(self, x: float, y: float) -> None:
        if self.n == len(self._x):
            self._x = np.resize(self._x, 2 * self.n)
            self._y = np.resize(self._y, 2 * self.n)
        self._x[self.n] = x
        self._y[self.n] = np.nan if y is None else y
        self.n += 1

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        return self._x[: self.n], self._y[: self.n]


class TrainingPlots(QWidget):
    """Loss and metric plots; feed it records with :meth:`add_record`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False, background="w", foreground="k")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("training_plots")
        self.harmony_view = pg.GraphicsLayoutWidget()
        self.harmony_view.setObjectName("harmony_plots")
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.view, "Losses and parts")
        self.tabs.addTab(self.harmony_view, "Harmony")
        self.tabs.setTabToolTip(1, "Notes per bar of each part, and the parts together "
                                   "against the melody: clashes, chord tones, parallels")
        layout.addWidget(self.tabs)
        self._timer = QTimer(self, interval=FLUSH_MS)
        self._timer.timeout.connect(self._on_timer)
        self.flush_ms: list[float] = []  # cost of each flush that drew something
        self.reset()

    # -- layout --------------------------------------------------------------------------
    def reset(self, roles: list[str] | None = None) -> None:
        """Empty plots (``roles``: the model's parts, in order)."""
        self.view.clear()
        self.harmony_view.clear()
        self._dirty: set = set()
        self._x_total = 0
        self.roles = list(roles or [])
        self.loss_plot = self.view.addPlot(row=0, col=0, colspan=3, title="Losses")
        self.loss_plot.addLegend(offset=(-10, 10))
        self.loss_plot.setLabel("bottom", "step")
        self.loss_series = {k: Series() for k, _l, _c in LOSS_KEYS}
        self.loss_curves = {k: self._curve(self.loss_plot, c, label) for k, label, c in LOSS_KEYS}
        self.ranges = {"loss": _Range(self.loss_plot)}
        self.metric_plots: dict[str, pg.PlotItem] = {}
        self.metric_series: dict[tuple[str, str], Series] = {}
        self.metric_curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.reference_lines: dict[tuple[str, str], pg.InfiniteLine] = {}
        parts = [k for k in METRIC_KEYS if k not in HARMONY_TAB]
        for view, keys, first_row in ((self.view, parts, 1), (self.harmony_view, HARMONY_TAB, 0)):
            for i, key in enumerate(keys):
                plot = view.addPlot(row=first_row + i // 3, col=i % 3, title=metric_label(key))
                if i == 0:
                    plot.addLegend(offset=(-5, 5), labelTextSize="7pt")
                self.metric_plots[key] = plot
                self.ranges[key] = (_Range(plot, y=(-0.02, 1.02)) if key in RATE_METRICS
                                    else _Range(plot, floor=0.0))
            explained = "" if view is self.harmony_view else "<br>" + "<br>".join(METRIC_WORDS)
            view.addLabel(
                "Solid: this run on the validation melodies<br>Dashed: your songs' own value"
                + explained, row=first_row + len(keys) // 3, col=len(keys) % 3, size="8pt")
        for role in self.roles:
            self._ensure_role(role)
        self._timer.start()

    @staticmethod
    def _curve(plot, colour: str, name: str) -> pg.PlotDataItem:
        # A cosmetic 1 px pen draws several times faster than a wider one; no symbols
        # (a scatter item per curve doubled the cost of every update); long curves are
        # thinned to the plot's pixel width.
        curve = plot.plot([], [], pen=pg.mkPen(colour, width=1, cosmetic=True), name=name)
        curve.setDownsampling(auto=True, method="peak")
        curve.setClipToView(True)
        return curve

    def _colour(self, role: str) -> str:
        if role not in self.roles:
            self.roles.append(role)
        return ROLE_COLOURS[self.roles.index(role) % len(ROLE_COLOURS)]

    def _ensure_role(self, role: str) -> None:
        colour = self._colour(role)
        for key, plot in self.metric_plots.items():
            if (role, key) not in self.metric_curves:
                self.metric_series[(role, key)] = Series()
                self.metric_curves[(role, key)] = self._curve(plot, colour, role)

    # -- records -------------------------------------------------------------------------
    def set_reference(self, reference: dict) -> None:
        """The data's own values: ``{role: {metric: value}}`` as dashed lines."""
        for role, values in (reference or {}).items():
            if not isinstance(values, dict):
                continue
            self._ensure_role(role)
            for name, value in values.items():
                key = _canonical(name)
                if key not in self.metric_plots or value is None:
                    continue
                line = self.reference_lines.get((role, key))
                if line is None:
                    line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(
                        self._colour(role), width=1, style=Qt.PenStyle.DashLine))
                    self.metric_plots[key].addItem(line)
                    self.reference_lines[(role, key)] = line
                line.setValue(float(value))
                self._dirty.add(("ref", key))

    def add_record(self, record: dict) -> None:
        kind = record.get("kind")
        step = float(record.get("step", 0))
        if kind == "step":
            for key in self.loss_series:
                value = record.get(key)
                if isinstance(value, (int, float)):
                    self.loss_series[key].append(step, value)
                    self._dirty.add(("loss", key))
        elif kind == "validation":
            for role, values in (record.get("metrics") or {}).items():
                if not isinstance(values, dict):
                    continue
                self._ensure_role(role)
                for name, value in values.items():
                    key = _canonical(name)
                    if key in self.metric_plots and (value is None
                                                     or isinstance(value, (int, float))):
                        self.metric_series[(role, key)].append(step, value)
                        self._dirty.add((role, key))
        elif kind == "start":
            if record.get("reference"):
                self.set_reference(record["reference"])
            steps = record.get("steps")
            if isinstance(steps, int) and steps > 0:
                # the whole run's x range at once, so no axis is redrawn as the steps go
                # by; applied plot by plot on the next ticks (redrawing every axis at
                # once held the GUI thread for 150 ms)
                self._x_total = steps
                self._dirty.update(("x", key) for key in self.ranges)

    def flush(self, max_plots: int | None = None) -> None:
        """Hand the changed buffers to their curves (one ``setData`` per changed curve).

        ``max_plots``: update at most this many plots now and the rest on the next
        ticks (the timer passes :data:`PLOTS_PER_TICK`, so a validation record's six
        plots are drawn over six short ticks instead of one long one); None updates
        everything.
        """
        if not self._dirty:
            return
        t0 = time.perf_counter()
        by_plot: dict[str, list] = {}
        for item in self._dirty:
            by_plot.setdefault("loss" if item[0] == "loss" else item[1], []).append(item)
        order = sorted(by_plot, key=lambda k: k != "loss")
        chosen = order if max_plots is None else order[:max_plots]
        for key in chosen:
            for item in by_plot[key]:
                self._dirty.discard(item)
                if item[0] == "loss":
                    x, y = self.loss_series[item[1]].view()
                    self.loss_curves[item[1]].setData(x, y, connect="finite")
                elif item[0] == "x":
                    self.ranges[key].cover_x(self._x_total)
                elif item[0] != "ref":
                    x, y = self.metric_series[item].view()
                    self.metric_curves[item].setData(x, y, connect="finite")
            self._cover(key)
        if self._dirty and self._timer.isActive():
            QTimer.singleShot(FOLLOW_UP_MS, self._on_timer)
        self.flush_ms.append(1000 * (time.perf_counter() - t0))

    def _on_timer(self) -> None:
        self.flush(max_plots=PLOTS_PER_TICK)

    def _cover(self, key: str) -> None:
        """Grow the plot's range to hold its data and reference lines."""
        if key == "loss":
            views = [s.view() for s in self.loss_series.values()]
            refs: list[float] = []
        else:
            views = [s.view() for (_r, k), s in self.metric_series.items() if k == key]
            refs = [line.value() for (_r, k), line in self.reference_lines.items() if k == key]
        xs = [x[-1] for x, _y in views if len(x)]
        ys = [y[np.isfinite(y)] for _x, y in views]
        ys = np.concatenate([*[v for v in ys if len(v)], np.array(refs, dtype=float)])
        if len(ys):
            self.ranges[key].cover(max(xs, default=0.0), float(ys.min()), float(ys.max()))

    def points(self, key: str, role: str | None = None) -> int:
        """Points a curve holds (tests): a loss key, or (metric key, role)."""
        curve = self.loss_curves[key] if role is None else self.metric_curves.get((role, key))
        data = None if curve is None else curve.xData  # all of it (drawing may thin it)
        return 0 if data is None else len(data)

    def stop(self) -> None:
        self._timer.stop()
