"""``mogui train --mlflow / --mlflow-experiment / --tensorboard``: the default local store
beside the project, ``MLFLOW_TRACKING_URI`` instead of it, the run's values read back as
they are in ``history.csv``; bad options and a missing extra exit 2 with one line before
anything is written."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorflow import make_ndarray

from mogui import cli
from mogui.core.tracking import INSTALL_HINT, URI_VARIABLE
from tests.cli.test_bad_inputs import base, run_here, snapshot, write_project
from tests.cli.test_cli import QUIET


def _history(path: Path) -> dict[str, list[float]]:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in rows[0] if key != "epoch"}


def _project(folder: Path) -> Path:
    project = base()
    project["training"]["epochs"] = 2
    return write_project(folder, project)


def _main(argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def logged(tmp_path_factory) -> dict[str, Any]:
    """A real ``mogui train project.json --mlflow --tensorboard tb`` process (and its training
    child), with no ``MLFLOW_TRACKING_URI``: the default store."""
    folder = tmp_path_factory.mktemp("tracked")
    path = _project(folder)
    env = {k: v for k, v in os.environ.items() if k != URI_VARIABLE}
    done = subprocess.run(
        [sys.executable, "-m", "mogui", "train", str(path), "--trust", "--mlflow",
         "--tensorboard", "tb"], cwd=folder, env={**env, **QUIET}, capture_output=True,
        text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (run_dir,) = (folder / "runs" / "project").iterdir()
    store = folder / "runs" / "mlflow.db"
    assert f"MLflow: experiment 'project', run '{run_dir.name}' in sqlite:///{store}" in \
        done.stdout
    return {"folder": folder, "run_dir": run_dir, "path": path,
            "client": MlflowClient(f"sqlite:///{store}")}


def test_the_default_store_is_beside_the_project_with_an_experiment_per_project_file(logged):
    client, run_dir = logged["client"], logged["run_dir"]
    experiment = client.get_experiment_by_name("project")  # project.json
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == run_dir.name and run.data.tags["mogui.status"] == "complete"
    history = _history(run_dir / "history.csv")
    for key, values in history.items():
        logged_values = [m.value for m in sorted(client.get_metric_history(run.info.run_id, key),
                                                 key=lambda m: m.step)]
        assert logged_values == pytest.approx(values, abs=1e-6), key
    assert {a.path for a in client.list_artifacts(run.info.run_id)} == {
        "model.keras", "history.csv", "project.json", "train_tiny.py"}
    artifacts = logged["folder"] / "runs" / "mlartifacts" / "project"
    assert (artifacts / run.info.run_id / "artifacts" / "model.keras").is_file()


def test_tensorboard_logs_go_to_a_folder_named_after_the_run(logged):
    history = _history(logged["run_dir"] / "history.csv")
    logs = logged["folder"] / "tb" / logged["run_dir"].name
    for where, key, tag in [("train", "size_loss", "loss/size"),
                            ("validation", "val_kind_loss", "loss/kind")]:
        reader = EventAccumulator(str(logs / where), size_guidance={"tensors": 0})
        reader.Reload()
        values = [float(make_ndarray(e.tensor_proto)) for e in reader.Tensors(tag)]
        assert values == pytest.approx(history[key], abs=1e-6)


def test_mlflow_tracking_uri_names_the_store_and_an_experiment_can_be_chosen(
        tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    # A store of its own, first opened here: MLflow puts the artifacts of an experiment made
    # in a store named by MLFLOW_TRACKING_URI in ./mlruns of the folder it was opened from.
    store = tmp_path / "elsewhere.db"
    monkeypatch.setenv(URI_VARIABLE, f"sqlite:///{store}")
    code, out, err = _main(["train", str(_project(tmp_path)), "--mlflow-experiment", "elsewhere",
                            "--epochs", "1"], capsys)
    assert code == 0, err
    assert "MLflow: experiment 'elsewhere'" in out and str(store) in out
    assert not (tmp_path / "runs" / "mlflow.db").exists()  # not the default store
    (run_dir,) = (tmp_path / "runs" / "project").iterdir()
    client = MlflowClient(f"sqlite:///{store}")
    (run,) = client.search_runs([client.get_experiment_by_name("elsewhere").experiment_id])
    assert Path(run.info.artifact_uri.removeprefix("file://")).is_relative_to(tmp_path)
    assert run.info.run_name == run_dir.name and run.info.status == "FINISHED"
    assert [m.value for m in client.get_metric_history(run.info.run_id, "loss")] == \
        pytest.approx(_history(run_dir / "history.csv")["loss"], abs=1e-6)
    assert run.data.params["epochs"] == "1"


def _tensorboard_file(folder: Path) -> list[str]:
    (folder / "taken").write_text("a file")
    return ["--tensorboard", str(folder / "taken" / "logs")]


@pytest.mark.parametrize(("extra", "words"), [
    (_tensorboard_file, ["--tensorboard", "is a file, not a folder"]),
    (lambda _folder: ["--tensorboard", ""], ["--tensorboard needs a folder"]),
    (lambda _folder: ["--mlflow-experiment", " "], ["--mlflow-experiment must name"]),
])
def test_bad_tracking_options_exit_2_with_one_line_and_write_nothing(extra, words, tmp_path,
                                                                    monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    path = _project(tmp_path)
    argv = ["train", str(path), *extra(tmp_path)]
    before = snapshot(tmp_path)
    code, out, err = _main(argv, capsys)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mogui: ") and "Traceback" not in out + err
    assert all(word in lines[0] for word in words), lines[0]
    assert snapshot(tmp_path) == before


def test_a_store_that_cannot_be_used_fails_the_run_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "_run_child", run_here)
    (tmp_path / "taken").write_text("a file")
    monkeypatch.setenv(URI_VARIABLE, f"sqlite:///{tmp_path / 'taken' / 'mlflow.db'}")
    code, _, err = _main(["train", str(_project(tmp_path)), "--mlflow"], capsys)
    assert code == 2, err
    assert err.count("\n") == 1 and "cannot be logged to MLflow" in err
    assert URI_VARIABLE in err and "Traceback" not in err
    (run_dir,) = (tmp_path / "runs" / "project").iterdir()
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "failed" and "MLflow" in record["message"]
    assert not (run_dir / "model.keras").exists()  # refused before training


def test_without_the_extra_train_mlflow_exits_2_naming_it(tmp_path):
    """MLflow made unimportable in a fresh process (``sys.modules`` blocks it)."""
    path = _project(tmp_path)
    before = snapshot(tmp_path)
    code = ("import sys; sys.modules['mlflow'] = None; from mogui import cli; "
            f"sys.exit(cli.main(['train', {str(path)!r}, '--mlflow']))")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, **QUIET}, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "mlflow is not installed" in done.stderr and INSTALL_HINT in done.stderr
    assert snapshot(tmp_path) == before
