"""Curve pieces for fast live plots: growing buffers, peak decimation, path items, legend samples.

Painting is what costs the GUI thread time, so per-batch curves are :class:`CurveLine` items,
which Qt paints without calling back into Python, given only the points that can be seen: the
part of the buffer inside the view, reduced to a minimum and maximum per pixel column
(:func:`peak_decimate`) once it has more points than the plot has pixels
(:func:`points_in_view`). :class:`CurveSample` draws their legend entries, which
:func:`make_plot` places below the axes; :class:`PointMarkers` marks lone points.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.icons import invisibleEye
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QWidget

_MIN_COLUMNS = 100  # decimate to at least this many columns, even in a tiny view


class CurveBuffer:
    """A growing pair of float arrays with the running range of the finite y values."""

    def __init__(self) -> None:
        self.x = np.empty(256)
        self.y = np.empty(256)
        self.n = 0
        self.low = np.inf
        self.high = -np.inf
        self.low_positive = np.inf  # for log scale
        self.all_finite = True

    def append(self, x: float, y: float) -> None:
        """Add the point ``(x, y)``, doubling the arrays when they are full."""
        if self.n == len(self.x):
            self.x = np.resize(self.x, 2 * self.n)
            self.y = np.resize(self.y, 2 * self.n)
        self.x[self.n] = x
        self.y[self.n] = y
        self.n += 1
        if np.isfinite(y):
            self.low = min(self.low, y)
            self.high = max(self.high, y)
            if y > 0:
                self.low_positive = min(self.low_positive, y)
        else:
            self.all_finite = False


def peak_decimate(x: np.ndarray, y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """At most about ``2 * columns`` points that keep every column's minimum and maximum.

    ``x`` must be sorted. Points are grouped into runs of equal length; each run becomes its
    maximum and minimum at the run's first x, so spikes survive however long the curve is.
    """
    n = len(x)
    columns = max(1, int(columns))
    if n <= 2 * columns:
        return x, y
    run = -(-(n - 1) // columns)
    full = (n - 1) // run * run  # the rest, and always the last point, are kept as they are
    groups = y[:full].reshape(-1, run)
    peaks = np.empty((len(groups), 2))
    peaks[:, 0] = np.fmax.reduce(groups, axis=1)
    peaks[:, 1] = np.fmin.reduce(groups, axis=1)
    xs = np.repeat(x[:full:run], 2)
    return np.concatenate([xs, x[full:]]), np.concatenate([peaks.ravel(), y[full:]])


def points_in_view(x: np.ndarray, y: np.ndarray,
                   view_box: pg.ViewBox) -> tuple[np.ndarray, np.ndarray]:
    """The points inside ``view_box``'s x range (and one either side), peak-decimated.

    With x auto-range on the view follows the data, so every point counts as inside.
    """
    if not view_box.autoRangeEnabled()[0]:
        left, right = view_box.viewRange()[0]
        start = max(int(np.searchsorted(x, left)) - 1, 0)
        stop = min(int(np.searchsorted(x, right, side="right")) + 1, len(x))
        x, y = x[start:stop], y[start:stop]
    return peak_decimate(x, y, max(view_box.width(), _MIN_COLUMNS))


class CurveLine(QGraphicsPathItem):
    """A polyline in data coordinates with a one-pixel pen, bounded and painted by Qt alone.

    ``xData`` / ``yData`` hold the points last set; :class:`CurveSample` draws its legend entry.
    """

    def __init__(self, color: str, dashed: bool) -> None:
        super().__init__()
        pen = QPen(QColor(color))
        pen.setWidth(0)  # cosmetic: one pixel wide at any zoom
        pen.setCosmetic(True)
        pen.setStyle(Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
        self.setPen(pen)
        self.xData = np.empty(0)
        self.yData = np.empty(0)

    def set_points(self, x: np.ndarray, y: np.ndarray, finite: bool) -> None:
        """Draw ``x``, ``y``; ``finite=False`` leaves gaps at NaN / inf values."""
        self.xData, self.yData = x, y
        if len(x) == 0:
            self.setPath(QPainterPath())
            return
        self.setPath(pg.arrayToQPath(x, y, connect="all" if finite else "finite",
                                     finiteCheck=not finite))


class CurveSample(pg.ItemSample):
    """A legend sample (``pg.LegendItem(sampleType=CurveSample)``) that knows :class:`CurveLine`.

    A :class:`CurveLine` is drawn as a short line in its own pen, or as pyqtgraph's crossed-out
    eye while hidden; any other item is drawn by :class:`pyqtgraph.ItemSample`.
    """

    def pen(self) -> QPen:
        """The pen the sample's line is drawn with: the item's own."""
        if isinstance(self.item, CurveLine):
            return QPen(self.item.pen())
        return pg.mkPen(self.item.opts["pen"])

    def paint(self, painter: QPainter, *args: object) -> None:
        if not isinstance(self.item, CurveLine):
            super().paint(painter, *args)
            return
        if not self.item.isVisible():
            painter.drawPixmap(QPoint(1, 1), invisibleEye.qicon.pixmap(18, 18))
            return
        painter.setPen(self.pen())
        painter.drawLine(0, 11, 20, 11)


class PointMarkers(pg.ScatterPlotItem):
    """Dots of one size, above the curves, each in its own colour; set again only on change."""

    def __init__(self, size: int) -> None:
        super().__init__(size=size, pen=None)
        self.setZValue(1)
        self._shown: tuple[list, list, list] = ([], [], [])

    def show_points(self, xs: list[float], ys: list[float], colors: list[str]) -> None:
        """Mark the points ``(xs[i], ys[i])`` in ``colors[i]``; none when the lists are empty."""
        shown = (xs, ys, colors)
        if shown == self._shown:
            return
        self._shown = shown
        if xs:
            self.setData(x=xs, y=ys, brush=[pg.mkBrush(color) for color in colors])
        else:
            self.clear()


def make_plot(parent: QWidget, title: str, legend_columns: int) -> pg.PlotWidget:
    """A white plot over epochs with a small :class:`CurveSample` legend below its axes."""
    plot = pg.PlotWidget(parent, background="w")
    plot.setTitle(title, color="#333", size="10pt")
    plot.setLabel("bottom", "epoch")
    # The legend sits below the axes, in the plot's own layout, so it never hides a curve.
    legend = pg.LegendItem(labelTextSize="7pt", labelTextColor="#333", verSpacing=-8,
                           horSpacing=8, colCount=legend_columns, sampleType=CurveSample)
    plot.plotItem.layout.addItem(legend, 4, 1)
    plot.plotItem.legend = legend
    plot.setMinimumSize(220, 180)
    cache = QGraphicsItem.CacheMode.DeviceCoordinateCache
    for name in ("left", "bottom"):
        plot.getAxis(name).setCacheMode(cache)
    plot.plotItem.titleLabel.setCacheMode(cache)
    legend.setCacheMode(cache)
    return plot
