"""A functional model trained by one user function over all heads at once."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import keras
from keras import ops

from mogui.core.errors import CustomCodeError
from mogui.engine.custom_code import call_user_code, compile_loss_source, return_lineno
from mogui.engine.tensor_info import TensorInfo

JOINT_LABEL = "joint loss"


@dataclass
class JointCall:
    """What the joint function received and returned in its latest call."""

    y_true: dict[str, TensorInfo]
    y_pred: dict[str, TensorInfo]
    returned: dict[str, TensorInfo] | TensorInfo


@keras.saving.register_keras_serializable(package="mogui")
class JointLossModel(keras.Model):
    """Functional model whose loss is ``loss(y_true, y_pred)`` over dicts of every head.

    Build it like a functional model: ``JointLossModel(inputs, outputs, loss_source=...,
    term_weights=...)``. The function may return a scalar or a dict of terms keyed by head
    name; each term is logged unweighted as ``<head>_loss`` and the total is
    ``sum(term_weight * term)`` plus regularization.

    Rows without a label for a head (sample weight 0, see :mod:`mogui.engine.masking`) reach
    the function with a filled placeholder target. A per-sample term (shape ``(batch,)``) is
    averaged over the head's labelled rows only. A function declared as
    ``loss(y_true, y_pred, mask)`` also gets ``mask[head]``: 1.0 for labelled rows, 0.0 for
    the others, shape ``(batch,)``, to mask scalar or coupling terms itself.
    """

    def __init__(self, *args: Any, loss_source: str = "",
                 term_weights: Mapping[str, float] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loss_source = loss_source
        self.term_weights = {str(k): float(v) for k, v in (term_weights or {}).items()}
        self.loss_fn = compile_loss_source(loss_source, JOINT_LABEL, allow_mask=True)
        self.return_line = return_lineno(loss_source)
        self.wants_mask = "mask" in inspect.signature(self.loss_fn).parameters
        self.loss_calls = 0
        self.last_call: JointCall | None = None
        self._terms_seen: tuple[str, ...] = ()
        self.term_trackers = {name: keras.metrics.Mean(name=f"{name}_loss")
                              for name in self.output_names}

    # -- loss ------------------------------------------------------------------------------
    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> Any:
        terms, total = self.joint_terms(y, y_pred, sample_weight)
        batch = ops.shape(next(iter(self.by_head(y_pred, "y_pred").values())))[0]
        for head, value in terms.items():
            self.term_trackers[head].update_state(value, sample_weight=batch)
        if self.losses:
            total = total + sum(ops.sum(loss) for loss in self.losses)
        return total

    def joint_terms(self, y: Any, y_pred: Any,
                    sample_weight: Any = None) -> tuple[dict[str, Any], Any]:
        """Call the user function once; return its reduced terms (unweighted) and the total.

        The total excludes regularization. A scalar return gives no terms.
        """
        y_true = {k: ops.convert_to_tensor(v) for k, v in self.by_head(y, "y").items()}
        preds = {k: _as_float32(ops.convert_to_tensor(v))
                 for k, v in self.by_head(y_pred, "y_pred").items()}
        weights = self.by_head(sample_weight, "sample_weight") if sample_weight is not None \
            else {}
        self.loss_calls += 1
        if self.wants_mask:
            batch = ops.shape(next(iter(preds.values())))[0]
            mask = {head: ops.reshape(ops.cast(weights[head], "float32"), (-1,))
                    if head in weights else ops.ones((batch,), "float32") for head in preds}
            result = call_user_code(self.loss_fn, JOINT_LABEL, y_true, preds, mask)
        else:
            result = call_user_code(self.loss_fn, JOINT_LABEL, y_true, preds)
        received_true = {k: TensorInfo.of(v) for k, v in y_true.items()}
        received_pred = {k: TensorInfo.of(v) for k, v in preds.items()}
        if isinstance(result, Mapping):
            unknown = [str(k) for k in result if k not in self.output_names]
            if unknown:
                raise CustomCodeError(
                    f"loss() returned terms {unknown} that name no head; the keys of the "
                    f"returned dict must be head names: {list(self.output_names)}",
                    JOINT_LABEL, self.return_line)
            if not result:
                raise CustomCodeError("loss() returned an empty dict; return a scalar or "
                                      "a dict of terms keyed by head name", JOINT_LABEL,
                                      self.return_line)
            terms = {head: self._reduce(value, weights.get(head), f"term {head!r}")
                     for head, value in result.items()}
            self.last_call = JointCall(received_true, received_pred,
                                       {h: TensorInfo.of(v) for h, v in result.items()})
            self._terms_seen = tuple(terms)
            total = sum(self.term_weights.get(h, 1.0) * v for h, v in terms.items())
            return terms, total
        if result is None:
            raise CustomCodeError("loss() returned None; return a scalar or a dict of terms "
                                  "keyed by head name", JOINT_LABEL, self.return_line)
        self.last_call = JointCall(received_true, received_pred, TensorInfo.of(result))
        self._terms_seen = ()
        return {}, self._reduce(result, None, "the returned value")

    def _reduce(self, value: Any, weight: Any, what: str) -> Any:
        value = ops.cast(ops.convert_to_tensor(value), "float32")
        rank = len(value.shape)
        if rank == 0:
            return value
        if rank == 1:
            if weight is not None:  # mean over the head's labelled rows only
                weight = ops.reshape(ops.cast(ops.convert_to_tensor(weight), "float32"), (-1,))
                return ops.divide_no_nan(ops.sum(value * weight), ops.sum(weight))
            return ops.mean(value)
        raise CustomCodeError(
            f"{what} has shape {TensorInfo.of(value).shape_text()}; return a scalar or one "
            "value per sample (reduce the other axes, e.g. ops.mean(..., axis=-1))",
            JOINT_LABEL, self.return_line)

    def by_head(self, values: Any, what: str) -> dict[str, Any]:
        """``values`` (dict, list, tuple or single tensor) as a dict keyed by head name."""
        names = list(self.output_names)
        if isinstance(values, Mapping):
            return dict(values)
        if isinstance(values, list | tuple):
            if len(values) != len(names):
                raise CustomCodeError(f"{what} holds {len(values)} arrays but the model has "
                                      f"{len(names)} heads {names}", JOINT_LABEL)
            return dict(zip(names, values, strict=True))
        if len(names) == 1:
            return {names[0]: values}
        raise CustomCodeError(f"{what} must be a dict keyed by head name {names}", JOINT_LABEL)

    # -- bookkeeping -----------------------------------------------------------------------
    @property
    def metrics(self) -> list[Any]:
        seen = getattr(self, "_terms_seen", ())
        trackers = getattr(self, "term_trackers", {})
        unused = {id(tracker) for head, tracker in trackers.items() if head not in seen}
        return [m for m in super().metrics if id(m) not in unused]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(loss_source=self.loss_source, term_weights=dict(self.term_weights))
        return config


def _as_float32(tensor: Any) -> Any:
    dtype = keras.backend.standardize_dtype(tensor.dtype)
    if dtype in ("float16", "bfloat16", "float64"):
        return ops.cast(tensor, "float32")
    return tensor
