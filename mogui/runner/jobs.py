"""The jobs a child process runs: everything that may execute a project's own code.

Each job is ``fn(handle, *args)`` (see :class:`mogui.core.jobs.JobHandle`); arguments and
results cross the pipe, so they are plain data: projects, paths, reports. Trained models stay
in the run folder (``model.keras``), never in the parent's memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mogui.core.jobs import JobHandle
from mogui.core.project import Project
from mogui.engine.data import load_data
from mogui.engine.export import ExportResult, export_project
from mogui.engine.losses import DryRunReport, LossContract, dry_run, loss_contract
from mogui.engine.training import TrainingControl, configure_devices, run_training


@dataclass(frozen=True)
class TrainRequest:
    """A run: which project, where its data and run folder are, how many epochs."""

    project: Project
    project_dir: Path | None = None
    out_dir: Path | None = None
    epochs: int | None = None


@dataclass(frozen=True)
class TrainSummary:
    """What a finished or stopped run sends back; its model is ``out_dir/model.keras``."""

    history: dict[str, list[float]]
    stopped: bool
    epochs_run: int
    device: str


def _control(handle: JobHandle) -> TrainingControl:
    control = TrainingControl()
    handle.on_cancel(control.stop)
    handle.on_command("pause", control.pause)
    handle.on_command("resume", control.resume)
    return control


def train(handle: JobHandle, request: TrainRequest) -> TrainSummary:
    """Train the project, reporting every training event; honours cancel, pause and resume."""
    control = _control(handle)
    configure_devices()
    data = load_data(request.project, request.project_dir)
    result = run_training(request.project, data, handle.report, control, epochs=request.epochs,
                          out_dir=request.out_dir, save_each_epoch=request.out_dir is not None)
    return TrainSummary(result.history, result.stopped, result.epochs_run, result.device)


def dry_run_job(handle: JobHandle, project: Project, project_dir: Path | None,
                batch_size: int | None = None) -> DryRunReport:
    """The dry run on the project's first batch."""
    handle.check_cancelled()
    return dry_run(project, load_data(project, project_dir), batch_size)


def loss_contract_job(handle: JobHandle, project: Project) -> list[LossContract]:
    """What each loss will receive, from the model's shapes."""
    handle.check_cancelled()
    return loss_contract(project)


def export_job(handle: JobHandle, project: Project, out_dir: Path,
               options: dict[str, Any]) -> ExportResult:
    """Export (training first unless ``options["from_run"]`` names a run folder)."""
    return export_project(project, out_dir, reporter=handle.report, control=_control(handle),
                          **options)


JOBS: dict[str, Callable[..., Any]] = {
    "train": train,
    "dry_run": dry_run_job,
    "loss_contract": loss_contract_job,
    "export": export_job,
}
