"""Live loss and metric curves (pyqtgraph), per head, for batches and epochs.

The losses share one plot (total in black, each head in its colour); metrics are small
multiples, one plot per metric (:mod:`mogui.qt.metric_plots`), so an accuracy (0..1) and an
error of ~100 never share an axis. Each curve is fed from a growing numpy buffer through
:meth:`add_batches` and :meth:`add_epoch`; drawing (:mod:`mogui.qt.curve_drawing`) happens
only when a plot is refreshed, one plot at a time (:mod:`mogui.qt.plot_refresh`), and an item
is made when its curve is first drawn. Per-batch curves are
:class:`~mogui.qt.curve_items.CurveLine` items given only the points that can be seen. Lone
validation points in the per-batch view are drawn by one marker item per view box. The x range
is fixed to the run's epochs; the y range changes only when the data leave it or shrink well
inside it, so the axes are rarely redrawn.

Heads are coloured by :mod:`mogui.core.head_palette`. Which heads are shown and which are
highlighted (thicker, the others faded) is set from outside (the Training tab's head table);
a click on a curve names its head (:attr:`head_clicked`). The total loss can be hidden or
drawn against an axis of its own on the right; with many heads it starts there, and the loss
axes start logarithmic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSignalBlocker, Qt, Signal
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
from mogui.core.head_palette import NO_LOSS_COLOUR, TOTAL_COLOUR, head_colours
from mogui.qt.curve_drawing import LEGEND_LIMIT, CurveDrawing
from mogui.qt.curve_items import (
    DOT_SIZE,
    CurveLine,
    PointMarkers,
    add_right_view,
    make_plot,
    peak_decimate,
)
from mogui.qt.loss_curves import (
    BATCH_VIEW,
    EPOCH_VIEW,
    TOTAL,
    CurveQueries,
    LossCurve,
    classify_key,
    legend_label,
    metric_of,
    nearest_head,
)
from mogui.qt.metric_plots import MetricGrid
from mogui.qt.plot_refresh import TurnRefresher

__all__ = ["BATCH_VIEW", "EPOCH_VIEW", "LEGEND_LIMIT", "TOTAL", "CurveLine", "LossPlots",
           "classify_key", "legend_label", "peak_decimate"]

MANY_HEADS = 4  # from this many heads, the total starts on its own axis and losses on log scale
#: Losses this many times apart after the first epoch put the loss axis on a log scale.
SPREAD_FOR_LOG = 100.0


class LossPlots(CurveQueries, CurveDrawing, QWidget):
    """Loss curves (train solid, validation dashed) and, beside them, a plot per metric."""

    #: A click in a plot: the head whose curve is under it, or ``None`` off every head curve.
    head_clicked = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._heads: list[str] = []
        self._colors: dict[str, str] = {TOTAL: TOTAL_COLOUR}
        self._hidden: set[str] = set()
        self._highlighted: set[str] = set()
        self._curves: dict[tuple[str, str], LossCurve] = {}
        self._view = BATCH_VIEW
        self._y_shown: dict[int, tuple[float, float]] = {}
        self._x_range: tuple[float, float] | None = None
        self._own_keys: set[str] = set()
        self._kinds: dict[str, tuple[str, bool, bool] | None] = {}  # log key -> classify_key
        self._legend_stale = False
        self._total_apart_chosen: bool | None = None  # set once the user ticks or clears it
        self._log_chosen: bool | None = None  # the same for the log scale

        self.view_combo = QComboBox(self)
        self.view_combo.setObjectName("plotViewCombo")
        self.view_combo.addItem("Per batch", BATCH_VIEW)
        self.view_combo.addItem("Per epoch", EPOCH_VIEW)
        self.view_combo.setToolTip(
            "Per batch: each batch's own loss and metrics (AUC, precision, recall and RMSE as "
            "Keras reports them: over the epoch so far); validation at each epoch end.\n"
            "Per epoch: one point per epoch for everything.")
        self.view_combo.currentIndexChanged.connect(self._on_view_changed)
        self.log_check = self._check(
            "Log scale", "logScaleCheck", "Logarithmic loss axes: heads whose losses differ by "
            "orders of magnitude all stay readable (on by default from 4 heads, or when the "
            "heads' first losses are 100 times apart)",
            self._on_log_toggled)
        self.log_check.clicked.connect(lambda on: setattr(self, "_log_chosen", on))
        self.total_check = self._check(
            "Total loss", "showTotalCheck", "Show the total (weighted sum of the head losses), "
            "in black", lambda on: self.set_head_visible(TOTAL, on))
        self.total_check.setChecked(True)
        self.total_axis_check = self._check(
            "on its own axis", "totalAxisCheck", "Draw the total against the right-hand axis, "
            "so the head losses keep the left one to themselves (on by default from 4 heads)",
            lambda _on: self._apply_total_axis())
        self.total_axis_check.clicked.connect(
            lambda on: setattr(self, "_total_apart_chosen", on))

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Show:", self))
        controls.addWidget(self.view_combo)
        controls.addWidget(self.log_check)
        controls.addSpacing(12)
        controls.addWidget(self.total_check)
        controls.addWidget(self.total_axis_check)
        controls.addStretch(1)

        self.loss_plot = make_plot(self, "Loss (solid: train, dashed: validation)", 3)
        self.metrics = MetricGrid(self)
        self._total_view = add_right_view(self.loss_plot, "total", TOTAL_COLOUR)
        self._markers: dict[int, PointMarkers] = {}
        self._refresher = TurnRefresher([], self._refresh_in_turn, self)
        self._set_up_plot(self.loss_plot)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.loss_plot)
        splitter.addWidget(self.metrics)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([600, 380])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)

    def _set_up_plot(self, plot: pg.PlotWidget) -> None:
        """Follow ``plot``'s range, size and clicks; give its view boxes their markers."""
        plot.plotItem.vb.sigXRangeChanged.connect(lambda *_, p=plot: self._restale(p))
        plot.plotItem.vb.sigResized.connect(lambda *_, p=plot: self._restale(p))
        plot.scene().sigMouseClicked.connect(lambda event, p=plot: self._on_click(p, event))
        for view in self._views_of(plot):
            self._markers[id(view)] = PointMarkers(DOT_SIZE)
            view.addItem(self._markers[id(view)])
        self._refresher.add(plot)
        self._apply_x_range(plot)

    @property
    def metric_plots(self) -> dict[str, pg.PlotWidget]:
        """The plot of each metric reported so far, by metric name (``mae``…)."""
        return dict(self.metrics.plots)

    def _all_plots(self) -> list[pg.PlotWidget]:
        return [self.loss_plot, *self.metrics.plots.values()]

    def _check(self, text: str, name: str, tip: str, slot) -> QCheckBox:  # noqa: ANN001
        check = QCheckBox(text, self, objectName=name, toolTip=tip)
        check.toggled.connect(slot)
        return check

    # -- set-up -----------------------------------------------------------------------------
    def reset(self, heads: Iterable[str], epochs: int | None = None,
              colours: dict[str, str] | None = None) -> None:
        """Forget all data and prepare for a run training ``heads`` for ``epochs``.

        Knowing ``epochs`` fixes the x axis, so it is not re-drawn on every update.
        ``colours`` defaults to :func:`~mogui.core.head_palette.head_colours` of ``heads``.
        Every head starts shown and none highlighted; the total keeps its settings.
        """
        self._heads = list(heads)
        self._colors = dict(colours) if colours is not None else head_colours(self._heads)
        self._colors[TOTAL] = TOTAL_COLOUR
        self._x_range = (0.0, float(epochs)) if epochs else None
        # One legend row for the loss plot's total and heads as long as they fit.
        self.loss_plot.plotItem.legend.setColumnCount(min(len(self._heads) + 1, 4))
        for curve in self._curves.values():
            if curve.item is not None:
                self._detach(curve)
        self._curves.clear()
        for plot in self.metrics.plots.values():
            self._refresher.remove(plot)
            for view in self._views_of(plot):
                self._markers.pop(id(view), None)
        self.metrics.clear()
        self.loss_plot.plotItem.legend.clear()
        for view in self._views_of(self.loss_plot):
            self._markers[id(view)].show_points([], [], [])
        self._apply_x_range(self.loss_plot)
        self._y_shown = {}
        self._own_keys = set()  # log keys that come with each batch's own value
        self._kinds = {}
        self._hidden &= {TOTAL}
        self._highlighted = set()
        many = len(self._heads) >= MANY_HEADS
        for check, chosen in ((self.total_axis_check, self._total_apart_chosen),
                              (self.log_check, self._log_chosen)):
            check.setChecked(many if chosen is None else chosen)  # a choice made holds
        self._refresher.stop()

    @property
    def heads(self) -> list[str]:
        return list(self._heads)

    def colour_of(self, head: str) -> str:
        """The colour ``head``'s curves are drawn in (``#rrggbb``)."""
        return self._colors.get(head, NO_LOSS_COLOUR)

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
        if event.epoch == 0:
            self._choose_log_scale(event.logs)
        for key, value in event.logs.items():
            self._append(EPOCH_VIEW, key, event.epoch + 1, value)
            if key.startswith("val_"):
                self._append(BATCH_VIEW, key, event.epoch + 1, value)
        self._refresher.schedule()

    def _choose_log_scale(self, logs: dict[str, float]) -> None:
        """After the first epoch, unless the user chose: a log scale when the heads' losses
        differ by :data:`SPREAD_FOR_LOG` times or more (a loss of 600 beside one of 0.8)."""
        if self._log_chosen is not None or self.log_check.isChecked():
            return
        losses = [v for h in self._heads if (v := logs.get(f"{h}_loss")) is not None
                  and math.isfinite(v) and v > 0]
        if len(losses) >= 2 and max(losses) >= SPREAD_FOR_LOG * min(losses):
            self.log_check.setChecked(True)

    def _append(self, view: str, key: str, x: float, value: float) -> None:
        curve = self._curves.get((view, key))
        if curve is None:
            if key not in self._kinds:
                self._kinds[key] = classify_key(key, self._heads)
            kind = self._kinds[key]
            if kind is None:
                return
            head, is_loss, is_val = kind
            metric = "" if is_loss else metric_of(key, head)
            if metric:
                plot, made = self.metrics.plot_for(metric)
                if made:
                    self._set_up_plot(plot)
            curve = LossCurve(key, head, is_loss, is_val, view, metric=metric)
            self._curves[(view, key)] = curve  # its item is made when it is first drawn
        curve.buffer.append(x, float(value))
        if view == self._view:
            self._refresher.mark(self._plot_of(curve))

    def _plot_of(self, curve: LossCurve) -> pg.PlotWidget:
        return self.loss_plot if curve.is_loss else self.metrics.plots[curve.metric]

    def _is_log(self, plot: pg.PlotWidget) -> bool:
        return plot is self.loss_plot and self.log_check.isChecked()

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

    def _on_log_toggled(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)  # the left and right axes, items in the plot itself
        self._apply_x_range(self.loss_plot)  # setLogMode turns auto-range back on
        for curve in self._curves.values():
            if curve.is_loss:
                curve.stale = True
                if curve.host is self._total_view and isinstance(curve.item, pg.PlotDataItem):
                    curve.item.setLogMode(False, on)
        self._redraw_all()

    @property
    def total_apart(self) -> bool:
        """True while the total loss is drawn against its own (right-hand) axis."""
        return self.total_axis_check.isChecked()

    def _apply_total_axis(self) -> None:
        on = self.total_axis_check.isChecked()
        item = self.loss_plot.plotItem
        if on:
            item.showAxis("right")
            self._total_view.show()
        else:
            item.hideAxis("right")
            self._total_view.hide()
            self._markers[id(self._total_view)].show_points([], [], [])
        for curve in self._curves.values():
            if curve.head == TOTAL and curve.is_loss and curve.item is not None:
                self._attach(curve)
        self._y_shown.pop(id(self._total_view), None)
        self._refresh_plot(self.loss_plot, refit=True)

    def set_head_visible(self, head: str, visible: bool) -> None:
        """Show or hide ``head``'s curves (``TOTAL``: the total loss)."""
        if (head not in self._hidden) != visible:
            self._hidden ^= {head}
            if head == TOTAL:
                with QSignalBlocker(self.total_check):
                    self.total_check.setChecked(visible)
            self._apply_visibility()

    def set_shown_heads(self, heads: Iterable[str]) -> None:
        """Show exactly ``heads`` (the total keeps its own setting)."""
        shown = set(heads)
        hidden = {head for head in self._heads if head not in shown} | (self._hidden & {TOTAL})
        if hidden != self._hidden:
            self._hidden = hidden
            self._apply_visibility()

    def set_highlighted(self, heads: Iterable[str]) -> None:
        """Draw ``heads`` thicker and fade the other heads (none: every head as usual)."""
        highlighted = set(heads) - {TOTAL}
        if highlighted == self._highlighted:
            return
        self._highlighted = highlighted
        for curve in self._curves.values():
            self._style(curve)

    @property
    def highlighted(self) -> set[str]:
        return set(self._highlighted)

    def _on_click(self, plot: pg.PlotWidget, event) -> None:  # noqa: ANN001
        if event.button() == Qt.MouseButton.LeftButton and not event.double():
            self.head_clicked.emit(self.head_at(plot, event.scenePos()))

    def head_at(self, plot: pg.PlotWidget, scene_pos: QPointF,
                tolerance: float = 6.0) -> str | None:
        """The head whose shown curve passes within ``tolerance`` pixels of ``scene_pos``."""
        return nearest_head((curve for curve in self._curves.values()
                             if curve.head != TOTAL and self._plot_of(curve) is plot
                             and self._shown(curve) and curve.host is plot.plotItem.vb),
                            scene_pos, tolerance)

    # -- introspection (tests, status; more in CurveQueries) -----------------------------
    def curve_on_total_axis(self, name: str, view: str | None = None) -> bool:
        """True when ``name``'s item is drawn against the total's own axis."""
        curve = self._curve(name, view)
        return curve is not None and curve.host is self._total_view

    def marker_points(self, plot: pg.PlotWidget | None = None) -> list[tuple[float, float]]:
        """The lone validation points marked with a dot in the per-batch view of ``plot``."""
        points = []
        for view in self._views_of(plot or self.loss_plot):
            markers = self._markers[id(view)]
            points += [(float(x), float(y)) for x, y in zip(*markers.getData(), strict=True)]
        return points
