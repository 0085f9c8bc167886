"""LossPanel with real widgets: table edits with undo, custom code, joint mode, dry run."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from mogui.qt.document import ProjectDocument
from mogui.qt.loss_panel import LossPanel

pytestmark = pytest.mark.gui


@pytest.fixture
def panel(qtbot, demo_project):
    document = ProjectDocument(demo_project)
    widget = LossPanel(document)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    yield widget
    widget.shutdown()


def _doc(panel: LossPanel) -> ProjectDocument:
    return panel._document


def test_loss_and_weight_edits_go_through_the_document(panel):
    combo = panel.table.loss_combo("bbox")
    combo.setCurrentIndex(combo.findData("huber"))
    spin = panel.table.weight_spin("classification")
    spin.setValue(0.25)
    project = _doc(panel).project
    assert project.head("bbox").loss.kind == "huber"
    assert project.head("classification").loss.weight == 0.25
    _doc(panel).undo_stack.undo()
    assert _doc(panel).project.head("classification").loss.weight == 1.5
    assert spin.value() == 1.5
    _doc(panel).undo_stack.undo()
    assert _doc(panel).project.head("bbox").loss.kind == "mse"
    assert panel.table.loss_combo("bbox").currentData() == "mse"


def test_a_schedule_with_its_boxes_gets_the_room_it_needs(panel):
    from mogui.qt.loss_table import SCHEDULE_COLUMN

    _doc(panel).edit("Schedule", lambda p: setattr(p.heads[1].loss.schedule, "kind",
                                                   "linear_warmup"))
    cell = panel.table.schedule_cell("classification")
    assert len(cell.boxes) == 2  # start, warmup
    assert panel.table.columnWidth(SCHEDULE_COLUMN) >= cell.sizeHint().width()


def test_no_loss_and_metrics(panel):
    combo = panel.table.loss_combo("bbox")
    combo.setCurrentIndex(combo.findData("none"))
    assert not _doc(panel).project.head("bbox").has_loss
    assert not panel.table.weight_spin("bbox").isEnabled()
    actions = panel.table.metric_actions("classification")
    actions["sparse_top_k_categorical_accuracy"].setChecked(True)
    assert _doc(panel).project.head("classification").loss.metrics == [
        "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy"]
    assert "sparse_top_k" in panel.table.metrics_button("classification").text()


def test_custom_loss_opens_editor_with_template_and_saves_source(qtbot, panel):
    assert panel.head_code_box.isHidden()
    assert not panel.custom_hint.isHidden()  # says where custom code goes
    combo = panel.table.loss_combo("bbox")
    combo.setCurrentIndex(combo.findData("custom"))
    head = _doc(panel).project.head("bbox")
    assert head.is_custom and head.loss.source.startswith("def loss(y_true, y_pred):")
    assert panel.head_code_box.isVisible() and panel.custom_hint.isHidden()
    editor = panel.head_code.editor
    assert editor.toPlainText() == head.loss.source
    source = "def loss(y_true, y_pred):\n    return ops.mean(ops.abs(y_true - y_pred), axis=-1)\n"
    editor.setPlainText(source)
    with qtbot.waitSignal(editor.source_committed, timeout=10_000):
        pass
    assert _doc(panel).project.head("bbox").loss.source == source
    assert panel.head_code.error_text == ""
    _doc(panel).undo_stack.undo()
    assert editor.toPlainText() == head.loss.source


def test_syntax_error_marks_the_line_and_shows_the_message(panel):
    combo = panel.table.loss_combo("bbox")
    combo.setCurrentIndex(combo.findData("custom"))
    editor = panel.head_code.editor
    editor.setPlainText("def loss(y_true, y_pred):\n    x = 1\n    return (y_true -\n")
    editor.commit()
    assert editor.error_line in (3, 4)
    assert "syntax error" in panel.head_code.error_text
    assert panel.head_code.message.isVisible()
    editor.setPlainText("def loss(y_true, y_pred):\n    return ops.square(y_true - y_pred)\n")
    editor.commit()
    assert editor.error_line is None and panel.head_code.error_text == ""


def test_contract_lists_each_loss(qtbot, panel):
    table = panel.contract.table
    qtbot.waitUntil(lambda: table.rowCount() == 2 and not panel.contract_busy, timeout=60_000)
    assert table.item(0, 0).text() == "bbox loss"
    assert "(batch, 6)" in table.item(1, 3).text()
    assert table.item(1, 4).text() == "1.5"


def test_joint_mode_and_dry_run_shows_every_head(qtbot, panel):
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData("joint"))
    project = _doc(panel).project
    assert project.loss_mode == "joint"
    assert '"bbox"' in project.joint_loss.source and '"classification"' in project.joint_loss.source
    assert panel.stack.currentIndex() == 1
    assert panel.joint_code.editor.toPlainText() == project.joint_loss.source
    assert project.joint_loss.term_weights == {"bbox": 1.0, "classification": 1.5}
    assert panel.term_spin("classification").value() == 1.5  # the per-head weight carries over
    panel.term_spin("classification").setValue(2.0)
    assert _doc(panel).project.joint_loss.term_weights == {"bbox": 1.0, "classification": 2.0}
    qtbot.mouseClick(panel.dry_run_button, Qt.MouseButton.LeftButton)
    view = panel.dry_run_view
    qtbot.waitUntil(lambda: view.row_count() == 2, timeout=60_000)
    assert [view.table.item(r, 0).text() for r in range(2)] == ["bbox", "classification"]
    assert view.table.item(1, 6).text() == "2"
    assert "Total loss" in view.total_label.text()
    _doc(panel).undo_stack.undo()
    assert view.row_count() == 0 and view.total_label.text() == ""  # stale: cleared
    assert "Press Dry run" in view.message.text()
    _doc(panel).undo_stack.undo()
    assert _doc(panel).project.loss_mode == "per_output"
    assert panel.stack.currentIndex() == 0


def test_joint_term_weights_already_set_are_kept(panel):
    document = _doc(panel)
    document.edit("bbox term", lambda p: p.joint_loss.term_weights.__setitem__("bbox", 4.0))
    panel.mode_combo.setCurrentIndex(panel.mode_combo.findData("joint"))
    assert document.project.joint_loss.term_weights == {"bbox": 4.0, "classification": 1.5}


def test_a_project_change_during_a_dry_run_discards_its_result(qtbot, panel):
    view = panel.dry_run_view
    panel.dry_run()
    _doc(panel).edit("rename", lambda p: setattr(p, "name", "renamed"))
    qtbot.waitUntil(lambda: not panel.runner.is_running, timeout=60_000)
    assert view.row_count() == 0
    assert "changed while the dry run ran" in view.message.text()


def test_opening_another_project_clears_the_dry_run(qtbot, panel, demo_project):
    view = panel.dry_run_view
    panel.dry_run()
    qtbot.waitUntil(lambda: view.row_count() == 2, timeout=60_000)
    _doc(panel).replace(demo_project.model_copy(deep=True), None)
    assert view.row_count() == 0 and "Press Dry run" in view.message.text()


def test_dry_run_error_in_custom_code_marks_its_line(qtbot, panel):
    combo = panel.table.loss_combo("bbox")
    combo.setCurrentIndex(combo.findData("custom"))
    editor = panel.head_code.editor
    editor.setPlainText("def loss(y_true, y_pred):\n    scale = 2.0\n"
                        "    return undefined_name * scale\n")
    editor.commit()
    panel.dry_run()
    qtbot.waitUntil(lambda: editor.error_line is not None, timeout=60_000)
    assert editor.error_line == 3
    assert "undefined_name" in panel.head_code.error_text
    assert "undefined_name" in panel.dry_run_view.message.text()
    _doc(panel).edit("bbox weight", lambda p: setattr(p.head("bbox").loss, "weight", 2.0))
    assert editor.error_line is None and not panel.head_code.error_text
    assert "undefined_name" not in panel.dry_run_view.message.text()


LOOPS = "def loss(y_true, y_pred):\n    while True:\n        pass\n"


@pytest.mark.slow
def test_a_dry_run_that_never_returns_is_stopped_with_a_message(qtbot, panel):
    def make_looping(p):
        p.heads[0].loss.kind = "custom"
        p.heads[0].loss.source = LOOPS

    _doc(panel).edit("Looping loss", make_looping)
    panel.dry_run_timeout_ms = 15_000  # the child imports TensorFlow first
    with qtbot.waitSignal(panel.runner.finished, timeout=60_000):
        panel.dry_run()
    assert "did not finish within 15 s" in panel.dry_run_view.message.text()
    assert panel.dry_run_button.isEnabled()
