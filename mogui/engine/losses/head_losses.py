"""Per-head losses and metrics: built-in Keras losses, user-written ones, logit metrics.

Every loss averages over the rows whose sample weight is not 0 (rows with a label for the
head); user code runs through :mod:`mogui.engine.losses.user_code`, so its errors name the
user's own lines.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from mogui.core.errors import CustomCodeError
from mogui.core.project import HeadSpec
from mogui.core.project_code import head_code_label
from mogui.core.tasks import CUSTOM_LOSS
from mogui.engine.losses.tensor_info import TensorInfo
from mogui.engine.losses.user_code import call_user_code, compile_loss_source, return_lineno
from mogui.engine.plain_keras.head_loss import MASKED_MEAN, HeadLoss, head_metrics

#: Built-in loss ids (see :mod:`mogui.core.tasks`) and their Keras classes.
BUILTIN_LOSSES: dict[str, type[keras.losses.Loss]] = {
    "mse": keras.losses.MeanSquaredError,
    "mae": keras.losses.MeanAbsoluteError,
    "huber": keras.losses.Huber,
    "log_cosh": keras.losses.LogCosh,
    "binary_crossentropy": keras.losses.BinaryCrossentropy,
    "binary_focal_crossentropy": keras.losses.BinaryFocalCrossentropy,
    "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
    "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
    "categorical_focal_crossentropy": keras.losses.CategoricalFocalCrossentropy,
}

CROSSENTROPY_LOSSES = frozenset(k for k in BUILTIN_LOSSES if k.endswith("crossentropy"))

def head_outputs_logits(head: HeadSpec) -> bool:
    """True when a head's output has no squashing activation (crossentropy needs logits)."""
    return head.output_activation == "linear"


def head_loss_label(head_name: str) -> str:
    """Label (and code file name) of a head's custom loss in messages and tracebacks."""
    return head_code_label(head_name)


def make_head_loss(head: HeadSpec) -> keras.losses.Loss | None:
    """The loss object that trains ``head`` in per-output mode, or ``None`` for no loss."""
    if not head.has_loss:
        return None
    kind = head.loss.kind
    if kind == CUSTOM_LOSS:
        return CustomLoss(head.loss.source, head_loss_label(head.name), name=f"{head.name}_loss")
    if kind not in BUILTIN_LOSSES:
        raise CustomCodeError(f"unknown loss {kind!r}; pick one of {sorted(BUILTIN_LOSSES)} "
                              "or 'custom'", head_loss_label(head.name))
    loss_class = BUILTIN_LOSSES[kind]
    if kind in CROSSENTROPY_LOSSES:
        return loss_class(from_logits=head_outputs_logits(head), reduction=MASKED_MEAN)
    return loss_class(reduction=MASKED_MEAN)


def describe_head_loss(head: HeadSpec) -> str:
    """Short name of what trains a head: ``mse``, ``custom``, ``binary_crossentropy (logits)``."""
    if not head.has_loss:
        return "no loss"
    kind = str(head.loss.kind)
    if kind in CROSSENTROPY_LOSSES and head_outputs_logits(head):
        return f"{kind} (from logits)"
    return kind


def make_head_metrics(head: HeadSpec) -> list[Any]:
    """Metric ids or objects for a head; threshold metrics adapt to logit outputs."""
    return head_metrics(head.loss.metrics, head_outputs_logits(head))


def numeric_tensor(value: Any, what: str, label: str, line: int | None) -> Any:
    """``value`` as a tensor of numbers; :class:`CustomCodeError` for text, booleans, objects."""
    if isinstance(value, str | bytes):
        raise CustomCodeError(f"{what} returned text ({value!r:.40}); a loss returns numbers, "
                              "e.g. ops.mean(ops.square(y_true - y_pred), axis=-1)", label, line)
    try:
        tensor = ops.convert_to_tensor(value)
    except (TypeError, ValueError) as exc:
        raise CustomCodeError(f"{what} returned a {type(value).__name__}, which is not a "
                              f"tensor of numbers ({exc})", label, line) from None
    dtype = keras.backend.standardize_dtype(tensor.dtype)
    if not (dtype.startswith(("float", "int", "uint", "bfloat"))):
        raise CustomCodeError(f"{what} returned {dtype} values; a loss returns numbers (floats)",
                              label, line)
    return tensor


def check_head_return(value: Any, label: str, line: int | None,
                      batch: int | None = None) -> Any:
    """Check what a per-output custom loss returned: a scalar or one value per sample."""
    if isinstance(value, dict | list | tuple):
        raise CustomCodeError(f"loss() returned a {type(value).__name__}; a per-head loss "
                              "returns one tensor (a scalar or one value per sample). Use "
                              "the joint loss mode to return several terms", label, line)
    if value is None:
        raise CustomCodeError("loss() returned None; return a tensor, e.g. "
                              "ops.mean(ops.square(y_true - y_pred))", label, line)
    value = numeric_tensor(value, "loss()", label, line)
    info = TensorInfo.of(value)
    rank = len(info.shape)
    per_sample = rank == 1 and (batch is None or info.shape[0] in (None, batch))
    if rank == 0 or per_sample:
        return value
    wanted = f"a scalar or shape ({batch if batch else 'batch'},)"
    raise CustomCodeError(f"loss() returned shape {info.shape_text()}; it must return {wanted}. "
                          "Reduce the other axes, e.g. ops.mean(..., axis=-1)", label, line)


@keras.saving.register_keras_serializable(package="mogui")
class CustomLoss(HeadLoss):
    """A head's user-written loss; stores its source so a saved model reloads without it.

    Loading a model file recompiles the stored source, so it runs only when trusted (the
    check in :func:`compile_loss_source` comes first, even under ``safe_mode``). The user's
    function runs through :func:`call_user_code` (errors name the user's lines);
    what it received and returned is kept for the dry run.
    """

    def __init__(self, source: str, label: str, name: str | None = None,
                 reduction: str = MASKED_MEAN, dtype: Any = None) -> None:
        self.source = source
        self.label = label
        self.return_line = return_lineno(source)
        self.last_inputs: tuple[TensorInfo, TensorInfo] | None = None
        self.last_return: TensorInfo | None = None
        super().__init__(label, reduction=reduction, name=name or "custom_loss", dtype=dtype)

    def make_function(self) -> Any:
        return compile_loss_source(self.source, self.label)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        self.last_inputs = (TensorInfo.of(y_true), TensorInfo.of(y_pred))
        value = call_user_code(super().call, self.label, y_true, y_pred, per_head=True)
        pred = TensorInfo.of(y_pred)
        batch = pred.shape[0] if len(pred.shape) else None
        value = check_head_return(value, self.label, self.return_line, batch)
        self.last_return = TensorInfo.of(value)
        return value

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["head"]
        return {**config, "source": self.source, "label": self.label}
