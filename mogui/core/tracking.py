"""Run tracking: where a run is logged (MLflow, TensorBoard) and what is logged; no Qt, no keras.

:class:`TrackingOptions` is plain data: the command line and the app make it, it crosses the
pipe to the training child in the run's request, and the child logs the run with it
(:mod:`mogui.core.mlflow_runs`, the engine's per-epoch callbacks).

MLflow's default store is local: an SQLite file ``mlflow.db`` in the ``runs`` folder beside
the project (the folder that holds ``runs/<project file stem>/``), its artifacts in
``runs/mlartifacts/``; ``MLFLOW_TRACKING_URI`` names another store or a server instead. The
experiment is named after the project file (an untitled project: after its name).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mogui.core.errors import MoguiError
from mogui.core.paths import unwritable_folder
from mogui.core.project import Project
from mogui.core.run_store import runs_dir

#: The environment variable that names an MLflow store or server (MLflow's own).
URI_VARIABLE = "MLFLOW_TRACKING_URI"
#: The local store's database and artifact folder, in the ``runs`` folder beside the project.
STORE_FILE = "mlflow.db"
ARTIFACTS_DIR = "mlartifacts"
#: The extra that installs MLflow (and TensorBoard, to view the logs).
INSTALL_HINT = "pip install -e '.[tracking]' in mogui's folder"
#: What a run ended as, in the ``mogui.status`` tag.
STATUSES = ("complete", "stopped", "failed")


class TrackingError(MoguiError):
    """A run cannot be logged (MLflow missing, its store unreachable); the message says why."""


@dataclass(frozen=True)
class TrackingOptions:
    """How one run is logged: to MLflow (``mlflow_uri`` set), TensorBoard (``tensorboard_dir``
    set), both or neither."""

    #: The MLflow store or server; ``None``: not logged to MLflow.
    mlflow_uri: str | None = None
    experiment: str = "mogui"
    #: Where a new experiment keeps its artifacts (the local store's folder); ``None``: the
    #: store's default.
    artifact_root: Path | None = None
    #: The MLflow run's name (the run folder's name, or ``trial-3`` in a sweep).
    run_name: str | None = None
    #: The sweep's MLflow run, under which this run is nested.
    parent_run_id: str | None = None
    #: Parameters logged besides the project's (a sweep trial's searched values).
    params: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    #: The run's TensorBoard folder: scalars go to ``train/`` and ``validation/`` in it.
    tensorboard_dir: Path | None = None

    @property
    def active(self) -> bool:
        return self.mlflow_uri is not None or self.tensorboard_dir is not None


def local_store(project: Project, project_path: Path | None) -> Path:
    """The default MLflow database of ``project``'s runs (``runs/mlflow.db``)."""
    return runs_dir(project, project_path).parent / STORE_FILE


def tracking_uri(project: Project, project_path: Path | None) -> str:
    """``$MLFLOW_TRACKING_URI`` when set, else the local store's ``sqlite:///…`` URI."""
    return os.environ.get(URI_VARIABLE) or \
        f"sqlite:///{local_store(project, project_path).absolute()}"


def experiment_name(project: Project, project_path: Path | None) -> str:
    """The project file's name without ``.json`` (an untitled project: its name's slug)."""
    return runs_dir(project, project_path).name


def mlflow_options(project: Project, project_path: Path | None, *,
                   experiment: str | None = None, run_name: str | None = None,
                   tensorboard_dir: Path | None = None) -> TrackingOptions:
    """Options that log a run of ``project`` to MLflow (the default store unless
    ``$MLFLOW_TRACKING_URI``), in ``experiment`` (default: named after the project file)."""
    uri = tracking_uri(project, project_path)
    local = not os.environ.get(URI_VARIABLE)
    root = local_store(project, project_path).parent / ARTIFACTS_DIR if local else None
    return TrackingOptions(mlflow_uri=uri, experiment=experiment or
                           experiment_name(project, project_path), artifact_root=root,
                           run_name=run_name, tensorboard_dir=tensorboard_dir)


def trial_options(sweep: TrackingOptions, parent_run_id: str | None, trial: int,
                  params: Mapping[str, Any], *, tensorboard_dir: Path | None = None
                  ) -> TrackingOptions:
    """A sweep trial's options: an MLflow run ``trial-N`` nested under the sweep's run
    ``parent_run_id``, with the trial's ``params`` (its searched values) logged too."""
    return replace(sweep, run_name=f"trial-{trial}", parent_run_id=parent_run_id,
                   params={**sweep.params, **params},
                   tags={**sweep.tags, "mogui.trial": str(trial)},
                   tensorboard_dir=tensorboard_dir)


def mlflow_missing(uri: str | None = None) -> str | None:
    """Why runs cannot be logged to MLflow here (the extra is not installed), or ``None``."""
    needed = ["mlflow"]
    if uri is None or uri.startswith("sqlite:"):
        needed += ["sqlalchemy", "alembic"]  # the SQL store's own requirements
    missing = [name for name in needed if not _installed(name)]
    if not missing:
        return None
    return (f"Runs cannot be logged to MLflow: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed. Install the tracking extra "
            f"({INSTALL_HINT}), or train without --mlflow.")


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules, a broken one
        return False


def folder_problem(folder: Path, option: str) -> str | None:
    """Why logs cannot be written to ``folder`` (given as ``option``), or ``None``."""
    return unwritable_folder(folder, option, "Give a folder you can write to (it is made if "
                             "missing).")


def run_params(project: Project, epochs: int | None = None) -> dict[str, str]:
    """What a run is logged with: the training settings, each loss head's loss and weight
    (and schedule), and the balancing method with every parameter."""
    settings = project.training
    params: dict[str, Any] = {
        "optimizer": settings.optimizer, "learning_rate": settings.learning_rate,
        "batch_size": settings.batch_size,
        "epochs": settings.epochs if epochs is None else epochs, "seed": settings.seed,
        "validation_split": settings.validation_split, "shuffle": settings.shuffle,
        "mixed_precision": settings.mixed_precision, "devices": settings.devices,
        "loss_mode": project.loss_mode, "balancing": settings.balancing.method,
    }
    params.update({f"balancing.{name}": value
                   for name, value in settings.balancing.settings().items()})
    for head in project.loss_heads():
        if project.loss_mode == "joint":
            weight = project.joint_loss.term_weights.get(head.name, 1.0)
            params[f"weight.{head.name}"] = weight
            continue
        params[f"loss.{head.name}"] = head.loss.kind
        params[f"weight.{head.name}"] = head.loss.weight
        schedule = head.loss.schedule
        if schedule.kind != "constant":
            params[f"schedule.{head.name}"] = schedule.kind
            params.update({f"schedule.{head.name}.{k}": v for k, v in schedule.params.items()})
    return {name: str(value) for name, value in params.items()}
