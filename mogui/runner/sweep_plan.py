"""What a sweep searches and optimises: worked out from a project and the command's options,
checked, and handed to every worker process as plain data (:class:`SweepPlan`).

Each loss head's weight is searched log-uniformly in :data:`WEIGHT_RANGE` (a head's weight
is the number its loss is multiplied by; equal ratios mean the same trade-off whatever their
scale). When asked, the balancing method (one of the methods given, all by default) and the
learning rate (log-uniformly, a decade either side of the project's) are searched too. The
objectives are log keys of the last epoch (``val_<head>_loss`` by default): minimised, or
maximised for accuracies, AUC, precision and recall. The events a worker sends are here too,
so that the parent reads them without loading the engine. No Keras here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mogui.core.balancing import BALANCING_METHODS
from mogui.core.criteria import metric_direction
from mogui.core.errors import MoguiError
from mogui.core.log_keys import monitor_problem
from mogui.core.project import Balancing, Project
from mogui.core.sweep_results import Direction, SweepManifest
from mogui.core.tracking import TrackingOptions, trial_options

#: The range each head's loss weight is drawn from (log-uniformly).
WEIGHT_RANGE = (0.01, 100.0)
#: The learning rate is drawn (log-uniformly) from the project's divided and multiplied by this.
LEARNING_RATE_FACTOR = 10.0
#: The largest learning rate a project may have (``training.learning_rate``).
MAX_LEARNING_RATE = 10.0
#: What ``--search`` may name; the weights are always searched.
SEARCHABLE = ("weights", "balancing", "learning_rate")
DEFAULT_OBJECTIVE = "val_{head}_loss"
DEFAULT_STUDY = "mogui-sweep"
#: A worker stops after this many failed trials in a row (the same mistake, most likely).
MAX_FAILURES_IN_A_ROW = 3


class SweepError(MoguiError):
    """A sweep cannot run as asked; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class SearchSpace:
    """The parameters a sweep searches: each head's weight, and optionally the balancing
    method (``methods``: its choices) and the learning rate (``learning_rate``: its range)."""

    heads: tuple[str, ...]
    methods: tuple[str, ...] = ()
    learning_rate: tuple[float, float] | None = None
    weight_range: tuple[float, float] = WEIGHT_RANGE

    @property
    def parameters(self) -> tuple[str, ...]:
        """``weight_<head>`` for each head, then ``balancing`` and ``learning_rate`` when
        searched: the ``param_`` columns of ``trials.csv``."""
        names = [f"weight_{head}" for head in self.heads]
        if self.methods:
            names.append("balancing")
        if self.learning_rate is not None:
            names.append("learning_rate")
        return tuple(names)

    def describe(self) -> dict[str, Any]:
        """The space as JSON-able data (kept in the study, compared when a sweep resumes)."""
        return {"heads": list(self.heads), "weight_range": list(self.weight_range),
                "methods": list(self.methods),
                "learning_rate": None if self.learning_rate is None
                else list(self.learning_rate)}

    def apply(self, project: Project, params: Mapping[str, float | str]) -> Project:
        """A copy of ``project`` trained with ``params`` (one trial's values)."""
        trial = project.model_copy(deep=True)
        for head in trial.loss_heads():
            key = f"weight_{head.name}"
            if key in params:
                head.loss.weight = float(params[key])
        if "balancing" in params:
            method = str(params["balancing"])
            current = trial.training.balancing
            kept = dict(current.params) if current.method == method else {}
            trial.training.balancing = Balancing(method=method, params=kept)  # type: ignore[arg-type]
        if "learning_rate" in params:
            trial.training.learning_rate = float(params["learning_rate"])
        return trial


@dataclass(frozen=True)
class SweepPlan:
    """Everything a worker needs: the project, where things are, what is searched, how many
    trials and epochs, and what is optimised."""

    project: Project
    #: The project's file (``None`` for a shipped example); recorded in each trial's run.
    project_path: Path | None
    #: Where the project's relative data paths start.
    project_dir: Path | None
    #: The sweep's folder (``--out``).
    folder: Path
    #: The Optuna storage: ``""`` for the journal file in ``folder``, an RDB URL, or the path
    #: of a journal file.
    storage: str
    study: str
    trials: int
    epochs: int
    space: SearchSpace
    objectives: tuple[str, ...]
    directions: tuple[Direction, ...]
    #: How trials are logged (``--mlflow``): each an MLflow run nested under the sweep's run
    #: ``tracking_parent``; ``None``: not logged.
    tracking: TrackingOptions | None = None
    tracking_parent: str | None = None

    def trial_tracking(self, number: int, params: Mapping[str, float | str]
                       ) -> TrackingOptions | None:
        """How trial ``number`` is logged: a run ``trial-<number>`` under the sweep's, with
        its searched values as ``param_<name>`` parameters (the columns of ``trials.csv``)."""
        if self.tracking is None:
            return None
        return trial_options(self.tracking, self.tracking_parent, number,
                             {f"param_{name}": value for name, value in params.items()})

    def manifest(self, project_label: str) -> SweepManifest:
        """The sweep's ``sweep.json``; ``project_label`` names the project (its path)."""
        return SweepManifest(project=project_label, parameters=self.space.parameters,
                             objectives=self.objectives, directions=self.directions,
                             trials=self.trials, epochs=self.epochs,
                             storage=masked(self.storage), study=self.study)

    def search_record(self) -> dict[str, Any]:
        """What the study remembers of the search, so that every worker and every machine
        that joins it searches the same thing."""
        return {"project": self.project.name, "space": self.space.describe(),
                "objectives": list(self.objectives), "directions": list(self.directions),
                "epochs": self.epochs}


# -- what a worker reports -----------------------------------------------------------------

@dataclass(frozen=True)
class TrialStarted:
    number: int
    params: dict[str, float | str]
    run: str


@dataclass(frozen=True)
class TrialEpoch:
    number: int
    epoch: int  # 0-based
    epochs: int
    logs: dict[str, float]


@dataclass(frozen=True)
class TrialEnded:
    """A trial's end: ``state`` ``COMPLETE`` (with ``objectives``), ``FAIL`` (with
    ``error``) or ``INTERRUPTED`` (stopped; its parameters are queued again)."""

    number: int
    state: str
    params: dict[str, float | str]
    objectives: dict[str, float] = field(default_factory=dict)
    run: str = ""
    error: str = ""


@dataclass(frozen=True)
class WorkerSummary:
    """How a worker ended: trials run, and why it stopped early (``""``: the sweep was full)."""

    ran: int
    failed: int
    gave_up: str = ""


def masked(storage: str) -> str:
    """``storage`` with the password of a URL replaced by ``***`` (safe to write down)."""
    scheme, sep, rest = storage.partition("://")
    if not sep:
        return storage
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return storage
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def loss_heads(project: Project) -> tuple[str, ...]:
    """The heads whose weights a sweep searches; :class:`SweepError` when it cannot."""
    if project.loss_mode == "joint":
        raise SweepError("A sweep searches each head's loss weight, but this project trains "
                         "all heads with one joint loss (loss_mode 'joint'). Sweep a project "
                         "in per-output mode.")
    heads = tuple(head.name for head in project.loss_heads())
    if len(heads) < 2:
        named = f" (only '{heads[0]}')" if heads else ""
        raise SweepError(f"A sweep needs at least two heads trained by a loss to trade off; "
                         f"this project has {len(heads)}{named}. Give more heads a loss.")
    return heads


def search_space(project: Project, search: str | None, methods: str | None) -> SearchSpace:
    """The space that ``--search`` and ``--methods`` ask for."""
    heads = loss_heads(project)
    asked = [word.strip() for word in (search or "weights").split(",") if word.strip()]
    if search is not None and not asked:
        raise SweepError(f"--search '{search}' names nothing to search; give a comma-separated "
                         f"list of {', '.join(SEARCHABLE)} (the weights are always searched).")
    unknown = [word for word in asked if word not in SEARCHABLE]
    if unknown:
        raise SweepError(f"--search '{search}': '{unknown[0]}' cannot be searched; give a "
                         f"comma-separated list of {', '.join(SEARCHABLE)} (the weights are "
                         "always searched).")
    chosen: tuple[str, ...] = ()
    if methods is not None:
        chosen = tuple(dict.fromkeys(m.strip() for m in methods.split(",") if m.strip()))
        wrong = [m for m in chosen if m not in BALANCING_METHODS]
        if wrong or not chosen:
            raise SweepError(f"--methods '{methods}': "
                             + (f"'{wrong[0]}' is not a balancing method" if wrong
                                else "names no method")
                             + f"; choose from {', '.join(BALANCING_METHODS)}.")
    elif "balancing" in asked:
        chosen = tuple(BALANCING_METHODS)
    rate = None
    if "learning_rate" in asked:
        base = project.training.learning_rate
        rate = (base / LEARNING_RATE_FACTOR, min(base * LEARNING_RATE_FACTOR, MAX_LEARNING_RATE))
    return SearchSpace(heads=heads, methods=chosen, learning_rate=rate)


def direction_of(key: str) -> Direction:
    """``maximize`` for accuracies, AUC, precision and recall; ``minimize`` for the rest."""
    return "maximize" if metric_direction(key) == "max" else "minimize"


def objectives_of(project: Project, text: str | None
                  ) -> tuple[tuple[str, ...], tuple[Direction, ...]]:
    """The objectives ``--objective`` names: comma-separated log keys, each ``{head}`` in
    one standing for every loss head in turn; and their directions."""
    heads = loss_heads(project)
    pattern = text if text is not None and text.strip() else DEFAULT_OBJECTIVE
    keys: list[str] = []
    for item in (part.strip() for part in pattern.split(",")):
        if not item:
            continue
        keys += [item.replace("{head}", head) for head in heads] if "{head}" in item \
            else [item]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    keys = list(dict.fromkeys(keys))
    for key in keys:
        if (problem := monitor_problem(project, key)) is not None:
            raise SweepError(f"--objective {problem.replace('watches', 'names')}. Use "
                             "{head} for each head's own, e.g. --objective val_{head}_loss.")
    if len(keys) < 2:
        named = f" ({', '.join(twice)} named twice counts once)" if twice else ""
        raise SweepError(f"--objective '{pattern}' gives {len(keys)} objective{named}; a sweep "
                         "trades off at least two, e.g. --objective 'val_{head}_loss' (one per "
                         "head).")
    return tuple(keys), tuple(direction_of(key) for key in keys)


def whole_number(text: str | int | None, option: str, minimum: int, maximum: int,
                 meaning: str) -> int:
    """``text`` as a whole number from ``minimum`` to ``maximum``; :class:`SweepError`
    naming ``option`` and saying what it means otherwise."""
    try:
        value = float(text) if text is not None else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value != int(value) or not minimum <= value <= maximum:
        raise SweepError(f"{option} '{text}' must be a whole number from {minimum} to "
                         f"{maximum}: {meaning}.")
    return int(value)


def final_values(history: Mapping[str, Sequence[float]], objectives: Sequence[str],
                 epoch: int | None = None) -> tuple[list[float], str]:
    """Each objective's value in the last epoch (or in ``epoch``, counted from 1: the one
    whose weights early stopping restored), and what is wrong with them (``""`` when every
    one is a finite number)."""
    values = []
    for key in objectives:
        series = history.get(key) or []
        at = epoch - 1 if epoch is not None and 0 < epoch <= len(series) else -1
        values.append(float(series[at]) if series else math.nan)
    bad = [f"{key} is {'missing' if not history.get(key) else value}"
           for key, value in zip(objectives, values, strict=True) if not math.isfinite(value)]
    if bad:
        return values, "training gave no usable objective (" + ", ".join(bad) + \
            "); the loss may have diverged with these settings"
    return values, ""
