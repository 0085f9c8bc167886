"""Metrics as small multiples: a plot (and a y axis) per metric, never one axis for all."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt

from mogui.core.events import BatchEnded, EpochEnded
from mogui.qt.loss_plots import EPOCH_VIEW, LossPlots
from mogui.qt.metric_plots import grid_shape

pytestmark = pytest.mark.gui


def _batch(epoch: int, batch: int, **logs: float) -> BatchEnded:
    return BatchEnded(epoch=epoch, batch=batch, steps_per_epoch=4, logs=logs,
                      samples_per_second=100.0, elapsed=0.1)


@pytest.fixture
def plots(qtbot) -> LossPlots:
    widget = LossPlots()
    qtbot.addWidget(widget)
    widget.resize(1000, 400)
    widget.show()
    widget.reset(["price", "category", "rooms"], epochs=2)
    return widget


def _feed(plots: LossPlots) -> None:
    for epoch in range(2):
        plots.add_batches([_batch(epoch, b, loss=5.0, price_loss=4.0, category_loss=1.0,
                                  price_mae=120.0 - 10 * b, rooms_mae=1.5,
                                  category_accuracy=0.5 + 0.1 * b) for b in range(4)])
        plots.add_epoch(EpochEnded(epoch, {"loss": 5.0, "val_loss": 5.5, "price_mae": 100.0,
                                           "val_price_mae": 110.0, "rooms_mae": 1.5,
                                           "category_accuracy": 0.8,
                                           "val_category_accuracy": 0.7}, elapsed=1.0))
    plots.refresh()


def test_accuracy_and_an_error_of_a_hundred_do_not_share_an_axis(plots: LossPlots):
    _feed(plots)
    assert set(plots.metric_plots) == {"mae", "accuracy"}
    mae, accuracy = plots.metric_plots["mae"], plots.metric_plots["accuracy"]
    assert mae is not accuracy and mae is not plots.loss_plot
    assert plots.curve_item("category_accuracy") in accuracy.plotItem.vb.addedItems
    assert plots.curve_item("price_mae") in mae.plotItem.vb.addedItems
    assert plots.curve_item("price_mae") not in accuracy.plotItem.vb.addedItems
    low, high = accuracy.plotItem.vb.viewRange()[1]
    assert 0.4 < low and high < 1.0  # the accuracy fills its own axis
    low, high = mae.plotItem.vb.viewRange()[1]
    assert low < 1.5 and high > 120.0  # the errors of one metric share theirs
    plots.set_view(EPOCH_VIEW)
    assert plots.curve_item("val_price_mae") in mae.plotItem.vb.addedItems
    assert plots.curve_points("val_category_accuracy") == 2


def test_a_click_on_a_metric_curve_picks_its_head(qtbot, plots: LossPlots):
    _feed(plots)
    mae = plots.metric_plots["mae"]
    assert mae.plotItem.titleLabel.text == "mae"
    on_rooms = mae.plotItem.vb.mapViewToScene(QPointF(1.0, 1.5))  # rooms' flat curve
    assert plots.head_at(mae, on_rooms) == "rooms"
    with qtbot.waitSignal(plots.head_clicked) as clicked:
        qtbot.mouseClick(mae.viewport(), Qt.MouseButton.LeftButton,
                         pos=mae.mapFromScene(on_rooms))
    assert clicked.args == ["rooms"]


def test_a_new_run_starts_without_the_old_runs_metric_plots(plots: LossPlots):
    _feed(plots)
    plots.reset(["price"], epochs=1)
    assert plots.metric_plots == {}
    plots.add_batches([_batch(0, 0, loss=1.0, price_loss=1.0, price_rmse=3.0)])
    plots.refresh()
    assert list(plots.metric_plots) == ["rmse"]
    assert plots.curve_points("price_rmse") == 1


def test_a_one_head_models_metrics_have_a_plot(qtbot):
    plots = LossPlots()
    qtbot.addWidget(plots)
    plots.reset(["price"], epochs=1)
    plots.add_batches([_batch(0, 0, loss=1.0, mae=90.0, learning_rate=0.01)])  # no head name
    plots.refresh()
    assert list(plots.metric_plots) == ["mae"] and plots.curve_points("mae") == 1
    assert plots.curve_names() == ["loss", "mae"]  # not the learning rate


def test_the_grid_keeps_plots_large_and_not_squashed():
    assert grid_shape(1, 400, 300) == (1, 1)
    assert grid_shape(2, 800, 250) == (1, 2)  # wide: side by side
    assert grid_shape(2, 300, 600) == (2, 1)  # tall: stacked
    assert grid_shape(4, 600, 400) == (2, 2)
