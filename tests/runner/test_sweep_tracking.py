"""A sweep's MLflow run without training: a real Optuna journal and a real MLflow store (SQLite)
in the test's folder. The run the study keeps is continued, by a resume or another machine on
the same store; a store that does not hold it (another machine's own) gets a run of its own,
kept beside it; the plan carries the trial's nesting to the workers."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from mogui.core.mlflow_runs import finish_sweep_run
from mogui.core.tracking import TrackingOptions
from mogui.runner.sweep_plan import SweepPlan, objectives_of, search_space
from mogui.runner.sweep_study import SweepStudy, open_storage
from mogui.runner.sweep_tracking import RUNS_ATTR, keep_sweep_run, open_sweep_run, store_key
from tests.runner.test_sweep_study import project


def _options(folder: Path, name: str = "mlflow.db") -> TrackingOptions:
    return TrackingOptions(mlflow_uri=f"sqlite:///{folder / name}", experiment="tiny",
                           artifact_root=folder / "mlartifacts")


def _plan(folder: Path) -> SweepPlan:
    tiny = project()
    objectives, directions = objectives_of(tiny, None)
    return SweepPlan(tiny, folder / "tiny.json", folder, folder / "sweep-a", "", "mogui-sweep",
                     4, 1, search_space(tiny, "weights", None), objectives, directions)


def _study(plan: SweepPlan) -> SweepStudy:
    plan.folder.mkdir(exist_ok=True)
    return SweepStudy(open_storage(plan.storage, plan.folder), plan)


def test_the_run_kept_in_the_study_is_continued_by_a_resume(tmp_path):
    plan, options = _plan(tmp_path), _options(tmp_path)
    run_id, new = open_sweep_run(options, plan, None)  # no study yet: a new run
    assert new
    study = _study(plan)
    keep_sweep_run(study.storage, plan, options, run_id)
    finish_sweep_run(options, run_id, "stopped")
    client = MlflowClient(options.mlflow_uri)
    run = client.get_run(run_id)
    assert run.info.run_name == "sweep-a" and run.info.status == "KILLED"
    assert run.data.params["trials"] == "4" and run.data.tags["mogui.sweep"] == "true"

    again = open_storage(plan.storage, plan.folder)  # as the next `mogui sweep` opens it
    assert open_sweep_run(options, plan, again) == (run_id, False)
    run = client.get_run(run_id)
    assert run.info.status == "RUNNING" and "mogui.status" not in run.data.tags
    keep_sweep_run(again, plan, options, run_id)
    attrs = study.study.user_attrs[RUNS_ATTR]
    assert attrs == {store_key(options): [run_id]}
    assert len(client.search_runs([run.info.experiment_id])) == 1


def test_a_store_without_the_kept_run_gets_its_own_kept_beside_it(tmp_path):
    plan, options = _plan(tmp_path), _options(tmp_path)
    study = _study(plan)
    # Another machine's run, kept under the same store name (a local store at the same path
    # there): this store does not hold it.
    theirs = "0123456789abcdef0123456789abcdef"
    keep_sweep_run(study.storage, plan, options, theirs)
    mine, new = open_sweep_run(options, plan, study.storage)
    assert new and mine != theirs
    keep_sweep_run(study.storage, plan, options, mine)
    assert study.study.user_attrs[RUNS_ATTR] == {store_key(options): [theirs, mine]}
    # This machine again continues its own.
    assert open_sweep_run(options, plan, study.storage) == (mine, False)


def test_a_deleted_sweep_run_is_not_continued(tmp_path):
    plan, options = _plan(tmp_path), _options(tmp_path)
    study = _study(plan)
    run_id, _ = open_sweep_run(options, plan, study.storage)
    keep_sweep_run(study.storage, plan, options, run_id)
    MlflowClient(options.mlflow_uri).delete_run(run_id)
    fresh, new = open_sweep_run(options, plan, study.storage)
    assert new and fresh != run_id


def test_the_plan_carries_each_trials_nesting_to_the_workers(tmp_path):
    plan = replace(_plan(tmp_path), tracking=_options(tmp_path), tracking_parent="abc123")
    carried = pickle.loads(pickle.dumps(plan))  # as it crosses the pipe to a worker
    trial = carried.trial_tracking(7, {"weight_size": 0.5, "weight_kind": 2.0})
    assert trial.parent_run_id == "abc123" and trial.run_name == "trial-7"
    assert dict(trial.params) == {"param_weight_size": 0.5, "param_weight_kind": 2.0}
    assert trial.tags["mogui.trial"] == "7"
    assert replace(plan, tracking=None).trial_tracking(7, {}) is None


@pytest.mark.parametrize("uri", ["postgresql://me:secret@db.example.org/mlflow"])
def test_a_stores_password_is_never_kept_in_the_study(uri):
    key = store_key(TrackingOptions(mlflow_uri=uri, experiment="tiny"))
    assert "secret" not in key and key == "postgresql://me:***@db.example.org/mlflow tiny"
