"""A sweep's results on disk: ``sweep.json``, ``trials.csv`` and ``pareto.csv``.

A sweep searches loss weights (and, when chosen, the balancing method and learning rate) for
the best trade-off between heads. Its folder holds:

- ``sweep.json``: what is searched and optimised (:class:`SweepManifest`);
- ``trials.csv``: one row per trial: ``trial``, ``state``, a ``param_<name>`` column per
  searched parameter, an ``objective_<name>`` column per objective, ``run`` (the trial's run
  folder, relative to the sweep folder) and ``error``;
- ``pareto.csv``: the same columns, for the complete trials no other complete trial
  dominates.

Both CSV files are rewritten whole (atomically) after every trial, so a reader never sees
half a file. Objectives are minimised or maximised as ``directions`` says.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mogui.core.io import atomic_write_text

MANIFEST_FILE = "sweep.json"
TRIALS_FILE = "trials.csv"
PARETO_FILE = "pareto.csv"
PARETO_PLOT = "pareto.png"
Direction = Literal["minimize", "maximize"]
TrialState = Literal["COMPLETE", "FAIL", "RUNNING", "PRUNED", "WAITING"]


@dataclass(frozen=True)
class SweepManifest:
    """What a sweep searches and optimises."""

    project: str
    parameters: tuple[str, ...]
    objectives: tuple[str, ...]
    directions: tuple[Direction, ...]
    trials: int
    epochs: int | None = None
    storage: str = ""
    study: str = "mogui-sweep"

    def to_json(self) -> str:
        data = {"project": self.project, "parameters": list(self.parameters),
                "objectives": list(self.objectives), "directions": list(self.directions),
                "trials": self.trials, "epochs": self.epochs, "storage": self.storage,
                "study": self.study}
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepManifest:
        objectives = tuple(str(o) for o in data["objectives"])
        directions = tuple(data.get("directions") or ["minimize"] * len(objectives))
        if len(directions) != len(objectives) or any(
                d not in ("minimize", "maximize") for d in directions):
            raise ValueError("sweep.json: 'directions' must give 'minimize' or 'maximize' "
                             "for each objective")
        epochs = data.get("epochs")
        return cls(project=str(data["project"]),
                   parameters=tuple(str(p) for p in data["parameters"]),
                   objectives=objectives, directions=directions,  # type: ignore[arg-type]
                   trials=int(data["trials"]), epochs=None if epochs is None else int(epochs),
                   storage=str(data.get("storage", "")),
                   study=str(data.get("study", "mogui-sweep")))


@dataclass(frozen=True)
class SweepTrial:
    """One trial: its parameters, its objectives once complete, and its run folder."""

    number: int
    state: TrialState
    params: dict[str, float | str] = field(default_factory=dict)
    objectives: dict[str, float] = field(default_factory=dict)
    run: str = ""
    error: str = ""

    @property
    def complete(self) -> bool:
        return self.state == "COMPLETE" and all(
            math.isfinite(v) for v in self.objectives.values())


def write_manifest(folder: Path, manifest: SweepManifest) -> None:
    atomic_write_text(Path(folder) / MANIFEST_FILE, manifest.to_json())


def read_manifest(folder: Path) -> SweepManifest:
    """The sweep's manifest; ``ValueError`` or ``OSError`` with a reason when unreadable."""
    path = Path(folder) / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    try:
        return SweepManifest.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path} is not a sweep manifest: {exc}") from None


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[Direction]) -> bool:
    """Whether ``a`` is at least as good as ``b`` in every objective and better in one."""
    better = False
    for x, y, direction in zip(a, b, directions, strict=True):
        if direction == "maximize":
            x, y = -x, -y
        if x > y:
            return False
        better = better or x < y
    return better


def non_dominated(trials: Iterable[SweepTrial], objectives: Sequence[str],
                  directions: Sequence[Direction]) -> list[SweepTrial]:
    """The complete trials that no other complete trial dominates, in trial order."""
    complete = [t for t in trials if t.complete and all(o in t.objectives for o in objectives)]
    points = [[t.objectives[o] for o in objectives] for t in complete]
    return [t for t, p in zip(complete, points, strict=True)
            if not any(dominates(q, p, directions) for q in points)]


def _columns(parameters: Sequence[str], objectives: Sequence[str]) -> list[str]:
    return ["trial", "state", *(f"param_{p}" for p in parameters),
            *(f"objective_{o}" for o in objectives), "run", "error"]


def trials_csv(trials: Iterable[SweepTrial], parameters: Sequence[str],
               objectives: Sequence[str]) -> str:
    """``trials`` as CSV text with the columns described in the module's docstring."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_columns(parameters, objectives))
    for t in sorted(trials, key=lambda t: t.number):
        writer.writerow([t.number, t.state, *(t.params.get(p, "") for p in parameters),
                         *(_number(t.objectives.get(o)) for o in objectives), t.run,
                         " ".join(t.error.split())])
    return out.getvalue()


def write_results(folder: Path, manifest: SweepManifest, trials: Sequence[SweepTrial]) -> None:
    """Rewrite ``trials.csv`` and ``pareto.csv`` in ``folder`` from ``trials``."""
    folder = Path(folder)
    atomic_write_text(folder / TRIALS_FILE,
                      trials_csv(trials, manifest.parameters, manifest.objectives))
    front = non_dominated(trials, manifest.objectives, manifest.directions)
    atomic_write_text(folder / PARETO_FILE,
                      trials_csv(front, manifest.parameters, manifest.objectives))


def read_trials(path: Path) -> list[SweepTrial]:
    """The trials in a ``trials.csv`` or ``pareto.csv`` file."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    trials = []
    for row in rows:
        params: dict[str, float | str] = {}
        objectives: dict[str, float] = {}
        for key, value in row.items():
            if key.startswith("param_") and value != "":
                params[key[6:]] = _parse(value)
            elif key.startswith("objective_") and value != "":
                objectives[key[10:]] = float(value)
        trials.append(SweepTrial(number=int(row["trial"]), state=row["state"],  # type: ignore[arg-type]
                                 params=params, objectives=objectives, run=row.get("run", ""),
                                 error=row.get("error", "")))
    return trials


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _parse(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text
