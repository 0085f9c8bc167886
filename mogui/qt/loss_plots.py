"""Live loss and metric curves (pyqtgraph), per head, for batches and epochs.

Each curve is fed from a growing numpy buffer. Data arrive through :meth:`add_batches` and
:meth:`add_epoch`; drawing happens only when a plot is refreshed, one plot at a time (see
:mod:`mogui.qt.plot_refresh`). Per-batch curves are :class:`~mogui.qt.curve_items.CurveLine`
items given only the points that can be seen (see :mod:`mogui.qt.curve_items`). Lone
validation points in the per-batch view (one epoch so far) are drawn by one marker item per
plot. Curves of the hidden view get their items when it is shown. The x range is fixed to the
run's epochs and the y range is set by :meth:`_fit_y` only when the data leave it or shrink
well inside it, so the axes are rarely redrawn.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from mogui.core.events import BatchEnded, EpochEnded
from mogui.qt.curve_items import (
    CurveLine,
    PointMarkers,
    make_plot,
    peak_decimate,
    points_in_view,
)
from mogui.qt.loss_curves import (
    BATCH_VIEW,
    EPOCH_VIEW,
    TOTAL,
    LossCurve,
    classify_key,
    legend_label,
    y_bounds,
)
from mogui.qt.plot_refresh import TurnRefresher

__all__ = ["BATCH_VIEW", "EPOCH_VIEW", "TOTAL", "CurveLine", "LossPlots", "classify_key",
           "legend_label", "peak_decimate"]

_Y_PAD = 0.08  # fraction of the data span added above and below
_Y_SHRINK = 0.4  # re-fit when the data span falls below this fraction of the shown span
_DOT_SIZE = 5
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#17becf", "#bcbd22", "#7f7f7f")


class LossPlots(QWidget):
    """Loss curves (train solid, validation dashed) and a smaller metrics plot beside them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heads: list[str] = []
        self._colors: dict[str, str] = {}
        self._curves: dict[tuple[str, str], LossCurve] = {}
        self._view = BATCH_VIEW
        self._y_shown: dict[int, tuple[float, float]] = {}
        self._x_range: tuple[float, float] | None = None
        self._own_keys: set[str] = set()

        self.view_combo = QComboBox(self)
        self.view_combo.setObjectName("plotViewCombo")
        self.view_combo.addItem("Per batch", BATCH_VIEW)
        self.view_combo.addItem("Per epoch", EPOCH_VIEW)
        self.view_combo.setToolTip(
            "Per batch: each batch's own loss and metrics (AUC, precision, recall and RMSE as "
            "Keras reports them: over the epoch so far); validation at each epoch end.\n"
            "Per epoch: one point per epoch for everything.")
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

        self.loss_plot = make_plot(self, "Loss (solid: train, dashed: validation)", 3)
        self.metric_plot = make_plot(self, "Metrics (solid: train, dashed: validation)", 3)
        self._plots = (self.loss_plot, self.metric_plot)
        self._markers: dict[int, PointMarkers] = {}
        for plot in self._plots:
            plot.plotItem.vb.sigXRangeChanged.connect(lambda *_, p=plot: self._restale(p))
            plot.plotItem.vb.sigResized.connect(lambda *_, p=plot: self._restale(p))
            self._markers[id(plot)] = PointMarkers(_DOT_SIZE)
            plot.addItem(self._markers[id(plot)])
        self._refresher = TurnRefresher(self._plots, self._refresh_plot, self)
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

    # -- set-up -----------------------------------------------------------------------------
    def reset(self, heads: Iterable[str], epochs: int | None = None) -> None:
        """Forget all data and prepare for a run training ``heads`` for ``epochs``.

        Knowing ``epochs`` fixes the x axis, so it is not re-drawn on every update.
        """
        self._heads = list(heads)
        self._colors = {h: _PALETTE[i % len(_PALETTE)] for i, h in enumerate(self._heads)}
        self._colors[TOTAL] = "#222222"
        self._x_range = (0.0, float(epochs)) if epochs else None
        # One legend row for the loss plot's total and heads as long as they fit.
        self.loss_plot.plotItem.legend.setColumnCount(min(len(self._heads) + 1, 4))
        for curve in self._curves.values():
            if curve.item is not None:
                self._plot_of(curve).removeItem(curve.item)
        for plot in self._plots:
            plot.plotItem.legend.clear()
            self._markers[id(plot)].show_points([], [], [])
            self._apply_x_range(plot)
        self._y_shown = {}
        self._curves.clear()
        self._own_keys = set()  # log keys that come with each batch's own value
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
        self._refresher.stop()

    def _apply_x_range(self, plot: pg.PlotWidget) -> None:
        if self._x_range is not None:
            plot.setXRange(*self._x_range, padding=0.02)
            plot.enableAutoRange(x=False, y=False)
        else:
            plot.enableAutoRange(x=True, y=False)

    # -- data -------------------------------------------------------------------------------
    def add_batches(self, events: Iterable[BatchEnded]) -> None:
        """Per batch: each batch's own values where known, else what Keras reports.

        A key that has own values gets no point from a batch without one: the next value
        covers that batch too (the engine reads them at most 10 times a second).
        """
        for event in events:
            x = event.epoch + (event.batch + 1) / max(1, event.steps_per_epoch)
            own = event.batch_values
            self._own_keys.update(own)
            for key, value in event.logs.items():
                if key in own:
                    self._append(BATCH_VIEW, key, x, own[key])
                elif key not in self._own_keys:
                    self._append(BATCH_VIEW, key, x, value)
        self._refresher.schedule()

    def add_epoch(self, event: EpochEnded) -> None:
        """One point per log key in the epoch view; validation keys also in the batch view."""
        for key, value in event.logs.items():
            self._append(EPOCH_VIEW, key, event.epoch + 1, value)
            if key.startswith("val_"):
                self._append(BATCH_VIEW, key, event.epoch + 1, value)
        self._refresher.schedule()

    def _append(self, view: str, key: str, x: float, value: float) -> None:
        curve = self._curves.get((view, key))
        if curve is None:
            kind = classify_key(key, self._heads)
            if kind is None:
                return
            curve = self._make_curve(view, key, *kind)
        curve.buffer.append(x, float(value))
        if view == self._view:
            self._refresher.mark(self._plot_of(curve))

    def _plot_of(self, curve: LossCurve) -> pg.PlotWidget:
        return self.loss_plot if curve.is_loss else self.metric_plot

    def _make_curve(self, view: str, key: str, head: str, is_loss: bool,
                    is_val: bool) -> LossCurve:
        self._colors.setdefault(head, _PALETTE[len(self._colors) % len(_PALETTE)])
        curve = LossCurve(key, head, is_loss, is_val, view)
        self._curves[(view, key)] = curve
        if view == self._view:
            self._make_item(curve)
        return curve

    def _make_item(self, curve: LossCurve) -> None:
        """Create the curve's pyqtgraph item; train curves also get a legend entry.

        Validation curves share their head's colour, dashed (the plot titles say so), so the
        legend does not grow, and the plots do not shrink, when the first epoch ends.
        """
        color = self._colors[curve.head]
        plot = self._plot_of(curve)
        if curve.view == EPOCH_VIEW:  # one point per epoch: mark each point
            style = Qt.PenStyle.DashLine if curve.is_val else Qt.PenStyle.SolidLine
            item = pg.PlotDataItem(pen=pg.mkPen(color=color, width=1, style=style),
                                   symbol="o", symbolSize=_DOT_SIZE, symbolPen=None,
                                   symbolBrush=pg.mkBrush(color))
        else:
            item = CurveLine(color, dashed=curve.is_val)
        curve.item = item
        self._set_visible(curve)
        plot.addItem(item)
        if not curve.is_val and self._head_on(curve):
            plot.plotItem.legend.addItem(item, legend_label(curve.key))

    def _restale(self, plot: pg.PlotWidget) -> None:
        """The view moved or resized: re-render its curves on the next refresh."""
        for curve in self._curves.values():
            if curve.view == BATCH_VIEW and self._plot_of(curve) is plot:
                curve.stale = True
        if any(curve.buffer.n for curve in self._curves.values()):
            self._refresher.mark(plot)
            self._refresher.schedule()

    def refresh(self) -> None:
        """Draw every plot's new points now."""
        for plot in self._plots:
            self._refresh_plot(plot)

    def _is_log(self, plot: pg.PlotWidget) -> bool:
        return plot is self.loss_plot and self.log_check.isChecked()

    def _refresh_plot(self, plot: pg.PlotWidget, refit: bool = False) -> None:
        """Draw the plot's changed curves; ``refit`` sets its y range even if the data fit."""
        self._refresher.drawn(plot)
        is_loss = plot is self.loss_plot
        log = self._is_log(plot)
        for curve in self._curves.values():
            if curve.is_loss == is_loss and curve.view == self._view \
                    and (curve.buffer.n != curve.drawn or curve.stale) and self._shown(curve):
                self._render(curve, log)
        self._update_markers(plot, log)
        self._fit_y(plot, force=refit)

    def _render(self, curve: LossCurve, log: bool) -> None:
        buffer = curve.buffer
        n = buffer.n
        if isinstance(curve.item, pg.PlotDataItem):  # epoch view: a point per epoch
            curve.item.setData(buffer.x[:n], buffer.y[:n])
        else:
            x, y = points_in_view(buffer.x[:n], buffer.y[:n], self._plot_of(curve).plotItem.vb)
            if log:
                with np.errstate(divide="ignore", invalid="ignore"):
                    y = np.log10(np.where(y > 0, y, np.nan))
            curve.item.set_points(x, y, finite=buffer.all_finite and not log)
        curve.drawn = n
        curve.stale = False

    def _update_markers(self, plot: pg.PlotWidget, log: bool) -> None:
        """Dots for validation curves that have a single point in the per-batch view."""
        xs, ys, colors = [], [], []
        if self._view == BATCH_VIEW:
            for curve in self._curves.values():
                if curve.is_val and curve.view == BATCH_VIEW and curve.buffer.n == 1 \
                        and self._plot_of(curve) is plot and self._shown(curve):
                    y = curve.buffer.y[0]
                    xs.append(curve.buffer.x[0])
                    ys.append(np.log10(y) if log and y > 0 else (np.nan if log else y))
                    colors.append(self._colors[curve.head])
        self._markers[id(plot)].show_points(xs, ys, colors)

    def _fit_y(self, plot: pg.PlotWidget, force: bool = False) -> None:
        """Set the plot's y range from its visible curves, only when it needs to change."""
        is_loss = plot is self.loss_plot
        log = self._is_log(plot)
        bounds = y_bounds((curve for curve in self._curves.values()
                           if curve.is_loss == is_loss and self._shown(curve)), log)
        if bounds is None:
            return
        low, high = bounds
        span = max(high - low, 1e-6 if log else abs(high) * 1e-3 + 1e-9)
        shown = self._y_shown.get(id(plot))
        if not force and shown is not None and shown[0] <= low and high <= shown[1] \
                and span >= _Y_SHRINK * (shown[1] - shown[0]):
            return
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
        for curve in self._curves.values():
            if curve.view == self._view and curve.item is None:
                self._make_item(curve)
            self._set_visible(curve)
        self._rebuild_legends()
        self._redraw_all()

    def _rebuild_legends(self) -> None:
        """Legend entries for the shown training curves of the current view."""
        for plot in self._plots:
            plot.plotItem.legend.clear()
        for curve in self._curves.values():
            if curve.view == self._view and not curve.is_val and self._shown(curve):
                self._plot_of(curve).plotItem.legend.addItem(curve.item,
                                                            legend_label(curve.key))

    def _on_log_toggled(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self._apply_x_range(self.loss_plot)  # setLogMode turns auto-range back on
        for curve in self._curves.values():
            if curve.is_loss:
                curve.stale = True
        self._redraw_all()

    def set_head_visible(self, head: str, visible: bool) -> None:
        self.head_checks[head].setChecked(visible)

    def _apply_visibility(self) -> None:
        for curve in self._curves.values():
            self._set_visible(curve)
        self._rebuild_legends()
        self._redraw_all()

    def _redraw_all(self) -> None:
        for plot in self._plots:
            self._refresh_plot(plot, refit=True)

    def _set_visible(self, curve: LossCurve) -> None:
        if curve.item is not None:
            curve.item.setVisible(curve.view == self._view and self._head_on(curve))

    def _head_on(self, curve: LossCurve) -> bool:
        check = self.head_checks.get(curve.head)
        return check is None or check.isChecked()

    def _shown(self, curve: LossCurve) -> bool:
        return curve.item is not None and curve.item.isVisible()

    # -- introspection (tests, status) ------------------------------------------------------
    def curve_names(self, view: str | None = None) -> list[str]:
        """Log keys that have a curve in ``view`` (default: the current view)."""
        view = view or self._view
        return sorted(key for (v, key) in self._curves if v == view)

    def curve_points(self, name: str, view: str | None = None) -> int:
        """Points of log key ``name`` drawn so far in ``view`` (0 when there is no such curve).

        Curves of a hidden view are drawn when it is shown; until then this stays 0.
        """
        curve = self._curves.get((view or self._view, name))
        return 0 if curve is None else curve.drawn

    def points_received(self, name: str, view: str | None = None) -> int:
        """Points of log key ``name`` received for ``view``, drawn or not."""
        curve = self._curves.get((view or self._view, name))
        return 0 if curve is None else curve.buffer.n

    def curve_visible(self, name: str, view: str | None = None) -> bool:
        curve = self._curves.get((view or self._view, name))
        return curve is not None and self._shown(curve)

    def curve_item(self, name: str, view: str | None = None):
        """The pyqtgraph item of ``name`` in ``view``, or ``None`` (none until it is shown)."""
        curve = self._curves.get((view or self._view, name))
        return None if curve is None else curve.item

    def marker_points(self, plot: pg.PlotWidget | None = None) -> list[tuple[float, float]]:
        """The lone validation points marked with a dot in the per-batch view of ``plot``."""
        markers = self._markers[id(plot or self.loss_plot)]
        return [(float(x), float(y)) for x, y in zip(*markers.getData(), strict=True)]
