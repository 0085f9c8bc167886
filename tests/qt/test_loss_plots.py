"""LossPlots: curves per head, growing buffers, views, visibility, log scale."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from mogui.core.events import BatchEnded, EpochEnded
from mogui.core.head_palette import TOTAL_COLOUR, head_colour
from mogui.qt.curve_items import CurveLine, CurveSample, polyline_distance
from mogui.qt.loss_plots import (
    BATCH_VIEW,
    EPOCH_VIEW,
    LEGEND_LIMIT,
    TOTAL,
    LossPlots,
    classify_key,
    legend_label,
    peak_decimate,
)


def _batch(epoch: int, batch: int, steps: int = 10, **logs: float) -> BatchEnded:
    return BatchEnded(epoch=epoch, batch=batch, steps_per_epoch=steps, logs=logs,
                      samples_per_second=100.0, elapsed=0.1)


@pytest.fixture
def plots(qtbot) -> LossPlots:
    widget = LossPlots()
    qtbot.addWidget(widget)
    widget.reset(["bbox", "cls"])
    return widget


def test_classify_key_prefers_the_longest_head_name():
    heads = ["a", "a_b"]
    assert classify_key("a_b_loss", heads) == ("a_b", True, False)
    assert classify_key("val_a_loss", heads) == ("a", True, True)
    assert classify_key("a_b_mae", heads) == ("a_b", False, False)
    assert classify_key("val_loss", heads) == (TOTAL, True, True)
    assert classify_key("learning_rate", heads) is None


def test_batches_grow_one_item_per_curve(plots: LossPlots):
    plots.add_batches([_batch(0, 0, loss=3.0, bbox_loss=1.0, cls_loss=2.0, cls_acc=0.5)])
    plots.refresh()
    item = plots.curve_item("bbox_loss")
    assert plots.curve_names() == ["bbox_loss", "cls_acc", "cls_loss", "loss"]
    events = [_batch(i // 10, i % 10, loss=3.0 - i * 0.001, bbox_loss=1.0, cls_loss=2.0)
              for i in range(1, 600)]
    plots.add_batches(events)
    assert plots.curve_points("bbox_loss") == 1  # nothing drawn before the timer fires
    plots.refresh()
    assert plots.curve_item("bbox_loss") is item
    assert plots.curve_points("bbox_loss") == 600
    assert plots.curve_points("cls_acc") == 1
    x, y = item.xData, item.yData
    assert x[0] == pytest.approx(0.1) and x[-1] == pytest.approx(60.0)
    assert np.all(y == 1.0)
    assert item.pen().isCosmetic() and item.pen().width() <= 1  # one pixel
    assert item.path().elementCount() == len(x)  # what Qt paints is what was set


def test_batch_view_draws_each_batch_own_values_where_known(plots: LossPlots):
    event = BatchEnded(epoch=0, batch=1, steps_per_epoch=10,
                       logs={"loss": 2.0, "bbox_loss": 1.5, "cls_acc": 0.6},
                       samples_per_second=100.0, elapsed=0.1,
                       batch_values={"loss": 1.0, "bbox_loss": 0.5})
    plots.add_batches([event])
    plots.refresh()
    assert list(plots.curve_item("loss").yData) == [1.0]
    assert list(plots.curve_item("bbox_loss").yData) == [0.5]
    assert list(plots.curve_item("cls_acc").yData) == [0.6]  # no own value: as reported
    later = BatchEnded(epoch=0, batch=2, steps_per_epoch=10,
                       logs={"loss": 1.8, "bbox_loss": 1.2, "cls_acc": 0.7},
                       samples_per_second=100.0, elapsed=0.2)  # read again only later
    plots.add_batches([later])
    plots.refresh()
    assert list(plots.curve_item("loss").yData) == [1.0]  # no running mean mixed in
    assert list(plots.curve_item("cls_acc").yData) == [0.6, 0.7]


def test_redraw_happens_on_the_timer(qtbot, plots: LossPlots):
    plots.add_batches([_batch(0, 0, loss=1.0, bbox_loss=0.5)])
    qtbot.waitUntil(lambda: plots.curve_points("loss") == 1, timeout=1000)


def test_a_timed_refresh_stops_at_its_budget_and_finishes_in_later_turns(qtbot, monkeypatch):
    import mogui.qt.curve_drawing as drawing

    widget = LossPlots()
    qtbot.addWidget(widget)
    heads = [f"h{i}" for i in range(12)]
    widget.reset(heads)
    monkeypatch.setattr(drawing, "RENDER_BUDGET_S", 0.0)  # one curve per turn, then stop
    widget.add_batches([_batch(0, 0, loss=1.0, **{f"{h}_loss": 0.5 for h in heads})])
    widget._refresh_in_turn(widget.loss_plot)
    names = ["loss", *(f"{h}_loss" for h in heads)]
    drawn = [name for name in names if widget.curve_points(name) == 1]
    assert len(drawn) == 1, drawn  # the budget was spent after the first curve
    qtbot.waitUntil(lambda: all(widget.curve_points(name) == 1 for name in names),
                    timeout=10000)  # the plot kept its turn until every curve was drawn


def test_epoch_view_has_dashed_validation_curves(plots: LossPlots):
    plots.add_epoch(EpochEnded(0, {"loss": 2.0, "bbox_loss": 1.0, "val_loss": 2.5,
                                   "val_bbox_loss": 1.2}, elapsed=1.0))
    plots.refresh()
    assert plots.points_received("val_bbox_loss", EPOCH_VIEW) == 1
    assert plots.curve_points("val_bbox_loss", EPOCH_VIEW) == 0  # hidden: drawn when shown
    assert not plots.curve_visible("val_bbox_loss", EPOCH_VIEW)  # batch view shown
    plots.set_view(EPOCH_VIEW)
    assert plots.view == EPOCH_VIEW
    assert plots.curve_visible("val_bbox_loss")
    assert plots.curve_points("val_bbox_loss") == 1
    dashed = plots.curve_item("val_bbox_loss").opts["pen"].style()
    solid = plots.curve_item("bbox_loss").opts["pen"].style()
    assert dashed != solid


def test_head_without_loss_gets_no_curve_and_hiding_a_head(plots: LossPlots):
    plots.add_batches([_batch(0, 0, loss=1.0, bbox_loss=1.0)])
    plots.refresh()
    assert plots.curve_points("cls_loss") == 0
    assert plots.curve_names(BATCH_VIEW) == ["bbox_loss", "loss"]
    plots.set_head_visible("bbox", False)
    assert not plots.curve_visible("bbox_loss")
    assert plots.curve_visible("loss")
    plots.set_head_visible("bbox", True)
    assert plots.curve_visible("bbox_loss")


def test_log_scale_toggle(plots: LossPlots):
    plots.add_batches([_batch(0, 0, loss=10.0, bbox_loss=1.0), _batch(0, 1, loss=0.1)])
    plots.refresh()
    plots.log_check.setChecked(True)
    assert plots.loss_plot.plotItem.ctrl.logYCheck.isChecked()
    plots.log_check.setChecked(False)
    assert not plots.loss_plot.plotItem.ctrl.logYCheck.isChecked()


def _epoch(epoch: int, **logs: float) -> EpochEnded:
    return EpochEnded(epoch=epoch, logs=logs, elapsed=1.0)


def test_heads_whose_first_losses_are_far_apart_start_on_a_log_scale(plots: LossPlots):
    plots.add_epoch(_epoch(0, loss=601.0, bbox_loss=600.0, cls_loss=0.8))
    assert plots.log_check.isChecked() and plots.loss_plot.plotItem.ctrl.logYCheck.isChecked()
    plots.reset(["bbox", "cls"])  # a new run decides again
    assert not plots.log_check.isChecked()
    plots.add_epoch(_epoch(0, loss=2.0, bbox_loss=1.5, cls_loss=0.5))  # 3 times apart
    assert not plots.log_check.isChecked()
    plots.reset(["bbox", "cls"])
    plots.log_check.click()  # the user's choice (on, then off) holds
    plots.log_check.click()
    plots.add_epoch(_epoch(0, loss=601.0, bbox_loss=600.0, cls_loss=0.8))
    assert not plots.log_check.isChecked()


def test_reset_clears_curves(plots: LossPlots):
    plots.add_batches([_batch(0, 0, loss=1.0, bbox_loss=1.0)])
    plots.refresh()
    plots.reset(["only"])
    assert plots.curve_names() == []
    assert plots.heads == ["only"]


def test_y_range_changes_only_when_the_data_need_it(plots: LossPlots):
    plots.show()
    plots.add_batches([_batch(0, 0, loss=3.0, bbox_loss=1.0, cls_loss=2.0)])
    plots.refresh()
    first = plots.loss_plot.viewRange()[1]
    assert first[0] < 1.0 and first[1] > 3.0
    plots.add_batches([_batch(0, i, loss=2.5, bbox_loss=1.2, cls_loss=1.8) for i in range(1, 9)])
    plots.refresh()
    assert plots.loss_plot.viewRange()[1] == first  # inside the range: no axis redraw
    plots.add_batches([_batch(0, 9, loss=6.0, bbox_loss=1.0, cls_loss=2.0)])
    plots.refresh()
    grown = plots.loss_plot.viewRange()[1]
    assert grown[1] > 6.0 and grown != first


def test_batch_view_shows_validation_dashed_at_epoch_ends(plots: LossPlots):
    plots.add_batches([_batch(0, b, loss=3.0 - b * 0.1, bbox_loss=1.0) for b in range(10)])
    plots.add_epoch(EpochEnded(0, {"loss": 2.5, "bbox_loss": 1.0, "val_loss": 2.8,
                                   "val_bbox_loss": 1.1}, elapsed=1.0))
    plots.refresh()
    assert plots.view == BATCH_VIEW
    assert plots.curve_names() == ["bbox_loss", "loss", "val_bbox_loss", "val_loss"]
    val = plots.curve_item("val_loss")
    assert plots.curve_visible("val_loss")
    assert list(val.xData) == [1.0] and list(val.yData) == [2.8]  # x = epoch + 1
    assert val.pen().style() == Qt.PenStyle.DashLine
    # a single point is still visible: one dot per lone validation value
    assert sorted(plots.marker_points()) == [(1.0, 1.1), (1.0, 2.8)]
    assert plots.points_received("val_loss", EPOCH_VIEW) == 1


def test_epoch_view_marks_each_epoch_with_a_dot(plots: LossPlots):
    plots.set_view(EPOCH_VIEW)
    plots.add_epoch(EpochEnded(0, {"loss": 2.0, "bbox_loss": 1.0}, elapsed=1.0))
    plots.refresh()
    item = plots.curve_item("loss")
    assert item.opts["symbol"] == "o" and 0 < item.opts["symbolSize"] <= 6
    assert item.scatter.points().size == 1


def test_legend_is_small_and_below_the_curves(qtbot, plots: LossPlots):
    plots.resize(900, 400)
    plots.show()
    plots.add_batches([_batch(0, 0, loss=1.0, bbox_loss=1.0)])
    plots.refresh()
    qtbot.wait(10)
    legend = plots.loss_plot.plotItem.legend
    assert legend.opts["labelTextSize"] == "7pt"
    view = plots.loss_plot.plotItem.vb.sceneBoundingRect()
    assert legend.sceneBoundingRect().top() >= view.bottom()  # outside the data area
    assert sorted(label.text for _sample, label in legend.items) == ["bbox_loss", "loss (total)"]
    plots.set_head_visible("bbox", False)  # a hidden head leaves the legend too
    assert [label.text for _sample, label in legend.items] == ["loss (total)"]
    plots.set_head_visible("bbox", True)
    assert len(legend.items) == 2


def test_batch_view_validation_drops_its_dots_once_it_is_a_line(plots: LossPlots):
    for epoch in range(2):
        plots.add_batches([_batch(epoch, b, loss=3.0, bbox_loss=1.0) for b in range(10)])
        plots.add_epoch(EpochEnded(epoch, {"loss": 2.5, "val_loss": 2.8 - epoch}, elapsed=1.0))
        plots.refresh()
        assert plots.marker_points() == ([(1.0, 2.8)] if epoch == 0 else [])
    assert plots.curve_points("val_loss") == 2
    assert plots.curve_item("val_loss", EPOCH_VIEW) is None  # made when the view is shown
    plots.set_view(EPOCH_VIEW)
    assert plots.curve_item("val_loss").opts["symbol"] == "o"
    assert plots.curve_points("val_loss") == 2


def test_legend_lists_train_curves_only(qtbot, plots: LossPlots):
    plots.add_batches([_batch(0, 0, loss=1.0, bbox_loss=1.0, cls_acc=0.5)])
    plots.add_epoch(EpochEnded(0, {"loss": 1.0, "bbox_loss": 1.0, "val_loss": 1.1, "cls_acc": 0.5,
                                   "val_cls_acc": 0.4}, elapsed=1.0))
    plots.refresh()
    for view in (BATCH_VIEW, EPOCH_VIEW):
        plots.set_view(view)
        acc_plot = plots.metric_plots["acc"]
        labels = sorted(label.text for _sample, label in plots.loss_plot.plotItem.legend.items)
        assert labels == ["bbox_loss", "loss (total)"], view
        assert "dashed: validation" in plots.loss_plot.plotItem.titleLabel.text
        # A metric's small plot has no legend (the head table shows the colours): its title
        # names the metric.
        assert acc_plot.plotItem.legend.items == [] and not acc_plot.plotItem.legend.isVisible()
        assert acc_plot.plotItem.titleLabel.text == "acc"


def test_legend_samples_draw_each_train_curve_in_its_own_pen(plots: LossPlots):
    plots.add_batches([_batch(0, 0, loss=1.0, bbox_loss=1.0, cls_loss=2.0, cls_acc=0.5)])
    plots.add_epoch(EpochEnded(0, {"loss": 1.0, "val_loss": 1.1, "val_bbox_loss": 1.2},
                               elapsed=1.0))
    plots.refresh()
    for plot in (plots.loss_plot,):
        samples = {label.text: sample for sample, label in plot.plotItem.legend.items}
        shown = [key for key in plots.curve_names()
                 if not key.startswith("val_") and plots.curve_visible(key)
                 and key.endswith("loss")]
        assert sorted(samples) == sorted(legend_label(key) for key in shown)
        for key in shown:
            sample, item = samples[legend_label(key)], plots.curve_item(key)
            assert isinstance(sample, CurveSample) and sample.item is item
            assert sample.pen().color() == item.pen().color()
            assert sample.pen().style() == Qt.PenStyle.SolidLine
    colors = {key: plots.curve_item(key).pen().color().name() for key in ("loss", "bbox_loss")}
    assert colors["loss"] != colors["bbox_loss"]
    assert not hasattr(plots.curve_item("loss"), "opts")
    assert not hasattr(CurveLine("#123456", dashed=False), "opts")


def test_hidden_heads_lose_their_dots(plots: LossPlots):
    plots.add_epoch(EpochEnded(0, {"val_loss": 2.0, "val_bbox_loss": 1.0}, elapsed=1.0))
    plots.refresh()
    plots.set_head_visible("bbox", False)
    assert plots.marker_points() == [(1.0, 2.0)]


def test_peak_decimate_keeps_every_spike():
    x = np.arange(100_000, dtype=float)
    y = np.sin(x / 500.0)
    y[12_345] = 50.0
    y[77_777] = -50.0
    dx, dy = peak_decimate(x, y, 800)
    assert len(dx) <= 2 * 800 + 125 and np.all(np.diff(dx) >= 0)
    assert dx[0] == 0.0 and dx[-1] == 99_999.0 and dy[-1] == y[-1]  # the curve's ends stay
    assert dy.max() == 50.0 and dy.min() == -50.0
    assert peak_decimate(x[:100], y[:100], 800)[0] is not None
    assert len(peak_decimate(x[:100], y[:100], 800)[0]) == 100  # short curves stay whole


def test_long_runs_draw_about_two_points_per_pixel(qtbot, plots: LossPlots):
    plots.reset(["bbox"], epochs=100)
    plots.resize(900, 400)
    plots.show()
    qtbot.waitExposed(plots)
    steps = 500
    events = [_batch(i // steps, i % steps, steps, loss=1.0 + (i == 31_337) * 9.0)
              for i in range(100 * steps)]
    plots.add_batches(events)
    plots.refresh()
    item = plots.curve_item("loss")
    width = plots.loss_plot.plotItem.vb.width()
    assert plots.curve_points("loss") == 50_000
    assert len(item.xData) <= 2 * width + steps
    assert item.yData.max() == 10.0  # the spike is kept


def test_zooming_in_draws_the_points_in_view(qtbot, plots: LossPlots):
    plots.reset(["bbox"], epochs=100)
    plots.resize(900, 400)
    plots.show()
    qtbot.waitExposed(plots)
    plots.add_batches([_batch(i // 100, i % 100, 100, loss=1.0) for i in range(10_000)])
    plots.refresh()
    plots.loss_plot.setXRange(10, 11, padding=0)
    plots.refresh()
    x = plots.curve_item("loss").xData
    assert x.min() >= 9.98 and x.max() <= 11.02
    assert len(x) >= 100  # every batch of that epoch


def test_log_scale_draws_log10_of_the_losses(plots: LossPlots):
    plots.reset(["bbox"], epochs=4)
    plots.add_batches([_batch(0, 0, loss=100.0), _batch(0, 1, loss=0.01)])
    plots.refresh()
    plots.log_check.setChecked(True)
    assert list(plots.curve_item("loss").yData) == [2.0, -2.0]
    assert not plots.loss_plot.plotItem.vb.autoRangeEnabled()[0]  # x stays fixed
    plots.log_check.setChecked(False)
    assert list(plots.curve_item("loss").yData) == [100.0, 0.01]


def test_heads_take_the_palette_colours_in_training_order(plots: LossPlots):
    heads = [f"h{i}" for i in range(12)]
    plots.reset(heads, epochs=2)
    plots.add_batches([_batch(0, 0, loss=1.0, **{f"{h}_loss": 0.5 for h in heads})])
    plots.refresh()
    for index, head in enumerate(heads):
        assert plots.curve_item(f"{head}_loss").pen().color().name() == head_colour(index)
        assert plots.colour_of(head) == head_colour(index)
    assert plots.curve_item("loss").pen().color().name() == TOTAL_COLOUR


def test_total_on_its_own_axis_leaves_the_left_one_to_the_heads(plots: LossPlots):
    plots.show()
    plots.add_batches([_batch(0, b, loss=50.0 - b, bbox_loss=1.0 + b / 10, cls_loss=2.0)
                       for b in range(5)])
    plots.add_epoch(EpochEnded(0, {"loss": 45.0, "val_loss": 48.0, "val_bbox_loss": 1.2},
                               elapsed=1.0))
    plots.refresh()
    assert not plots.total_apart  # two heads: one axis, as before
    assert plots.loss_plot.viewRange()[1][1] > 48.0
    plots.total_axis_check.click()
    assert plots.curve_on_total_axis("loss") and plots.curve_on_total_axis("val_loss")
    assert not plots.curve_on_total_axis("bbox_loss")
    low, high = plots.loss_plot.viewRange()[1]
    assert 0.9 < low < 1.0 and 2.0 < high < 2.2  # the heads alone: 1.0 .. 2.0
    total_low, total_high = plots._total_view.viewRange()[1]
    assert total_low < 46.0 and total_high > 50.0
    assert plots.loss_plot.plotItem.getAxis("right").isVisible()
    assert (1.0, 48.0) in plots.marker_points()  # the lone validation total, on its axis
    plots.set_view(EPOCH_VIEW)  # made now, and straight onto the total's axis
    assert plots.curve_on_total_axis("val_loss") and not plots.curve_on_total_axis("bbox_loss")
    plots.total_axis_check.click()
    assert not plots.curve_on_total_axis("loss")
    assert not plots.loss_plot.plotItem.getAxis("right").isVisible()
    plots.reset(["bbox", "cls"])
    assert not plots.total_apart  # the user's choice holds for the next run


def test_many_heads_start_on_log_scale_with_the_total_apart_and_no_legend(plots: LossPlots):
    heads = [f"h{i}" for i in range(LEGEND_LIMIT + 1)]
    plots.reset(heads, epochs=3)
    assert plots.total_apart and plots.log_check.isChecked()
    plots.add_batches([_batch(0, 0, loss=9.0, **{f"{h}_loss": 1.0 for h in heads})])
    plots.refresh()
    assert plots.loss_plot.plotItem.legend.items == []  # the head table shows the colours
    for head in heads[2:]:
        plots.set_head_visible(head, False)
    assert len(plots.loss_plot.plotItem.legend.items) == 3  # few shown: a legend again
    plots.log_check.click()  # chosen by the user: kept at the next reset
    plots.reset(heads, epochs=3)
    assert not plots.log_check.isChecked() and plots.total_apart
    plots.reset(["a"], epochs=3)
    assert not plots.total_apart  # few heads: one axis (never chosen by the user)


def test_polyline_distance_by_hand():
    xs, ys = np.array([0.0, 10.0, 10.0]), np.array([0.0, 0.0, 10.0])
    assert polyline_distance(5.0, 3.0, xs, ys) == 3.0  # above the first segment
    assert polyline_distance(13.0, 4.0, xs, ys) == 3.0  # right of the second
    assert polyline_distance(-3.0, -4.0, xs, ys) == 5.0  # beyond the first point
    assert polyline_distance(0.0, 0.0, np.empty(0), np.empty(0)) == np.inf
    assert polyline_distance(1.0, 1.0, np.array([1.0]), np.array([2.0])) == 1.0


def test_a_click_on_a_curve_names_its_head(qtbot, plots: LossPlots):
    plots.reset(["bbox", "cls"], epochs=1)
    plots.resize(900, 400)
    plots.show()
    qtbot.waitExposed(plots)
    plots.add_batches([_batch(0, b, loss=3.0, bbox_loss=1.0, cls_loss=2.0) for b in range(10)])
    plots.refresh()
    view = plots.loss_plot.plotItem.vb
    on_cls = view.mapViewToScene(QPointF(0.55, 2.0))
    near_bbox = view.mapViewToScene(QPointF(0.55, 1.0)) + QPointF(0, 3)  # 3 pixels below
    between = view.mapViewToScene(QPointF(0.55, 1.5))
    assert plots.head_at(plots.loss_plot, on_cls) == "cls"
    assert plots.head_at(plots.loss_plot, near_bbox) == "bbox"
    assert plots.head_at(plots.loss_plot, between) is None
    assert plots.head_at(plots.loss_plot, view.mapViewToScene(QPointF(0.55, 3.0))) is None
    plots.set_head_visible("cls", False)  # a hidden curve is not there to click
    assert plots.head_at(plots.loss_plot, on_cls) is None
