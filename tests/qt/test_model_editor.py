"""Model editor: structural edits, the property form, undo/redo and problem marking."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QSpinBox

from mogui.core.io import load_example
from mogui.core.project import Project
from mogui.qt.document import ProjectDocument
from mogui.qt.model_dialogs import AddHeadDialog, AddLayerDialog
from mogui.qt.model_editor import ModelEditor
from mogui.qt.model_edits import graph_nodes, move_item, rename_item
from tests.qt.conftest import wait_for_shapes

pytestmark = pytest.mark.gui


def tree_names(editor: ModelEditor) -> list[str]:
    names = []
    stack = [editor.tree.topLevelItem(i) for i in range(editor.tree.topLevelItemCount())]
    while stack:
        item = stack.pop(0)
        names.append(item.text(0))
        stack = [item.child(i) for i in range(item.childCount())] + stack
    return names


def finish_line_edit(qtbot, line: QLineEdit, text: str) -> None:
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def test_add_head_through_the_dialog_shows_everywhere(qtbot, window, monkeypatch):
    editor = window.editor

    def fill_and_accept(dialog: AddHeadDialog) -> int:
        dialog.set_demo_target("center")  # the demo's box centre: regression, 2 units
        dialog.name_edit.setText("position")
        assert dialog.task_combo.currentData() == "regression"
        assert dialog.units_spin.value() == 2
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(AddHeadDialog, "exec", fill_and_accept)
    qtbot.mouseClick(editor.buttons["addHeadButton"], Qt.MouseButton.LeftButton)
    wait_for_shapes(qtbot, editor)

    assert window.document.project.head_names == ["bbox", "classification", "position"]
    assert window.document.project.data.targets == {"position": "center"}
    assert "position" in tree_names(editor)
    assert editor.graph.node_by_name("position") is not None
    assert editor.inspector.row_of("position")[2] == "(None, 2)"
    assert editor.selection.path == "heads[2]"
    assert window.document.problems == []


def test_form_edit_changes_shape_and_undo_redo_restore_it(qtbot, window):
    editor = window.editor
    editor.selection.select("trunk[7]")  # shared_dense
    spin = editor.form.editor("params.units")
    assert isinstance(spin, QSpinBox) and spin.value() == 128
    spin.setValue(100)
    wait_for_shapes(qtbot, editor)
    assert window.document.project.trunk[7].params["units"] == 100
    assert editor.inspector.row_of("shared_dense")[2] == "(None, 100)"
    assert window.action_undo.text() == "Undo Change shared_dense.units"
    assert window.windowTitle().startswith("Shapes: bounding box + class*")

    window.action_undo.trigger()
    wait_for_shapes(qtbot, editor)
    assert editor.inspector.row_of("shared_dense")[2] == "(None, 128)"
    assert editor.form.editor("params.units").value() == 128
    assert not window.document.dirty

    window.action_redo.trigger()
    wait_for_shapes(qtbot, editor)
    assert editor.inspector.row_of("shared_dense")[2] == "(None, 100)"


def test_form_heading_follows_a_rename_and_its_undo(qtbot, window):
    editor = window.editor
    editor.selection.select("trunk[7]")
    title = editor.form.findChild(QLabel, "layerFormTitle")
    assert title.text().startswith("Layer shared_dense (Dense)")
    finish_line_edit(qtbot, editor.form.editor("name"), "features")
    assert title.text().startswith("Layer features (Dense)")
    window.document.undo_stack.undo()
    assert title.text().startswith("Layer shared_dense (Dense)")


def test_literal_and_bool_params_get_combo_and_check_box(window):
    editor = window.editor
    editor.selection.select("trunk[0]")  # conv1
    activation = editor.form.editor("params.activation")
    padding = editor.form.editor("params.padding")
    assert activation.currentText() == "relu"
    assert [padding.itemText(i) for i in range(padding.count())] == ["valid", "same"]
    padding.textActivated.emit("valid")
    assert window.document.project.trunk[0].params["padding"] == "valid"
    editor.selection.select("trunk[7]")
    editor.form.editor("params.use_bias").setChecked(False)
    assert window.document.project.trunk[7].params["use_bias"] is False


def test_invalid_values_are_marked_at_the_field(qtbot, window):
    editor = window.editor
    editor.selection.select("trunk[7]")
    finish_line_edit(qtbot, editor.form.editor("name"), "1features")
    assert "must use letters, digits and underscores" in editor.form.error_text("name")
    assert window.document.project.trunk[7].name == "shared_dense"  # refused, not applied
    assert window.problems_label.text() == "Ready"

    finish_line_edit(qtbot, editor.form.editor("inputs"), "nowhere")
    assert "'nowhere', which is not an input or an earlier layer" in \
        editor.form.error_text("inputs")

    editor.selection.select("inputs[0]")
    finish_line_edit(qtbot, editor.form.editor("shape"), "32, x, 1")
    assert "must be whole numbers, or None" in editor.form.error_text("shape")
    assert window.document.project.inputs[0].shape == [32, 32, 1]


def test_changing_kind_to_a_misfit_marks_the_failing_layer(qtbot, window):
    editor = window.editor
    editor.selection.select("trunk[7]")
    editor.form.editor("kind").textActivated.emit("Conv2D")
    wait_for_shapes(qtbot, editor)
    row = editor.inspector.row_of("shared_dense")
    assert "needs a 4-D input" in row[2]
    node = editor.graph.node_by_name("shared_dense")
    assert node.error and "needs a 4-D input" in node.toolTip()
    assert "cannot be built" in editor.inspector.status.text()


def test_add_trunk_layer_after_selection_with_kind_picker(qtbot, window, monkeypatch):
    editor = window.editor

    def pick_dropout(dialog: AddLayerDialog) -> int:
        dialog.set_kind("Dropout")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(AddLayerDialog, "exec", pick_dropout)
    editor.selection.select("trunk[7]")
    qtbot.mouseClick(editor.buttons["addLayerButton"], Qt.MouseButton.LeftButton)
    trunk = window.document.project.trunk
    assert [layer.kind for layer in trunk[-2:]] == ["Dense", "Dropout"]
    assert trunk[-1].name == "dropout" and trunk[-1].params == {"rate": 0.2}
    assert editor.selection.path == "trunk[8]"
    assert editor.form.editor("params.rate").value() == pytest.approx(0.2)

    editor.selection.select("heads[1]")
    assert editor.buttons["addHeadLayerButton"].isEnabled()
    qtbot.mouseClick(editor.buttons["addHeadLayerButton"], Qt.MouseButton.LeftButton)
    assert [layer.name for layer in window.document.project.heads[1].layers] == \
        ["class_hidden", "dropout_2"]


def test_remove_rename_and_reorder(qtbot, window):
    editor = window.editor
    editor.selection.select("heads[0].layers[0]")
    qtbot.mouseClick(editor.buttons["removeButton"], Qt.MouseButton.LeftButton)
    assert window.document.project.heads[0].layers == []
    assert "bbox_hidden" not in tree_names(editor)
    assert editor.graph.node_by_name("bbox_hidden") is None

    editor.selection.select("trunk[7]")
    editor.rename_selected("features")
    assert window.document.project.trunk[7].name == "features"
    assert "features" in tree_names(editor)

    editor.selection.select("trunk[6]")
    qtbot.mouseClick(editor.buttons["moveDownButton"], Qt.MouseButton.LeftButton)
    assert [layer.name for layer in window.document.project.trunk[-2:]] == ["features",
                                                                           "flatten"]
    assert editor.selection.path == "trunk[7]"
    qtbot.mouseClick(editor.buttons["moveUpButton"], Qt.MouseButton.LeftButton)
    assert [layer.name for layer in window.document.project.trunk[-2:]] == ["flatten",
                                                                           "features"]
    for _ in range(4):
        window.action_undo.trigger()
    assert [layer.name for layer in window.document.project.trunk[-1:]] == ["shared_dense"]
    assert window.document.project.heads[0].layers[0].name == "bbox_hidden"


def test_last_head_cannot_be_removed(window):
    editor = window.editor
    editor.selection.select("heads[1]")
    editor.remove_selected()
    editor.selection.select("heads[0]")
    assert not editor.buttons["removeButton"].isEnabled()
    editor.remove_selected()
    assert window.document.project.head_names == ["bbox"]


def test_head_form_edits_task_units_activation_and_source(window):
    editor = window.editor
    editor.selection.select("heads[0]")
    assert editor.form.field_keys() == ["name", "task", "units", "activation", "source",
                                        "demo_target"]
    assert editor.form.editor("demo_target").currentText() == "bbox"
    editor.form.editor("units").setValue(8)
    editor.form.editor("activation").textActivated.emit("(default): linear")
    editor.form.editor("source").textActivated.emit("flatten")
    head = window.document.project.heads[0]
    assert (head.units, head.activation, head.source) == (8, None, "flatten")
    editor.form.editor("task").textActivated.emit("binary")
    assert window.document.project.heads[0].task == "binary"
    assert "does not fit" in window.problems_label.text()


def test_rename_updates_references():
    project: Project = load_example("multi_input")
    rename_item(project, "trunk[0]", "sensor_features")
    assert project.trunk[3].inputs == ["sensor_features", "token_pool"]
    assert move_item(project, "heads[2]", -5) == "heads[0]"
    assert project.head_names[0] == "tags"
    merge = next(n for n in graph_nodes(project) if n.name == "merge")
    assert merge.inputs == ("sensor_features", "token_pool")


def test_locked_editor_refuses_edits_and_shows_banner(qtbot, dialogs, demo_project):
    editor = ModelEditor(ProjectDocument(demo_project))
    qtbot.addWidget(editor)
    editor.resize(1200, 900)
    editor.show()
    editor.set_locked(True)
    assert editor.banner.isVisibleTo(editor)
    assert "Training in progress" in editor.banner.text()
    qtbot.waitUntil(lambda: editor.banner.height() > 0)
    assert editor.banner.height() <= 2 * editor.banner.sizeHint().height()  # one line
    assert not any(button.isEnabled() for button in editor.buttons.values())
    assert not editor.form.isEnabled()
    editor.add_input()
    assert len(editor.document.project.inputs) == 1
    editor.set_locked(False)
    editor.add_input()
    assert editor.document.project.input_names == ["image", "input"]
    editor.inspection.wait()


def test_remove_in_the_tree_rewires_as_delete_on_the_graph(window):
    """A layer that another names as its input: that one takes the removed layer's input
    instead, so the model stays valid (the same edit as Delete on the graph)."""
    from mogui.core.validation import check_project
    from mogui.qt.graph_edits import feeds_of

    editor = window.editor
    document = window.document
    names = [layer.name for layer in document.project.trunk]
    document.edit("Name the input", lambda p: setattr(p.trunk[2], "inputs", [names[1]]))
    editor.selection.select("trunk[1]")
    editor.remove_selected()
    project = document.project
    assert names[1] not in [layer.name for layer in project.trunk]
    assert check_project(project) == []
    assert feeds_of(project)[names[2]] == (names[0],)
    window.action_undo.trigger()
    assert [layer.name for layer in document.project.trunk] == names


def test_a_second_input_leaves_the_first_layer_on_the_first_input(window):
    from mogui.core.validation import check_project

    editor = window.editor
    assert window.document.project.trunk[0].inputs == []  # the only input, unnamed
    editor.add_input()
    project = window.document.project
    assert project.input_names == ["image", "input"]
    assert project.trunk[0].inputs == ["image"] and check_project(project) == []
    window.action_undo.trigger()
    assert window.document.project.trunk[0].inputs == []


def test_delete_in_the_tree_removes_the_selected_item(qtbot, window):
    editor = window.editor
    names = [layer.name for layer in window.document.project.trunk]
    editor.selection.select("trunk[1]")
    editor.tree.setFocus()
    qtbot.waitUntil(editor.tree.hasFocus)
    qtbot.keyClick(editor.tree, Qt.Key.Key_Delete)
    assert [layer.name for layer in window.document.project.trunk] == \
        [n for n in names if n != names[1]]
    window.action_undo.trigger()
    assert [layer.name for layer in window.document.project.trunk] == names
