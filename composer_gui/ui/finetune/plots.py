"""Live training plots (pyqtgraph), updated in place.

Records only append to numpy buffers; a timer (:data:`FLUSH_MS`) hands the buffers that
changed to their existing curves with ``setData`` (pyqtgraph's scrolling-plot pattern),
so a burst of records costs one redraw and no item is ever created per point.

* Losses: generator loss, critic (discriminator) loss and gradient penalty per step.
* Metrics: one plot per metric of ``ml.metrics`` (EB, UPC, QN, TD to melody, in-scale),
  one curve per generated part, and the data's own value of each part as a dashed
  horizontal line in the part's colour (the ``reference`` of the ``start`` record).
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

FLUSH_MS = 250
#: Metrics shown, in order (ml.metrics keys; records may also use the short labels).
METRIC_KEYS = ("empty_bar_rate", "used_pitch_classes", "qualified_note_rate",
               "tonal_distance", "in_scale_rate")
LOSS_KEYS = (("g_loss", "G loss", "#2e86de"), ("d_loss", "D loss", "#e67e22"),
             ("gp", "GP", "#27ae60"))
ROLE_COLOURS = ("#8e44ad", "#16a085", "#c0392b", "#2980b9", "#d35400", "#7f8c8d")


def metric_label(key: str) -> str:
    from composer_gui.ml.metrics import METRIC_LABELS

    return METRIC_LABELS.get(key, key)


def _canonical(key: str) -> str:
    """A record's metric name as an ml.metrics key (records may use the short label)."""
    from composer_gui.ml.metrics import METRIC_LABELS

    for full, label in METRIC_LABELS.items():
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
        layout.addWidget(self.view)
        self._timer = QTimer(self, interval=FLUSH_MS)
        self._timer.timeout.connect(self.flush)
        self.flush_ms: list[float] = []  # cost of each flush that drew something
        self.reset()

    # -- layout --------------------------------------------------------------------------
    def reset(self, roles: list[str] | None = None) -> None:
        """Empty plots (``roles``: the model's parts, in order)."""
        self.view.clear()
        self.roles = list(roles or [])
        self.loss_plot = self.view.addPlot(row=0, col=0, colspan=3, title="Losses")
        self.loss_plot.addLegend(offset=(-10, 10))
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.showGrid(x=True, y=True, alpha=0.2)
        self.loss_series = {k: Series() for k, _l, _c in LOSS_KEYS}
        self.loss_curves = {k: self.loss_plot.plot([], [], pen=pg.mkPen(c, width=1.5), name=label)
                            for k, label, c in LOSS_KEYS}
        self.metric_plots: dict[str, pg.PlotItem] = {}
        self.metric_series: dict[tuple[str, str], Series] = {}
        self.metric_curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.reference_lines: dict[tuple[str, str], pg.InfiniteLine] = {}
        for i, key in enumerate(METRIC_KEYS):
            plot = self.view.addPlot(row=1 + i // 3, col=i % 3, title=metric_label(key))
            plot.showGrid(x=True, y=True, alpha=0.2)
            if i == 0:
                plot.addLegend(offset=(-5, 5), labelTextSize="7pt")
            self.metric_plots[key] = plot
        for role in self.roles:
            self._ensure_role(role)
        self._dirty: set = set()
        self._timer.start()

    def _colour(self, role: str) -> str:
        if role not in self.roles:
            self.roles.append(role)
        return ROLE_COLOURS[self.roles.index(role) % len(ROLE_COLOURS)]

    def _ensure_role(self, role: str) -> None:
        colour = self._colour(role)
        for key, plot in self.metric_plots.items():
            if (role, key) not in self.metric_curves:
                self.metric_series[(role, key)] = Series()
                self.metric_curves[(role, key)] = plot.plot(
                    [], [], pen=pg.mkPen(colour, width=1.5), symbol="o", symbolSize=4,
                    symbolBrush=colour, symbolPen=None, name=role)

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
        elif kind == "start" and record.get("reference"):
            self.set_reference(record["reference"])

    def flush(self) -> None:
        """Hand the changed buffers to their curves (one ``setData`` per changed curve)."""
        if not self._dirty:
            return
        t0 = time.perf_counter()
        for item in self._dirty:
            if item[0] == "loss":
                x, y = self.loss_series[item[1]].view()
                self.loss_curves[item[1]].setData(x, y, connect="finite")
            else:
                x, y = self.metric_series[item].view()
                self.metric_curves[item].setData(x, y, connect="finite")
        self._dirty.clear()
        self.flush_ms.append(1000 * (time.perf_counter() - t0))

    def points(self, key: str, role: str | None = None) -> int:
        """Points a curve holds (tests): a loss key, or (metric key, role)."""
        curve = self.loss_curves[key] if role is None else self.metric_curves.get((role, key))
        data = None if curve is None else curve.getData()[0]
        return 0 if data is None else len(data)

    def stop(self) -> None:
        self._timer.stop()
