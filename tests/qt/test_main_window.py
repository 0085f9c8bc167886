"""Main window: demo on start, files (open, save, recent), unsaved changes, title, settings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox

from mogui.core.io import load_project, save_project
from mogui.qt.app import create_window
from mogui.qt.document import ProjectDocument
from mogui.qt.file_actions import recent_files
from mogui.qt.main_window import MainWindow
from mogui.qt.settings import lower_priority_enabled, settings

pytestmark = pytest.mark.gui


def make_edit(window: MainWindow, units: int = 100) -> None:
    window.document.edit("Change units",
                         lambda p: p.trunk[7].params.__setitem__("units", units))


def test_opens_on_the_demo_with_its_heads(window):
    assert window.windowTitle() == "Shapes: bounding box + class — mogui"
    assert window.document.project.head_names == ["bbox", "classification"]
    tree = window.editor.tree
    heads = tree.item_for("group:heads")
    assert [heads.child(i).text(0) for i in range(heads.childCount())] == \
        ["bbox", "classification"]
    for name in ("bbox", "classification"):
        assert window.editor.graph.node_by_name(name) is not None
    assert window.problems_label.text() == "Ready"
    assert [window.tabs.tabText(i) for i in range(3)] == ["Model", "Losses", "Training"]


def test_run_gui_window_falls_back_to_demo_on_broken_file(qtbot, dialogs, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json", encoding="utf-8")
    window = create_window(str(broken))
    qtbot.addWidget(window)
    assert "is not valid JSON" in dialogs.errors[0]
    assert window.document.project.head_names == ["bbox", "classification"]
    window.editor.inspection.wait()


def test_broken_project_names_the_field_and_keeps_current(window, dialogs, tmp_path):
    data = json.loads(window.document.project.to_json())
    data["heads"][0]["units"] = 0
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    make_edit(window)

    assert window.files.open_path(broken) is False
    assert len(dialogs.errors) == 1
    assert "heads[0].units must be >= 1, got 0" in dialogs.errors[0]
    assert "current project is unchanged" in dialogs.errors[0]
    assert window.document.project.trunk[7].params["units"] == 100
    assert window.document.path is None and window.document.dirty


def test_unsaved_project_is_titled_by_its_name(window):
    window.document.edit("Rename", lambda p: setattr(p, "name", "My detector"))
    assert window.windowTitle() == "My detector* — mogui"


def test_save_as_is_atomic_and_clears_dirty_title(window, dialogs, tmp_path):
    make_edit(window)
    assert window.windowTitle() == "Shapes: bounding box + class* — mogui"
    target = tmp_path / "shapes.json"
    assert window.files.save_to(target)
    assert window.windowTitle() == "shapes.json — mogui"
    assert load_project(target).trunk[7].params["units"] == 100
    assert sorted(os.listdir(tmp_path)) == ["settings", "shapes.json"]

    make_edit(window, 64)
    assert window.windowTitle() == "shapes.json* — mogui"
    window.action_save.trigger()
    assert window.windowTitle() == "shapes.json — mogui"
    assert load_project(target).trunk[7].params["units"] == 64
    assert dialogs.errors == []


def test_save_error_is_shown_and_nothing_is_lost(window, dialogs, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x", encoding="utf-8")
    make_edit(window)
    assert window.files.save_to(blocker / "sub" / "p.json") is False
    assert "could not be saved" in dialogs.errors[0]
    assert "Save As" in dialogs.errors[0]
    assert window.document.dirty and window.document.path is None
    assert window.document.project.trunk[7].params["units"] == 100


def test_unsaved_changes_prompt_cancel_discard_save(window, dialogs, tmp_path):
    make_edit(window)
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert window.files.new_from_example("multi_input") is False
    assert "unsaved changes. Save them before opening the example?" in dialogs.questions[0]
    assert window.document.project.head_names == ["bbox", "classification"]

    dialogs.answer = QMessageBox.StandardButton.Discard
    assert window.files.new_from_example("multi_input")
    assert window.document.project.head_names == ["temperature", "alarm", "tags"]
    assert not window.document.dirty

    target = tmp_path / "kept.json"
    save_project(window.document.project, target)
    window.files.open_path(target)
    window.document.edit("Rename", lambda p: setattr(p.heads[0], "units", 3))
    dialogs.answer = QMessageBox.StandardButton.Save
    window.close()
    assert load_project(target).heads[0].units == 3


def test_close_with_cancel_keeps_window_open(window, dialogs):
    make_edit(window)
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert window.close() is False
    assert window.isVisible()


def test_recent_files_and_geometry_are_remembered(qtbot, window, dialogs, tmp_path):
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    for path in (first, second):
        save_project(window.document.project, path)
        assert window.files.open_path(path)
    assert recent_files() == [str(second.resolve()), str(first.resolve())]
    assert Path(settings().fileName()).parent == tmp_path / "settings"
    recent = [a.text() for a in window.recent_menu.actions()]
    assert recent == [str(second.resolve()), str(first.resolve())]

    window.resize(700, 500)
    size = (window.width(), window.height())  # the window may keep a larger minimum size
    window.close()
    again = MainWindow(ProjectDocument(window.document.project))
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == size != (1400, 860)
    assert [a.text() for a in again.recent_menu.actions()][0] == str(second.resolve())
    again.recent_menu.actions()[1].trigger()
    assert again.document.path == first.resolve()
    again.editor.inspection.wait()


def test_undo_redo_actions_have_standard_shortcuts(window):
    assert not window.action_undo.shortcut().isEmpty()
    assert not window.action_redo.shortcut().isEmpty()
    assert window.action_undo.objectName() == "actionUndo"


def test_training_locks_the_model_editor(window):
    lock = window.training_panel.running_changed.emit
    window.document.edit("Change units", lambda p: p.heads[0].__setattr__("units", 5))
    lock(True)
    assert window.editor.banner.isVisible()
    assert not window.editor.buttons["addHeadButton"].isEnabled()
    assert not window.action_undo.isEnabled()
    lock(False)
    assert not window.editor.banner.isVisible()
    assert window.action_undo.isEnabled()


def test_closing_while_training_asks_first(qtbot, window, dialogs):
    panel = window.training_panel
    window.document.edit("More epochs", lambda p: setattr(p.training, "epochs", 50))
    panel.start()
    qtbot.waitUntil(lambda: panel.plots.curve_points("loss") > 0, timeout=60_000)
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert window.close() is False
    assert panel.is_running and "still training" in dialogs.questions[-1]
    dialogs.answer = QMessageBox.StandardButton.Yes
    window.document.undo_stack.setClean()
    assert window.close() is True
    assert not panel.is_running


def test_a_project_with_several_problems_lists_them_all(window, dialogs, tmp_path):
    data = json.loads(window.document.project.to_json())
    data["heads"][0]["units"] = 0
    data["training"]["batch_size"] = 0
    data["training"]["learning_rate"] = -1
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data), encoding="utf-8")
    assert window.files.open_path(broken) is False
    text = dialogs.errors[0]
    assert "has 3 problems" in text
    for expected in ("heads[0].units must be >= 1, got 0", "training.batch_size must be >= 1",
                     "training.learning_rate must be > 0.0, got -1"):
        assert expected in text


def test_a_saved_project_with_problems_reopens_and_shows_them(window, dialogs, tmp_path):
    window.document.edit("Wrong loss", lambda p: setattr(p.heads[0].loss, "kind",
                                                          "sparse_categorical_crossentropy"))
    assert window.document.problems
    target = tmp_path / "unfinished.json"
    assert window.files.save_to(target)
    assert window.files.open_path(target, confirmed=True)
    assert not dialogs.errors
    assert window.document.project.heads[0].loss.kind == "sparse_categorical_crossentropy"
    assert "head 'bbox': loss.kind" in window.problems_label.text()


def test_lowering_thread_priority_is_an_opt_in_remembered_preference(qtbot, window):
    action = window.findChild(QAction, "actionLowerPriority")
    assert action.isCheckable() and not action.isChecked() and not lower_priority_enabled()
    action.trigger()
    assert lower_priority_enabled()
    again = MainWindow(ProjectDocument(window.document.project))
    qtbot.addWidget(again)
    assert again.action_lower_priority.isChecked()
    action.trigger()
    assert not lower_priority_enabled()
    again.editor.inspection.wait()


def test_every_shipped_example_trains_from_the_app(qtbot, window):
    """New from example finds the example's own data files before the project is saved."""
    from mogui.core.io import example_names

    panel = window.training_panel
    for name in example_names():
        assert window.files.new_from_example(name.removesuffix(".json"))
        window.document.edit("short", lambda p: setattr(p.training, "epochs", 1))
        if window.document.project.data.kind == "demo_shapes":
            window.document.edit("small", lambda p: setattr(p.data, "samples", 64))
        with qtbot.waitSignal(panel.worker.running_changed, timeout=120_000,
                              check_params_cb=lambda running: not running):
            panel.start()
        assert panel.worker.last_failure is None, (name, panel.worker.last_failure)
        assert panel.run.epochs_completed == 1, name
        window.document.undo_stack.setClean()


def test_save_asks_before_replacing_changes_made_on_disk(window, dialogs, tmp_path):
    path = tmp_path / "shared.json"
    window.files.save_to(path)
    theirs = path.read_text().replace('"name": "', '"name": "their ', 1)
    assert theirs != path.read_text()
    path.write_text(theirs)  # another program or person changes the file
    window.document.edit("Epochs", lambda p: setattr(p.training, "epochs", 7))
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert not window.files.save()
    assert "was changed (or removed) by another program" in dialogs.questions[-1]
    assert path.read_text() == theirs and window.document.dirty  # both kept
    dialogs.answer = QMessageBox.StandardButton.Yes
    assert window.files.save()
    assert load_project(path).training.epochs == 7 and not window.document.dirty
    questions = len(dialogs.questions)
    window.document.edit("Epochs", lambda p: setattr(p.training, "epochs", 8))
    assert window.files.save() and len(dialogs.questions) == questions  # ours: no question


def test_an_edit_made_during_a_run_does_not_open_undo(window):
    window.document.edit("Epochs", lambda p: setattr(p.training, "epochs", 3))
    window.set_training_running(True)
    assert not window.action_undo.isEnabled()
    window.document.edit("Loss mode", lambda p: setattr(p.training, "epochs", 4))
    window.document.undo_stack.undo()
    window.document.undo_stack.redo()  # the stack says it can undo and redo again
    assert not window.action_undo.isEnabled() and not window.action_redo.isEnabled()
    window.set_training_running(False)
    assert window.action_undo.isEnabled()


def test_a_recent_file_that_is_gone_is_said_so_and_taken_off_the_list(window, dialogs,
                                                                      tmp_path):
    from mogui.qt.file_actions import recent_files

    path = tmp_path / "moved.json"
    window.files.save_to(path)
    window.document.edit("Epochs", lambda p: setattr(p.training, "epochs", 9))
    path.rename(tmp_path / "elsewhere.json")
    assert str(path.resolve()) in recent_files()
    assert not window.files.open_recent(str(path.resolve()))
    assert "is no longer there" in dialogs.errors[-1] and not dialogs.questions  # no question
    assert str(path.resolve()) not in recent_files()
    assert window.document.project.training.epochs == 9  # the open project is untouched


def test_ctrl_z_in_a_field_with_nothing_typed_undoes_the_project(qtbot, window):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLineEdit

    window.document.edit("Epochs", lambda p: setattr(p.training, "epochs", 3))
    window.tabs.setCurrentIndex(2)
    field = window.build_training_tab().findChild(QLineEdit)  # the heads' filter
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    qtbot.keyClick(field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.project.training.epochs != 3  # the project's edit was undone
    qtbot.keyClicks(field, "bb")  # typed here: Ctrl+Z undoes the typing first
    qtbot.keyClick(field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert field.text() == "" and window.document.undo_stack.canRedo()
