"""Per-head evaluation figures from targets and predictions, in plain numpy.

Classification heads get a confusion matrix (rows: true class, columns: predicted class) with
each class's precision and recall; multi-label heads those figures per label; regression
heads the predicted-versus-true pairs, residuals (predicted - true) and their summary. Every
head lists its worst rows. Only labelled rows count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mogui.core.labels import HeadLabels
from mogui.core.tasks import Task
from mogui.engine.plain_keras import prediction

#: Probabilities are clipped like Keras' crossentropy before taking a log.
EPSILON = 1e-7


@dataclass
class ClassStats:
    """One class (or label): how often it is true and predicted, and the hits among them."""

    name: str
    support: int
    predicted: int
    correct: int

    @property
    def precision(self) -> float | None:
        """Of the rows predicted as this class, the share that are; ``None``: none predicted."""
        return self.correct / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        """Of the rows of this class, the share predicted as it; ``None``: no such row."""
        return self.correct / self.support if self.support else None


@dataclass
class WorstRow:
    """A row a head gets most wrong: its index in the data (0-based, file order), the label
    and prediction as text, the error and the row's inputs (e.g. the image)."""

    row: int
    true: str
    predicted: str
    error: float
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    #: The row's file (an image folder's rows), else "".
    name: str = ""


@dataclass
class HeadEvaluation:
    """One head's figures over the labelled rows evaluated (see the module's docstring).

    ``rows`` are the data rows evaluated (0-based, file order); ``true`` and ``predicted`` hold
    the head's labelled rows only (``labelled_rows`` are their data rows): class ids for
    classification, 0/1 per label for multi-label, values in the target's units for
    regression. ``summary`` holds ``accuracy`` (classification), or ``mae``, ``rmse``, ``r2``,
    ``mean_residual`` and ``std_residual`` (regression).
    """

    head: str
    task: Task
    labels: HeadLabels
    labelled_rows: np.ndarray
    true: np.ndarray
    predicted: np.ndarray
    confusion: np.ndarray | None = None
    classes: list[ClassStats] = field(default_factory=list)
    summary: dict[str, float] = field(default_factory=dict)
    worst: list[WorstRow] = field(default_factory=list)
    unit_summaries: list[dict[str, float]] = field(default_factory=list)

    @property
    def labelled(self) -> int:
        return len(self.labelled_rows)

    @property
    def residuals(self) -> np.ndarray:
        """Predicted minus true (regression)."""
        return self.predicted - self.true

    def lines(self) -> list[str]:
        """A plain-text rendering for the command line."""
        out = [f"{self.head} ({self.task.value}, {self.labelled} labelled rows)"]
        if self.labelled == 0:
            return out + ["  no labelled row to evaluate"]
        if self.confusion is not None:
            out.append(f"  accuracy {self.summary['accuracy']:.1%}")
            names = [c.name for c in self.classes]
            width = max(8, *(len(n) for n in names))
            out.append("  confusion (rows: true, columns: predicted)")
            out.append("  " + " " * width + "".join(f"{n[:width]:>{width + 2}}" for n in names))
            for name, row in zip(names, self.confusion, strict=True):
                out.append(f"  {name:<{width}}" + "".join(f"{v:>{width + 2}}" for v in row))
        if self.classes:
            out.append("  per class: precision, recall (support)")
            for c in self.classes:
                out.append(f"    {c.name}: {_share(c.precision)}, {_share(c.recall)} "
                           f"({c.support})")
        if self.task == Task.REGRESSION:
            s = self.summary
            out.append(f"  MAE {s['mae']:.4g}  RMSE {s['rmse']:.4g}  R² {s['r2']:.3f}  "
                       f"mean residual {s['mean_residual']:.4g} (std {s['std_residual']:.4g})")
        if self.worst:
            out.append("  worst rows (row: true -> predicted, error)")
            out += [f"    {w.row}{f' ({w.name})' if w.name else ''}: {w.true} -> {w.predicted}, "
                    f"{w.error:.4g}" for w in self.worst]
        return out


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """Counts of (true class, predicted class) pairs: ``matrix[t, p]``."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (true.astype(np.int64), predicted.astype(np.int64)), 1)
    return matrix


def class_stats(matrix: np.ndarray, names: list[str]) -> list[ClassStats]:
    """Support, predictions and hits per class from a confusion matrix."""
    return [ClassStats(name, int(matrix[i].sum()), int(matrix[:, i].sum()), int(matrix[i, i]))
            for i, name in enumerate(names)]


def _info(labels: HeadLabels) -> dict[str, Any]:
    return {"task": labels.task.value, "units": labels.units, "activation": labels.activation,
            "classes": list(labels.classes), "outputs": labels.unit_names()}


def true_class_ids(labels: HeadLabels, target: np.ndarray) -> np.ndarray:
    """Class ids of targets shaped as training takes them."""
    if labels.task == Task.MULTICLASS_ONEHOT:
        return np.asarray(target).argmax(axis=-1)
    return np.asarray(target).reshape(len(target)).round().astype(np.int64)


def evaluate_head(labels: HeadLabels, target: np.ndarray, output: np.ndarray,
                  weight: np.ndarray | None, rows: np.ndarray, worst: int = 10
                  ) -> HeadEvaluation:
    """One head's figures: ``target`` as training takes it, ``output`` the model's output,
    ``weight`` 0 for rows without a label (``None``: all labelled), ``rows`` the data row of
    each (for the worst rows)."""
    output = np.asarray(output, dtype=np.float64).reshape(len(output), -1)
    target = np.asarray(target)
    keep = np.ones(len(target), dtype=bool) if weight is None else np.asarray(weight) > 0
    target, output, rows = target[keep], output[keep], np.asarray(rows)[keep]
    task = labels.task
    if task in (Task.BINARY, Task.MULTICLASS, Task.MULTICLASS_ONEHOT):
        return _classification(labels, target, output, rows, worst)
    if task == Task.MULTILABEL:
        return _multilabel(labels, target, output, rows, worst)
    return _regression(labels, target, output, rows, worst)


def _classification(labels: HeadLabels, target: np.ndarray, output: np.ndarray,
                    rows: np.ndarray, worst: int) -> HeadEvaluation:
    info = _info(labels)
    true = true_class_ids(labels, target)
    predicted = prediction.predicted_class_ids(output, info) if len(output) else \
        np.zeros(0, np.int64)
    names = labels.class_names()
    matrix = confusion_matrix(true, predicted, len(names))
    result = HeadEvaluation(labels.head, labels.task, labels, rows, true, predicted, matrix,
                            class_stats(matrix, names))
    result.summary["accuracy"] = float(np.trace(matrix) / max(1, matrix.sum()))
    if len(output):
        probs = prediction.probabilities(output, info)
        if labels.task == Task.BINARY:
            probs = np.concatenate([1 - probs, probs], axis=1)
        p_true = probs[np.arange(len(true)), true]
        errors = -np.log(np.clip(p_true, EPSILON, 1.0))
        order = np.argsort(-errors, kind="stable")[:worst]
        result.worst = [WorstRow(int(rows[i]), labels.class_name(int(true[i])),
                                 labels.class_name(int(predicted[i])), float(errors[i]))
                        for i in order]
    return result


def _multilabel(labels: HeadLabels, target: np.ndarray, output: np.ndarray,
                rows: np.ndarray, worst: int) -> HeadEvaluation:
    info = _info(labels)
    probs = prediction.probabilities(output, info) if len(output) else output
    true = target.reshape(len(target), -1).round().astype(np.int64)
    predicted = (probs >= prediction.THRESHOLD).astype(np.int64)
    stats = [ClassStats(name, int(true[:, j].sum()), int(predicted[:, j].sum()),
                        int((true[:, j] & predicted[:, j]).sum()))
             for j, name in enumerate(labels.unit_names())]
    result = HeadEvaluation(labels.head, labels.task, labels, rows, true, predicted,
                            classes=stats)
    result.summary["accuracy"] = float((true == predicted).mean()) if true.size else math.nan
    if len(output):
        p = np.clip(probs, EPSILON, 1 - EPSILON)
        errors = -(true * np.log(p) + (1 - true) * np.log(1 - p)).mean(axis=1)
        names = labels.unit_names()
        text = [";".join(n for n, on in zip(names, row, strict=True) if on) or "-"
                for row in np.concatenate([true, predicted])]
        order = np.argsort(-errors, kind="stable")[:worst]
        result.worst = [WorstRow(int(rows[i]), text[i], text[len(true) + i], float(errors[i]))
                        for i in order]
    return result


def regression_summary(true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, R² (1 - squared error / spread of the true values), and the residuals'
    mean and standard deviation."""
    if true.size == 0:
        return {k: math.nan for k in ("mae", "rmse", "r2", "mean_residual", "std_residual")}
    residuals = predicted - true
    spread = float(((true - true.mean(axis=0)) ** 2).sum())
    squared = float((residuals ** 2).sum())
    return {"mae": float(np.abs(residuals).mean()), "rmse": math.sqrt(squared / residuals.size),
            "r2": 1.0 - squared / spread if spread > 0 else math.nan,
            "mean_residual": float(residuals.mean()), "std_residual": float(residuals.std())}


def _regression(labels: HeadLabels, target: np.ndarray, output: np.ndarray,
                rows: np.ndarray, worst: int) -> HeadEvaluation:
    true = target.reshape(len(target), -1).astype(np.float64)
    result = HeadEvaluation(labels.head, labels.task, labels, rows, true, output)
    result.summary = regression_summary(true, output)
    result.unit_summaries = [regression_summary(true[:, j], output[:, j])
                             for j in range(true.shape[1])]
    errors = np.abs(output - true).mean(axis=1)
    order = np.argsort(-errors, kind="stable")[:worst]
    result.worst = [WorstRow(int(rows[i]), _values(true[i]), _values(output[i]),
                             float(errors[i])) for i in order]
    return result


def _values(row: np.ndarray) -> str:
    return ", ".join(f"{v:.4g}" for v in row)
