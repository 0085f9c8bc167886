"""Turn a project's loss settings into exactly the Keras objects that train.

Per-output mode compiles the model with dicts keyed by head name (loss, loss_weights,
metrics); joint mode wraps the model in :class:`~mogui.engine.joint.JointLossModel`.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from mogui.core.errors import CustomCodeError
from mogui.core.project import HeadSpec, Project, TrainingSettings
from mogui.core.tasks import CUSTOM_LOSS
from mogui.engine.custom_code import call_user_code, compile_loss_source, return_lineno
from mogui.engine.tensor_info import TensorInfo

OPTIMIZERS: dict[str, type[keras.optimizers.Optimizer]] = {
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "sgd": keras.optimizers.SGD,
    "rmsprop": keras.optimizers.RMSprop,
}

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

#: Losses average over the rows whose sample weight is non-zero: rows without a label for a
#: head (weight 0, see :mod:`mogui.engine.masking`) count for nothing, not even in the divisor.
MASKED_MEAN = "mean_with_sample_weight"

CROSSENTROPY_LOSSES = frozenset(k for k in BUILTIN_LOSSES if k.endswith("crossentropy"))

#: Metrics whose threshold assumes probabilities, rebuilt for heads that output logits.
_LOGIT_METRICS: dict[str, Any] = {
    "binary_accuracy": lambda: keras.metrics.BinaryAccuracy(threshold=0.0),
    "auc": lambda: keras.metrics.AUC(from_logits=True, name="auc"),
    "precision": lambda: keras.metrics.Precision(thresholds=0.0, name="precision"),
    "recall": lambda: keras.metrics.Recall(thresholds=0.0, name="recall"),
}


def make_optimizer(settings: TrainingSettings) -> keras.optimizers.Optimizer:
    """The optimizer named in the training settings, with its learning rate."""
    return OPTIMIZERS[settings.optimizer](learning_rate=settings.learning_rate)


def head_outputs_logits(head: HeadSpec) -> bool:
    """True when a head's output has no squashing activation (crossentropy needs logits)."""
    return head.output_activation == "linear"


def head_loss_label(head_name: str) -> str:
    """Label (and code file name) of a head's custom loss in messages and tracebacks."""
    return f"{head_name} loss"


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
    logits = head_outputs_logits(head)
    return [_LOGIT_METRICS[m]() if logits and m in _LOGIT_METRICS else m
            for m in head.loss.metrics]


def compile_model(model: keras.Model, project: Project) -> keras.Model:
    """Compile ``model`` for the project's losses; joint mode returns a JointLossModel.

    Every compile argument is a dict keyed by head name, covering every head: heads without a
    loss get ``None``. Metrics are weighted metrics, so rows without a label for a head (sample
    weight 0) count neither in its loss nor in its metrics.
    """
    optimizer = make_optimizer(project.training)
    metrics = {head.name: make_head_metrics(head) for head in project.heads}
    if project.loss_mode == "joint":
        from mogui.engine.joint import JointLossModel

        joint = JointLossModel(
            inputs=model.input,
            outputs=outputs_by_head(model),
            loss_source=project.joint_loss.source,
            term_weights=dict(project.joint_loss.term_weights),
            name=model.name,
        )
        joint.compile(optimizer=optimizer, weighted_metrics=metrics)
        return joint
    model.compile(
        optimizer=optimizer,
        loss={head.name: make_head_loss(head) for head in project.heads},
        loss_weights={head.name: float(head.loss.weight) for head in project.heads},
        weighted_metrics=metrics,
    )
    return model


def make_training_model(project: Project) -> keras.Model:
    """Build the project's model and compile it for training."""
    from mogui.engine.build import build_model

    return compile_model(build_model(project), project)


def outputs_by_head(model: keras.Model) -> dict[str, Any]:
    """A functional model's output tensors keyed by output (head) name."""
    output = model.output
    if isinstance(output, dict):
        return dict(output)
    outputs = output if isinstance(output, list | tuple) else [output]
    return dict(zip(model.output_names, outputs, strict=True))


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
    value = ops.convert_to_tensor(value)
    info = TensorInfo.of(value)
    rank = len(info.shape)
    per_sample = rank == 1 and (batch is None or info.shape[0] in (None, batch))
    if rank == 0 or per_sample:
        return value
    wanted = f"a scalar or shape ({batch if batch else 'batch'},)"
    raise CustomCodeError(f"loss() returned shape {info.shape_text()}; it must return {wanted}. "
                          "Reduce the other axes, e.g. ops.mean(..., axis=-1)", label, line)


@keras.saving.register_keras_serializable(package="mogui")
class CustomLoss(keras.losses.Loss):
    """A head's user-written loss; stores its source so a saved model reloads without it."""

    def __init__(self, source: str, label: str, name: str | None = None,
                 reduction: str = MASKED_MEAN, dtype: Any = None) -> None:
        super().__init__(name=name or "custom_loss", reduction=reduction, dtype=dtype)
        self.source = source
        self.label = label
        self.fn = compile_loss_source(source, label)
        self.return_line = return_lineno(source)
        self.last_inputs: tuple[TensorInfo, TensorInfo] | None = None
        self.last_return: TensorInfo | None = None

    def call(self, y_true: Any, y_pred: Any) -> Any:
        self.last_inputs = (TensorInfo.of(y_true), TensorInfo.of(y_pred))
        value = call_user_code(self.fn, self.label, y_true, y_pred)
        batch = TensorInfo.of(y_pred).shape[0] if len(TensorInfo.of(y_pred).shape) else None
        value = check_head_return(value, self.label, self.return_line, batch)
        self.last_return = TensorInfo.of(value)
        return value

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "source": self.source, "label": self.label}
