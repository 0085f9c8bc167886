"""The run store: run folders on disk, their run.json, listing, interrupted runs, deletion."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from mogui.core import run_store
from mogui.core.events import BatchEnded, EpochEnded, TrainingFinished, TrainingStarted
from mogui.core.io import load_example, load_project, save_project
from mogui.core.run_store import RunRecorder, RunStoreError
from mogui.core.runs import MODEL_FILE, PROJECT_FILE, RUN_FILE, RunStatus

LOGS = {"loss": 1.5, "bbox_loss": 0.5, "classification_loss": 0.6, "val_loss": 2.5,
        "val_bbox_loss": 0.75, "val_classification_loss": 1.25}
NOON = datetime(2026, 3, 4, 12, 0, 0)


@pytest.fixture
def project():
    return load_example("bbox_classification")


@pytest.fixture
def saved(tmp_path, project) -> Path:
    path = tmp_path / "work" / "demo.json"
    path.parent.mkdir()
    save_project(project, path)
    return path


def _record(folder: Path) -> dict:
    return json.loads((folder / RUN_FILE).read_text())


def _dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_saved_projects_runs_live_beside_it_one_folder_each(saved, project):
    first = run_store.create_run(project, saved, now=NOON)
    second = run_store.create_run(project, saved, now=NOON)  # the same second
    third = run_store.create_run(project, saved, now=NOON.replace(second=1))
    base = saved.parent / "runs" / "demo"
    assert [first.folder, second.folder, third.folder] == [
        base / "20260304-120000", base / "20260304-120000-2", base / "20260304-120001"]
    assert sorted(p.name for p in first.folder.iterdir()) == [PROJECT_FILE, RUN_FILE]
    assert load_project(first.folder / PROJECT_FILE) == project
    record = _record(first.folder)
    assert record["status"] == "running" and record["epochs_completed"] == 0
    assert record["pid"] == os.getpid() and record["project_path"] == str(saved.absolute())
    assert record["started_at"] == "2026-03-04T12:00:00" and record["ended_at"] is None


def test_an_untitled_projects_runs_go_to_the_data_folder(tmp_path, project, monkeypatch):
    monkeypatch.setenv("MOGUI_DATA_DIR", str(tmp_path / "data"))
    run = run_store.create_run(project, None, now=NOON)
    assert run.folder == tmp_path / "data" / "runs" / "shapes_bounding_box_class" / \
        "20260304-120000"
    assert _record(run.folder)["project_path"] is None


def test_the_snapshot_is_what_trained_whatever_happens_to_the_project_after(saved, project):
    run = run_store.create_run(project, saved)
    project.name = "Renamed later"
    assert load_project(run.folder / PROJECT_FILE).name == "Shapes: bounding box + class"
    assert run_store.load_run(run.folder).project.name == "Shapes: bounding box + class"


def test_epochs_and_the_end_are_recorded_with_final_per_head_losses(saved, project):
    run = run_store.create_run(project, saved)
    run_store.record_epoch(run, {k: v * 2 for k, v in LOGS.items()})
    run_store.record_epoch(run, LOGS)
    assert _record(run.folder)["epochs_completed"] == 2
    run_store.finish_run(run, RunStatus.STOPPED, stopped_during_epoch=3)
    record = _record(run.folder)
    assert record["status"] == "stopped" and record["stopped_during_epoch"] == 3
    assert record["final_losses"] == {"split": "validation", "total": 2.5,
                                      "heads": {"bbox": 0.75, "classification": 1.25}}
    assert record["ended_at"] is not None
    [info] = run_store.list_runs(project, saved)
    assert info.status_text() == "stopped after 2 epochs"
    assert info.losses_text() == "bbox 0.75 · classification 1.25"
    assert not any(p.name.endswith(".tmp") for p in run.folder.iterdir())


def test_without_validation_the_training_losses_are_kept_and_said_so(saved, project):
    run = run_store.create_run(project, saved)
    run_store.record_epoch(run, {k: v for k, v in LOGS.items() if not k.startswith("val_")})
    run_store.finish_run(run, RunStatus.FINISHED)
    [info] = run_store.list_runs(project, saved)
    assert info.losses_split == "training" and info.final_losses == {"bbox": 0.5,
                                                                     "classification": 0.6}
    assert info.losses_text().endswith("(training)") and info.status_text() == "finished"


def test_listing_is_newest_first_and_survives_damaged_records(saved, project):
    old = run_store.create_run(project, saved, now=NOON)
    run_store.finish_run(old, RunStatus.FAILED, message="the data file is missing")
    new = run_store.create_run(project, saved, now=NOON.replace(hour=13))
    run_store.finish_run(new, RunStatus.FINISHED)
    base = new.folder.parent
    garbage = base / "20260304-140000"  # named like a run: listed, even without its record
    garbage.mkdir()
    (garbage / RUN_FILE).write_text("{not json")
    (base / "20260304-150000").mkdir()  # no run.json at all
    wrong = run_store.create_run(project, saved, now=NOON.replace(hour=9))
    (wrong.folder / RUN_FILE).write_text(json.dumps({**_record(wrong.folder),
                                                     "epochs_completed": "many"}))
    (base / "notes").mkdir()  # not a run: left out
    (base / "readme.txt").write_text("mine")

    runs = run_store.list_runs(project, saved)
    assert [r.folder.name for r in runs] == ["20260304-150000", "20260304-140000",
                                             "20260304-130000", "20260304-120000",
                                             "20260304-090000"]
    assert [r.status_text() for r in runs] == ["unreadable", "unreadable", "finished",
                                               "failed", "unreadable"]
    assert "no run.json" in runs[0].problem and "cannot be read" in runs[1].problem
    assert "not a mogui run record" in runs[4].problem
    assert runs[3].message == "the data file is missing"
    assert not any(r.has_model for r in runs)
    with pytest.raises(RunStoreError, match="cannot be read"):
        run_store.load_run(garbage)


def test_a_run_whose_process_died_reads_back_as_interrupted(saved, project):
    run = run_store.create_run(project, saved)
    run_store.record_epoch(run, LOGS)
    (run.folder / MODEL_FILE).write_bytes(b"the model of epoch 1")
    assert run_store.read_run_info(run.folder).status == RunStatus.RUNNING  # this process
    record = _record(run.folder)
    (run.folder / RUN_FILE).write_text(json.dumps({**record, "pid": _dead_pid()}))
    info = run_store.read_run_info(run.folder)
    assert info.status == RunStatus.INTERRUPTED and info.status_text() == "interrupted"
    assert info.has_model and info.epochs_completed == 1
    (run.folder / RUN_FILE).write_text(json.dumps({**record, "pid": _dead_pid(),
                                                   "host": socket.gethostname() + "-other"}))
    assert run_store.read_run_info(run.folder).status == RunStatus.RUNNING  # can't tell


def test_delete_removes_only_that_run(saved, project):
    keep = run_store.create_run(project, saved)
    run_store.finish_run(keep, RunStatus.FINISHED)
    gone = run_store.create_run(project, saved)
    run_store.finish_run(gone, RunStatus.FAILED)
    (gone.folder / MODEL_FILE).write_bytes(b"model")
    run_store.delete_run(gone.folder)
    assert not gone.folder.exists() and keep.folder.is_dir() and saved.is_file()
    assert [r.folder for r in run_store.list_runs(project, saved)] == [keep.folder]


def test_delete_refuses_what_is_not_a_run_and_a_run_still_training(tmp_path, saved, project):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(RunStoreError, match="not a mogui run folder"):
        run_store.delete_run(mine)
    assert (mine / "notes.txt").read_text() == "keep me"
    running = run_store.create_run(project, saved)  # recorded by this (live) process
    with pytest.raises(RunStoreError, match="still training"):
        run_store.delete_run(running.folder)
    assert (running.folder / RUN_FILE).is_file()
    (running.folder / RUN_FILE).write_text("{damaged")
    run_store.delete_run(running.folder)  # an unreadable run can still be removed
    assert not running.folder.exists()


def test_a_folder_that_cannot_be_made_is_a_clear_error(saved, project):
    (saved.parent / "runs").write_text("a file where the runs folder goes")
    with pytest.raises(RunStoreError, match="cannot be made in"):
        run_store.create_run(project, saved)


def test_the_recorder_counts_complete_epochs_only(saved, project):
    run = run_store.create_run(project, saved)
    recorder = RunRecorder(run)
    recorder(TrainingStarted("CPU", 5, 4, 64, 16, ("bbox", "classification")))
    for batch in range(4):
        recorder(BatchEnded(0, batch, 4, {}, 1.0, 0.1))
    recorder(EpochEnded(0, LOGS, 1.0))
    recorder(BatchEnded(1, 0, 4, {}, 1.0, 0.1))
    recorder(EpochEnded(1, LOGS, 1.2))  # a stop ended epoch 2 after its first batch
    recorder(TrainingFinished({}, stopped=True, elapsed=1.2, epochs_run=2))
    record = _record(run.folder)
    assert record["status"] == "stopped" and record["epochs_completed"] == 1
    assert record["stopped_during_epoch"] == 2
    recorder.finish(RunStatus.FAILED)  # already ended: nothing changes
    assert _record(run.folder)["status"] == "stopped"


def test_the_snapshot_finds_the_data_from_the_run_folder(tmp_path):
    """A data path relative to the project file is stored so that it resolves from the run."""
    from mogui.core.project import NpzData

    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "data.npz").write_bytes(b"")
    project = load_example("multi_input")
    project.data = NpzData(path="data.npz")
    save_project(project, folder / "p.json")
    run = run_store.create_run(project, folder / "p.json")
    stored = load_project(run.folder / PROJECT_FILE, strict=False)
    assert Path(stored.data.path) == folder.absolute() / "data.npz"
    assert run.project.data.path == "data.npz"  # the in-memory snapshot is as edited


def test_a_mogui_json_projects_runs_are_named_without_the_file_type(tmp_path, project):
    path = tmp_path / "houses.mogui.json"
    save_project(project, path)
    run = run_store.create_run(project, path)
    assert run.folder.parent == tmp_path / "runs" / "houses"
