"""Head tasks and the built-in losses and metrics offered for each.

Loss and metric ids are Keras identifiers, so the engine passes them through by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Task(StrEnum):
    """What a head predicts; decides its activation, target format and losses."""

    REGRESSION = "regression"
    BINARY = "binary"
    MULTICLASS = "multiclass"  # integer class labels, shape (n,) or (n, 1)
    MULTICLASS_ONEHOT = "multiclass_onehot"  # one-hot targets, shape (n, classes)
    MULTILABEL = "multilabel"  # several independent 0/1 labels


CUSTOM_LOSS = "custom"


@dataclass(frozen=True)
class TaskInfo:
    """What mogui offers for one task."""

    label: str
    activation: str
    losses: tuple[str, ...]
    metrics: tuple[str, ...]
    target: str  # plain-language description of the expected target

    @property
    def default_loss(self) -> str:
        return self.losses[0]


TASKS: dict[Task, TaskInfo] = {
    Task.REGRESSION: TaskInfo(
        "Regression", "linear", ("mse", "mae", "huber", "log_cosh"),
        ("mae", "mse", "root_mean_squared_error"),
        "float values, shape (samples, units)",
    ),
    Task.BINARY: TaskInfo(
        "Binary classification", "sigmoid",
        ("binary_crossentropy", "binary_focal_crossentropy"),
        ("binary_accuracy", "auc", "precision", "recall"),
        "0/1 labels, shape (samples, 1)",
    ),
    Task.MULTICLASS: TaskInfo(
        "Multiclass (integer labels)", "softmax", ("sparse_categorical_crossentropy",),
        ("sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy"),
        "integer class ids 0..units-1, shape (samples,) or (samples, 1)",
    ),
    Task.MULTICLASS_ONEHOT: TaskInfo(
        "Multiclass (one-hot labels)", "softmax",
        ("categorical_crossentropy", "categorical_focal_crossentropy"),
        ("categorical_accuracy", "top_k_categorical_accuracy"),
        "one-hot rows, shape (samples, units)",
    ),
    Task.MULTILABEL: TaskInfo(
        "Multi-label", "sigmoid", ("binary_crossentropy", "binary_focal_crossentropy"),
        ("binary_accuracy", "auc", "precision", "recall"),
        "0/1 per label, shape (samples, units)",
    ),
}

#: Every built-in loss id mogui knows, with a human label.
LOSS_LABELS: dict[str, str] = {
    "mse": "Mean squared error",
    "mae": "Mean absolute error",
    "huber": "Huber",
    "log_cosh": "Log-cosh",
    "binary_crossentropy": "Binary crossentropy",
    "binary_focal_crossentropy": "Binary focal crossentropy",
    "sparse_categorical_crossentropy": "Sparse categorical crossentropy",
    "categorical_crossentropy": "Categorical crossentropy",
    "categorical_focal_crossentropy": "Categorical focal crossentropy",
    CUSTOM_LOSS: "Custom Python…",
}


def losses_for(task: Task | str) -> tuple[str, ...]:
    """Built-in loss ids offered for ``task`` (``custom`` is always allowed too)."""
    return TASKS[Task(task)].losses


def metrics_for(task: Task | str) -> tuple[str, ...]:
    """Metric ids offered for ``task``."""
    return TASKS[Task(task)].metrics
