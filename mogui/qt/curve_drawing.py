"""How :class:`~mogui.qt.loss_plots.LossPlots` draws its curves: items, hosts, legends, ranges.

A mixin over the widget's state (curves by view and log key, the plots, the total's own view
box, markers per view box), so the widget itself keeps to set-up, data and options. A curve's
item is made when it is first drawn and put in its host: the total's own view box when the
total is on its own axis, else its plot's. Only curves with new points, or whose view moved,
are drawn again; a plot's y range changes only when its data leave it or shrink well inside it.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg

from mogui.qt.curve_items import PointMarkers, make_curve_item, points_in_view, style_item
from mogui.qt.loss_curves import (
    BATCH_VIEW,
    EPOCH_VIEW,
    TOTAL,
    LossCurve,
    legend_label,
    y_bounds,
    y_range_for,
)
from mogui.qt.plot_refresh import TurnRefresher

LEGEND_LIMIT = 8  # a plot with more training curves shown has no legend: the head table names them
#: Longest a timed refresh renders curves (seconds); the rest wait for the plot's next turn,
#: so a plot of 40 heads' curves never holds the GUI thread for a whole frame with its paint.
RENDER_BUDGET_S = 0.005


class CurveDrawing:
    """Drawing for a widget with ``loss_plot``, metric plots and :class:`LossCurve` s."""

    loss_plot: pg.PlotWidget
    _curves: dict[tuple[str, str], LossCurve]
    _view: str
    _hidden: set[str]
    _highlighted: set[str]
    _y_shown: dict[int, tuple[float, float]]
    _markers: dict[int, PointMarkers]
    _total_view: pg.ViewBox
    _refresher: TurnRefresher
    _legend_stale: bool
    # and ``_shown(curve)``, from :class:`~mogui.qt.loss_curves.CurveQueries`

    # -- what the widget provides -----------------------------------------------------------
    def colour_of(self, head: str) -> str:
        raise NotImplementedError

    def _plot_of(self, curve: LossCurve) -> pg.PlotWidget:
        raise NotImplementedError

    def _all_plots(self) -> list[pg.PlotWidget]:
        raise NotImplementedError

    @property
    def total_apart(self) -> bool:
        raise NotImplementedError

    def _is_log(self, plot: pg.PlotWidget) -> bool:
        raise NotImplementedError

    # -- hosts ------------------------------------------------------------------------------
    def _views_of(self, plot: pg.PlotWidget) -> tuple[pg.ViewBox, ...]:
        if plot is self.loss_plot:
            return plot.plotItem.vb, self._total_view
        return (plot.plotItem.vb,)

    def _host_of(self, curve: LossCurve) -> pg.ViewBox:
        """The view box ``curve`` belongs in: the total's own, or its plot's."""
        if curve.head == TOTAL and curve.is_loss and self.total_apart:
            return self._total_view
        return self._plot_of(curve).plotItem.vb

    def _make_item(self, curve: LossCurve) -> None:
        """Create the curve's pyqtgraph item; train curves also get a legend entry.

        Validation curves share their head's colour, dashed (the plot titles say so), so the
        legend does not grow, and the plots do not shrink, when the first epoch ends.
        """
        curve.item = make_curve_item(self.colour_of(curve.head), curve.is_val,
                                     dots=curve.view == EPOCH_VIEW)  # a dot per epoch
        self._style(curve)
        self._set_visible(curve)
        self._attach(curve)
        if not curve.is_val:
            self._legend_stale = True

    def _attach(self, curve: LossCurve) -> None:
        """Put the curve's item into the view box it belongs in (moving it if needed)."""
        host = self._host_of(curve)
        if curve.host is host or curve.item is None:
            return
        if curve.host is not None:
            self._detach(curve)
        plot = self._plot_of(curve)
        if host is plot.plotItem.vb:
            plot.addItem(curve.item)  # the plot sets its log mode on epoch-view items
        else:
            host.addItem(curve.item)
            if isinstance(curve.item, pg.PlotDataItem):
                curve.item.setLogMode(False, self._is_log(plot))
        curve.host = host

    def _detach(self, curve: LossCurve) -> None:
        plot = self._plot_of(curve)
        if curve.host is plot.plotItem.vb:
            plot.removeItem(curve.item)
        elif curve.host is not None:
            curve.host.removeItem(curve.item)
        curve.host = None

    # -- drawing ----------------------------------------------------------------------------
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
        for plot in self._all_plots():
            self._refresh_plot(plot)

    def _redraw_all(self) -> None:
        for plot in self._all_plots():
            self._refresh_plot(plot, refit=True)

    def _refresh_in_turn(self, plot: pg.PlotWidget) -> None:
        """A timed refresh: at most :data:`RENDER_BUDGET_S` of rendering, the curves that
        have waited longest first; the plot keeps its turn for the curves left."""
        self._refresh_plot(plot, budget=RENDER_BUDGET_S)

    def _refresh_plot(self, plot: pg.PlotWidget, refit: bool = False,
                      budget: float | None = None) -> None:
        """Draw the plot's changed curves; ``refit`` sets its y ranges even if the data fit;
        with ``budget`` (seconds) stop rendering after that long and mark the plot again."""
        self._refresher.drawn(plot)
        mine = [curve for curve in self._curves.values()
                if curve.view == self._view and self._plot_of(curve) is plot]
        for curve in mine:
            if curve.item is None:
                self._make_item(curve)
        if self._legend_stale:
            self._rebuild_legends()
        log = self._is_log(plot)
        due = [curve for curve in mine
               if (curve.buffer.n != curve.drawn or curve.stale) and self._shown(curve)]
        deadline = None if budget is None else time.perf_counter() + budget
        if deadline is not None:
            due.sort(key=lambda curve: curve.drawn - curve.buffer.n)  # most behind first
        for done, curve in enumerate(due, start=1):
            self._render(curve, log)  # at least one curve a turn, so every turn moves on
            if deadline is not None and done < len(due) and time.perf_counter() > deadline:
                self._refresher.mark(plot)
                break
        for view in self._views_of(plot):
            if view.isVisible():
                self._update_markers(view, log)
                self._fit_y(view, log, force=refit)

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

    def _update_markers(self, view: pg.ViewBox, log: bool) -> None:
        """Dots for validation curves that have a single point in the per-batch view."""
        xs, ys, colors = [], [], []
        if self._view == BATCH_VIEW:
            for curve in self._curves.values():
                if curve.is_val and curve.view == BATCH_VIEW and curve.buffer.n == 1 \
                        and curve.host is view and self._shown(curve):
                    y = curve.buffer.y[0]
                    xs.append(curve.buffer.x[0])
                    ys.append(np.log10(y) if log and y > 0 else (np.nan if log else y))
                    colors.append(self.colour_of(curve.head))
        self._markers[id(view)].show_points(xs, ys, colors)

    def _fit_y(self, view: pg.ViewBox, log: bool, force: bool = False) -> None:
        """Set the view's y range from its visible curves, only when it needs to change."""
        bounds = y_bounds((curve for curve in self._curves.values()
                           if curve.host is view and self._shown(curve)), log)
        new = y_range_for(bounds, None if force else self._y_shown.get(id(view)), log)
        if new is not None:
            view.setYRange(*new, padding=0)
            self._y_shown[id(view)] = new

    def _rebuild_legends(self) -> None:
        """Legend entries for the shown training curves of the current view, when few.

        A plot showing more than :data:`LEGEND_LIMIT` training curves has no legend: it would
        take the plot's room, and the head table beside the plots shows each head's colour.
        Only the loss plot has one; a metric's small plot is named by its title.
        """
        self._legend_stale = False
        legend = self.loss_plot.plotItem.legend
        legend.clear()
        entries = [curve for curve in self._curves.values()
                   if curve.view == self._view and not curve.is_val and curve.is_loss
                   and self._shown(curve)]
        if len(entries) <= LEGEND_LIMIT:
            for curve in entries:
                legend.addItem(curve.item, legend_label(curve.key))

    # -- style and visibility ---------------------------------------------------------------
    def _style(self, curve: LossCurve) -> None:
        """Colour and width of the curve's item, from its head and the highlight."""
        if curve.item is not None:
            emphasis = None if not self._highlighted or curve.head == TOTAL \
                else curve.head in self._highlighted
            style_item(curve.item, self.colour_of(curve.head), curve.is_val, emphasis)

    def _set_visible(self, curve: LossCurve) -> None:
        if curve.item is not None:
            curve.item.setVisible(curve.view == self._view and curve.head not in self._hidden)

    def _apply_visibility(self) -> None:
        for curve in self._curves.values():
            self._set_visible(curve)
        self._rebuild_legends()
        self._redraw_all()
