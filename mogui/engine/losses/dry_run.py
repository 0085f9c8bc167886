"""Show what each configured loss receives and returns, before training starts.

:func:`dry_run` runs the very loss objects that train (per-output losses or the joint model's
``compute_loss`` path) on one real batch; :func:`loss_contract` describes, without data, the
tensors each loss will receive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from mogui.core.errors import CustomCodeError, DataError, TrainingError
from mogui.core.project import HeadSpec, Project
from mogui.core.tasks import Task
from mogui.core.validation import standardized_layer_name
from mogui.core.weight_checks import total_loss_warnings
from mogui.engine.data import prepare_masked_targets, project_labels
from mogui.engine.losses.head_losses import (
    CustomLoss,
    describe_head_loss,
    head_loss_label,
    make_head_loss,
)
from mogui.engine.losses.joint import JOINT_LABEL, JOINT_SCALAR_BALANCED, JointLossModel
from mogui.engine.losses.tensor_info import TensorInfo
from mogui.engine.model import build_model, outputs_by_head
from mogui.engine.plain_keras.scaling import adapt_scaling

__all__ = ["DryRunReport", "HeadDryRun", "LossContract", "TensorInfo", "dry_run",
           "loss_contract"]

NAN_HINT = ("guard the maths against it, e.g. clip predictions with "
            "ops.clip(y_pred, 1e-7, 1 - 1e-7) before a log, or add a small epsilon inside "
            "log/sqrt/division")


class _Data(Protocol):
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]


@dataclass
class HeadDryRun:
    """One head's loss on the dry-run batch; ``value`` is ``None`` for a joint scalar."""

    head: str
    loss: str
    y_true: TensorInfo
    y_pred: TensorInfo
    value: float | None
    weight: float
    weighted: float | None
    returned: TensorInfo | None = None
    note: str = ""
    labelled: int | None = None
    #: Class names of a classification head (a name's position is its class id).
    classes: tuple[str, ...] = ()


@dataclass
class DryRunReport:
    """Everything the losses received and returned on one batch; ``total`` is Keras' loss."""

    mode: str
    heads: list[HeadDryRun]
    total: float
    batch_size: int
    regularization: float = 0.0
    calls: int = 0
    returned: str = ""
    untrained: list[str] = field(default_factory=list)
    #: Things that will make training not do what the project says (a head left untrained…).
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A plain-text rendering for the command line and logs."""
        out = [f"{self.mode} loss on one batch of {self.batch_size} sample(s)"]
        if self.mode == "joint":
            out.append(f"loss() was called {self.calls} time(s) with every head; "
                       f"it returned {self.returned}")
        for h in self.heads:
            value = "-" if h.value is None else f"{h.value:.6g}"
            weighted = "-" if h.weighted is None else f"{h.weighted:.6g}"
            line = (f"  {h.head}: {h.loss}(y_true {h.y_true}, y_pred {h.y_pred}) = {value}"
                    f" x {h.weight:g} = {weighted}")
            if h.labelled is not None:
                line += f"  ({h.labelled} of {self.batch_size} rows labelled)"
            out.append(line + (f"  [{h.note}]" if h.note else ""))
            if h.classes:
                out.append("    classes: " + ", ".join(f"{i} {name}"
                                                     for i, name in enumerate(h.classes)))
        for name in self.untrained:
            out.append(f"  {name}: no loss (not trained)")
        if self.regularization:
            out.append(f"  regularization: {self.regularization:.6g}")
        out.append(f"  total loss: {self.total:.6g}")
        out += [f"warning: {warning}" for warning in self.warnings]
        return out


@dataclass
class LossContract:
    """What one loss receives; ``weight`` is ``None`` for the joint loss and untrained heads."""

    label: str
    heads: tuple[str, ...]
    y_true: dict[str, TensorInfo]
    y_pred: dict[str, TensorInfo]
    weight: float | None
    description: str


def _first_batch(project: Project, data: _Data, batch_size: int | None
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray],
                            dict[str, np.ndarray], int]:
    size = int(batch_size or project.training.batch_size)
    take = getattr(data, "take", None)
    if callable(take):  # a Dataset or a streaming source: read only the first rows
        data = take(size)
    missing = [name for name in project.input_names if name not in data.x]
    if missing:
        raise DataError(f"no input array for {missing}; the data holds {sorted(data.x)}")
    x = {name: np.asarray(data.x[name])[:size] for name in project.input_names}
    n = len(next(iter(x.values())))
    if n == 0:
        raise DataError("the data holds no samples")
    for name, array in x.items():
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise DataError(f"input {name!r} holds NaN or infinite values; clean the data")
    y, weights = prepare_masked_targets(project,
                                        {k: np.asarray(v)[:size] for k, v in data.y.items()})
    return x, y, weights, n


def dry_run(project: Project, data: _Data, batch_size: int | None = None, *,
            model: keras.Model | None = None) -> DryRunReport:
    """Run the configured loss(es) on the first ``batch_size`` samples of ``data``.

    ``model`` defaults to the project's built model. Raises :class:`CustomCodeError` (with the
    user's line) when custom code fails or returns a bad shape, NaN or infinity.
    """
    x, y, weights, n = _first_batch(project, data, batch_size)
    if model is None:
        keras.utils.set_random_seed(project.training.seed)  # the weights training starts from
        model = build_model(project)
        # Normalization layers measured on this batch (training measures the training rows).
        adapt_scaling(model, lambda: [(x, y, weights)])
    if project.loss_mode == "joint":
        return _joint_dry_run(project, model, x, y, weights, n)
    y_pred = _predict(model, x)
    heads: list[HeadDryRun] = []
    for head in project.heads:
        if head.has_loss:
            heads.append(_head_dry_run(head, y[head.name], y_pred[head.name],
                                       weights.get(head.name)))
    regularization = _regularization(model)
    total = sum(h.weighted or 0.0 for h in heads) + regularization
    untrained = [h.name for h in project.heads if not h.has_loss]
    warnings = [f"head '{h.head}' has loss weight 0, so training ignores its loss and does not "
                "train it; give it a weight above 0 or remove its loss"
                for h in heads if h.weight == 0]
    warnings += _unlabelled(heads, n) + total_loss_warnings(project)
    _name_classes(project, heads)
    return DryRunReport("per_output", heads, float(total), n, regularization,
                        calls=len(heads), untrained=untrained, warnings=warnings)


def _name_classes(project: Project, heads: list[HeadDryRun]) -> None:
    labels = project_labels(project)
    for h in heads:
        if labels[h.head].is_classification:
            h.classes = tuple(labels[h.head].classes)


def _unlabelled(heads: list[HeadDryRun], n: int) -> list[str]:
    return [f"head '{h.head}' has no labelled row in the first {n} rows, so its loss there is "
            "0; check its target column (missing labels are NaN, or -1 for classes)"
            for h in heads if h.labelled == 0]


def _predict(model: keras.Model, x: dict[str, np.ndarray]) -> dict[str, Any]:
    output = model(x, training=False)
    if isinstance(output, dict):
        return dict(output)
    outputs = output if isinstance(output, list | tuple) else [output]
    return dict(zip(model.output_names, outputs, strict=True))


def _regularization(model: keras.Model) -> float:
    return float(sum(float(ops.sum(loss)) for loss in model.losses)) if model.losses else 0.0


def _head_dry_run(head: HeadSpec, y_true: np.ndarray, y_pred: Any,
                  weight_per_row: np.ndarray | None = None) -> HeadDryRun:
    loss = make_head_loss(head)
    assert loss is not None
    value = float(loss(y_true, y_pred, sample_weight=weight_per_row))
    received = (TensorInfo(tuple(y_true.shape), str(loss.dtype)),
                TensorInfo(TensorInfo.of(y_pred).shape, str(loss.dtype)))
    returned = TensorInfo((), str(loss.dtype))  # a built-in loss returns the batch mean
    note = ""
    if isinstance(loss, CustomLoss):
        received = loss.last_inputs or received
        returned = loss.last_return
        if returned is not None and len(returned.shape) == 1:
            note = (f"returned per-sample values {returned.shape_text()}; Keras averages them "
                    "over the batch")
        if not math.isfinite(value):
            raise CustomCodeError(f"loss() returned {_bad(value)} for head '{head.name}' on "
                                  f"the first batch; {NAN_HINT}", loss.label, loss.return_line)
    elif not math.isfinite(value):
        raise TrainingError(f"head '{head.name}': the {describe_head_loss(head)} loss is "
                            f"{_bad(value)} on the first batch; check the data and the head's "
                            "activation")
    weight = float(head.loss.weight)
    labelled = None if weight_per_row is None else int(np.count_nonzero(weight_per_row))
    return HeadDryRun(head.name, describe_head_loss(head), received[0], received[1], value,
                      weight, weight * value, returned, note, labelled)


def _bad(value: float) -> str:
    return "NaN" if math.isnan(value) else "infinity"


def _joint_dry_run(project: Project, model: keras.Model, x: dict[str, np.ndarray],
                   y: dict[str, np.ndarray], weights: dict[str, np.ndarray],
                   n: int) -> DryRunReport:
    joint = model if isinstance(model, JointLossModel) else JointLossModel(
        inputs=model.input, outputs=outputs_by_head(model),
        loss_source=project.joint_loss.source,
        term_weights=dict(project.joint_loss.term_weights))
    calls_before = joint.loss_calls
    # Each head's own output layer: a head whose layer gets no gradient is not trained.
    head_weights = {head: head_output_layer(joint, head).trainable_weights
                    for head in project.head_names}
    with tf.GradientTape() as tape:
        y_pred = _predict(joint, x)
        terms, total = joint.loss_terms(y, y_pred, weights)
    gradients = tape.gradient(total, head_weights)
    call = joint.last_call
    assert call is not None
    if project.training.balancing.method != "equal" and not isinstance(call.returned, dict):
        raise CustomCodeError(JOINT_SCALAR_BALANCED, JOINT_LABEL, joint.return_line)
    values = {head: float(v) for head, v in terms.items()}
    for head, value in values.items():
        if not math.isfinite(value):
            raise CustomCodeError(f"the term for head '{head}' is {_bad(value)} on the first "
                                  f"batch; {NAN_HINT}", JOINT_LABEL, joint.return_line)
    total_value = float(total)
    if not math.isfinite(total_value):
        raise CustomCodeError(f"loss() returned {_bad(total_value)} on the first batch; "
                              f"{NAN_HINT}", JOINT_LABEL, joint.return_line)
    heads = []
    for head in project.head_names:
        weight = joint.term_weights.get(head, 1.0)
        value = values.get(head)
        returned = call.returned.get(head) if isinstance(call.returned, dict) else None
        note = ""
        if returned is not None and len(returned.shape) == 1:
            note = f"per-sample term {returned.shape_text()}, averaged over the batch"
        labelled = int(np.count_nonzero(weights[head])) if head in weights else None
        heads.append(HeadDryRun(head, "joint", call.y_true[head], call.y_pred[head], value,
                                weight, None if value is None else weight * value,
                                returned, note, labelled))
    if isinstance(call.returned, dict):
        returned_text = f"a dict of terms {sorted(call.returned)}"
    else:
        returned_text = f"one value {call.returned}"
    regularization = _regularization(joint)
    warnings = _joint_warnings(project, values, gradients, isinstance(call.returned, dict))
    warnings += _unlabelled(heads, n) + total_loss_warnings(project)
    _name_classes(project, heads)
    return DryRunReport("joint", heads, total_value + regularization, n, regularization,
                        calls=joint.loss_calls - calls_before, returned=returned_text,
                        warnings=warnings)


def head_output_layer(model: keras.Model, head: str) -> keras.layers.Layer:
    """A head's Dense output layer (a standardized head's is followed by its rescaling)."""
    try:
        return model.get_layer(standardized_layer_name(head))
    except ValueError:
        return model.get_layer(head)


def _joint_warnings(project: Project, terms: dict[str, float], gradients: dict[str, list],
                    returns_terms: bool) -> list[str]:
    """Heads the joint loss leaves untrained, and term weights it never applies."""
    warnings = []
    for head in project.head_names:
        layer_gradients = gradients.get(head) or []
        if all(g is None for g in layer_gradients):
            warnings.append(
                f"loss() does not use y_pred['{head}'], so head '{head}' gets no gradient and "
                "is not trained; use it in the loss (e.g. return a term for it) or remove the "
                "head")
        elif not any(np.any(np.asarray(g)) for g in layer_gradients if g is not None):
            warnings.append(
                f"the loss does not change with y_pred['{head}'] on this batch (its gradient "
                f"is 0), so head '{head}' is not trained by it; check its term and weight")
    weights = project.joint_loss.term_weights
    if not returns_terms and weights:
        warnings.append(
            f"term weights {dict(weights)} are ignored: loss() returns one value, not a dict of "
            "terms keyed by head; return a dict to weigh terms, or clear the weights")
    elif returns_terms:
        for head in weights:
            if head not in terms:
                warnings.append(
                    f"the term weight for '{head}' is ignored: loss() returns no term "
                    f"'{head}' (it returns {sorted(terms)})")
    return warnings


def _target_info(head: HeadSpec, pred: TensorInfo, joint: bool) -> TensorInfo:
    if head.task == Task.MULTICLASS:
        return TensorInfo((*pred.shape[:-1], 1), "int32" if joint else "float32")
    return TensorInfo(pred.shape, "float32")


def loss_contract(project: Project, model: keras.Model | None = None) -> list[LossContract]:
    """What each configured loss will receive, from the model's output shapes and head tasks."""
    model = model if model is not None else build_model(project)
    outputs = outputs_by_head(model)
    preds = {name: TensorInfo(TensorInfo.of(t).shape, "float32") for name, t in outputs.items()}
    joint = project.loss_mode == "joint"
    trues = {h.name: _target_info(h, preds[h.name], joint) for h in project.heads}
    if joint:
        weights = {h: project.joint_loss.term_weights.get(h, 1.0) for h in project.head_names}
        received_true = ", ".join(f"{h}: {trues[h]}" for h in project.head_names)
        received_pred = ", ".join(f"{h}: {preds[h]}" for h in project.head_names)
        weight_text = ", ".join(f"{h}: {w:g}" for h, w in weights.items())
        description = (f"loss(y_true={{{received_true}}}, y_pred={{{received_pred}}}) is called "
                       "once per batch with every head; it returns a scalar or a dict of terms "
                       f"keyed by head, weighted {{{weight_text}}}")
        return [LossContract(JOINT_LABEL, tuple(project.head_names), trues, preds, None,
                             description)]
    contracts = []
    for head in project.heads:
        name = head.name
        if not head.has_loss:
            contracts.append(LossContract("no loss", (name,), {}, {name: preds[name]}, None,
                                          f"{name}: no loss (not trained, logs no "
                                          f"{name}_loss)"))
            continue
        returns = " -> scalar or (batch,)" if head.is_custom else ""
        weight = float(head.loss.weight)
        description = (f"{name}: {describe_head_loss(head)}(y_true {trues[name]}, "
                       f"y_pred {preds[name]}){returns} x {weight:g}")
        contracts.append(LossContract(head_loss_label(name), (name,), {name: trues[name]},
                                      {name: preds[name]}, weight, description))
    return contracts
