"""The jobs a child process runs: everything that may execute a project's own code.

Each job is ``fn(handle, *args)`` (see :class:`mogui.core.jobs.JobHandle`); arguments and
results cross the pipe, so they are plain data: projects, paths, reports. Trained models stay
in the run folder (``model.keras``), never in the parent's memory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mogui.core.io import atomic_write_text
from mogui.core.jobs import JobHandle
from mogui.core.project import Project
from mogui.engine.data import Dataset, load_checked, load_data, predict_mean_baseline
from mogui.engine.evaluation import Evaluation, Rows, evaluate_run, predict_run
from mogui.engine.export import ExportResult, export_project, tracked_training
from mogui.engine.losses import dry_run
from mogui.engine.training import TrainingControl, configure_devices, run_training
from mogui.runner.requests import DryRunResult, PredictSummary, TrainRequest, TrainSummary
from mogui.runner.sweep_worker import sweep_worker


def _control(handle: JobHandle) -> TrainingControl:
    control = TrainingControl()
    handle.on_cancel(control.stop)
    handle.on_command("pause", control.pause)
    handle.on_command("resume", control.resume)
    handle.on_command("loss_weights", control.set_loss_weights)  # payload {head: weight}
    return control


def train(handle: JobHandle, request: TrainRequest) -> TrainSummary:
    """Train the project, reporting every training event; honours cancel, pause, resume and
    ``("loss_weights", {head: weight})``; logs the run as ``request.tracking`` asks."""
    control = _control(handle)
    configure_devices()
    data = request.data
    if data is None:
        data = load_data(request.project, request.project_dir)
    with tracked_training(request.tracking, request.project, request.project_dir,
                          request.out_dir, request.epochs) as tracking:
        result = run_training(request.project, data, handle.report, control,
                              epochs=request.epochs, out_dir=request.out_dir,
                              save_each_epoch=request.out_dir is not None, tracking=tracking)
        if tracking is not None:
            tracking.stopped = result.stopped
    settings = request.project.training
    baseline: dict[str, float] = {}
    has_validation = settings.validation_split > 0
    if request.baseline:  # streamed data: its targets alone, the same rows for each split
        targets = data if isinstance(data, Dataset) else data.targets_only()
        train_rows, val_rows = targets.split(settings.validation_split, settings.seed)
        baseline = predict_mean_baseline(train_rows, val_rows, request.project)
        has_validation = val_rows is not None
    return TrainSummary(result.history, result.stopped, result.epochs_run, result.device,
                        baseline, has_validation)


def dry_run_job(handle: JobHandle, project: Project, project_dir: Path | None,
                batch_size: int | None = None) -> DryRunResult:
    """The dry run on the project's first batch."""
    handle.check_cancelled()
    data, checks = load_checked(project, project_dir)
    if batch_size is not None:
        batch_size = max(1, min(batch_size, data.num_samples))
    return DryRunResult(dry_run(project, data, batch_size), data.num_samples,
                        tuple(checks.warnings))


def export_job(handle: JobHandle, project: Project, out_dir: Path,
               options: dict[str, Any]) -> ExportResult:
    """Export (training first unless ``options["from_run"]`` names a run folder)."""
    return export_project(project, out_dir, reporter=handle.report, control=_control(handle),
                          **options)


def predict_job(handle: JobHandle, run_dir: Path, data_file: Path, out_file: Path,
                project: Project | None = None, keep: str = "") -> PredictSummary:
    """The run's predictions for ``data_file``, written to ``out_file`` (CSV, atomically),
    after the ``keep`` columns of the file."""
    handle.check_cancelled()
    table = predict_run(run_dir, data_file, project, keep)
    handle.check_cancelled()
    atomic_write_text(out_file, table.csv_text())
    lines = [*(table.evaluation.lines() if table.evaluation is not None else []),
             *table.notes]
    return PredictSummary(len(table.rows), table.columns, lines)


def evaluate_job(handle: JobHandle, run_dir: Path, rows: Rows = "validation",
                 worst: int = 10) -> Evaluation:
    """The run's figures per head on its project's data (the validation rows by default)."""
    handle.check_cancelled()
    return evaluate_run(run_dir, rows=rows, worst=worst)


JOBS: dict[str, Callable[..., Any]] = {
    "train": train,
    "dry_run": dry_run_job,
    "export": export_job,
    "predict": predict_job,
    "evaluate": evaluate_job,
    "sweep_worker": sweep_worker,
}
