"""A third head on the demo: the Add head dialog picks a demo target, and the head trains."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog

from mogui.core.io import load_example
from mogui.qt.loss_plots import EPOCH_VIEW
from mogui.qt.model_dialogs import NO_DEMO_TARGET, AddHeadDialog
from mogui.qt.model_edits import add_head, remove_item, rename_item
from tests.qt.conftest import wait_for_shapes

pytestmark = pytest.mark.gui


def _add_head_with(qtbot, window, monkeypatch, fill) -> AddHeadDialog:
    seen: list[AddHeadDialog] = []

    def run(dialog: AddHeadDialog) -> int:
        seen.append(dialog)
        fill(dialog)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(AddHeadDialog, "exec", run)
    qtbot.mouseClick(window.editor.buttons["addHeadButton"], Qt.MouseButton.LeftButton)
    wait_for_shapes(qtbot, window.editor)
    return seen[0]


def test_add_head_then_ok_gives_a_head_that_trains(qtbot, window, monkeypatch):
    dialog = _add_head_with(qtbot, window, monkeypatch, lambda _dialog: None)
    combo = dialog.findChild(QComboBox, "headDemoTargetCombo")
    assert combo.currentText() == ("is_round — binary, 1 unit: is the shape a circle or a "
                                   "ring?")
    assert "bbox" not in [combo.itemData(i).name for i in range(combo.count() - 1)]
    assert not dialog.task_combo.isEnabled() and not dialog.units_spin.isEnabled()
    project = window.document.project
    head = project.heads[2]
    assert (head.name, head.task, head.units) == ("is_round", "binary", 1)
    assert project.data.targets == {}
    assert window.document.problems == []
    assert window.problems_label.text() == "Ready"


def test_third_head_mapped_through_the_dialog_trains_one_epoch(qtbot, window, monkeypatch):
    def choose_size(dialog: AddHeadDialog) -> None:
        dialog.name_edit.setText("area")
        dialog.name_edit.textEdited.emit("area")  # typed by the user: kept
        dialog.set_demo_target("size")

    dialog = _add_head_with(qtbot, window, monkeypatch, choose_size)
    assert dialog.name_edit.text() == "area"
    project = window.document.project
    assert project.head("area").task == "regression" and project.data.targets == {
        "area": "size"}
    window.document.edit("weight", lambda p: setattr(p.head("area").loss, "weight", 2.0))

    panel = window.training_panel
    running: list[bool] = []
    panel.running_changed.connect(running.append)
    panel.start()
    qtbot.waitUntil(lambda: running == [True, False], timeout=90_000)
    assert "Finished after 1 epoch" in panel.status_label.text()
    for key in ("area_loss", "val_area_loss", "bbox_loss", "val_classification_loss"):
        assert panel.plots.points_received(key, EPOCH_VIEW) == 1, key


def test_head_without_a_demo_target_shows_in_the_status_bar(qtbot, window, monkeypatch):
    def no_target(dialog: AddHeadDialog) -> None:
        dialog.set_demo_target(None)
        dialog.name_edit.setText("is_big")

    dialog = _add_head_with(qtbot, window, monkeypatch, no_target)
    assert dialog.demo_combo.currentText() == NO_DEMO_TARGET and dialog.task_combo.isEnabled()
    text = window.problems_label.text()
    assert text.startswith("Cannot train: ") and "'is_big' has no demo target" in text
    window.editor.selection.select("heads[2]")
    assert "no demo target" in window.editor.form.error_text("name")
    window.editor.form.editor("demo_target").textActivated.emit("is_hollow")
    assert window.document.project.data.targets == {"is_big": "is_hollow"}
    assert window.document.problems == []


def test_rename_and_remove_keep_the_mapping_in_sync():
    project = load_example("bbox_classification")
    add_head(project, "roundness", "binary", 1, "is_round")
    assert project.data.targets == {"roundness": "is_round"}
    rename_item(project, "heads[2]", "round_prob")
    assert project.data.targets == {"round_prob": "is_round"}
    rename_item(project, "heads[0]", "box")  # named after its quantity: keeps training on it
    assert project.data.targets == {"round_prob": "is_round", "box": "bbox"}
    rename_item(project, "heads[0]", "bbox")
    assert project.data.targets == {"round_prob": "is_round"}
    remove_item(project, "heads[2]")
    assert project.data.targets == {}


def test_a_refused_name_is_shown_whole(qtbot, demo_project):
    from PySide6.QtCore import Qt

    dialog = AddHeadDialog("head", None, project=demo_project)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.name_edit.setText("val_x")
    dialog.accept()  # refused: stays open with the reason
    label = dialog.name_check.error_label
    assert label.isVisible() and "val_<head>_loss" in label.text()
    assert label.textFormat() == Qt.TextFormat.PlainText  # not read as an HTML tag
    qtbot.waitUntil(lambda: label.height() >= label.heightForWidth(label.width()))
    bottom = label.mapTo(dialog, label.rect().bottomLeft()).y()
    assert bottom <= dialog.height()
