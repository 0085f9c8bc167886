"""Small multiples for metrics: one small plot per metric, each with its own y axis.

An accuracy (0..1) and a price's mean absolute error (~100) never share an axis: every metric
name (``mae``, ``sparse_categorical_accuracy``…) gets a plot of its own, made when its first
value arrives, with one curve per head that reports it, in the head's colour (the head table
names the colours; a plot's title names its metric). The plots stand in a grid that keeps
them as large and as little squashed as the room allows (side by side in a wide area, stacked
in a tall one).
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from mogui.qt.curve_items import make_plot

PLOT_MIN_W, PLOT_MIN_H = 150, 110
_ASPECT = 1.4  # a plot reads best about this much wider than tall


def metric_title(metric: str) -> str:
    """The plot's title for a Keras metric name: ``sparse_categorical_accuracy`` stays."""
    return metric.replace("_", " ")


def grid_shape(count: int, width: float, height: float) -> tuple[int, int]:
    """``(rows, columns)`` for ``count`` plots in ``width`` x ``height`` pixels: the shape
    whose cells are largest once squashed to :data:`_ASPECT`."""
    if count <= 1:
        return 1, 1
    best, best_score = (count, 1), -1.0
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        cell_w, cell_h = width / columns, height / rows
        score = min(cell_w / _ASPECT, cell_h)
        if score > best_score + 1e-9:
            best, best_score = (rows, columns), score
    return best


class MetricGrid(QWidget):
    """One plot per metric, in a grid; empty (with a note) until a metric arrives."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricGrid")
        self.plots: dict[str, pg.PlotWidget] = {}
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self.note = QLabel("Metrics appear here, one plot per metric, once training reports "
                           "them.", self, wordWrap=True)
        self.note.setStyleSheet("color: #777; padding: 8px;")
        self._layout.addWidget(self.note, 0, 0)
        self._shape = (1, 1)
        self.setMinimumSize(PLOT_MIN_W, PLOT_MIN_H)

    def plot_for(self, metric: str) -> tuple[pg.PlotWidget, bool]:
        """The plot of ``metric`` and whether it was just made."""
        plot = self.plots.get(metric)
        if plot is not None:
            return plot, False
        plot = make_plot(self, metric_title(metric), 2)
        plot.setObjectName(f"metricPlot_{metric}")
        plot.setMinimumSize(PLOT_MIN_W, PLOT_MIN_H)
        plot.setTitle(metric_title(metric), color="#333", size="9pt")
        plot.setLabel("bottom", "")  # the loss plot's axis says "epoch"
        # No legend: the head table beside the plots shows each head's colour, and the room
        # goes to the curves.
        plot.plotItem.layout.removeItem(plot.plotItem.legend)
        plot.plotItem.legend.hide()
        for side in ("left", "bottom"):
            plot.getAxis(side).setStyle(maxTickLevel=0)  # fewer ticks: no overlapping labels
        self.plots[metric] = plot
        self.note.hide()
        self._arrange(force=True)
        return plot, True

    def clear(self) -> None:
        """Remove every plot (a new run may report other metrics)."""
        for plot in self.plots.values():
            self._layout.removeWidget(plot)
            plot.setParent(None)
            plot.deleteLater()
        self.plots = {}
        self.note.show()
        self._arrange(force=True)

    def _arrange(self, force: bool = False) -> None:
        shape = grid_shape(len(self.plots), max(self.width(), 1), max(self.height(), 1))
        if shape == self._shape and not force:
            return
        self._shape = shape
        for plot in self.plots.values():
            self._layout.removeWidget(plot)
        rows, columns = shape
        for index in range(max(rows, columns, self._layout.rowCount(),
                               self._layout.columnCount())):
            self._layout.setRowStretch(index, 1 if index < rows else 0)
            self._layout.setColumnStretch(index, 1 if index < columns else 0)
        for index, plot in enumerate(self.plots.values()):
            self._layout.addWidget(plot, *divmod(index, columns))

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        super().resizeEvent(event)
        self._arrange()
