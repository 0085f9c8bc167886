"""The baseline training should beat: each head's loss when predicting the training mean."""

from __future__ import annotations

import numpy as np

from mogui.core.project import Project
from mogui.core.tasks import Task
from mogui.engine.data.dataset import Dataset
from mogui.engine.data.masking import CLASSIFICATION_TASKS
from mogui.engine.plain_keras.masking import missing_rows

EPSILON = 1e-7  # clip for probabilities, as Keras' crossentropy does


def predict_mean_baseline(train: Dataset, val: Dataset | None,
                          project: Project | None = None) -> dict[str, float]:
    """Per head: the loss on ``val`` of always predicting what the training targets average to.

    Regression heads get the mean squared error of predicting the training mean; integer-label
    heads the crossentropy of predicting the training class frequencies; 0/1 heads (binary,
    multi-label) and one-hot heads their crossentropy with the training frequencies. Without a
    project, integer targets count as class labels and everything else as regression.
    ``val`` ``None`` scores on the training data itself.
    """
    val = val if val is not None else train
    tasks = {h.name: h.task for h in project.heads} if project is not None else {}
    units = {h.name: h.units for h in project.heads} if project is not None else {}
    result: dict[str, float] = {}
    for name, y_train in train.y.items():
        if name not in val.y:
            continue
        y_val = val.y[name]
        task = tasks.get(name)
        if task is None:
            task = Task.MULTICLASS if np.issubdtype(y_train.dtype, np.integer) else Task.REGRESSION
        y_train, y_val = _labelled(y_train, task), _labelled(y_val, task)
        if not len(y_train) or not len(y_val):
            continue
        if task == Task.MULTICLASS:
            result[name] = _sparse_frequency_crossentropy(y_train, y_val, units.get(name))
        elif task == Task.MULTICLASS_ONEHOT:
            probs = np.clip(y_train.astype(np.float64).mean(axis=0), EPSILON, 1 - EPSILON)
            result[name] = float(-(y_val * np.log(probs)).sum(axis=-1).mean())
        elif task in (Task.BINARY, Task.MULTILABEL):
            p = np.clip(y_train.astype(np.float64).mean(axis=0), EPSILON, 1 - EPSILON)
            t = y_val.astype(np.float64)
            result[name] = float(-(t * np.log(p) + (1 - t) * np.log(1 - p)).mean())
        else:
            mean = y_train.astype(np.float64).mean(axis=0)
            result[name] = float(((y_val.astype(np.float64) - mean) ** 2).mean())
    return result


def _labelled(target: np.ndarray, task: Task) -> np.ndarray:
    """Rows that carry a label (see :mod:`mogui.engine.plain_keras.masking`)."""
    return target[~missing_rows(target, task in CLASSIFICATION_TASKS)]


def _sparse_frequency_crossentropy(y_train: np.ndarray, y_val: np.ndarray,
                                   classes: int | None) -> float:
    train_labels = y_train.reshape(-1).astype(np.int64)
    val_labels = y_val.reshape(-1).astype(np.int64)
    classes = max(classes or 0, int(train_labels.max()) + 1, int(val_labels.max()) + 1)
    freq = np.bincount(train_labels, minlength=classes) / len(train_labels)
    probs = np.clip(freq, EPSILON, 1 - EPSILON)
    return float(-np.log(probs[val_labels]).mean())
