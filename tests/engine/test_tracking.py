"""Run tracking: real tiny runs logged to a real MLflow store (SQLite) and TensorBoard files,
read back with ``MlflowClient`` and TensorBoard's event reader and compared with the run's
own ``history.csv``; stopped and failed runs; a sweep's nested trial runs; MLflow missing."""

from __future__ import annotations

import csv
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorflow import make_ndarray

import mogui
from mogui.core.errors import DeviceError
from mogui.core.events import EpochEnded
from mogui.core.jobs import JobHandle
from mogui.core.mlflow_runs import MlflowRun, finish_sweep_run, start_sweep_run
from mogui.core.project import Balancing, NpzData, Project
from mogui.core.tracking import (
    INSTALL_HINT,
    TrackingError,
    TrackingOptions,
    mlflow_missing,
    trial_options,
)
from mogui.engine.data import load_data
from mogui.engine.export import tracked_training
from mogui.engine.training import TrainingControl, run_training
from mogui.engine.training.tracking import scalar_tag
from mogui.runner.jobs import train
from mogui.runner.requests import TrainRequest
from tests.engine.data_builders import table_project, write_npz


class _Handle(JobHandle):
    def report(self, event: object) -> None:
        pass


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> TrackingOptions:
    """One SQLite store for the module (made once: MLflow sets up its tables then)."""
    folder = tmp_path_factory.mktemp("store")
    return TrackingOptions(mlflow_uri=f"sqlite:///{folder / 'mlflow.db'}", experiment="table",
                           artifact_root=folder / "mlartifacts")


def _project(folder: Path, epochs: int = 3) -> Project:
    write_npz(folder, 48)
    project = table_project(NpzData(path="data.npz"))
    project.training.batch_size = 16
    project.training.epochs = epochs
    project.training.balancing = Balancing(method="dwa", params={"temperature": 1.5})
    return project


def _history(path: Path) -> dict[str, list[float]]:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in rows[0] if key != "epoch"}


def _scalars(folder: Path) -> dict[str, dict[int, float]]:
    """``{tag: {step: value}}`` as TensorBoard reads the folder's event files."""
    reader = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    reader.Reload()
    return {tag: {event.step: float(make_ndarray(event.tensor_proto))
                  for event in reader.Tensors(tag)} for tag in reader.Tags()["tensors"]}


@pytest.fixture(scope="module")
def trained(store, tmp_path_factory) -> dict[str, Any]:
    """A 3-epoch dwa run through the training job, logged to MLflow and TensorBoard."""
    folder = tmp_path_factory.mktemp("project")
    project = _project(folder)
    options = replace(store, run_name="first", params={"note": "hello"},
                      tensorboard_dir=folder / "tb" / "first")
    out = folder / "run"
    summary = train(_Handle(), TrainRequest(project, folder, out, tracking=options))
    client = MlflowClient(store.mlflow_uri)
    experiment = client.get_experiment_by_name("table")
    (run,) = client.search_runs([experiment.experiment_id], "attributes.run_name = 'first'")
    return {"client": client, "run": run, "out": out, "summary": summary,
            "tensorboard": folder / "tb" / "first", "project": project, "folder": folder}


def test_the_run_is_logged_with_its_training_parameters(trained):
    params = trained["run"].data.params
    expected = {"loss.size": "mse", "loss.kind": "sparse_categorical_crossentropy",
                "weight.size": "1.0", "weight.kind": "1.0", "balancing": "dwa",
                "balancing.temperature": "1.5", "optimizer": "adam", "learning_rate": "0.001",
                "batch_size": "16", "epochs": "3", "seed": "3", "validation_split": "0.25",
                "note": "hello"}
    assert {k: params.get(k) for k in expected} == expected


def test_every_history_column_is_a_metric_per_epoch_equal_to_history_csv(trained):
    history = _history(trained["out"] / "history.csv")
    assert {"size_loss", "val_kind_loss", "weight_size"} <= history.keys()
    client, run_id = trained["client"], trained["run"].info.run_id
    assert set(trained["run"].data.metrics) == set(history)
    for key, values in history.items():
        logged = sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))
        assert [step for step, _ in logged] == [1, 2, 3], key
        assert [value for _, value in logged] == pytest.approx(values, abs=1e-6), key


def test_the_run_ends_complete_with_its_tags_and_artifacts(trained, tmp_path):
    run, client = trained["run"], trained["client"]
    assert run.info.status == "FINISHED"
    tags = run.data.tags
    assert tags["mogui.status"] == "complete" and tags["mogui.project"] == "table"
    assert tags["mogui.version"] == mogui.__version__
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert names == {"model.keras", "history.csv", "project.json", "train_table.py"}
    got = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path)))
    assert (got / "model.keras").read_bytes() == (trained["out"] / "model.keras").read_bytes()
    assert Project.model_validate_json((got / "project.json").read_text()) == trained["project"]
    script = (got / "train_table.py").read_text()
    compile(script, "train_table.py", "exec")
    assert '"temperature": 1.5' in script or "temperature=1.5" in script
    location = client.get_experiment_by_name("table").artifact_location
    assert location.endswith("/mlartifacts/table")  # the local store keeps them beside it


def test_tensorboard_has_each_heads_train_and_validation_scalars_per_epoch(trained):
    history = _history(trained["out"] / "history.csv")
    train_scalars = _scalars(trained["tensorboard"] / "train")
    validation = _scalars(trained["tensorboard"] / "validation")
    assert set(train_scalars) == {"loss/total", "loss/size", "loss/kind", "weight/size",
                                  "weight/kind"}
    assert set(validation) == {"loss/total", "loss/size", "loss/kind"}
    pairs = {"loss": ("train", "loss/total"), "size_loss": ("train", "loss/size"),
             "kind_loss": ("train", "loss/kind"), "weight_kind": ("train", "weight/kind"),
             "val_loss": ("validation", "loss/total"),
             "val_size_loss": ("validation", "loss/size"),
             "val_kind_loss": ("validation", "loss/kind")}
    for key, (where, tag) in pairs.items():
        scalars = (train_scalars if where == "train" else validation)[tag]
        assert sorted(scalars) == [1, 2, 3], key
        assert [scalars[step] for step in (1, 2, 3)] == pytest.approx(history[key], abs=1e-6)


@pytest.mark.parametrize(("key", "expected"), [
    ("loss", ("train", "loss/total")), ("val_loss", ("validation", "loss/total")),
    ("box_loss", ("train", "loss/box")), ("val_box_class_accuracy",
                                          ("validation", "accuracy/box_class")),
    ("weight_box", ("train", "weight/box")), ("gradnorm_box_class", ("train",
                                                                    "gradnorm/box_class")),
    ("gradcos_box__box_class", ("train", "gradcos/box__box_class")), ("lr", ("train", "lr")),
])
def test_scalar_tags_group_each_value_by_head(key, expected):
    assert scalar_tag(key, ["box", "box_class"]) == expected


def _tracked_run(store: TrackingOptions, folder: Path, project: Project, name: str,
                 stop_after: int | None = None) -> str:
    """Train through :func:`tracked_training`, stopping after ``stop_after`` epochs; the id of
    the MLflow run."""
    control = TrainingControl()

    def report(event: object) -> None:
        if isinstance(event, EpochEnded) and stop_after == event.epoch + 1:
            control.stop()

    options = replace(store, run_name=name, tensorboard_dir=folder / "tb")
    data = load_data(project, folder)
    try:
        with tracked_training(options, project, folder, folder / "run") as tracking:
            result = run_training(project, data, report, control, out_dir=folder / "run",
                                  tracking=tracking)
            tracking.stopped = result.stopped
    finally:
        client = MlflowClient(store.mlflow_uri)
        experiment = client.get_experiment_by_name(store.experiment).experiment_id
        (run,) = client.search_runs([experiment], f"attributes.run_name = '{name}'")
    return run.info.run_id


def test_a_stopped_run_keeps_its_complete_epochs_and_ends_stopped(store, tmp_path):
    run_id = _tracked_run(store, tmp_path, _project(tmp_path), "stopped", stop_after=1)
    client = MlflowClient(store.mlflow_uri)
    run = client.get_run(run_id)
    assert run.info.status == "KILLED" and run.data.tags["mogui.status"] == "stopped"
    history = _history(tmp_path / "run" / "history.csv")
    assert len(history["loss"]) == 1
    logged = client.get_metric_history(run_id, "val_size_loss")
    assert [(m.step, m.value) for m in logged] == [(1, pytest.approx(history["val_size_loss"][0],
                                                                     abs=1e-6))]
    assert set(_scalars(tmp_path / "tb" / "train")["loss/size"]) == {1}
    assert "model.keras" in {a.path for a in client.list_artifacts(run_id)}


def test_a_failed_run_ends_failed_with_its_project_and_script(store, tmp_path):
    project = _project(tmp_path)
    project.training.devices = 64  # more than any test machine has: fails before an epoch
    with pytest.raises(DeviceError):
        _tracked_run(store, tmp_path, project, "failed")
    client = MlflowClient(store.mlflow_uri)
    experiment = client.get_experiment_by_name(store.experiment).experiment_id
    (run,) = client.search_runs([experiment], "attributes.run_name = 'failed'")
    assert run.info.status == "FAILED" and run.data.tags["mogui.status"] == "failed"
    assert {a.path for a in client.list_artifacts(run.info.run_id)} == {"project.json",
                                                                        "train_table.py"}


def test_sweep_trials_are_runs_nested_under_the_sweep_with_their_parameters(store, tmp_path):
    project = _project(tmp_path)
    options = replace(store, experiment="sweeps")
    parent = start_sweep_run(options, "sweep-1", {"trials": 2})
    for number, weight in enumerate((0.25, 4.0)):
        trial = trial_options(options, parent, number, {"param_weight_kind": weight})
        MlflowRun.start(trial, project).finish("complete")
    (tmp_path / "trials.csv").write_text("trial,state\n0,COMPLETE\n1,COMPLETE\n")
    finish_sweep_run(options, parent, "complete", [tmp_path / "trials.csv"])
    client = MlflowClient(store.mlflow_uri)
    experiment = client.get_experiment_by_name("sweeps").experiment_id
    children = client.search_runs([experiment], f"tags.mlflow.parentRunId = '{parent}'",
                                  order_by=["attributes.run_name"])
    assert [run.info.run_name for run in children] == ["trial-0", "trial-1"]
    assert [run.data.params["param_weight_kind"] for run in children] == ["0.25", "4.0"]
    assert all(run.data.params["balancing"] == "dwa" for run in children)
    assert [run.data.tags["mogui.trial"] for run in children] == ["0", "1"]
    sweep = client.get_run(parent)
    assert sweep.info.run_name == "sweep-1" and sweep.data.params == {"trials": "2"}
    assert sweep.info.status == "FINISHED"
    assert [a.path for a in client.list_artifacts(parent)] == ["trials.csv"]


def test_a_store_that_fails_while_training_costs_only_the_record(store, caplog):
    run = MlflowRun(MlflowClient(store.mlflow_uri), "no-such-run")
    with caplog.at_level(logging.WARNING, logger="mogui.core.mlflow_runs"):
        run.log_epoch(1, {"loss": 1.0})
    assert "Epoch 1 could not be logged to MLflow" in caplog.text


def test_without_mlflow_the_run_is_refused_with_the_extra_to_install(store, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    assert INSTALL_HINT in mlflow_missing(store.mlflow_uri)
    with pytest.raises(TrackingError) as error:
        MlflowRun.start(store, _project_without_data())
    assert "mlflow is not installed" in str(error.value) and INSTALL_HINT in str(error.value)


def _project_without_data() -> Project:
    return table_project(NpzData(path="data.npz"))


def test_a_deleted_experiment_is_refused_saying_how_to_restore_it(store):
    options = replace(store, experiment="gone")
    client = MlflowClient(store.mlflow_uri)
    client.delete_experiment(client.create_experiment("gone"))
    with pytest.raises(TrackingError, match="'gone' was deleted. Restore it"):
        MlflowRun.start(options, _project_without_data())
