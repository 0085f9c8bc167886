"""Check and shape each head's targets for its task before they reach Keras.

Mistakes that would otherwise surface as rank errors deep inside TensorFlow (one-hot rows for
a sparse head, labels out of range, the wrong number of columns) become plain
:class:`~mogui.core.errors.DataError` messages that say which task or loss to pick instead.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mogui.core.errors import DataError
from mogui.core.project import HeadSpec, Project
from mogui.core.tasks import TASKS, Task


def heads_needing_targets(project: Project) -> list[HeadSpec]:
    """Heads whose targets training reads: every head with a loss or metrics."""
    trained = {h.name for h in project.loss_heads()}
    return [h for h in project.heads if h.name in trained or h.loss.metrics]


def prepare_targets(project: Project, y: Mapping[str, np.ndarray], *,
                    first_row: int = 0) -> dict[str, np.ndarray]:
    """Targets for every head, keyed by head name, in the shape and dtype its task expects.

    Heads that need no target (no loss, no metrics) and have none get zeros, so the targets
    always mirror the model's outputs. Raises :class:`DataError` naming the head and the fix;
    ``first_row`` is the index of ``y``'s first row in the whole data (for those messages).
    """
    needed = heads_needing_targets(project)
    missing = [h.name for h in needed if h.name not in y]
    if missing:
        named = ", ".join(repr(name) for name in missing)
        held = "targets for " + ", ".join(repr(name) for name in sorted(y)) if y else \
            "no target"
        raise DataError(f"No target for head(s) {named}: the data holds {held}. "
                        "Give each head its target (a table's columns in Edit ▸ Data… or the "
                        "data settings, an .npz array named after the head), or turn its loss "
                        "off")
    counts = {name: len(np.asarray(y[name])) for name in project.head_names if name in y}
    if len(set(counts.values())) > 1:
        raise DataError(f"the target arrays have different numbers of samples: {counts}; "
                        "every head needs one target per sample")
    samples = next(iter(counts.values()), None)
    prepared: dict[str, np.ndarray] = {}
    for head in project.heads:
        if head.name in y:
            prepared[head.name] = prepare_head_target(head, np.asarray(y[head.name]),
                                                      first_row)
        elif samples is not None:
            prepared[head.name] = _placeholder(head, samples)
    return prepared


def _placeholder(head: HeadSpec, samples: int) -> np.ndarray:
    if head.task == Task.MULTICLASS:
        return np.zeros((samples, 1), dtype=np.int32)
    return np.zeros((samples, head.units), dtype=np.float32)


def prepare_head_target(head: HeadSpec, target: np.ndarray, first_row: int = 0) -> np.ndarray:
    """One head's target checked against its task and units; see :func:`prepare_targets`."""
    if target.ndim == 0:
        raise DataError(f"{head.name}: the target is a single value; it needs one row per "
                        "sample")
    if target.dtype.kind not in "biuf":
        raise DataError(f"{head.name}: the target holds {target.dtype} values; it needs "
                        f"numbers ({TASKS[head.task].target})")
    if target.dtype.kind == "f" and not np.all(np.isfinite(target)):
        bad = int(np.sum(~np.isfinite(target)))
        raise DataError(f"{head.name}: the target holds {bad} NaN or infinite value(s); "
                        "clean or drop those samples")
    if head.task == Task.MULTICLASS:
        return _sparse_labels(head, target)
    if head.task == Task.MULTICLASS_ONEHOT:
        return _one_hot(head, target, first_row)
    target = _columns(head, target)
    if head.task in (Task.BINARY, Task.MULTILABEL):
        _check_zero_one(head, target)
    return target.astype(np.float32, copy=False)


def _columns(head: HeadSpec, target: np.ndarray) -> np.ndarray:
    """Reshape ``(n,)`` to ``(n, 1)`` for one-unit heads; require ``(n, units)``."""
    if target.ndim == 1 and head.units == 1:
        return target.reshape(-1, 1)
    if target.ndim >= 2 and target.shape[-1] == head.units:
        return target
    got = target.shape
    hint = ""
    if head.task == Task.BINARY and target.ndim == 2 and target.shape[1] == 2 \
            and _looks_one_hot(target):
        hint = (" The rows look one-hot over 2 classes: keep one column (y[:, 1]) or use the "
                "task 'multiclass_onehot' with 2 units")
    elif head.task == Task.MULTILABEL and _looks_like_labels(target, head.units):
        hint = (" It looks like one integer class per sample: for one class out of several use "
                "the task 'multiclass' (sparse_categorical_crossentropy)")
    raise DataError(f"{head.name}: a {head.task.value} head with {head.units} unit(s) needs "
                    f"targets shaped (samples, {head.units}), got {got}.{hint}")


def _check_zero_one(head: HeadSpec, target: np.ndarray) -> None:
    low, high = float(np.min(target, initial=0)), float(np.max(target, initial=0))
    if low < 0 or high > 1:
        hint = ""
        if head.task == Task.BINARY and _looks_like_labels(target, None):
            hint = (f" Values up to {high:g} look like class ids: use the task 'multiclass' "
                    f"with {int(high) + 1} units (sparse_categorical_crossentropy)")
        raise DataError(f"{head.name}: a {head.task.value} head needs 0/1 labels, found values "
                        f"from {low:g} to {high:g}.{hint}")


def _sparse_labels(head: HeadSpec, target: np.ndarray) -> np.ndarray:
    if target.ndim == 2 and target.shape[1] > 1:
        if target.shape[1] == head.units and _looks_one_hot(target):
            raise DataError(
                f"{head.name}: the targets are one-hot rows {target.shape}, but the head's "
                "task 'multiclass' (sparse_categorical_crossentropy) expects one integer class "
                "id per sample. Pick the task 'multiclass_onehot' "
                "(categorical_crossentropy), or convert the targets with y.argmax(axis=1)")
        raise DataError(f"{head.name}: a multiclass head needs one integer class id per "
                        f"sample, shape (samples,) or (samples, 1); got {target.shape}")
    if target.ndim > 2:
        raise DataError(f"{head.name}: a multiclass head needs shape (samples,) or "
                        f"(samples, 1); got {target.shape}")
    labels = target.reshape(-1, 1)
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        raise DataError(f"{head.name}: the multiclass targets hold fractions; they must be "
                        f"integer class ids 0..{head.units - 1}")
    if labels.size:
        low, high = int(labels.min()), int(labels.max())
        bad = high if high >= head.units else (low if low < 0 else None)
        if bad is not None:
            raise DataError(f"{head.name}: label {bad} found but the head has {head.units} "
                            f"units; labels must be 0..{head.units - 1}")
    return labels.astype(np.int32)


def _one_hot(head: HeadSpec, target: np.ndarray, first_row: int = 0) -> np.ndarray:
    if target.ndim == 1 or (target.ndim == 2 and target.shape[1] == 1 and head.units > 1):
        if _looks_like_labels(target, head.units):
            raise DataError(
                f"{head.name}: the targets are integer class ids {target.shape}, but the "
                "head's task 'multiclass_onehot' (categorical_crossentropy) expects one-hot "
                f"rows (samples, {head.units}). Pick the task 'multiclass' "
                "(sparse_categorical_crossentropy), or one-hot encode the labels")
    if target.ndim != 2 or target.shape[1] != head.units:
        raise DataError(f"{head.name}: a multiclass_onehot head with {head.units} units needs "
                        f"one-hot rows shaped (samples, {head.units}), got {target.shape}")
    low, high = float(np.min(target, initial=0)), float(np.max(target, initial=0))
    if low < 0 or high > 1:
        raise DataError(f"{head.name}: one-hot targets must hold values in 0..1, found values "
                        f"from {low:g} to {high:g}")
    _check_rows_sum_to_one(head, target, first_row)
    return target.astype(np.float32, copy=False)


#: How far a multiclass_onehot row's sum may be from 1 (soft labels in float32 included).
ONE_HOT_TOLERANCE = 1e-3


class RowsNotOneHot(DataError):
    """Rows of a multiclass_onehot head's target that are not one-hot: how many of how many,
    and the first (its index in the whole data, and its values)."""

    def __init__(self, head: str, bad: int, rows: int, first: int, values: list[float]) -> None:
        self.head, self.bad, self.rows, self.first, self.values = head, bad, rows, first, values
        shown = ", ".join(f"{v:g}" for v in values[:8]) + (", …" if len(values) > 8 else "")
        super().__init__(
            f"Head '{head}' (multiclass_onehot): {bad} of {rows} rows are not one-hot, e.g. row "
            f"{first} (counting from 0) is [{shown}]. Each row needs exactly one 1 (or class "
            "probabilities summing to 1). Fix those rows, leave them unlabelled (empty cells, "
            "NaN, or -1 in every column), or use the task 'multilabel' when a sample may belong "
            "to several classes")

    def __reduce__(self) -> tuple:  # crosses a process pipe with every field
        return (type(self), (self.head, self.bad, self.rows, self.first, self.values))

    def counted_over(self, bad: int, rows: int) -> RowsNotOneHot:
        """The same first row, with the counts of the whole data (read chunk by chunk)."""
        return RowsNotOneHot(self.head, bad, rows, self.first, self.values)


def _check_rows_sum_to_one(head: HeadSpec, target: np.ndarray, first_row: int) -> None:
    """Each row is one-hot (or class probabilities): its values sum to 1. Rows without a label
    were filled with a one-hot row already (see :mod:`.masking`)."""
    bad = np.flatnonzero(np.abs(target.sum(axis=1, dtype=np.float64) - 1.0) > ONE_HOT_TOLERANCE)
    if bad.size:
        raise RowsNotOneHot(head.name, int(bad.size), len(target), first_row + int(bad[0]),
                            [float(v) for v in target[bad[0]]])


def _looks_one_hot(target: np.ndarray) -> bool:
    if target.ndim != 2 or not len(target):
        return False
    zero_one = np.all((target == 0) | (target == 1))
    return bool(zero_one and np.all(target.sum(axis=1) == 1))


def _looks_like_labels(target: np.ndarray, classes: int | None) -> bool:
    flat = target.reshape(-1)
    if not flat.size or not np.all(flat == np.round(flat)) or flat.min() < 0:
        return False
    if target.ndim == 2 and target.shape[1] != 1:
        return False
    return classes is None or flat.max() < max(classes, 2)
