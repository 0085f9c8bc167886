"""The Losses tab with 40 heads: one edit sets a loss, weight or metric for every selected head."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel

from mogui.core.project import HeadSpec, InputSpec, Project
from mogui.qt.document import ProjectDocument
from mogui.qt.loss_table import PerOutputLossTable

pytestmark = pytest.mark.gui


def _many_heads() -> Project:
    heads = [HeadSpec(name=f"r{i}", task="regression", units=1) for i in range(20)]
    heads += [HeadSpec(name=f"c{i}", task="multiclass", units=3) for i in range(20)]
    return Project(name="many", inputs=[InputSpec(name="x", shape=[4])], heads=heads,
                   data={"kind": "npz", "path": "d.npz"})


@pytest.fixture
def table(qtbot):
    document = ProjectDocument(_many_heads())
    widget = PerOutputLossTable(document)
    widget.sync(document.project)
    document.changed.connect(lambda: widget.sync(document.project))
    qtbot.addWidget(widget)
    return widget, document


def _select(table: PerOutputLossTable, rows: list[int]) -> None:
    model = table.selectionModel()
    model.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in rows:
        model.select(table.model().index(row, 0), flags)


def test_a_weight_typed_in_a_selected_row_goes_to_every_selected_head_as_one_edit(table):
    widget, document = table
    _select(widget, [0, 3, 25, 30])
    widget.weight_spin("r3").setValue(0.5)
    weights = {h.name: h.loss.weight for h in document.project.heads}
    assert [name for name, w in weights.items() if w == 0.5] == ["r0", "r3", "c5", "c10"]
    assert document.undo_stack.count() == 1
    assert "4 heads" in document.undo_stack.undoText()
    document.undo_stack.undo()
    assert all(h.loss.weight == 1.0 for h in document.project.heads)
    assert widget.weight_spin("c5").value() == 1.0


def test_a_loss_goes_to_the_selected_heads_it_suits_only(table):
    widget, document = table
    _select(widget, [1, 2, 21])  # two regression heads and a classification head
    combo = widget.loss_combo("r1")
    combo.setCurrentIndex(combo.findData("huber"))
    project = document.project
    assert project.head("r1").loss.kind == project.head("r2").loss.kind == "huber"
    assert project.head("c1").loss.kind != "huber"  # huber does not suit classes
    combo = widget.loss_combo("c1")
    combo.setCurrentIndex(combo.findData("none"))  # "no loss" suits every head
    assert [h.name for h in document.project.heads if not h.has_loss] == ["r1", "r2", "c1"]


def test_an_edit_outside_the_selection_changes_that_row_only(table):
    widget, document = table
    _select(widget, [0, 1])
    widget.weight_spin("r7").setValue(2.0)
    assert [h.name for h in document.project.heads if h.loss.weight == 2.0] == ["r7"]


def test_a_metric_is_added_to_the_selected_heads_that_offer_it(table):
    widget, document = table
    _select(widget, [4, 5, 24])
    widget.metric_actions("r4")["mae"].setChecked(True)
    project = document.project
    assert "mae" in project.head("r4").loss.metrics and "mae" in project.head("r5").loss.metrics
    assert "mae" not in project.head("c4").loss.metrics
