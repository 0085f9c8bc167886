"""Edges a new user hit: Ctrl+Y, the joint template, the project's name and description, and
a layout that fits at the default size and at 1024x640."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QScrollArea

from mogui.core.project import HeadLoss, HeadSpec
from mogui.engine.export.codegen import script_name
from mogui.engine.losses.user_code import compile_loss_source
from mogui.qt.file_actions import _suggested_file_name
from mogui.qt.loss_panel import JOINT, joint_loss_template
from mogui.qt.main_window import MainWindow
from mogui.qt.project_dialog import ProjectPropertiesDialog

pytestmark = pytest.mark.gui

CTRL = Qt.KeyboardModifier.ControlModifier


# -- Ctrl+Y ---------------------------------------------------------------------------------
def test_ctrl_y_redoes_as_well_as_the_platform_keys(qtbot, window):
    shortcuts = window.action_redo.shortcuts()
    assert QKeySequence("Ctrl+Y") in shortcuts
    for key in QKeySequence.keyBindings(QKeySequence.StandardKey.Redo):
        assert key in shortcuts
    window.document.edit("Units", lambda p: setattr(p.heads[0], "units", 7))
    window.action_undo.trigger()
    assert window.document.project.heads[0].units == 4
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.editor.tree, Qt.Key.Key_Y, CTRL)
    assert window.document.project.heads[0].units == 7


# -- the joint template ---------------------------------------------------------------------
def test_switching_to_joint_gives_each_head_the_loss_chosen_for_it(window):
    document = window.document

    def choose(project) -> None:
        project.heads[0].loss.kind = "huber"
        project.heads.append(HeadSpec(name="shape_logits", task="multiclass", units=6,
                                      activation="linear"))
        project.heads.append(HeadSpec(name="mine", task="regression", units=4,
                                      loss=HeadLoss(kind="custom", source="def loss(a, b):\n"
                                                    "    return a - b\n")))
        project.data.targets.update(shape_logits="label", mine="bbox")

    document.edit("Choose losses", choose)
    panel = window.loss_panel
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData(JOINT))
    source = document.project.joint_loss.source
    assert source == joint_loss_template(document.project.heads)
    assert '"bbox": ops.mean(keras.losses.get("huber")(y_true["bbox"], y_pred["bbox"]))' \
        in source
    assert ('keras.losses.get("sparse_categorical_crossentropy")(y_true["shape_logits"], '
            'y_pred["shape_logits"], from_logits=True)') in source
    assert "# 'mine' has a custom loss per output; this is its task's usual loss\n" \
        '        "mine": ops.mean(keras.losses.get("mse")' in source
    assert panel.joint_code.error_text == ""

    # It runs, and computes what the per-output losses compute.
    loss = compile_loss_source(source, "joint loss", allow_mask=True)
    rng = np.random.default_rng(0)
    y_true = {"bbox": rng.random((5, 4), "float32"), "mine": rng.random((5, 4), "float32"),
              "classification": rng.integers(0, 6, (5, 1)),
              "shape_logits": rng.integers(0, 6, (5, 1))}
    y_pred = {"bbox": rng.random((5, 4), "float32"), "mine": rng.random((5, 4), "float32"),
              "classification": np.full((5, 6), 1 / 6, "float32"),
              "shape_logits": rng.normal(size=(5, 6)).astype("float32")}
    terms = loss(y_true, y_pred)
    np.testing.assert_allclose(terms["bbox"], keras.losses.Huber()(y_true["bbox"],
                                                                   y_pred["bbox"]), rtol=1e-6)
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
        y_true["shape_logits"], y_pred["shape_logits"])
    np.testing.assert_allclose(terms["shape_logits"], expected, rtol=1e-6)


# -- project name and description -----------------------------------------------------------
def properties(qtbot, window: MainWindow) -> ProjectPropertiesDialog:
    dialog = ProjectPropertiesDialog(window.document, window)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_the_name_and_description_are_edited_as_one_undo_step(qtbot, window):
    action = window.findChild(QAction, "actionProjectProperties")
    assert action is not None and action.text() == "Project &properties…"
    document = window.document
    before = (document.project.name, document.project.description)
    dialog = properties(qtbot, window)
    assert dialog.name_edit.text() == "Shapes: bounding box + class"
    dialog.name_edit.selectAll()
    qtbot.keyClicks(dialog.name_edit, "House prices")
    assert dialog.file_names.text() == ("Files made from it are named “house_prices”, e.g. "
                                        "train_house_prices.py")
    dialog.description_edit.setPlainText("Sale prices from size, rooms and year.\n")
    steps = document.undo_stack.count()
    dialog.accept()
    assert not dialog.isVisible()
    assert document.undo_stack.count() == steps + 1
    assert document.project.name == "House prices"
    assert document.project.description == "Sale prices from size, rooms and year."
    assert window.windowTitle() == "House prices* — mogui"
    assert script_name(document.project) == "train_house_prices.py"  # the export follows
    assert _suggested_file_name(document) == "house_prices.mogui.json"

    window.action_undo.trigger()
    assert (document.project.name, document.project.description) == before
    assert window.windowTitle() == "Shapes: bounding box + class — mogui"
    window.action_redo.trigger()
    assert document.project.name == "House prices"


@pytest.mark.parametrize(("typed", "message"), [
    ("   ", "needs a name: it titles the window and names the exported files"),
    ("+++", "needs at least one letter or digit"),
    ("x" * 121, "is 121 characters long; keep it to 120"),
])
def test_a_name_that_cannot_be_used_keeps_the_dialog_open_and_says_why(qtbot, window, typed,
                                                                        message):
    document = window.document
    steps = document.undo_stack.count()
    dialog = properties(qtbot, window)
    dialog.name_edit.setText(typed)
    dialog.accept()
    assert dialog.isVisible() and dialog.result() == 0
    label = dialog.findChild(type(dialog.file_names), "projectNameError")
    assert label.isVisible() and label.text().startswith(message)
    assert document.undo_stack.count() == steps
    assert document.project.name == "Shapes: bounding box + class"
    dialog.name_edit.setText("Fixed")  # the message goes once the name is fine
    assert not label.isVisible()
    dialog.accept()
    assert document.project.name == "Fixed"


# -- layout ---------------------------------------------------------------------------------
EVERY_KIND_OF_ITEM = ["inputs[0]", "trunk[0]", "trunk[7]", "heads[0]", "heads[1]",
                      "heads[1].layers[0]"]


def form_scroll_area(window: MainWindow) -> QScrollArea:
    area = window.editor.form.parentWidget().parentWidget()
    assert isinstance(area, QScrollArea)
    return area


@pytest.mark.parametrize("size", [(1400, 860), (1024, 640)])
def test_the_model_and_losses_tabs_fit_the_window(qtbot, window, size):
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size)
    editor = window.editor
    area = form_scroll_area(window)
    for path in EVERY_KIND_OF_ITEM:
        editor.selection.select(path)
        QApplication.processEvents()  # lay the new form out
        assert editor.form.minimumSizeHint().width() <= area.viewport().width(), path
        assert not area.horizontalScrollBar().isVisible(), path
    # the graph and the shape table share what the left column leaves
    assert editor.graph.width() >= 250 and editor.inspector.width() >= 250
    assert editor.graph.height() >= 400

    window.tabs.setCurrentWidget(window.loss_panel)
    panel = window.loss_panel
    qtbot.waitUntil(panel.table.isVisible)
    assert not panel.table.horizontalScrollBar().isVisible()
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData(JOINT))
    qtbot.waitUntil(panel.joint_code.isVisible)
    assert panel.joint_code.editor.width() >= 400
    assert panel.joint_code.editor.height() >= 150
    assert panel.term_table.isVisible()
