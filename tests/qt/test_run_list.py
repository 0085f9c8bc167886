"""The Runs tab: runs are kept, listed with their outcome, exported with their own project,
saved, opened and deleted; real training, real files, real widgets."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox

from mogui.core import run_store
from mogui.core.io import load_example, load_project, save_project
from mogui.core.runs import MODEL_FILE, PROJECT_FILE, RUN_FILE, RunStatus

pytestmark = pytest.mark.gui

LOGS = {"loss": 1.5, "bbox_loss": 0.5, "classification_loss": 0.6, "val_loss": 2.5,
        "val_bbox_loss": 0.75, "val_classification_loss": 1.25}


def _train(qtbot, panel) -> None:
    with qtbot.waitSignal(panel.worker.running_changed, timeout=120_000,
                          check_params_cb=lambda running: not running):
        panel.start()
    assert panel.worker.last_failure is None, panel.worker.last_failure


def _rows(run_list) -> list[list[str]]:
    table = run_list.table
    return [[table.topLevelItem(row).text(column) for column in range(table.columnCount())]
            for row in range(table.topLevelItemCount())]


def _fake_run(project, path, hour: int, status: RunStatus, *, model: bool = True):
    """A run on disk as training leaves it (the model file stands in for a trained one)."""
    run = run_store.create_run(project, path, now=datetime(2026, 3, 4, hour))
    run_store.record_epoch(run, LOGS)
    if model:
        (run.folder / MODEL_FILE).write_bytes(b"model")
    run_store.finish_run(run, status)
    return run


def test_runs_are_kept_listed_and_exported_with_their_own_project(qtbot, window, dialogs,
                                                                  tmp_path):
    document, panel, runs = window.document, window.training_panel, window.run_list
    path = tmp_path / "demo.json"
    document.save(path)
    assert window.tabs.tabText(window.tabs.indexOf(runs)) == "Runs"
    assert runs.entries == [] and "No runs" in runs.folder_label.text()
    assert str(tmp_path / "runs" / "demo") in runs.folder_label.text()

    _train(qtbot, panel)
    first = panel.run.folder
    old_name = document.project.name
    document.edit("rename", lambda p: setattr(p, "name", "Renamed after the first run"))
    _train(qtbot, panel)
    second = panel.run.folder
    assert first != second and first.is_dir() and (first / MODEL_FILE).is_file()
    assert [e.folder for e in runs.entries] == [second, first]  # newest first, both kept
    for row in _rows(runs):
        assert row[1:4] == ["finished", "1", "Fixed weights"]
        assert "bbox" in row[4] and "classification" in row[4] and "(training)" not in row[4]
    assert json.loads((first / RUN_FILE).read_text())["final_losses"]["split"] == "validation"

    runs.select(first)
    assert runs.export_button.isEnabled() and runs.save_button.isEnabled()
    dialog = runs.export_run()
    assert dialog.from_run_box.isChecked() and dialog.run_edit.text() == str(first)
    assert old_name in dialog.code() and "Renamed after the first run" not in dialog.code()
    dialog.folder_edit.setText(str(tmp_path / "export"))
    with qtbot.waitSignal(dialog.finished_export, timeout=120_000) as blocker:
        dialog.start_export()
    assert blocker.args[0] is not None, dialog.error_label.text()
    readme = (tmp_path / "export" / "README.txt").read_text()
    assert old_name in readme and "Renamed after the first run" not in readme
    assert json.loads((tmp_path / "export" / "project.json").read_text())["name"] == old_name
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled())
    dialog.reject()

    saved = runs.save_model(tmp_path / "first")
    assert saved is not None and saved.path == tmp_path / "first.keras"
    assert saved.path.read_bytes() == (first / MODEL_FILE).read_bytes()
    assert saved.history.read_text().startswith("epoch,loss,bbox_loss")

    document.undo_stack.setClean()
    assert window.close()
    for folder in (first, second):  # closing the window deletes nothing
        assert json.loads((folder / RUN_FILE).read_text())["status"] == "finished"
        assert (folder / MODEL_FILE).is_file() and (folder / PROJECT_FILE).is_file()


def test_the_list_shows_every_outcome_and_follows_the_open_project(window, tmp_path):
    document, runs = window.document, window.run_list
    path = tmp_path / "demo.json"
    document.save(path)
    project = document.project
    _fake_run(project, path, 9, RunStatus.FINISHED)
    stopped = _fake_run(project, path, 10, RunStatus.STOPPED)
    _fake_run(project, path, 11, RunStatus.FAILED, model=False)
    died = run_store.create_run(project, path, now=datetime(2026, 3, 4, 12))
    record = json.loads((died.folder / RUN_FILE).read_text())
    (died.folder / RUN_FILE).write_text(json.dumps({**record, "pid": 2**22 + 12345}))
    broken = run_store.create_run(project, path, now=datetime(2026, 3, 4, 13))
    (broken.folder / RUN_FILE).write_text("{damaged")
    runs.refresh()
    assert [row[1] for row in _rows(runs)] == ["unreadable", "interrupted", "failed",
                                               "stopped after 1 epoch", "finished"]
    assert _rows(runs)[3] == ["2026-03-04 10:00:00", "stopped after 1 epoch", "1",
                              "Fixed weights", "bbox 0.75 · classification 1.25"]
    assert "5 runs" in runs.folder_label.text()

    runs.select(broken.folder)
    assert not runs.export_button.isEnabled() and not runs.save_button.isEnabled()
    assert runs.delete_button.isEnabled() and runs.open_button.isEnabled()
    runs.select(stopped.folder)
    assert runs.export_button.isEnabled()

    other = load_example("multi_input")
    other_path = tmp_path / "other.json"
    save_project(other, other_path)
    window.files.open_path(other_path, confirmed=True)
    assert runs.entries == [] and str(tmp_path / "runs" / "other") in runs.folder_label.text()
    window.files.open_path(path, confirmed=True)
    assert len(runs.entries) == 5


def test_delete_asks_then_removes_only_that_run(window, dialogs, tmp_path):
    document, runs = window.document, window.run_list
    path = tmp_path / "demo.json"
    document.save(path)
    keep = _fake_run(document.project, path, 9, RunStatus.FINISHED)
    gone = _fake_run(document.project, path, 10, RunStatus.STOPPED)
    runs.refresh()
    runs.select(gone.folder)
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert not runs.delete_run() and gone.folder.is_dir()
    assert str(gone.folder) in dialogs.questions[-1]
    dialogs.answer = QMessageBox.StandardButton.Yes
    assert runs.delete_run()
    assert not gone.folder.exists() and keep.folder.is_dir() and path.is_file()
    assert [e.folder for e in runs.entries] == [keep.folder]
    assert load_project(keep.folder / PROJECT_FILE) == document.project


def test_a_run_still_training_cannot_be_deleted(qtbot, window, dialogs, tmp_path):
    document, panel, runs = window.document, window.training_panel, window.run_list
    document.save(tmp_path / "demo.json")
    document.edit("More epochs", lambda p: setattr(p.training, "epochs", 50))
    states: list[str] = []
    panel.worker.state_changed.connect(states.append)
    panel.worker.batches.connect(
        lambda _items: panel.worker.pause() if "paused" not in states else None)
    panel.start()
    qtbot.waitUntil(lambda: "paused" in states, timeout=90_000)  # held until the stop
    assert runs.select(panel.run.folder)
    assert _rows(runs)[0][1] == "running" and not runs.delete_button.isEnabled()
    dialogs.answer = QMessageBox.StandardButton.Yes
    assert not runs.delete_run() and panel.run.folder.is_dir()
    with qtbot.waitSignal(panel.worker.running_changed, timeout=60_000,
                          check_params_cb=lambda running: not running):
        panel.worker.stop()
    assert _rows(runs)[0][1].startswith("stopped after")
    assert runs.delete_button.isEnabled()


def test_open_folder_shows_the_runs_folder(window, dialogs, tmp_path, monkeypatch):
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl",
                        staticmethod(lambda url: opened.append(url) or True))
    path = tmp_path / "demo.json"
    window.document.save(path)
    run = _fake_run(window.document.project, path, 9, RunStatus.FINISHED)
    window.run_list.refresh()
    window.run_list.select(run.folder)
    assert window.run_list.open_folder()
    assert [url.toLocalFile() for url in opened] == [str(run.folder)]


def test_a_run_folder_that_cannot_be_made_stops_the_start_with_a_message(window, dialogs,
                                                                        tmp_path):
    path = tmp_path / "demo.json"
    window.document.save(path)
    (tmp_path / "runs").write_text("a file where the runs folder goes")
    panel = window.training_panel
    panel.start()
    assert not panel.is_running and panel.run is None
    assert "Cannot train" in panel.status_label.text()
    assert "cannot be made" in dialogs.errors[-1] and "Save As" in dialogs.errors[-1]
    assert (tmp_path / "runs").read_text() == "a file where the runs folder goes"


def test_the_list_shows_how_each_run_balanced_its_heads(window, tmp_path):
    document, runs = window.document, window.run_list
    path = tmp_path / "demo.json"
    document.save(path)
    fixed = _fake_run(document.project, path, 9, RunStatus.FINISHED)
    project = document.project.model_copy(deep=True)
    project.training.balancing.method = "cagrad"
    project.training.balancing.params = {"c": 0.25}
    project.training.devices = 2
    cagrad = _fake_run(project, path, 10, RunStatus.FINISHED)
    older = _fake_run(document.project, path, 11, RunStatus.FINISHED)
    record = json.loads((older.folder / PROJECT_FILE).read_text())
    del record["training"]["balancing"]  # a run from before balancing: fixed weights
    (older.folder / PROJECT_FILE).write_text(json.dumps(record))
    lost = _fake_run(document.project, path, 12, RunStatus.FINISHED)
    (lost.folder / PROJECT_FILE).unlink()
    runs.refresh()
    column = 3
    assert runs.table.headerItem().text(column) == "Balancing"
    assert [row[column] for row in _rows(runs)] == ["", "Fixed weights", "CAGrad",
                                                    "Fixed weights"]
    tips = {info.folder: runs.table.topLevelItem(row).toolTip(column)
            for row, info in enumerate(runs.entries)}
    assert tips[cagrad.folder] == "CAGrad (cagrad): c 0.25, iterations 20; 2 devices"
    assert tips[fixed.folder] == "Fixed weights (equal)"
    assert "cannot be read" in tips[lost.folder]


def test_runs_of_an_untitled_project_move_beside_it_when_first_saved(qtbot, window, tmp_path):
    document, runs = window.document, window.run_list
    assert document.path is None
    older = _fake_run(document.project, None, 8, RunStatus.FINISHED)  # another session's
    _train(qtbot, window.training_panel)
    trained = window.runs.current.folder
    assert trained.parent == run_store.runs_dir(document.project, None) == older.folder.parent
    path = tmp_path / "shapes.json"
    assert window.files.save_to(path)
    moved = tmp_path / "runs" / "shapes" / trained.name
    assert moved.is_dir() and not trained.exists() and older.folder.is_dir()
    assert json.loads((moved / RUN_FILE).read_text())["project_path"] == str(path)
    assert [info.folder for info in runs.entries] == [moved]
    assert runs.select(moved) and runs.evaluate_button.isEnabled()
    assert window.runs.current.folder == moved and window.runs.current.has_model
    assert "1 run moved to" in window.statusBar().currentMessage()
    # Saved again under another name, the runs stay with the file they belong to.
    assert window.files.save_to(tmp_path / "copy.json")
    assert moved.is_dir() and runs.entries == []


def test_a_run_still_training_stays_where_it_writes(tmp_path, demo_project):
    from mogui.qt.run_model import RunModel

    model = RunModel()
    running = model.begin(demo_project, "doc", None)
    model.begin(demo_project, "another document", None)
    model.finish(RunStatus.FINISHED)
    moved, stayed = model.follow_first_save("doc", demo_project, tmp_path / "p.json")
    assert moved == [] and running.folder.is_dir()
    assert stayed == [f"The run in '{running.folder}' is still training; it stays there."]
