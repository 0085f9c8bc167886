"""A run: status, ownership and whether it holds a trained model."""

from __future__ import annotations

from datetime import date, datetime

from mogui.core.io import load_example
from mogui.core.runs import MODEL_FILE, Run, RunStatus


def _run(tmp_path, **changes) -> Run:
    return Run(project=load_example("bbox_classification"), document_id="doc-1",
               folder=tmp_path, started_at=datetime(2026, 1, 2, 9, 30), **changes)


def test_a_run_has_a_model_only_once_ended_with_an_epoch_and_its_file(tmp_path):
    run = _run(tmp_path, epochs_completed=2)
    assert not run.has_model and not run.ended  # still running
    run.status = RunStatus.STOPPED
    assert not run.has_model  # no file yet
    (tmp_path / MODEL_FILE).write_bytes(b"model")
    assert run.has_model and run.ended
    run.epochs_completed = 0
    assert not run.has_model
    run.epochs_completed, run.status = 2, RunStatus.FAILED
    assert not run.has_model


def test_a_run_belongs_to_the_document_it_started_from(tmp_path):
    run = _run(tmp_path)
    assert run.belongs_to("doc-1")
    assert not run.belongs_to("doc-2")


def test_describe_names_the_project_and_the_outcome(tmp_path):
    run = _run(tmp_path, status=RunStatus.STOPPED, epochs_completed=1)
    same_day = date(2026, 1, 2)
    assert run.describe(same_day) == \
        "“Shapes: bounding box + class”, started 09:30, stopped after 1 epoch"
    assert "started 2026-01-02 09:30," in run.describe(date(2026, 1, 3))  # another day: dated
    run.status, run.epochs_completed = RunStatus.FINISHED, 5
    assert run.describe(same_day).endswith("finished after 5 epochs")
    run.status = RunStatus.INTERRUPTED
    assert run.describe(same_day).endswith(", interrupted")
    (tmp_path / MODEL_FILE).write_bytes(b"model")
    assert run.has_model  # an interrupted run keeps the model its last epochs saved
