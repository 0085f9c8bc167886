"""Missing labels: rows that leave a head's target empty, and the weights that ignore them.

The convention, whatever the source:

* a float target row holding any NaN has no label for that head (an empty CSV cell becomes NaN);
* an integer target of a classification head (binary, multiclass, multiclass_onehot,
  multilabel) whose row is all ``-1`` has no label.

:func:`split_missing` turns such targets into a filled target (masked rows get a harmless valid
value: 0, class 0 or a one-hot row for class 0, so every loss stays finite) plus a per-head
sample weight of 1.0 for labelled rows and 0.0 for unlabelled ones. Training passes these
weights to Keras keyed by head name, and every loss averages over the labelled rows only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mogui.core.project import HeadSpec, Project
from mogui.core.tasks import Task

MISSING_LABEL = -1

_CLASSIFICATION = (Task.BINARY, Task.MULTICLASS, Task.MULTICLASS_ONEHOT, Task.MULTILABEL)


def missing_rows(head: HeadSpec, target: np.ndarray) -> np.ndarray:
    """Boolean ``(n,)``: True where the row has no label for ``head``."""
    target = np.asarray(target)
    n = len(target)
    if target.ndim == 0 or n == 0:
        return np.zeros(n, dtype=bool)
    flat = target.reshape(n, -1)
    if flat.shape[1] == 0:
        return np.zeros(n, dtype=bool)
    if target.dtype.kind == "f":
        return np.isnan(flat).any(axis=1)
    if target.dtype.kind in "iu" and head.task in _CLASSIFICATION:
        return (flat == MISSING_LABEL).all(axis=1)
    return np.zeros(n, dtype=bool)


def fill_missing(head: HeadSpec, target: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """A copy of ``target`` whose ``missing`` rows hold a valid placeholder for the head's task.

    One-hot heads get a one-hot row for class 0; every other task gets zeros (class 0, label 0,
    value 0). The placeholder never reaches a loss: its sample weight is 0.
    """
    target = np.array(target, copy=True)
    if not missing.any():
        return target
    rows = target[missing]
    rows[...] = 0
    if head.task == Task.MULTICLASS_ONEHOT and rows.ndim == 2 and rows.shape[1] > 1:
        rows[:, 0] = 1
    target[missing] = rows
    return target


def split_missing(project: Project, y: Mapping[str, np.ndarray]
                  ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Filled targets and per-head sample weights (float32, 1 labelled / 0 missing).

    Heads of the project missing from ``y`` are left out of both dicts.
    """
    filled: dict[str, np.ndarray] = {}
    weights: dict[str, np.ndarray] = {}
    for head in project.heads:
        if head.name not in y:
            continue
        target = np.asarray(y[head.name])
        missing = missing_rows(head, target)
        filled[head.name] = fill_missing(head, target, missing)
        weights[head.name] = (~missing).astype(np.float32)
    return filled, weights


def labelled_counts(project: Project, y: Mapping[str, np.ndarray]) -> dict[str, int]:
    """Per head in ``y``: how many rows carry a label."""
    return {head.name: int((~missing_rows(head, np.asarray(y[head.name]))).sum())
            for head in project.heads if head.name in y}


def full_weights(project: Project, samples: int) -> dict[str, np.ndarray]:
    """Weights of 1.0 for every head: data with no missing labels."""
    return {name: np.ones(samples, dtype=np.float32) for name in project.head_names}


def prepare_masked_targets(project: Project, y: Mapping[str, np.ndarray]
                           ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Targets for every head in the shape its task expects, and per-head sample weights.

    Unlabelled rows are filled (see :func:`fill_missing`) and weigh 0; heads without data (no
    loss, no metrics) get placeholder targets weighing 1. Raises :class:`DataError` like
    :func:`mogui.engine.targets.prepare_targets`.
    """
    from mogui.engine.targets import prepare_targets

    filled, weights = split_missing(project, y)
    targets = prepare_targets(project, filled)
    samples = len(next(iter(targets.values()))) if targets else 0
    weights = {name: weights.get(name, np.ones(samples, dtype=np.float32)) for name in targets}
    return targets, weights
