"""The status bar says what Start will say (one check for both), and data paths are stored
relative to the project file when saved: real windows (offscreen), real files, real runs."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QSizePolicy

from mogui.core.io import example_path, load_project, save_project
from mogui.core.project import NpzData
from mogui.qt.data_dialog import DataDialog
from mogui.qt.document import ProjectDocument
from mogui.qt.main_window import MainWindow
from tests.qt.conftest import wait_for_shapes

pytestmark = pytest.mark.gui


def _start_says(window) -> str:
    """Press Start; it must refuse (no run) and say why."""
    panel = window.training_panel
    panel.start()
    assert not panel.is_running and panel.run is None
    return panel.status_label.text()


def _open(qtbot, project, path=None) -> MainWindow:
    window = MainWindow(ProjectDocument(project, path))
    qtbot.addWidget(window)
    window.show()
    wait_for_shapes(qtbot, window.editor)
    return window


def test_ready_when_start_would_train_and_the_label_never_widens_the_window(window):
    assert window.problems_label.text() == "Ready"
    policy = window.problems_label.sizePolicy()
    assert policy.horizontalPolicy() == QSizePolicy.Policy.Ignored


def test_a_project_problem_is_what_start_says(qtbot, window):
    window.document.edit("Units", lambda p: setattr(p.heads[0], "units", 3))
    window.document.edit("Loss", lambda p: setattr(p.heads[1].loss, "kind", "mse"))
    wait_for_shapes(qtbot, window.editor)
    status = window.problems_label.text()
    assert status.startswith("Cannot train: head 'classification': loss.kind 'mse' does not "
                             "fit a multiclass") and status.endswith("(and 1 more problem)")
    assert status == _start_says(window)
    details = window.problems_label.toolTip().splitlines()
    assert len(details) == 2 and "head 'bbox': units 'bbox' does not fit" in details[1]
    window.action_undo.trigger()
    window.action_undo.trigger()
    wait_for_shapes(qtbot, window.editor)
    assert window.problems_label.text() == "Ready"


def test_a_missing_data_file_is_what_start_says(qtbot, tmp_path, dialogs):
    project = load_project(example_path("multi_input"))
    project.data = NpzData(path="gone.npz")
    path = tmp_path / "multi.json"
    save_project(project, path)
    window = _open(qtbot, load_project(path, strict=False), path)
    status = window.problems_label.text()
    assert status.startswith(f"Cannot train: the data file 'gone.npz' (looked for "
                             f"{tmp_path / 'gone.npz'}) does not exist")
    assert status == _start_says(window)
    assert not (tmp_path / "runs").exists()  # refused before a run folder was made
    window.document.undo_stack.setClean()


@pytest.mark.untrusted
def test_untrusted_custom_loss_is_what_start_says(qtbot, tmp_path, demo_project, dialogs):
    demo_project.heads[0].loss.kind = "custom"
    demo_project.heads[0].loss.source = ("def loss(y_true, y_pred):\n"
                                         "    return ops.mean(ops.abs(y_true - y_pred), axis=-1)\n")
    path = tmp_path / "shared.json"
    save_project(demo_project, path)
    window = _open(qtbot, load_project(path, strict=False), path)
    status = window.problems_label.text()
    assert status.startswith("Cannot train: this project holds code you have not trusted "
                             "(custom loss of head 'bbox')")
    assert status == _start_says(window)
    window.trust_banner.trust_button.click()
    assert window.problems_label.text() == "Ready"


def test_a_model_that_cannot_be_built_is_what_start_says(qtbot, window):
    window.document.edit("Misfit", lambda p: setattr(p.trunk[7], "kind", "LSTM")
                         or setattr(p.trunk[7], "params", {}))
    wait_for_shapes(qtbot, window.editor)
    status = window.problems_label.text()
    assert status.startswith("Cannot train: the model cannot be built: LSTM 'shared_dense' "
                             "needs a 3-D input")
    assert status == _start_says(window)


def test_data_paths_typed_before_the_first_save_are_stored_relative(qtbot, tmp_path, window):
    folder = tmp_path / "project"
    folder.mkdir()
    data = folder / "multi_input_data.npz"
    data.write_bytes(example_path("multi_input").with_name("multi_input_data.npz").read_bytes())
    document = window.document
    document.replace(load_project(example_path("multi_input")), None)
    dialog = DataDialog(document)
    qtbot.addWidget(dialog)
    dialog.npz_path.set_path(str(data))  # as Browse… gives it: absolute
    dialog.accept()
    assert document.project.data.path == str(data)

    window.files.save_to(folder / "multi.json")
    saved = json.loads((folder / "multi.json").read_text())
    assert saved["data"]["path"] == "multi_input_data.npz"
    assert document.project.data.path == "multi_input_data.npz" and not document.dirty
    assert window.problems_label.text() == "Ready"

    elsewhere = tmp_path / "elsewhere"
    window.files.save_to(elsewhere / "multi.json")  # Save As to another folder
    saved = json.loads((elsewhere / "multi.json").read_text())
    assert saved["data"]["path"] == str(data)  # outside the new folder: absolute
    assert load_project(elsewhere / "multi.json").data.path == str(data)
    window.action_undo.trigger()  # back before the Data dialog: the example's own file
    window.action_redo.trigger()
    assert document.project.data.path == str(data)  # the undo history follows the file
    wait_for_shapes(qtbot, window.editor)
    assert window.problems_label.text() == "Ready"
    document.undo_stack.setClean()


@pytest.mark.slow
def test_the_multi_input_example_trains_after_save_as_into_a_new_folder(qtbot, tmp_path,
                                                                        window):
    assert window.files.new_from_example("multi_input")
    window.document.edit("One epoch", lambda p: setattr(p.training, "epochs", 1))
    target = tmp_path / "new folder" / "multi.json"
    assert window.files.save_to(target)
    stored = json.loads(target.read_text())["data"]["path"]
    assert stored == str(example_path("multi_input").with_name("multi_input_data.npz"))
    wait_for_shapes(qtbot, window.editor)
    assert window.problems_label.text() == "Ready"
    panel = window.training_panel
    running: list[bool] = []
    panel.running_changed.connect(running.append)
    panel.start()
    qtbot.waitUntil(lambda: running == [True, False], timeout=120_000)
    assert "Finished after 1 epoch" in panel.status_label.text(), panel.status_label.text()
