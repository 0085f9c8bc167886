"""A sweep's study without training: what is searched and optimised, exactly N trials when
workers race for the last ones, trials of dead workers run again with their parameters,
failed trials retried, and the front drawn for more than two objectives.

Workers here are threads, each with a storage object of its own on one journal file, as
separate processes have: they share nothing but the file.
"""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import time
from pathlib import Path

import matplotlib.image
import optuna
import pytest
from optuna.trial import TrialState

from mogui.core.project import Project
from mogui.core.sweep_results import PARETO_PLOT, SweepManifest, SweepTrial, non_dominated
from mogui.runner.sweep_plan import (
    SweepError,
    SweepPlan,
    masked,
    objectives_of,
    search_space,
)
from mogui.runner.sweep_plot import write_front_plot
from mogui.runner.sweep_study import (
    HEARTBEAT,
    HOST,
    OUTCOME,
    PID,
    STALE_AFTER_S,
    SURPLUS,
    SweepStudy,
    counting,
    open_storage,
)


def project(**changes: object) -> Project:
    """Input ``x`` -> Dense(4) -> ``size`` (regression) and ``kind`` (3 classes, accuracy)."""
    data = {
        "name": "tiny",
        "inputs": [{"name": "x", "shape": [3]}],
        "trunk": [{"name": "hidden", "kind": "Dense", "params": {"units": 4}}],
        "heads": [{"name": "size", "task": "regression", "units": 1},
                  {"name": "kind", "task": "multiclass", "units": 3,
                   "loss": {"metrics": ["sparse_categorical_accuracy"]}}],
        "training": {"epochs": 1, "validation_split": 0.25, "learning_rate": 0.002},
        **changes,
    }
    return Project.model_validate(data)


def plan(folder: Path, trials: int, search: str = "weights", methods: str | None = None
         ) -> SweepPlan:
    proj = project()
    objectives, directions = objectives_of(proj, None)
    return SweepPlan(project=proj, project_path=None, project_dir=folder, folder=folder,
                     storage="", study="mogui-sweep", trials=trials, epochs=1,
                     space=search_space(proj, search, methods), objectives=objectives,
                     directions=directions)


def open_sweep(the_plan: SweepPlan) -> SweepStudy:
    """A worker's own view of the study: a storage object of its own."""
    return SweepStudy(open_storage(the_plan.storage, the_plan.folder), the_plan)


def dead_pid() -> int:
    """The id of a process of this machine that has ended."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


# -- what is searched and optimised -------------------------------------------------------------

def test_objectives_expand_per_head_with_their_directions() -> None:
    proj = project()
    assert objectives_of(proj, None) == (("val_size_loss", "val_kind_loss"),
                                         ("minimize", "minimize"))
    keys, directions = objectives_of(proj, "val_size_loss, val_kind_sparse_categorical_accuracy")
    assert keys == ("val_size_loss", "val_kind_sparse_categorical_accuracy")
    assert directions == ("minimize", "maximize")


@pytest.mark.parametrize(("text", "message"), [
    ("val_{head}_mae", "names 'val_size_mae', which training does not log"),
    ("val_loss", "gives 1 objective; a sweep trades off at least two"),
    ("val_size_loss,val_size_loss", r"gives 1 objective \(val_size_loss named twice counts "
                                    r"once\)"),
])
def test_objectives_that_cannot_be_swept(text: str, message: str) -> None:
    with pytest.raises(SweepError, match=message):
        objectives_of(project(), text)


def test_objective_on_validation_without_a_split() -> None:
    proj = project()
    proj.training.validation_split = 0
    with pytest.raises(SweepError, match="no validation data"):
        objectives_of(proj, None)
    assert objectives_of(proj, "{head}_loss")[0] == ("size_loss", "kind_loss")


def test_search_space_and_what_a_trial_trains_with() -> None:
    proj = project()
    space = search_space(proj, "weights,learning_rate", "dwa,uw")
    assert space.parameters == ("weight_size", "weight_kind", "balancing", "learning_rate")
    assert space.learning_rate == pytest.approx((0.0002, 0.02))
    trial = space.apply(proj, {"weight_size": 0.5, "weight_kind": 20.0, "balancing": "dwa",
                               "learning_rate": 0.01})
    assert [h.loss.weight for h in trial.heads] == [0.5, 20.0]
    assert trial.training.balancing.method == "dwa"
    assert trial.training.learning_rate == 0.01
    assert [h.loss.weight for h in proj.heads] == [1.0, 1.0]  # the project is left as it was
    with pytest.raises(SweepError, match="'foo' cannot be searched"):
        search_space(proj, "weights,foo", None)
    with pytest.raises(SweepError, match="'nope' is not a balancing method"):
        search_space(proj, None, "dwa,nope")
    with pytest.raises(SweepError, match="--search ' , ' names nothing to search"):
        search_space(proj, " , ", None)


def test_projects_that_cannot_be_swept() -> None:
    one = project()
    one.heads[1].loss.enabled = False
    with pytest.raises(SweepError, match="at least two heads trained by a loss.*only 'size'"):
        search_space(one, None, None)
    joint = project(loss_mode="joint")
    with pytest.raises(SweepError, match="one joint loss"):
        objectives_of(joint, None)


def test_passwords_are_not_written_down() -> None:
    assert masked("postgresql://me:secret@db.example.org:5432/sweeps") == \
        "postgresql://me:***@db.example.org:5432/sweeps"
    assert masked("sqlite:///sweep.db") == "sqlite:///sweep.db"
    assert masked("/shared/sweep.journal") == "/shared/sweep.journal"


# -- exactly N trials -----------------------------------------------------------------------

def run_workers(the_plan: SweepPlan, count: int) -> list[int]:
    """``count`` workers claiming and completing trials until the sweep is full; the numbers
    of the trials they ran."""
    ran: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            sweep = open_sweep(the_plan)
            while (trial := sweep.claim(the_plan.trials)) is not None:
                weights = [trial.params["weight_size"], trial.params["weight_kind"]]
                assert sweep.complete(trial, [math.log(weights[0]), -math.log(weights[1])])
                with lock:
                    ran.append(trial.number)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    return ran


def test_racing_workers_run_exactly_n_trials(tmp_path, monkeypatch) -> None:
    the_plan = plan(tmp_path, trials=8)
    ran = run_workers(the_plan, 4)
    sweep = open_sweep(the_plan)
    rows = sweep.trials()
    assert len(rows) == 8 and sorted(ran) == [t.number for t in rows]
    assert all(t.state == "COMPLETE" for t in rows)
    assert len({(t.params["weight_size"], t.params["weight_kind"]) for t in rows}) == 8
    # Workers that asked near the end may have left surplus trials already: not this race's.
    earlier = {t.number for t in sweep.frozen()}

    # One trial is missing, and four workers see that at once: each asks for a trial.
    barrier = threading.Barrier(4, timeout=60)
    asked = threading.local()
    ask = optuna.study.Study.ask

    def ask_together(self, *args, **kwargs):
        if not getattr(asked, "once", False):
            asked.once = True
            barrier.wait()
        return ask(self, *args, **kwargs)

    monkeypatch.setattr(optuna.study.Study, "ask", ask_together)
    one_more = plan(tmp_path, trials=9)
    ran += run_workers(one_more, 4)
    sweep = open_sweep(one_more)
    rows = sweep.trials()
    assert len(rows) == 9 and sorted(ran) == [t.number for t in rows]
    # The other three trials claimed in the race were failed as surplus, never run.
    extra = [t for t in sweep.frozen() if t.number not in ran and t.number not in earlier]
    assert len(extra) == 3
    assert all(t.state == TrialState.FAIL and t.user_attrs[OUTCOME] == SURPLUS for t in extra)
    assert sweep.missing() == 0 and sweep.claim(9) is None


def test_trial_of_a_dead_worker_runs_again_with_its_parameters(tmp_path) -> None:
    the_plan = plan(tmp_path, trials=2)
    first = open_sweep(the_plan)
    lost = first.claim(2)
    assert lost is not None
    first.set_attrs(lost.number, {PID: dead_pid()})  # its worker ended without a word
    second = open_sweep(the_plan)
    again = second.claim(2)
    assert again is not None and again.number != lost.number
    assert again.params == lost.params
    old = next(t for t in second.frozen() if t.number == lost.number)
    assert old.state == TrialState.FAIL and "worker process ended" in old.user_attrs["error"]
    assert [t.number for t in second.trials()] == [again.number]
    assert second.missing() == 1


def test_trials_of_other_machines_are_given_up_only_when_their_heartbeat_stops(
        tmp_path) -> None:
    the_plan = plan(tmp_path, trials=3)
    sweep = open_sweep(the_plan)
    beating, silent = sweep.claim(3), sweep.claim(3)
    assert beating is not None and silent is not None
    now = time.time()
    sweep.set_attrs(beating.number, {HOST: "elsewhere", PID: 1, HEARTBEAT: now})
    sweep.set_attrs(silent.number, {HOST: "elsewhere", PID: 1,
                                    HEARTBEAT: now - STALE_AFTER_S - 5})
    assert open_sweep(the_plan).fail_stale() == [silent.number]
    states = {t.number: t.state for t in sweep.frozen()}
    assert states[beating.number] == TrialState.RUNNING
    assert states[silent.number] == TrialState.FAIL


def test_failed_trials_are_retried_with_the_same_parameters(tmp_path) -> None:
    the_plan = plan(tmp_path, trials=2, search="weights,balancing", methods="equal,dwa")
    sweep = open_sweep(the_plan)
    bad, good = sweep.claim(2), sweep.claim(2)
    assert bad is not None and good is not None
    sweep.failed(bad, "the loss\nwent NaN")
    sweep.complete(good, [1.0, 2.0])
    assert [(t.number, t.state, t.error) for t in sweep.trials()] == \
        [(bad.number, "FAIL", "the loss went NaN"), (good.number, "COMPLETE", "")]
    assert sweep.claim(2) is None  # two trials, both ended: nothing to run
    assert sweep.retry_failed() == [bad.number]
    rows = sweep.trials()
    assert [t.state for t in rows] == ["COMPLETE", "WAITING"]
    assert rows[1].params == bad.params
    retry = sweep.claim(2)
    assert retry is not None and retry.params == bad.params
    assert len(counting(sweep.frozen())) == 2


# -- the picture ----------------------------------------------------------------------------

def test_front_of_three_objectives_is_drawn_as_parallel_coordinates(tmp_path) -> None:
    names = ("a", "b", "c")
    manifest = SweepManifest(project="p.json", parameters=("weight_a",), objectives=names,
                             directions=("minimize", "minimize", "maximize"), trials=5)
    points = [(1, 5, 3), (2, 2, 2), (3, 3, 1), (5, 1, 9), (4, 4, 0)]
    trials = [SweepTrial(i, "COMPLETE", {"weight_a": 1.0}, dict(zip(names, p, strict=True)))
              for i, p in enumerate(points)]
    trials.append(SweepTrial(5, "FAIL", {"weight_a": 2.0}, error="diverged"))
    path = write_front_plot(tmp_path, manifest, trials)
    assert path == tmp_path / PARETO_PLOT
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (500, 750)
    assert image[..., :3].std() > 0.05  # lines and text, not a blank page
    assert [t.number for t in non_dominated(trials, names, manifest.directions)] == [0, 1, 3]
    assert [p.name for p in tmp_path.iterdir()] == [PARETO_PLOT]  # no temporary left


def test_no_complete_trial_yet_still_gives_a_picture(tmp_path) -> None:
    manifest = SweepManifest(project="p.json", parameters=("weight_a",),
                             objectives=("a", "b"), directions=("minimize", "minimize"),
                             trials=2)
    path = write_front_plot(tmp_path, manifest, [SweepTrial(0, "RUNNING")])
    assert matplotlib.image.imread(path).shape[:2] == (500, 750)


def test_a_trial_stopped_early_is_scored_by_the_epoch_whose_weights_it_keeps(tmp_path) -> None:
    """Early stopping restores epoch 1 (no later epoch improves by 1000): the trial's
    objectives are epoch 1's validation losses, as its run's history holds them."""
    import csv

    from mogui.core.jobs import JobHandle
    from mogui.engine.data.dataset import Dataset
    from mogui.engine.training import TrainingControl
    from mogui.runner.sweep_worker import _train_trial
    from tests.engine.data_builders import table_arrays

    stopping = {"enabled": True, "patience": 1, "min_delta": 1000.0}
    proj = project(training={"epochs": 6, "validation_split": 0.25, "learning_rate": 0.01,
                             "early_stopping": stopping})
    objectives, directions = objectives_of(proj, None)
    the_plan = SweepPlan(project=proj, project_path=None, project_dir=tmp_path, folder=tmp_path,
                         storage="", study="mogui-sweep", trials=1, epochs=6,
                         space=search_space(proj, "weights", None), objectives=objectives,
                         directions=directions)
    x, size, kind = table_arrays(64)
    data = Dataset({"x": x.astype("float32")}, {"size": size.astype("float32"), "kind": kind})
    handle = JobHandle()
    handle.report = lambda _event: None  # the worker's events go nowhere here
    ended = _train_trial(handle, the_plan, {"weight_size": 1.0, "weight_kind": 1.0},
                         "trial-0", data, 0, TrainingControl())
    with open(tmp_path / "trial-0" / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert ended.state == "COMPLETE" and len(rows) == 2  # epoch 2 did not improve: stopped
    assert ended.objectives == {key: float(rows[0][key]) for key in objectives}
    assert ended.objectives != {key: float(rows[1][key]) for key in objectives}
