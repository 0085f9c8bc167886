"""Runs logged to MLflow: parameters and tags at the start, every history column per epoch,
the status and artifacts at the end; a sweep's parent run. No Qt, no keras.

MLflow is imported only here, and only when a run is logged; without it the run fails before
training with a message naming the extra to install. Once a run trains, a store that stops
answering costs only the MLflow record: the run itself and its files are kept (a warning is
logged).
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from mogui import __version__
from mogui.core.project import Project, slug_of
from mogui.core.tracking import STATUSES, TrackingError, TrackingOptions, mlflow_missing, run_params

_log = logging.getLogger(__name__)
#: How a run's ``mogui.status`` maps to MLflow's own run status.
_MLFLOW_STATUS = {"complete": "FINISHED", "stopped": "KILLED", "failed": "FAILED"}
#: MLflow's HTTP retries, unless set in the environment (its defaults wait minutes).
_HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
                  "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                  "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
#: Epochs in a row that could not be logged before a run stops trying.
_MAX_FAILED_EPOCHS = 3


def _client(uri: str) -> Any:
    """An ``MlflowClient`` for ``uri`` (MLflow imported now, its chatter turned down)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from mlflow.tracking import MlflowClient
    except ImportError:
        raise TrackingError(mlflow_missing(uri) or "MLflow cannot be imported.") from None
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name, value in _HTTP_DEFAULTS.items():  # a server that is down: seconds, not minutes
        os.environ.setdefault(name, value)
    # MLflow's SQL store uses a loader strategy that SQLAlchemy 2.1 calls deprecated.
    warnings.filterwarnings("ignore", message=".*noload.*", category=DeprecationWarning)
    return MlflowClient(tracking_uri=uri)


def _reason(exc: BaseException) -> str:
    """The error on one line, cut at 300 characters, ending as a sentence."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = text[:300] + "…" if len(text) > 300 else text
    return text if text[-1] in ".…!?" else text + "."


def _experiment_id(client: Any, options: TrackingOptions) -> str:
    """The experiment's id; made (in the local store: with an artifact folder of its own,
    ``mlartifacts/<experiment>``) when it does not exist."""
    name = options.experiment
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        root = options.artifact_root  # one folder per experiment in the local store's
        location = (Path(root).absolute() / (slug_of(name) or "experiment")).as_uri() \
            if root is not None else None
        try:
            return str(client.create_experiment(name, artifact_location=location))
        except Exception:  # noqa: BLE001 - made at the same moment by another process
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
    if experiment.lifecycle_stage == "deleted":
        raise TrackingError(
            f"The MLflow experiment '{name}' was deleted. Restore it (mlflow experiments "
            "restore) or log to another experiment (--mlflow-experiment NAME).")
    return str(experiment.experiment_id)


def _open_run(options: TrackingOptions, params: Mapping[str, str],
              tags: Mapping[str, str]) -> tuple[Any, str]:
    """Start an MLflow run: ``(client, run_id)``; :class:`TrackingError` if that fails."""
    uri = options.mlflow_uri
    if uri is None:
        raise ValueError("these options log nothing to MLflow")
    try:
        client = _client(uri)
        experiment = _experiment_id(client, options)
        all_tags = {"mogui.version": __version__, **tags, **options.tags}
        if options.parent_run_id:
            all_tags["mlflow.parentRunId"] = options.parent_run_id
        run = client.create_run(experiment, tags=all_tags, run_name=options.run_name)
        run_id = run.info.run_id
        from mlflow.entities import Param

        client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])
    except TrackingError:
        raise
    except Exception as exc:  # noqa: BLE001 - any store failure is one plain line
        raise TrackingError(
            f"The run cannot be logged to MLflow at '{uri}': {_reason(exc)} Check the store "
            "(MLFLOW_TRACKING_URI), or train without --mlflow.") from None
    return client, run_id


def _end(client: Any, run_id: str, status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    client.set_tag(run_id, "mogui.status", status)
    client.set_terminated(run_id, _MLFLOW_STATUS[status])


class MlflowRun:
    """One training run's MLflow run; :meth:`start` makes it."""

    def __init__(self, client: Any, run_id: str) -> None:
        self.client = client
        self.run_id = run_id
        self._failures = 0

    @classmethod
    def start(cls, options: TrackingOptions, project: Project,
              epochs: int | None = None) -> MlflowRun:
        """Start the run: the project's training parameters (and ``options.params``), and the
        tags ``mogui.project`` and ``mogui.version``."""
        params = {**run_params(project, epochs), **{k: str(v) for k, v in
                                                    options.params.items()}}
        client, run_id = _open_run(options, params, {"mogui.project": project.name})
        return cls(client, run_id)

    def log_epoch(self, epoch: int, logs: Mapping[str, float]) -> None:
        """Every value of an epoch (1-based, as in ``history.csv``) as a metric at that step."""
        if self._failures >= _MAX_FAILED_EPOCHS:
            return
        try:
            from mlflow.entities import Metric

            now = int(time.time() * 1000)
            self.client.log_batch(self.run_id, metrics=[
                Metric(str(k), float(v), now, epoch) for k, v in logs.items()])
            self._failures = 0
        except Exception as exc:  # noqa: BLE001 - training goes on; its files are kept
            self._failures += 1
            last = self._failures >= _MAX_FAILED_EPOCHS
            _log.warning("Epoch %d could not be logged to MLflow%s: %s", epoch,
                         " (no more epochs of this run will be)" if last else "", _reason(exc))

    def finish(self, status: str, files: Iterable[Path] = (),
               texts: Mapping[str, str] | None = None) -> None:
        """Log ``files`` (those that exist) and ``texts`` (name -> content) as artifacts, then
        end the run with ``status`` (complete, stopped or failed)."""
        try:
            for path in files:
                if Path(path).is_file():
                    self.client.log_artifact(self.run_id, str(path))
            for name, text in (texts or {}).items():
                self.client.log_text(self.run_id, text, name)
        except Exception as exc:  # noqa: BLE001 - the run's own files are what counts
            _log.warning("The run's files could not be logged to MLflow: %s", _reason(exc))
        try:
            _end(self.client, self.run_id, status)
        except Exception as exc:  # noqa: BLE001
            _log.warning("The MLflow run could not be ended: %s", _reason(exc))


def start_sweep_run(options: TrackingOptions, name: str,
                    params: Mapping[str, Any] | None = None) -> str:
    """Start a sweep's MLflow run (its trials are nested under it, see
    :func:`mogui.core.tracking.trial_options`); its id."""
    values = {k: str(v) for k, v in (params or {}).items()}
    _, run_id = _open_run(replace(options, run_name=name), values, {"mogui.sweep": "true"})
    return run_id


def finish_sweep_run(options: TrackingOptions, run_id: str, status: str,
                     files: Iterable[Path] = ()) -> None:
    """End a sweep's MLflow run with ``status``, logging ``files`` (trials.csv, pareto.csv,
    the front's plot) as its artifacts."""
    if options.mlflow_uri is None:
        raise ValueError("these options log nothing to MLflow")
    MlflowRun(_client(options.mlflow_uri), run_id).finish(status, files)


def resume_sweep_run(options: TrackingOptions, run_id: str) -> bool:
    """Mark the sweep's run ``run_id`` running again, so that a resumed sweep (or another
    machine's part of it) nests its trials under it; False when the store holds no such run
    in ``options.experiment``. :class:`TrackingError` when the store cannot be reached."""
    uri = options.mlflow_uri
    if uri is None:
        raise ValueError("these options log nothing to MLflow")
    try:
        client = _client(uri)
        experiment = _experiment_id(client, options)
    except TrackingError:
        raise
    except Exception as exc:  # noqa: BLE001 - any store failure is one plain line
        raise TrackingError(
            f"The sweep cannot be logged to MLflow at '{uri}': {_reason(exc)} Check the store "
            "(MLFLOW_TRACKING_URI), or run the sweep without --mlflow.") from None
    try:
        info = client.get_run(run_id).info
    except Exception:  # noqa: BLE001 - not in this store (another machine's own, say)
        return False
    if info.experiment_id != experiment or info.lifecycle_stage == "deleted":
        return False
    try:
        client.update_run(run_id, status="RUNNING")
        if "mogui.status" in client.get_run(run_id).data.tags:
            client.delete_tag(run_id, "mogui.status")
    except Exception as exc:  # noqa: BLE001
        raise TrackingError(
            f"The sweep's MLflow run {run_id} cannot be continued at '{uri}': "
            f"{_reason(exc)} Check the store, or run the sweep without --mlflow.") from None
    return True
