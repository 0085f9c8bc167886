"""The Training tab's head table: filter, All / None, by task, colours, the epoch summary."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from mogui.core.events import EpochEnded
from mogui.core.head_palette import head_colour, head_colours
from mogui.qt.document import ProjectDocument
from mogui.qt.head_table import METRICS, TASK, TRAIN, VAL, HeadTable, short_metric
from mogui.qt.loss_plots import BATCH_VIEW, EPOCH_VIEW
from mogui.qt.training_panel import TrainingPanel
from tests.many_heads import epoch_logs, feed_run, many_heads_project

pytestmark = pytest.mark.gui


@pytest.fixture
def project():
    return many_heads_project(40)


@pytest.fixture
def table(qtbot, project) -> HeadTable:
    widget = HeadTable()
    qtbot.addWidget(widget)
    names = [h.name for h in project.heads]
    widget.set_heads(names, {h.name: h.task.value for h in project.heads}, head_colours(names))
    widget.resize(420, 600)
    widget.show()
    return widget


@pytest.fixture
def panel(qtbot, project):
    widget = TrainingPanel(ProjectDocument(project))
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.show()
    yield widget
    widget.shutdown()


def _click(qtbot, table: HeadTable, name: str) -> None:
    qtbot.mouseClick(table.findChild(QPushButton, name), Qt.MouseButton.LeftButton)


def test_filter_lists_matching_heads_and_all_none_act_on_them(qtbot, table: HeadTable):
    assert table.shown_heads() == table.heads and len(table.heads) == 40
    qtbot.keyClicks(table.filter_edit, "SIZE")  # any case
    assert table.listed_heads() == [f"size_{k}" for k in range(0, 20, 3)]
    assert "7 listed" in table.count_label.text()
    _click(qtbot, table, "showNoHeads")
    assert len(table.shown_heads()) == 33
    assert not any(head.startswith("size_") for head in table.shown_heads())
    table.set_filter("is_*_1?")  # wildcards
    assert table.listed_heads() == ["is_round_10", "is_hollow_11", "is_round_13",
                                    "is_hollow_14", "is_round_16", "is_hollow_17",
                                    "is_round_19"]
    _click(qtbot, table, "showNoHeads")
    _click(qtbot, table, "showAllHeads")  # back for the listed ones only
    assert len(table.shown_heads()) == 33
    table.filter_edit.clear()
    assert len(table.listed_heads()) == 40
    _click(qtbot, table, "showAllHeads")
    assert table.shown_heads() == table.heads
    assert table.count_label.text().startswith("40 of 40 heads shown")


def test_by_task_shows_exactly_that_task(qtbot, table: HeadTable, project):
    actions = {action.objectName(): action.text() for action in table.task_menu.actions()}
    assert actions == {"showTask_regression": "Regression (20)",
                       "showTask_multiclass": "Multiclass (integer labels) (7)",
                       "showTask_binary": "Binary classification (13)",
                       "showTask_classification": "All classification (20)"}
    signals: list[None] = []
    table.shown_changed.connect(lambda: signals.append(None))
    table.task_menu.actions()[0].trigger()
    regression = [h.name for h in project.heads if h.task.value == "regression"]
    assert table.shown_heads() == regression and len(signals) == 1  # one signal, not 40
    table.select_task("classification")
    assert table.shown_heads() == [h.name for h in project.heads if h.name not in regression]
    table.select_task("binary")
    assert all(table.cell_text(head, TASK) == "binary" for head in table.shown_heads())
    assert len(table.shown_heads()) == 13


def test_ticking_a_row_and_the_next_run_keeps_heads_cleared(qtbot, table: HeadTable, project):
    item = table.model.item(3, 0)
    assert item.text() == "is_round_1"
    item.setCheckState(Qt.CheckState.Unchecked)  # as a click on the check box does
    assert "is_round_1" not in table.shown_heads()
    names = [h.name for h in project.heads]
    table.set_heads(names, {}, head_colours(names))  # the next run of the same heads
    assert "is_round_1" not in table.shown_heads() and len(table.shown_heads()) == 39


def test_each_row_shows_its_head_colour(table: HeadTable):
    for index, head in enumerate(table.heads):
        assert table.swatch_colour(head) == head_colour(index)
    heads = table.heads
    assert table.swatch_colour(heads[0]) != table.swatch_colour(heads[10])  # no repeat at 10


def test_summary_holds_each_head_loss_and_metrics_of_the_last_epoch(table: HeadTable, project):
    table.update_epoch(EpochEnded(0, epoch_logs(project, 0), 1.0))
    table.update_epoch(EpochEnded(1, epoch_logs(project, 1), 2.0))
    # head i: loss (i + 1) / 2 at epoch 2, validation twice that; metric 0.6
    assert table.cell_text("size_0", TRAIN) == "0.5"
    assert table.cell_text("size_0", VAL) == "1"
    assert table.cell_text("is_round_19", TRAIN) == "20"  # head 39
    assert table.cell_text("is_round_19", VAL) == "40"
    assert table.cell_text("size_0", METRICS) == "mae 0.6 / 0.6"
    assert table.cell_text("classification_0", METRICS) == "accuracy 0.6 / 0.6"
    assert short_metric("sparse_top_k_categorical_accuracy") == "top_k_accuracy"
    assert short_metric("root_mean_squared_error") == "rmse"
    assert "values of epoch 2" in table.count_label.text()
    table.table.sortByColumn(VAL, Qt.SortOrder.DescendingOrder)  # worst validation first
    assert table.listed_heads()[:2] == ["is_round_19", "center_19"]
    table.update_epoch(EpochEnded(2, {"loss": 1.0, "size_0_loss": 0.25}, 3.0))
    assert table.cell_text("size_0", TRAIN) == "0.25"
    assert table.cell_text("size_0", VAL) == "–"  # no validation this epoch


def test_panel_wires_the_table_to_the_plots_and_heatmap(qtbot, panel: TrainingPanel, project):
    feed_run(panel, project, epochs=2)
    table, plots = panel.head_table, panel.plots
    assert table.cell_text("size_3", TRAIN) == f"{7 / 2:.4g}"  # head 6, epoch 2
    assert "Epoch 2/2 done: loss" in panel.status_label.text()
    assert "val_loss" in panel.status_label.text() and "size_0" not in panel.status_label.text()
    plots.refresh()
    for index, head in enumerate(table.heads):  # same colour in the list and the plot
        colour = plots.curve_item(f"{head}_loss").pen().color().name()
        assert colour == table.swatch_colour(head) == head_colour(index)
    table.select_task("regression")
    assert plots.curve_visible("size_0_loss") and not plots.curve_visible("is_round_1_loss")
    assert not plots.curve_visible("is_round_1_binary_accuracy")
    assert plots.curve_visible("loss")  # the total keeps its own setting
    assert panel.heatmap.rows() == table.shown_heads()
    table.set_highlighted(["size_0", "center_1"])
    assert plots.highlighted == {"size_0", "center_1"}
    wide = plots.curve_item("size_0_loss").pen().widthF()
    faded = plots.curve_item("bbox_2_loss").pen().color().alpha()
    assert wide > 1.5 and faded < 100
    assert plots.curve_item("loss").pen().color().alpha() == 255  # the total never fades
    table.set_highlighted([])
    assert plots.curve_item("size_0_loss").pen().widthF() <= 1.0
    plots.head_clicked.emit("bbox_2")  # a click on its curve picks the head out in the table
    assert table.highlighted() == ["bbox_2"] and plots.highlighted == {"bbox_2"}
    plots.head_clicked.emit(None)  # a click off every curve: nothing highlighted
    assert table.highlighted() == [] and plots.highlighted == set()
    plots.set_view(EPOCH_VIEW)
    assert plots.curve_item("size_0_loss").opts["pen"].color().name() == head_colour(0)
    plots.set_view(BATCH_VIEW)


def test_a_real_forty_head_run_fills_the_table(qtbot, panel: TrainingPanel, project):
    """A tiny real run (child process, Keras): every head's row holds its logged values."""
    with qtbot.waitSignal(panel.worker.running_changed, timeout=180_000,
                          check_params_cb=lambda running: not running):
        panel.start()
    assert panel.worker.last_failure is None, panel.worker.last_failure
    history = panel.run.history
    table = panel.head_table
    assert table.heads == [h.name for h in project.heads]
    for head in project.heads:
        assert table.cell_text(head.name, TRAIN) == f"{history[f'{head.name}_loss'][0]:.4g}"
        assert table.cell_text(head.name, VAL) == \
            f"{history[f'val_{head.name}_loss'][0]:.4g}"
        metric = short_metric(head.loss.metrics[0])
        value = history[f"{head.name}_{head.loss.metrics[0]}"][0]
        assert table.cell_text(head.name, METRICS).startswith(f"{metric} {value:.4g} / ")
    assert panel.heatmap.rows() == table.heads
    assert (panel.heatmap.values() == 1.0).all()  # one epoch: each head is its own first
