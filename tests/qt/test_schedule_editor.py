"""The Losses tab's weight-schedule column: kind and parameters per head, undoable, and one edit
for every selected head."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox

from mogui.core.project import HeadSpec, InputSpec, Project, WeightSchedule
from mogui.qt.document import ProjectDocument
from mogui.qt.loss_table import PerOutputLossTable
from mogui.qt.schedule_cell import schedule_text

pytestmark = pytest.mark.gui


def _project() -> Project:
    heads = [HeadSpec(name=f"r{i}", task="regression", units=1) for i in range(3)]
    heads += [HeadSpec(name=f"c{i}", task="multiclass", units=3) for i in range(3)]
    return Project(name="schedules", inputs=[InputSpec(name="x", shape=[4])], heads=heads,
                   data={"kind": "npz", "path": "d.npz"})


@pytest.fixture
def table(qtbot):
    document = ProjectDocument(_project())
    widget = PerOutputLossTable(document)
    widget.sync(document.project)
    document.changed.connect(lambda: widget.sync(document.project))
    qtbot.addWidget(widget)
    widget.show()
    return widget, document


def _select(table: PerOutputLossTable, rows: list[int]) -> None:
    model = table.selectionModel()
    model.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in rows:
        model.select(table.model().index(row, 0), flags)


def _choose(combo: QComboBox, kind: str) -> None:
    index = combo.findData(kind)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_schedule_text_names_the_kind_and_every_parameter():
    assert schedule_text(WeightSchedule()) == "Constant"
    assert schedule_text(WeightSchedule(kind="step", params={"gamma": 0.1})) == \
        "Step: gamma 0.1, every 10"
    assert schedule_text(WeightSchedule(kind="linear_warmup")) == \
        "Linear warm-up: start 0, warmup 5"


def test_a_kind_gets_its_parameter_boxes_and_undo_restores_it(table):
    widget, document = table
    cell = widget.schedule_cell("r1")
    combo = widget.findChild(QComboBox, "scheduleCombo_r1")
    assert combo is cell.combo and combo.currentData() == "constant" and cell.boxes == {}
    _choose(combo, "linear_warmup")
    schedule = document.project.head("r1").loss.schedule
    assert (schedule.kind, schedule.params) == ("linear_warmup", {})
    assert document.undo_stack.undoText() == "Weight schedule of 'r1': Linear warm-up"
    cell = widget.schedule_cell("r1")
    start = widget.findChild(QDoubleSpinBox, "scheduleParam_r1_start")
    warmup = widget.findChild(QSpinBox, "scheduleParam_r1_warmup")
    assert set(cell.boxes) == {"start", "warmup"}
    assert start.value() == 0.0 and warmup.value() == 5 and warmup.text() == "warmup 5"
    warmup.setValue(3)
    assert document.project.head("r1").loss.schedule.params == {"warmup": 3.0}
    assert document.undo_stack.count() == 2
    document.undo_stack.undo()
    assert document.project.head("r1").loss.schedule.params == {}
    assert widget.schedule_cell("r1").boxes["warmup"].value() == 5
    document.undo_stack.undo()
    assert document.project.head("r1").loss.schedule.kind == "constant"
    assert widget.schedule_cell("r1").boxes == {} and combo.currentData() == "constant"
    # Other heads were never touched.
    assert all(h.loss.schedule == WeightSchedule() for h in document.project.heads)


def test_a_parameter_box_keeps_to_the_schedules_range(table):
    widget, document = table
    _choose(widget.schedule_cell("c0").combo, "step")
    every = widget.schedule_cell("c0").boxes["every"]
    every.setValue(0)  # below the schedule's minimum of 1: the box holds at 1
    assert every.value() == 1
    assert "from 1 to 100000" in every.toolTip()
    assert document.project.head("c0").loss.schedule.params == {"every": 1.0}


def test_a_kind_chosen_in_a_selected_row_goes_to_every_selected_head(table):
    widget, document = table
    _select(widget, [0, 2, 4])
    _choose(widget.schedule_cell("r2").combo, "cosine")
    kinds = {h.name: h.loss.schedule.kind for h in document.project.heads}
    assert [name for name, kind in kinds.items() if kind == "cosine"] == ["r0", "r2", "c1"]
    assert document.undo_stack.count() == 1
    assert document.undo_stack.undoText() == "Weight schedule of 3 heads: Cosine"
    for name in ("r0", "r2", "c1"):
        assert widget.schedule_cell(name).combo.currentData() == "cosine"
        assert set(widget.schedule_cell(name).boxes) == {"minimum"}
    document.undo_stack.undo()
    assert all(h.loss.schedule.kind == "constant" for h in document.project.heads)


def test_a_parameter_goes_to_the_selected_heads_with_the_same_kind(table):
    widget, document = table
    _select(widget, [0, 1])
    _choose(widget.schedule_cell("r0").combo, "step")
    _select(widget, [2])
    _choose(widget.schedule_cell("r2").combo, "linear_warmup")
    _select(widget, [0, 1, 2])  # two step heads and a warm-up head
    steps = document.undo_stack.count()
    widget.schedule_cell("r1").boxes["gamma"].setValue(0.25)
    project = document.project
    assert project.head("r0").loss.schedule.params == {"gamma": 0.25}
    assert project.head("r1").loss.schedule.params == {"gamma": 0.25}
    assert project.head("r2").loss.schedule.params == {}  # warm-up has no gamma
    assert document.undo_stack.count() == steps + 1
    assert document.undo_stack.undoText() == "Schedule gamma of 2 heads: 0.25"
    assert widget.schedule_cell("r0").boxes["gamma"].value() == pytest.approx(0.25)


def test_a_head_without_a_loss_has_no_schedule_to_edit(table):
    widget, document = table
    combo = widget.loss_combo("c2")
    combo.setCurrentIndex(combo.findData("none"))
    assert not widget.schedule_cell("c2").isEnabled()
    assert widget.schedule_cell("c1").isEnabled()
