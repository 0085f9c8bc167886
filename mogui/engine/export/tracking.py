"""A tracked run from start to end: the MLflow run opened before training, every epoch logged
while it trains, and at the end its status and artifacts: ``model.keras``, ``history.csv``,
the generated training script and ``project.json``.

Use :func:`tracked_training` around :func:`~mogui.engine.training.run_training`::

    with tracked_training(options, project, project_dir, out_dir, epochs) as tracking:
        result = run_training(project, data, reporter, control, epochs=epochs,
                              out_dir=out_dir, tracking=tracking)
        tracking.stopped = result.stopped

The run is "failed" when the block raises, "stopped" when ``tracking.stopped`` is set, else
"complete".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mogui.core.mlflow_runs import MlflowRun
from mogui.core.project import Project
from mogui.core.runs import HISTORY_FILE, MODEL_FILE, PROJECT_FILE
from mogui.core.tracking import TrackingOptions
from mogui.engine.export.codegen import generate_script, script_name
from mogui.engine.training import RunTracking

_log = logging.getLogger(__name__)


@contextmanager
def tracked_training(options: TrackingOptions | None, project: Project,
                     project_dir: Path | None, out_dir: Path | None,
                     epochs: int | None = None) -> Iterator[RunTracking | None]:
    """Log the run trained inside the block as ``options`` say (``None`` when they log
    nothing). Raises :class:`~mogui.core.tracking.TrackingError` before the block when the
    MLflow run cannot be started."""
    if options is None or not options.active:
        yield None
        return
    mlflow = MlflowRun.start(options, project, epochs) if options.mlflow_uri else None
    tracking = RunTracking(mlflow, options.tensorboard_dir)
    status = "failed"
    try:
        yield tracking
        status = "stopped" if tracking.stopped else "complete"
    finally:
        tracking.close()
        if mlflow is not None:
            folder = Path(out_dir) if out_dir is not None else None
            files = [folder / name for name in (MODEL_FILE, HISTORY_FILE, PROJECT_FILE)] \
                if folder is not None else []
            texts = _script(project, project_dir)
            if folder is None or not (folder / PROJECT_FILE).is_file():
                texts[PROJECT_FILE] = project.to_json()  # no run folder holds its snapshot
            mlflow.finish(status, files, texts)


def _script(project: Project, project_dir: Path | None) -> dict[str, str]:
    """``{file name: text}`` of the project's training script; empty if it cannot be made."""
    try:
        return {script_name(project): generate_script(project, project_dir)}
    except Exception as exc:  # noqa: BLE001 - the run's record goes on without it
        _log.warning("The training script was not logged: %s", exc)
        return {}
