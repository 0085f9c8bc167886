"""A sweep logged to MLflow (``mogui sweep --mlflow``): one MLflow run for the sweep, its
trials nested under it (:meth:`~mogui.runner.sweep_plan.SweepPlan.trial_tracking`).

The sweep's run id is kept in the Optuna study (user attribute :data:`RUNS_ATTR`, per MLflow
store and experiment), so that a resumed sweep, and every machine that shares the study and
the store, nests its trials under the same run: the first ``mogui sweep --mlflow`` makes it,
later ones find it and mark it running again. A store that holds none of the ids kept (each
machine logging to a store of its own) gets a run of its own, kept beside the others'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from optuna.storages import BaseStorage

from mogui.core.mlflow_runs import resume_sweep_run, start_sweep_run
from mogui.core.tracking import TrackingOptions
from mogui.runner.sweep_plan import SweepPlan, masked

#: The study's user attribute: ``{"<store> <experiment>": [run ids]}``.
RUNS_ATTR = "mlflow_runs"


def store_key(options: TrackingOptions) -> str:
    """Which store and experiment ``options`` log to (a URL's password masked)."""
    return f"{masked(options.mlflow_uri or '')} {options.experiment}"


def _kept(storage: BaseStorage, study: str) -> tuple[int | None, dict[str, list[str]]]:
    """The study's id (``None``: no such study yet) and the sweep runs it keeps."""
    try:
        study_id = storage.get_study_id_from_name(study)
    except KeyError:
        return None, {}
    runs = storage.get_study_user_attrs(study_id).get(RUNS_ATTR)
    if not isinstance(runs, dict):
        return study_id, {}
    return study_id, {str(k): [str(i) for i in v] for k, v in runs.items()
                      if isinstance(v, list)}


def sweep_params(plan: SweepPlan) -> dict[str, Any]:
    """What the sweep's run is logged with: what it searches and optimises, as started."""
    space = plan.space
    params: dict[str, Any] = {
        "trials": plan.trials, "epochs": plan.epochs, "study": plan.study,
        "storage": masked(plan.storage) or "sweep.journal", "folder": plan.folder,
        "parameters": ",".join(space.parameters), "objectives": ",".join(plan.objectives),
        "directions": ",".join(plan.directions),
        "weight_range": f"{space.weight_range[0]:g}-{space.weight_range[1]:g}"}
    if space.methods:
        params["methods"] = ",".join(space.methods)
    if space.learning_rate is not None:
        params["learning_rate_range"] = f"{space.learning_rate[0]:g}-{space.learning_rate[1]:g}"
    if plan.project_path is not None:
        params["project"] = plan.project_path
    return params


def open_sweep_run(options: TrackingOptions, plan: SweepPlan,
                   storage: BaseStorage | None) -> tuple[str, bool]:
    """The sweep's MLflow run: one the study keeps, marked running again, or a new one named
    after the sweep's folder; ``(run id, whether it is new)``. ``storage`` is ``None`` while
    the study's storage does not exist yet. :class:`~mogui.core.tracking.TrackingError` when
    the store cannot be reached."""
    _, kept = _kept(storage, plan.study) if storage is not None else (None, {})
    for run_id in kept.get(store_key(options), []):
        if resume_sweep_run(options, run_id):
            return run_id, False
    tags: Mapping[str, str] = {"mogui.project": plan.project.name, "mogui.study": plan.study}
    run_id = start_sweep_run(replace(options, tags=tags), plan.folder.name, sweep_params(plan))
    return run_id, True


def keep_sweep_run(storage: BaseStorage, plan: SweepPlan, options: TrackingOptions,
                   run_id: str) -> None:
    """Keep ``run_id`` in the study (made by now), for resumes and other machines."""
    study_id, kept = _kept(storage, plan.study)
    if study_id is None:
        raise ValueError(f"the study '{plan.study}' does not exist yet")
    key = store_key(options)
    if run_id not in kept.get(key, []):
        kept[key] = [*kept.get(key, []), run_id]
        storage.set_study_user_attr(study_id, RUNS_ATTR, kept)
