"""Curve pieces for fast live plots: growing buffers, peak decimation, path items, legend samples.

Painting is what costs the GUI thread time, so per-batch curves are :class:`CurveLine` items,
which Qt paints without calling back into Python, given only the points that can be seen: the
part of the buffer inside the view, reduced to a minimum and maximum per pixel column
(:func:`peak_decimate`) once it has more points than the plot has pixels
(:func:`points_in_view`). :class:`CurveSample` draws their legend entries, which
:func:`make_plot` places below the axes; :class:`PointMarkers` marks lone points;
:func:`add_right_view` gives a plot a second y axis (the total loss on its own scale).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.icons import invisibleEye
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QWidget

from mogui.qt.log_axis import log_axes

_MIN_COLUMNS = 100  # decimate to at least this many columns, even in a tiny view
DOT_SIZE = 5  # pixels: epoch points and lone validation points


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


def polyline_distance(x: float, y: float, xs: np.ndarray, ys: np.ndarray) -> float:
    """Distance from ``(x, y)`` to the polyline through ``xs``, ``ys`` (inf if it has none).

    All in the same units (the caller scales data to pixels); NaN points break the line.
    """
    if len(xs) == 0:
        return float("inf")
    if len(xs) == 1:
        return float(np.hypot(xs[0] - x, ys[0] - y)) if np.isfinite(ys[0]) else float("inf")
    x0, y0, x1, y1 = xs[:-1], ys[:-1], xs[1:], ys[1:]
    dx, dy = x1 - x0, y1 - y0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.clip(((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    t = np.where(np.isfinite(t), t, 0.0)
    distances = np.hypot(x0 + t * dx - x, y0 + t * dy - y)
    distances = distances[np.isfinite(distances)]
    return float(distances.min()) if distances.size else float("inf")


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

    def set_style(self, color: QColor, width: float) -> None:
        """Draw in ``color`` (its alpha too), ``width`` pixels wide, keeping the dash style."""
        pen = QPen(self.pen())
        pen.setColor(color)
        pen.setWidthF(width)
        self.setPen(pen)

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


def make_curve_item(color: str, dashed: bool, dots: bool) -> CurveLine | pg.PlotDataItem:
    """A :class:`CurveLine`, or with ``dots`` a line through a dot at each point."""
    if not dots:
        return CurveLine(color, dashed=dashed)
    style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
    return pg.PlotDataItem(pen=pg.mkPen(color=color, width=1, style=style), symbol="o",
                           symbolSize=DOT_SIZE, symbolPen=None, symbolBrush=pg.mkBrush(color))


DIM_ALPHA = 40  # of 255: curves of heads not highlighted while others are
HIGHLIGHT_WIDTH = 2.5


def style_item(item: CurveLine | pg.PlotDataItem, color: str, dashed: bool,
               emphasis: bool | None) -> None:
    """Draw ``item`` in ``color``: ``emphasis`` True thick and on top, False faded, None plain."""
    qcolor = QColor(color)
    width, z = 1.0, 0.0
    if emphasis:
        width, z = HIGHLIGHT_WIDTH, 2.0
    elif emphasis is False:
        qcolor.setAlpha(DIM_ALPHA)
    if isinstance(item, CurveLine):
        item.set_style(qcolor, width)
    else:
        style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
        item.setPen(pg.mkPen(color=qcolor, width=width, style=style))
        item.setSymbolBrush(pg.mkBrush(qcolor))
    item.setZValue(z)


def add_right_view(plot: pg.PlotWidget, label: str, color: str) -> pg.ViewBox:
    """A second view over ``plot``'s data area, x linked to it, with its own y on the right.

    It sits under the plot's own view, so the mouse still pans and zooms the plot (and with
    it the shared x); its y range is the caller's to set. Hidden until shown.
    """
    item = plot.plotItem
    view = pg.ViewBox(enableMenu=False)
    view.setMouseEnabled(x=False, y=False)
    view.setZValue(item.vb.zValue() - 1)
    item.scene().addItem(view)
    view.setXLink(item.vb)
    item.showAxis("right")
    axis = item.getAxis("right")
    axis.linkToView(view)
    axis.setLabel(label, color=color)
    axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def follow() -> None:
        view.setGeometry(item.vb.sceneBoundingRect())
        view.linkedViewChanged(item.vb, view.XAxis)

    item.vb.sigResized.connect(follow)
    follow()
    item.hideAxis("right")
    view.hide()
    return view


def make_plot(parent: QWidget, title: str, legend_columns: int) -> pg.PlotWidget:
    """A white plot over epochs with a small :class:`CurveSample` legend below its axes."""
    plot = pg.PlotWidget(parent, background="w", axisItems=log_axes())
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


def summary_plot(parent: QWidget, object_name: str, left_label: str = "", *, still: bool = True,
                 min_height: int = 160) -> pg.PlotWidget:
    """A white plot over epochs without pyqtgraph's menu and buttons, dark axis text; with
    ``still`` the mouse neither pans nor zooms it (heatmaps, stacked shares)."""
    plot = pg.PlotWidget(parent, background="w", axisItems=log_axes())
    plot.setObjectName(object_name)
    plot.setMinimumSize(220, min_height)
    item = plot.plotItem
    item.setMenuEnabled(False)
    item.hideButtons()
    if still:
        item.vb.setMouseEnabled(x=False, y=False)
    item.setLabel("bottom", "epoch")
    if left_label:
        item.setLabel("left", left_label)
    for name in ("left", "bottom"):
        item.getAxis(name).setTextPen("#333")
    return plot
