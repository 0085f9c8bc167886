"""Run tracking on the command line: ``--mlflow``, ``--mlflow-experiment NAME`` and
``--tensorboard DIR`` of ``mogui train`` (and of ``mogui sweep``), checked before any training.

MLflow is not imported here: whether it is installed is looked up, and the training child
logs the run (:mod:`mogui.core.mlflow_runs`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mogui.core.project import Project
from mogui.core.tracking import (
    STORE_FILE,
    URI_VARIABLE,
    TrackingOptions,
    folder_problem,
    mlflow_missing,
    mlflow_options,
    tracking_uri,
)


def add_tracking_arguments(parser: Any, *, tensorboard: bool = True) -> None:
    """Add ``--mlflow``, ``--mlflow-experiment`` and (with ``tensorboard``) ``--tensorboard``."""
    what = ("the run: parameters, each head's values per epoch, the model, the training "
            "script and the project" if tensorboard else
            "the sweep as one run, each trial a run nested in it (its parameters, values per "
            "epoch and objectives), and the Pareto front")
    parser.add_argument("--mlflow", action="store_true",
                        help=f"log {what} to MLflow (needs mogui[tracking]; store: "
                        f"${URI_VARIABLE}, else runs/{STORE_FILE} beside the project)")
    parser.add_argument("--mlflow-experiment", metavar="NAME",
                        help="the MLflow experiment to log to (implies --mlflow; default: the "
                        "project file's name)")
    if tensorboard:
        parser.add_argument("--tensorboard", metavar="DIR",
                            help="write TensorBoard logs, per-head scalars per epoch, to "
                            "DIR/<run name>/train and .../validation (view them with "
                            "tensorboard --logdir DIR)")


def wants_mlflow(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "mlflow", False) or getattr(args, "mlflow_experiment", None))


def tracking_problem(args: argparse.Namespace, project: Project,
                     project_path: Path | None) -> str | None:
    """What is wrong with the tracking options (checked before anything is written)."""
    experiment = getattr(args, "mlflow_experiment", None)
    if experiment is not None and not experiment.strip():
        return ("--mlflow-experiment must name an experiment, e.g. --mlflow-experiment "
                "shapes; leave it out to use the project file's name.")
    if wants_mlflow(args) and (missing := mlflow_missing(tracking_uri(project, project_path))):
        return missing
    folder = getattr(args, "tensorboard", None)
    if folder is not None:
        if not folder.strip():
            return "--tensorboard needs a folder, e.g. --tensorboard tb_logs."
        return folder_problem(Path(folder), "--tensorboard")
    return None


def tracking_options(args: argparse.Namespace, project: Project, project_path: Path | None,
                     run_name: str) -> TrackingOptions | None:
    """How the run named ``run_name`` (its folder's name) is logged; ``None``: nowhere."""
    folder = getattr(args, "tensorboard", None)
    tensorboard = Path(folder).absolute() / run_name if folder else None
    if wants_mlflow(args):
        experiment = getattr(args, "mlflow_experiment", None)
        return mlflow_options(project, project_path, run_name=run_name,
                              experiment=experiment.strip() if experiment else None,
                              tensorboard_dir=tensorboard)
    return TrackingOptions(run_name=run_name, tensorboard_dir=tensorboard) if tensorboard \
        else None


def describe_tracking(options: TrackingOptions | None) -> list[str]:
    """Where the run is logged, one line each (nothing when it is not)."""
    if options is None:
        return []
    lines = []
    if options.mlflow_uri is not None:
        lines.append(f"MLflow: experiment '{options.experiment}', run '{options.run_name}' "
                     f"in {options.mlflow_uri}")
    if options.tensorboard_dir is not None:
        lines.append(f"TensorBoard logs: {options.tensorboard_dir}")
    return lines
