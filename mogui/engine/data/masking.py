"""Missing labels per head: the project's side of :mod:`mogui.engine.plain_keras.masking`.

Whatever the source, a float target row holding any NaN has no label for that head, and so
has an all ``-1`` integer row of a classification head (binary, multiclass, multiclass_onehot,
multilabel). Such rows get a placeholder target (0, class 0 or a one-hot row for class 0, so
every loss stays finite) and a sample weight of 0; training passes the weights to Keras keyed
by head name, and every loss averages over the labelled rows only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mogui.core.project import HeadSpec, Project
from mogui.core.tasks import Task
from mogui.engine.data.targets import prepare_targets
from mogui.engine.plain_keras import masking as plain

MISSING_LABEL = plain.MISSING_LABEL

#: Tasks whose integer targets mark a missing label with -1.
CLASSIFICATION_TASKS = (Task.BINARY, Task.MULTICLASS, Task.MULTICLASS_ONEHOT, Task.MULTILABEL)


def classification_heads(project: Project) -> list[str]:
    """Heads whose all ``-1`` integer rows have no label."""
    return [h.name for h in project.heads if h.task in CLASSIFICATION_TASKS]


def one_hot_heads(project: Project) -> list[str]:
    """Heads whose placeholder for a missing label is a one-hot row for class 0."""
    return [h.name for h in project.heads if h.task == Task.MULTICLASS_ONEHOT]


def missing_rows(head: HeadSpec, target: np.ndarray) -> np.ndarray:
    """Boolean ``(n,)``: True where the row has no label for ``head``."""
    return plain.missing_rows(target, head.task in CLASSIFICATION_TASKS)


def split_missing(project: Project, y: Mapping[str, np.ndarray]
                  ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Filled targets and per-head sample weights (float32, 1 labelled / 0 missing).

    Heads of the project missing from ``y`` are left out of both dicts.
    """
    present = {h.name: np.asarray(y[h.name]) for h in project.heads if h.name in y}
    return plain.mask_missing(present, classification_heads(project), one_hot_heads(project))


def prepare_masked_targets(project: Project, y: Mapping[str, np.ndarray], *,
                           first_row: int = 0
                           ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Targets for every head in the shape its task expects, and per-head sample weights.

    Unlabelled rows are filled and weigh 0; heads without data (no loss, no metrics) get
    placeholder targets weighing 1. Raises :class:`DataError` like
    :func:`mogui.engine.data.targets.prepare_targets` (whose messages count rows from
    ``first_row``).
    """
    filled, weights = split_missing(project, y)
    targets = prepare_targets(project, filled, first_row=first_row)
    samples = len(next(iter(targets.values()))) if targets else 0
    weights = {name: weights.get(name, np.ones(samples, dtype=np.float32)) for name in targets}
    return targets, weights
