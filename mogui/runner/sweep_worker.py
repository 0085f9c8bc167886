"""A sweep's worker: the job a child process runs (``"sweep_worker"`` in
:data:`mogui.runner.jobs.JOBS`). It loads the project's data once, then claims trials from the
study and trains each in a run folder of its own (``<sweep folder>/runs/trial-<number>``, a
normal run: ``project.json`` with the trial's settings, ``run.json``, ``history.csv``,
``model.keras``) until the sweep has its trials or it is cancelled. With ``--mlflow`` each
trial is also an MLflow run nested under the sweep's (:meth:`SweepPlan.trial_tracking`).

Events sent to the parent (:mod:`mogui.runner.sweep_plan`): ``TrialStarted``, ``TrialEpoch``
and ``TrialEnded``. A cancelled worker stops its trial after the batch in progress, marks it
interrupted (its parameters are queued again) and ends with ``JobCancelled``.
"""

from __future__ import annotations

import threading
from pathlib import Path

import keras

from mogui.core.events import EpochEnded
from mogui.core.jobs import JobCancelled, JobHandle
from mogui.core.run_store import RunRecorder, create_run
from mogui.core.runs import RunStatus
from mogui.engine.data import Dataset, StreamingDataset, load_data
from mogui.engine.export import tracked_training
from mogui.engine.training import TrainingControl, configure_devices, run_training
from mogui.runner.sweep_plan import (
    MAX_FAILURES_IN_A_ROW,
    SweepPlan,
    TrialEnded,
    TrialEpoch,
    TrialStarted,
    WorkerSummary,
    final_values,
)

#: Runs of the trials, inside the sweep's folder.
RUNS_FOLDER = "runs"


def run_folder(number: int) -> str:
    """Trial ``number``'s run folder, relative to the sweep's folder."""
    return f"{RUNS_FOLDER}/trial-{number:04d}"


def sweep_worker(handle: JobHandle, plan: SweepPlan) -> WorkerSummary:
    """Run trials of ``plan``'s sweep until it has them all; see the module's docstring."""
    # Optuna loads in sweep workers only, not in every child process that imports the jobs.
    from mogui.runner.sweep_study import RUN, SweepStudy, open_storage

    handle.check_cancelled()
    configure_devices()
    data = load_data(plan.project, plan.project_dir)
    handle.check_cancelled()
    sweep = SweepStudy(open_storage(plan.storage, plan.folder), plan)
    control: list[TrainingControl] = []
    lock = threading.Lock()

    def cancel() -> None:
        with lock:
            for item in control:
                item.stop()

    handle.on_cancel(cancel)
    ran = failed = in_a_row = 0
    last_error = ""
    while (trial := sweep.claim(plan.trials, lambda: handle.cancelled)) is not None:
        params = dict(trial.params)
        run = run_folder(trial.number)
        sweep.set_attrs(trial.number, {RUN: run})
        if handle.cancelled:
            sweep.interrupt(trial.number, params, "interrupted: the sweep was stopped")
            break
        handle.report(TrialStarted(trial.number, params, run))
        trial_control = TrainingControl()
        with lock:
            control[:] = [trial_control]
        if handle.cancelled:
            trial_control.stop()
        with sweep.heartbeat(trial.number):
            ended = _train_trial(handle, plan, params, run, data, trial.number, trial_control)
        if ended.state == "INTERRUPTED":
            sweep.interrupt(trial.number, params, ended.error)
        elif ended.state == "COMPLETE" and not sweep.complete(
                trial, [ended.objectives[k] for k in plan.objectives]):
            ended = TrialEnded(trial.number, "INTERRUPTED", params, run=run,
                               error="taken for abandoned by another worker; not kept")
        elif ended.state == "FAIL":
            sweep.failed(trial, ended.error)
        handle.report(ended)
        keras.utils.clear_session(free_memory=True)
        if ended.state == "INTERRUPTED":
            continue  # stopped (the next claim sees it) or taken over: not this worker's
        ran += 1
        failed += ended.state == "FAIL"
        in_a_row = in_a_row + 1 if ended.state == "FAIL" else 0
        last_error = ended.error or last_error
        if in_a_row >= MAX_FAILURES_IN_A_ROW:
            return WorkerSummary(ran, failed, gave_up=last_error)
    if handle.cancelled:
        raise JobCancelled
    return WorkerSummary(ran, failed)


def _train_trial(handle: JobHandle, plan: SweepPlan, params: dict[str, float | str], run: str,
                 data: Dataset | StreamingDataset, number: int,
                 control: TrainingControl) -> TrialEnded:
    """Train one trial in its run folder; how it ended."""
    project = plan.space.apply(plan.project, params)
    project.training.epochs = plan.epochs
    record = create_run(project, plan.project_path, folder=Path(plan.folder) / run)
    recorder = RunRecorder(record)

    def report(event: object) -> None:
        recorder(event)
        if isinstance(event, EpochEnded):
            handle.report(TrialEpoch(number, event.epoch, plan.epochs, dict(event.logs)))

    try:
        with tracked_training(plan.trial_tracking(number, params), project, plan.project_dir,
                              record.folder, plan.epochs) as tracking:
            result = run_training(project, data, report, control, epochs=plan.epochs,
                                  out_dir=record.folder, save_each_epoch=True,
                                  tracking=tracking)
            if tracking is not None:  # "stopped" only when the trial is run again
                tracking.stopped = result.stopped and result.epochs_run < plan.epochs
    except Exception as exc:  # noqa: BLE001 - a trial's failure is its result
        recorder.finish(RunStatus.FAILED, " ".join(str(exc).split()))
        return TrialEnded(number, "FAIL", params, run=run, error=str(exc) or type(exc).__name__)
    if result.stopped and result.epochs_run < plan.epochs:  # not when the stop came late
        recorder.finish(RunStatus.STOPPED)
        return TrialEnded(number, "INTERRUPTED", params, run=run,
                          error="interrupted: the sweep was stopped")
    recorder.finish(RunStatus.FINISHED)
    values, problem = final_values(result.history, plan.objectives, result.restored_epoch)
    if problem:
        return TrialEnded(number, "FAIL", params, run=run, error=problem)
    return TrialEnded(number, "COMPLETE", params, dict(zip(plan.objectives, values, strict=True)),
                      run=run)
