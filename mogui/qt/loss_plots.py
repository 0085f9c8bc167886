"""Live loss and metric curves (pyqtgraph), per head, for batches and epochs.

Each curve is one ``PlotDataItem`` created the first time its log key appears, fed from a
growing numpy buffer with ``setData(x[:n], y[:n])``. Data arrive through :meth:`add_batches`
and :meth:`add_epoch`; drawing happens only in :meth:`refresh`, run by a 5 Hz timer. The
per-batch view shows validation values too, one point per epoch end; curves with one point
per epoch carry small dots so that a single epoch is visible.

Painting is what costs the GUI thread time, so the plots avoid what makes pyqtgraph repaint
its axes: the x range is fixed to the run's epochs and the y range is set by :meth:`_fit_y`
only when the data leave it or shrink well inside it, not on every update.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from mogui.core.events import BatchEnded, EpochEnded

BATCH_VIEW = "batch"
EPOCH_VIEW = "epoch"
TOTAL = "total"
_REDRAW_MS = 200
_Y_PAD = 0.08  # fraction of the data span added above and below
_Y_SHRINK = 0.4  # re-fit when the data span falls below this fraction of the shown span
_DOT_SIZE = 5
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#17becf", "#bcbd22", "#7f7f7f")


class _Buffer:
    """A growing pair of float arrays."""

    def __init__(self) -> None:
        self.x = np.empty(256)
        self.y = np.empty(256)
        self.n = 0
        self.low = np.inf
        self.high = -np.inf
        self.low_positive = np.inf  # for log scale

    def append(self, x: float, y: float) -> None:
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


@dataclass
class _Curve:
    key: str  # Keras log key, e.g. "val_bbox_loss"
    head: str  # head name or TOTAL
    is_loss: bool
    item: pg.PlotDataItem
    view: str  # BATCH_VIEW or EPOCH_VIEW
    buffer: _Buffer = field(default_factory=_Buffer)
    drawn: int = 0


def classify_key(key: str, heads: Iterable[str]) -> tuple[str, bool, bool] | None:
    """``(head or TOTAL, is_loss, is_validation)`` for a log key, or ``None`` to ignore it."""
    is_val = key.startswith("val_")
    base = key[4:] if is_val else key
    if base == "loss":
        return TOTAL, True, is_val
    for head in sorted(heads, key=len, reverse=True):
        if base == f"{head}_loss":
            return head, True, is_val
        if base.startswith(f"{head}_"):
            return head, False, is_val
    return None


class LossPlots(QWidget):
    """Loss curves (train solid, validation dashed) and a smaller metrics plot beside them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heads: list[str] = []
        self._colors: dict[str, str] = {}
        self._curves: dict[tuple[str, str], _Curve] = {}
        self._view = BATCH_VIEW
        self._dirty = False
        self._y_shown: dict[int, tuple[float, float]] = {}

        self.view_combo = QComboBox(self)
        self.view_combo.setObjectName("plotViewCombo")
        self.view_combo.addItem("Per batch", BATCH_VIEW)
        self.view_combo.addItem("Per epoch", EPOCH_VIEW)
        self.view_combo.currentIndexChanged.connect(self._on_view_changed)
        self.log_check = QCheckBox("Log scale", self)
        self.log_check.setObjectName("logScaleCheck")
        self.log_check.toggled.connect(self._on_log_toggled)
        self._head_box = QHBoxLayout()
        self._head_box.setSpacing(8)
        self.head_checks: dict[str, QCheckBox] = {}

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Show:", self))
        controls.addWidget(self.view_combo)
        controls.addWidget(self.log_check)
        controls.addSpacing(12)
        controls.addLayout(self._head_box)
        controls.addStretch(1)

        self.loss_plot = self._make_plot("Loss (solid: train, dashed: validation)", 3)
        self.metric_plot = self._make_plot("Metrics per head", 2)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.loss_plot)
        splitter.addWidget(self.metric_plot)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([600, 380])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)

        self._timer = QTimer(self, singleShot=True, interval=_REDRAW_MS)
        self._timer.timeout.connect(self.refresh)

    def _make_plot(self, title: str, legend_columns: int) -> pg.PlotWidget:
        plot = pg.PlotWidget(self, background="w")
        plot.setTitle(title, color="#333", size="10pt")
        plot.setLabel("bottom", "epoch")
        # The legend sits below the axes, in the plot's own layout, so it never hides a curve.
        legend = pg.LegendItem(labelTextSize="7pt", labelTextColor="#333", verSpacing=-8,
                               horSpacing=8, colCount=legend_columns)
        plot.plotItem.layout.addItem(legend, 4, 1)
        plot.plotItem.legend = legend
        plot.setMinimumSize(220, 180)
        for name in ("left", "bottom"):
            plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        return plot

    # -- set-up -----------------------------------------------------------------------------
    def reset(self, heads: Iterable[str], epochs: int | None = None) -> None:
        """Forget all data and prepare for a run training ``heads`` for ``epochs``.

        Knowing ``epochs`` fixes the x axis, so it is not re-drawn on every update.
        """
        self._heads = list(heads)
        self._colors = {h: _PALETTE[i % len(_PALETTE)] for i, h in enumerate(self._heads)}
        self._colors[TOTAL] = "#222222"
        for plot in (self.loss_plot, self.metric_plot):
            plot.clear()
            legend = plot.plotItem.legend
            if legend is not None:
                legend.clear()
            if epochs:
                plot.setXRange(0, epochs, padding=0.02)
                plot.enableAutoRange(x=False, y=False)
            else:
                plot.enableAutoRange(x=True, y=False)
        self._y_shown = {}
        self._curves.clear()
        for check in self.head_checks.values():
            self._head_box.removeWidget(check)
            check.deleteLater()
        self.head_checks = {}
        for head in [*self._heads, TOTAL]:
            check = QCheckBox(head, self)
            check.setObjectName(f"showHead_{head}")
            check.setChecked(True)
            check.setStyleSheet(f"color: {self._colors[head]}; font-weight: bold;")
            check.toggled.connect(self._apply_visibility)
            self._head_box.addWidget(check)
            self.head_checks[head] = check
        self._dirty = False

    # -- data -------------------------------------------------------------------------------
    def add_batches(self, events: Iterable[BatchEnded]) -> None:
        for event in events:
            x = event.epoch + (event.batch + 1) / max(1, event.steps_per_epoch)
            for key, value in event.logs.items():
                self._append(BATCH_VIEW, key, x, value)
        self._schedule()

    def add_epoch(self, event: EpochEnded) -> None:
        """One point per log key in the epoch view; validation keys also in the batch view."""
        for key, value in event.logs.items():
            self._append(EPOCH_VIEW, key, event.epoch + 1, value)
            if key.startswith("val_"):
                self._append(BATCH_VIEW, key, event.epoch + 1, value)
        self._schedule()

    def _append(self, view: str, key: str, x: float, value: float) -> None:
        curve = self._curves.get((view, key))
        if curve is None:
            kind = classify_key(key, self._heads)
            if kind is None:
                return
            curve = self._make_curve(view, key, *kind)
        curve.buffer.append(x, float(value))

    def _make_curve(self, view: str, key: str, head: str, is_loss: bool,
                    is_val: bool) -> _Curve:
        color = self._colors.setdefault(head, _PALETTE[len(self._colors) % len(_PALETTE)])
        style = Qt.PenStyle.DashLine if is_val else Qt.PenStyle.SolidLine
        pen = pg.mkPen(color=color, width=1, style=style)
        plot = self.loss_plot if is_loss else self.metric_plot
        dots = {}
        if view == EPOCH_VIEW or is_val:  # one point per epoch: mark each point
            dots = {"symbol": "o", "symbolSize": _DOT_SIZE, "symbolPen": None,
                    "symbolBrush": pg.mkBrush(color)}
        item = pg.PlotDataItem(pen=pen, name=key if view == self._view else None, **dots)
        plot.addItem(item)
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        curve = _Curve(key, head, is_loss, item, view)
        self._curves[(view, key)] = curve
        self._set_visible(view, curve)
        return curve

    def _schedule(self) -> None:
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        """Push new points of every changed curve to pyqtgraph (GUI timer only)."""
        self._dirty = False
        for curve in self._curves.values():
            n = curve.buffer.n
            if n != curve.drawn:
                if n > 1 and curve.view == BATCH_VIEW and curve.item.opts["symbol"] is not None:
                    # Dots mark a lone validation point; from two points on the dashed line
                    # shows it, and symbols roughly double the cost of every repaint.
                    curve.item.setSymbol(None)
                curve.item.setData(curve.buffer.x[:n], curve.buffer.y[:n])
                curve.drawn = n
        self._fit_y()

    def _fit_y(self, force: bool = False) -> None:
        """Set each plot's y range from its visible curves, only when it needs to change."""
        for plot, is_loss in ((self.loss_plot, True), (self.metric_plot, False)):
            log = is_loss and self.log_check.isChecked()
            lows, highs = [], []
            for curve in self._curves.values():
                if curve.is_loss == is_loss and curve.item.isVisible() and curve.buffer.n:
                    lows.append(curve.buffer.low_positive if log else curve.buffer.low)
                    highs.append(curve.buffer.high)
            if not lows or not np.isfinite(min(lows)) or not np.isfinite(max(highs)):
                continue
            low, high = min(lows), max(highs)
            if log:
                low, high = np.log10(low), np.log10(max(high, low))
            span = max(high - low, 1e-6 if log else abs(high) * 1e-3 + 1e-9)
            shown = self._y_shown.get(id(plot))
            if not force and shown is not None and shown[0] <= low and high <= shown[1] \
                    and span >= _Y_SHRINK * (shown[1] - shown[0]):
                continue
            new = (low - _Y_PAD * span, high + _Y_PAD * span)
            plot.setYRange(*new, padding=0)
            self._y_shown[id(plot)] = new

    # -- view options -----------------------------------------------------------------------
    @property
    def view(self) -> str:
        return self._view

    def set_view(self, view: str) -> None:
        self.view_combo.setCurrentIndex(self.view_combo.findData(view))

    def _on_view_changed(self, _index: int) -> None:
        self._view = self.view_combo.currentData()
        for plot in (self.loss_plot, self.metric_plot):
            legend = plot.plotItem.legend
            if legend is not None:
                legend.clear()
        for (view, _key), curve in self._curves.items():
            self._set_visible(view, curve)
            if view == self._view:
                plot = self.loss_plot if curve.is_loss else self.metric_plot
                plot.plotItem.legend.addItem(curve.item, curve.key)
        self._fit_y(force=True)

    def _on_log_toggled(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self._fit_y(force=True)

    def set_head_visible(self, head: str, visible: bool) -> None:
        self.head_checks[head].setChecked(visible)

    def _apply_visibility(self) -> None:
        for (view, _key), curve in self._curves.items():
            self._set_visible(view, curve)
        self._fit_y(force=True)

    def _set_visible(self, view: str, curve: _Curve) -> None:
        check = self.head_checks.get(curve.head)
        head_on = check is None or check.isChecked()
        curve.item.setVisible(view == self._view and head_on)

    # -- introspection (tests, status) ------------------------------------------------------
    def curve_names(self, view: str | None = None) -> list[str]:
        """Log keys that have a curve in ``view`` (default: the current view)."""
        view = view or self._view
        return sorted(key for (v, key) in self._curves if v == view)

    def curve_points(self, name: str, view: str | None = None) -> int:
        """Points drawn for log key ``name`` in ``view`` (0 when there is no such curve)."""
        curve = self._curves.get((view or self._view, name))
        return 0 if curve is None else curve.drawn

    def curve_visible(self, name: str, view: str | None = None) -> bool:
        curve = self._curves.get((view or self._view, name))
        return bool(curve is not None and curve.item.isVisible())

    def curve_item(self, name: str, view: str | None = None) -> pg.PlotDataItem | None:
        curve = self._curves.get((view or self._view, name))
        return None if curve is None else curve.item
