"""Edits the project's rules refuse are refused in the field: the reason under it, the field
marked, the project and its undo history unchanged. Per field class: names, shapes, layer
parameters, head units, training settings, the model dialogs and the Data dialog."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDoubleSpinBox, QLineEdit, QSpinBox

from mogui.qt.data_dialog import DataDialog
from mogui.qt.document import ProjectDocument
from mogui.qt.model_dialogs import AddHeadDialog, AddLayerDialog, RenameDialog
from mogui.qt.model_edits import add_trunk_layer
from mogui.qt.training_settings import TrainingSettingsForm
from tests.qt.conftest import wait_for_shapes

pytestmark = pytest.mark.gui


def type_into(qtbot, widget, text: str) -> None:
    """Select what the field holds, type ``text`` and press Enter, as a user does."""
    widget.setFocus()
    widget.selectAll()
    if text:
        qtbot.keyClicks(widget, text)
    else:
        qtbot.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def _unchanged(window, before) -> None:
    assert window.document.project == before
    assert window.document.undo_stack.count() == 0 and not window.document.dirty


def test_a_duplicate_head_name_is_refused_and_the_losses_tab_stays_whole(qtbot, window):
    form = window.editor.form
    window.editor.selection.select("heads[1]")
    before = window.document.project.model_copy(deep=True)
    type_into(qtbot, form.editor("name"), "bbox")
    assert form.error_text("name") == (
        "'bbox' is already the name of head 'bbox'; names of inputs, layers and heads must be "
        "unique. Not applied: still classification.")
    assert form.editor("name").property("invalid") is True
    assert form.editor("name").text() == "bbox"  # what was typed stays, to be corrected
    _unchanged(window, before)
    table = window.loss_panel.findChild(type(window.loss_panel.table), "perOutputLossTable")
    assert [table.head_at(r) for r in range(table.rowCount())] == ["bbox", "classification"]
    assert window.problems_label.text() == "Ready"

    type_into(qtbot, form.editor("name"), "shape_class")  # a good name: applied, undoable
    assert window.document.project.head_names == ["bbox", "shape_class"]
    assert form.error_text("name") == "" and not form.editor("name").property("invalid")
    window.action_undo.trigger()
    assert window.document.project.head_names == ["bbox", "classification"]
    assert form.editor("name").text() == "classification"


def test_an_empty_or_unusable_layer_name_is_refused(qtbot, window):
    form = window.editor.form
    window.editor.selection.select("trunk[7]")
    before = window.document.project.model_copy(deep=True)
    type_into(qtbot, form.editor("name"), "")
    assert form.error_text("name").startswith("is empty: give it a name")
    type_into(qtbot, form.editor("name"), "conv1")
    assert "already the name of trunk layer 'conv1'" in form.error_text("name")
    _unchanged(window, before)
    assert window.editor.graph.node_by_name("shared_dense") is not None


def test_an_input_shape_of_zero_is_refused_and_none_is_any_length(qtbot, window):
    form = window.editor.form
    window.editor.selection.select("inputs[0]")
    shape = form.editor("shape")
    assert "None" in shape.placeholderText()
    before = window.document.project.model_copy(deep=True)
    type_into(qtbot, shape, "0, 32, 1")
    assert form.error_text("shape") == ("shape[0] must be >= 1, got 0. Not applied: still "
                                        "32, 32, 1.")
    _unchanged(window, before)

    type_into(qtbot, shape, "None, None, 1")
    assert window.document.project.inputs[0].shape == [None, None, 1]
    assert form.error_text("shape") == "" and shape.text() == "None, None, 1"
    wait_for_shapes(qtbot, window.editor)
    assert window.editor.inspector.row_of("image")[2] == "(None, None, None, 1)"
    assert "Flatten 'flatten' needs a fixed size" in window.problems_label.text()
    type_into(qtbot, shape, "")  # left empty: one axis of any length
    assert window.document.project.inputs[0].shape == [None]


def test_a_dropout_rate_of_1_5_is_refused_with_a_message_not_clamped(qtbot, window):
    document = window.document
    document.edit("Add dropout", lambda p: add_trunk_layer(p, "Dropout", "drop", 6))
    window.editor.selection.select("trunk[7]")
    spin = window.editor.form.editor("params.rate")
    assert isinstance(spin, QDoubleSpinBox)
    before = document.project.model_copy(deep=True)
    type_into(qtbot, spin, "1.5")
    assert spin.value() == pytest.approx(1.5)  # shown as typed, not made 0.5 or 0.999999
    assert window.editor.form.error_text("params.rate") == (
        "must be < 1.0, got 1.5. Not applied: still 0.2.")
    assert document.project == before and document.undo_stack.count() == 1

    window.editor.selection.select("heads[0]")
    window.editor.selection.select("trunk[7]")
    assert window.editor.form.error_text("params.rate") == ""  # the form shows the project
    type_into(qtbot, window.editor.form.editor("params.rate"), "0.5")
    assert document.project.trunk[7].params["rate"] == 0.5
    assert window.action_undo.text() == "Undo Change drop.rate"
    window.action_undo.trigger()
    assert window.editor.form.editor("params.rate").value() == pytest.approx(0.2)


def test_head_units_and_layer_sizes_of_zero_are_refused(qtbot, window):
    form = window.editor.form
    before = window.document.project.model_copy(deep=True)
    window.editor.selection.select("heads[1]")
    units = form.editor("units")
    assert isinstance(units, QSpinBox)
    type_into(qtbot, units, "0")
    assert form.error_text("units") == "must be >= 1, got 0. Not applied: still 6."
    window.editor.selection.select("trunk[0]")
    type_into(qtbot, form.editor("params.kernel_size"), "-2")
    assert form.error_text("params.kernel_size").startswith("must be >= 1, got -2")
    type_into(qtbot, form.editor("params.filters"), "0")
    assert form.error_text("params.filters").startswith("must be >= 1, got 0")
    _unchanged(window, before)


def test_training_settings_refuse_values_out_of_range(qtbot, demo_project):
    document = ProjectDocument(demo_project)
    form = TrainingSettingsForm(document)
    qtbot.addWidget(form)
    form.show()
    before = document.project.model_copy(deep=True)
    for path, typed, expected in (
            ("learning_rate", "0", "Learning rate must be > 0.0, got 0.0. Not applied: "
                                   "still 0.001."),
            ("validation_split", "1", "Validation split must be < 1.0, got 1.0. Not applied: "
                                      "still 0.2."),
            ("batch_size", "0", "Batch size must be >= 1, got 0. Not applied: still 16."),
            ("epochs", "-3", "Epochs must be >= 1, got -3. Not applied: still 1.")):
        type_into(qtbot, form.editors[path].widget, typed)
        assert form.error_text(path) == expected, path
        assert form.editors[path].widget.property("invalid") is True
    assert document.project == before and document.undo_stack.count() == 0
    type_into(qtbot, form.editors["learning_rate"].widget, "0.01")
    assert document.project.training.learning_rate == pytest.approx(0.01)
    assert form.error_text("learning_rate") == "" and document.undo_stack.count() == 1
    assert form.error_text("epochs")  # still refused: the project keeps its epochs


def test_add_head_add_layer_and_rename_dialogs_stay_open_on_a_bad_name(qtbot, window,
                                                                      monkeypatch):
    project = window.document.project
    head = AddHeadDialog("head", project=project)
    qtbot.addWidget(head)
    head.name_edit.setText("conv1")
    head.units_spin.setValue(0)
    head.accept()
    assert head.result() != QDialog.DialogCode.Accepted
    assert "already the name of trunk layer 'conv1'" in head.name_check.error_label.text()
    assert head.units_check.error_label.text() == "Units must be >= 1, got 0"
    layer = AddLayerDialog("Add trunk layer", lambda kind: kind.lower(), project=project)
    qtbot.addWidget(layer)
    layer.name_edit.setText("")
    layer.accept()
    assert layer.result() != QDialog.DialogCode.Accepted
    assert layer.name_check.error_label.text().startswith("The name is empty")
    rename = RenameDialog(project, "heads[0]", "bbox")
    qtbot.addWidget(rename)
    rename.name_edit.setText("val_box")
    rename.accept()
    assert "mistaken for a validation value" in rename.name_check.error_label.text()
    rename.name_edit.setText("box")
    rename.accept()
    assert rename.result() == QDialog.DialogCode.Accepted

    def duplicate_then_fix(dialog: AddHeadDialog) -> int:  # as the user would see it
        dialog.name_edit.setText("bbox")
        dialog.accept()
        assert dialog.result() != QDialog.DialogCode.Accepted
        dialog.name_edit.setText("roundness")
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(AddHeadDialog, "exec", duplicate_then_fix)
    window.editor.add_head()
    assert window.document.project.head_names == ["bbox", "classification", "roundness"]
    window.editor.selection.select("heads[2]")
    window.editor.rename_selected("classification")  # refused: nothing changes
    assert window.document.project.head_names[2] == "roundness"


def test_the_data_dialog_refuses_values_out_of_range_and_keeps_the_project(qtbot, window):
    document = window.document
    dialog = DataDialog(document)
    qtbot.addWidget(dialog)
    before = document.project.model_copy(deep=True)
    type_into(qtbot, dialog.demo_samples, "8")
    type_into(qtbot, dialog.validation_split, "1.5")
    dialog.accept()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.checks["data.samples"].error_label.text() == "Samples must be >= 16, got 8."
    assert dialog.checks["training.validation_split"].error_label.text() == (
        "Validation fraction must be < 1.0, got 1.5.")
    assert dialog.demo_samples.property("invalid") is True
    assert "Samples must be >= 16" in dialog.problems.text()
    assert document.project == before and document.undo_stack.count() == 0

    dialog.kind.setCurrentIndex(dialog.kind.findData("csv"))
    dialog.csv_path.edit.setText("table.csv")
    dialog.delimiter.setCurrentText(";;")
    type_into(qtbot, dialog.demo_samples, "64")
    type_into(qtbot, dialog.validation_split, "0.25")
    dialog.accept()
    assert dialog.checks["data.delimiter"].error_label.text() == (
        "Delimiter must be one character, got ';;'.")
    assert dialog.checks["data.samples"].error_label.text() == ""
    dialog.delimiter.setCurrentText(";")
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert document.project.data.delimiter == ";"
    assert document.project.training.validation_split == 0.25
    assert isinstance(dialog.findChild(QLineEdit, "csvPathEdit"), QLineEdit)
