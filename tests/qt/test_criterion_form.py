"""What early stopping and checkpoints watch, in the Training tab: the kind of criterion and
its values, each edit one undo step; values training does not log are refused in the dialog;
a run's summary says why and when early stopping ended it."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QPushButton

from mogui.core.run_store import list_runs
from mogui.qt.criterion_form import CriterionBox, CriterionDialog
from mogui.qt.document import ProjectDocument
from mogui.qt.training_panel import TrainingPanel
from mogui.qt.training_settings import TrainingSettingsForm

pytestmark = pytest.mark.gui


@pytest.fixture
def document(demo_project) -> ProjectDocument:
    return ProjectDocument(demo_project)


@pytest.fixture
def form(qtbot, document) -> TrainingSettingsForm:
    widget = TrainingSettingsForm(document)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _box(form: TrainingSettingsForm, setting: str) -> CriterionBox:
    return form.findChild(CriterionBox, f"setting_{setting}_criterion")


def _choose(box: CriterionBox, kind: str) -> None:
    index = box.combo.findData(kind)
    box.combo.setCurrentIndex(index)
    box.combo.activated.emit(index)


def _cell(dialog: CriterionDialog, row: int, column: int):
    return dialog.table.cellWidget(row, column)


def test_the_kind_of_criterion_is_an_undoable_setting(form, document):
    form.findChild(QCheckBox, "setting_early_stopping_enabled").setChecked(True)
    box = _box(form, "early_stopping")
    monitor = form.findChild(QComboBox, "setting_early_stopping_monitor")
    assert box.isEnabled() and monitor.isEnabled() and not box.values_button.isEnabled()
    assert [box.combo.itemText(i) for i in range(box.combo.count())] == [
        "One value", "Weighted sum", "Lexicographic", "Every head"]
    _choose(box, "all_heads")
    assert document.project.training.early_stopping.criterion == "all_heads"
    assert document.undo_stack.undoText() == "Early stopping criterion: all_heads"
    assert not monitor.isEnabled() and box.values_button.isEnabled()
    assert "each of val_bbox_loss, val_classification_loss on its own" in \
        box.values_button.toolTip()
    assert form.value("early_stopping.criterion") == "all_heads"
    form.findChild(QDoubleSpinBox, "setting_early_stopping_min_delta").setValue(0.02)
    assert document.project.training.early_stopping.min_delta == pytest.approx(0.02)
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert document.project.training.early_stopping.criterion == "monitor"
    assert box.kind() == "monitor" and monitor.isEnabled()
    checkpoints = _box(form, "checkpointing")
    assert not checkpoints.isEnabled()
    form.findChild(QCheckBox, "setting_checkpointing_enabled").setChecked(True)
    _choose(checkpoints, "lexicographic")
    assert document.project.training.checkpointing.criterion == "lexicographic"


def test_weights_chosen_in_the_dialog_are_one_undo_step(qtbot, form, document):
    form.findChild(QCheckBox, "setting_early_stopping_enabled").setChecked(True)
    _choose(_box(form, "early_stopping"), "weighted")
    dialog = form.edit_values("early_stopping")
    qtbot.waitExposed(dialog)
    assert dialog.table.rowCount() == 2  # each head's validation loss, weight 1
    assert [_cell(dialog, r, 0).currentText() for r in range(2)] == [
        "val_bbox_loss", "val_classification_loss"]
    assert not dialog.table.isColumnHidden(1) and dialog.table.isColumnHidden(2)
    _cell(dialog, 1, 1).setValue(0.5)
    dialog.add_row("val_classification_sparse_categorical_accuracy")
    _cell(dialog, 2, 1).setValue(2.0)
    with qtbot.waitSignal(dialog.accepted):
        dialog.accept()
    metrics = document.project.training.early_stopping.metrics
    assert [(m.metric, m.weight) for m in metrics] == [
        ("val_bbox_loss", 1.0), ("val_classification_loss", 0.5),
        ("val_classification_sparse_categorical_accuracy", 2.0)]
    assert document.undo_stack.undoText().startswith("Early stopping values: val_bbox_loss")
    assert "- 2 × val_classification_sparse_categorical_accuracy" in \
        _box(form, "early_stopping").values_button.toolTip()
    document.undo_stack.undo()
    assert document.project.training.early_stopping.metrics == []


def test_the_dialog_refuses_what_training_does_not_log_and_keeps_the_entry(qtbot, form,
                                                                           document):
    form.findChild(QCheckBox, "setting_early_stopping_enabled").setChecked(True)
    _choose(_box(form, "early_stopping"), "weighted")
    dialog = form.edit_values("early_stopping")
    steps = document.undo_stack.count()
    _cell(dialog, 0, 0).setCurrentText("val_nope")
    dialog.accept()
    error = dialog.findChild(QLabel, "criterionError")
    assert dialog.isVisible() and error.isVisible()
    assert "Value 1 names 'val_nope', which training does not log" in error.text()
    assert "val_bbox_mae" in error.text()
    assert _cell(dialog, 0, 0).currentText() == "val_nope"  # kept, to be fixed
    _cell(dialog, 0, 0).setCurrentText("val_bbox_mae")
    _cell(dialog, 0, 1).setValue(0.0)
    _cell(dialog, 1, 1).setValue(0.0)
    dialog.accept()
    assert dialog.isVisible() and "gives every value the weight 0" in error.text()
    assert document.undo_stack.count() == steps
    _cell(dialog, 1, 1).setValue(1.0)
    with qtbot.waitSignal(dialog.finished):
        dialog.accept()
    assert [m.metric for m in document.project.training.early_stopping.metrics] == [
        "val_bbox_mae", "val_classification_loss"]


def test_a_lexicographic_order_and_its_tolerances(qtbot, form, document):
    form.findChild(QCheckBox, "setting_checkpointing_enabled").setChecked(True)
    _choose(_box(form, "checkpointing"), "lexicographic")
    dialog = form.edit_values("checkpointing")
    assert dialog.table.isColumnHidden(1) and not dialog.table.isColumnHidden(2)
    tolerance = _cell(dialog, 0, 2)
    assert tolerance.text() == "min_delta"
    tolerance.setValue(0.05)
    dialog.table.selectRow(1)
    dialog.findChild(QPushButton, "moveValueUp").click()
    assert dialog.table.currentRow() == 0
    with qtbot.waitSignal(dialog.finished):
        dialog.accept()
    metrics = document.project.training.checkpointing.metrics
    assert [(m.metric, m.tolerance) for m in metrics] == [
        ("val_classification_loss", None), ("val_bbox_loss", 0.05)]


@pytest.mark.slow
def test_the_run_summary_says_what_early_stopping_did(qtbot, demo_project, tmp_path):
    demo_project.training.epochs = 3
    demo_project.training.early_stopping.enabled = True
    demo_project.training.early_stopping.criterion = "all_heads"
    demo_project.training.early_stopping.patience = 1
    document = ProjectDocument(demo_project)
    panel = TrainingPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    try:
        finished, running = [], []
        panel.worker.finished.connect(finished.append)
        panel.running_changed.connect(running.append)
        qtbot.mouseClick(panel.findChild(QPushButton, "startButton"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: running == [True, False], timeout=120_000)
    finally:
        panel.shutdown()
    outcome = finished[0].early_stop
    assert outcome is not None and outcome.summary.startswith("Early stopping ")
    assert outcome.summary in panel.status_label.text()
    assert outcome.best_epoch is not None and outcome.restored_epoch == outcome.best_epoch
    [run] = list_runs(document.project, None)
    assert run.message == outcome.summary
    assert json.loads((run.folder / "run.json").read_text())["message"] == outcome.summary
