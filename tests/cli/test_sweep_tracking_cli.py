"""``mogui sweep --mlflow`` as users run it: a real sweep process and its worker, the default
MLflow store beside a project in a temporary folder, read back with ``MlflowClient``.

The sweep is one MLflow run, finished with the result files as artifacts; each trial is a run
nested under it, with its searched weights as parameters and every epoch's values equal to its
run folder's ``history.csv``; the same command with more trials nests the new ones under the
same run; bad tracking options and a store that cannot be opened exit 2 and write nothing.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

from mogui import cli
from mogui.core.tracking import INSTALL_HINT, URI_VARIABLE
from mogui.runner.sweep_tracking import RUNS_ATTR
from tests.cli.test_sweep_cli import (
    QUIET,
    command,
    rows,
    snapshot,
    sweep_args,
    write_project,
)

DEADLINE_S = 240


def _history(path: Path) -> dict[str, list[float]]:
    with open(path, newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in table] for key in table[0] if key != "epoch"}


def _sweep(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != URI_VARIABLE}  # the default store
    done = subprocess.run(args, cwd=cwd, env={**env, **QUIET}, capture_output=True, text=True,
                          timeout=DEADLINE_S)
    assert done.returncode == 0, done.stderr
    return done


def _runs(client: MlflowClient) -> dict[str, Any]:
    """The sweep's run and its trials' runs in the experiment named after project.json."""
    experiment = client.get_experiment_by_name("project")
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("mogui.sweep") == "true"]
    children = {r.data.tags["mogui.trial"]: r for r in runs
                if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id}
    return {"parent": parent, "children": children, "all": runs}


@pytest.fixture(scope="module")
def tracked(tmp_path_factory) -> dict[str, Any]:
    """A 2-trial sweep with ``--mlflow``, read back; then the same sweep given 3 trials."""
    folder = tmp_path_factory.mktemp("tracked_sweep")
    project = write_project(folder)
    out = folder / "sweep"
    first = _sweep(command(project, out, 2, "--mlflow"), folder)
    client = MlflowClient(f"sqlite:///{folder / 'runs' / 'mlflow.db'}")
    before = _runs(client)
    trials_before = rows(out / "trials.csv")
    resumed = _sweep(command(project, out, 3, "--mlflow"), folder)
    return {"folder": folder, "out": out, "client": client, "first": first, "before": before,
            "trials_before": trials_before, "resumed": resumed, "after": _runs(client)}


@pytest.mark.slow
def test_the_sweep_is_one_finished_run_with_its_result_files(tracked, tmp_path):
    client, parent = tracked["client"], tracked["before"]["parent"]
    assert parent.info.run_name == "sweep" and parent.info.status == "FINISHED"
    assert parent.data.tags["mogui.status"] == "complete"
    params = parent.data.params
    assert (params["trials"], params["epochs"], params["parameters"], params["objectives"]) \
        == ("2", "1", "weight_size,weight_kind", "val_size_loss,val_kind_loss")
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} == {
        "trials.csv", "pareto.csv", "pareto.png"}
    got = Path(client.download_artifacts(parent.info.run_id, "", str(tmp_path)))
    assert (got / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert rows(got / "trials.csv")[:2] == tracked["trials_before"]
    assert "MLflow: experiment 'project', run 'sweep' (new) in sqlite:///" in \
        tracked["first"].stdout


@pytest.mark.slow
def test_each_trial_is_a_nested_run_with_its_weights_and_its_history(tracked):
    client, out = tracked["client"], tracked["out"]
    before = tracked["before"]
    assert len(before["all"]) == 3 and sorted(before["children"]) == ["0", "1"]
    for row in tracked["trials_before"]:
        run = before["children"][row["trial"]]
        assert run.info.run_name == f"trial-{row['trial']}" and run.info.status == "FINISHED"
        params = run.data.params
        for head in ("size", "kind"):
            weight = float(row[f"param_weight_{head}"])
            assert float(params[f"param_weight_{head}"]) == pytest.approx(weight, rel=1e-12)
            assert float(params[f"weight.{head}"]) == pytest.approx(weight, rel=1e-12)
        history = _history(out / row["run"] / "history.csv")
        assert {"val_size_loss", "val_kind_loss", "weight_size"} <= history.keys()
        assert set(run.data.metrics) == set(history)
        for key, values in history.items():
            logged = sorted((m.step, m.value)
                            for m in client.get_metric_history(run.info.run_id, key))
            assert [step for step, _ in logged] == [1], key
            assert [value for _, value in logged] == pytest.approx(values, abs=1e-6), key
        assert "model.keras" in {a.path for a in client.list_artifacts(run.info.run_id)}


@pytest.mark.slow
def test_the_sweep_resumed_nests_its_new_trial_under_the_same_run(tracked):
    before, after = tracked["before"], tracked["after"]
    assert after["parent"].info.run_id == before["parent"].info.run_id
    assert "(continued)" in tracked["resumed"].stdout
    assert len(after["all"]) == 4 and sorted(after["children"]) == ["0", "1", "2"]
    assert after["children"]["0"].info.run_id == before["children"]["0"].info.run_id
    assert after["parent"].info.status == "FINISHED"
    assert len(rows(tracked["out"] / "trials.csv")) == 3
    # The study keeps the run for the next resume, and for other machines.
    journal = (tracked["out"] / "sweep.journal").read_text()
    assert RUNS_ATTR in journal and before["parent"].info.run_id in journal


def _experiment_blank(folder: Path) -> list[str]:
    return sweep_args(folder, "--mlflow-experiment", " ")


def _store_blocked(folder: Path, monkeypatch) -> list[str]:
    (folder / "taken").write_text("a file where the store's folder would be")
    monkeypatch.setenv(URI_VARIABLE, f"sqlite:///{folder / 'taken' / 'mlflow.db'}")
    return sweep_args(folder, "--mlflow")


def _mlflow_missing(folder: Path, monkeypatch) -> list[str]:
    monkeypatch.setitem(sys.modules, "mlflow", None)
    return sweep_args(folder, "--mlflow")


@pytest.mark.parametrize(("build", "message"), [
    (lambda folder, _patch: _experiment_blank(folder), "--mlflow-experiment must name"),
    (_mlflow_missing, f"mlflow is not installed. Install the tracking extra ({INSTALL_HINT})"),
    (_store_blocked, "The run cannot be logged to MLflow at 'sqlite:///"),
], ids=["blank experiment", "mlflow missing", "store cannot be opened"])
def test_bad_tracking_options_exit_2_with_one_line_and_write_nothing(
        tmp_path, capsys, monkeypatch, build, message):
    case = tmp_path / "case"
    case.mkdir()
    monkeypatch.chdir(case)
    args = build(case, monkeypatch)
    before = snapshot(case)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and "unexpected" not in err
    assert snapshot(case) == before
    assert not (case / "sweep").exists()
