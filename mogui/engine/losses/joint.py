"""The joint-loss model with mogui's checks: the user's function over all heads at once.

:class:`mogui.engine.plain_keras.multi_head.JointLossModel` holds the training logic that
exported scripts share; this subclass compiles the user's source, names the user's line in
every error, checks what the function returns, and keeps what it received for the dry run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import keras

from mogui.core.errors import CustomCodeError
from mogui.core.project_code import JOINT_CODE_LABEL
from mogui.engine.losses.head_losses import numeric_tensor
from mogui.engine.losses.tensor_info import TensorInfo
from mogui.engine.losses.user_code import call_user_code, compile_loss_source, return_lineno
from mogui.engine.plain_keras import multi_head as plain

JOINT_LABEL = JOINT_CODE_LABEL

#: Why balancing refuses a joint loss that returns one value.
JOINT_SCALAR_BALANCED = (
    "loss() returns one value, but balancing the heads weighs each head's term; return a dict "
    "of terms keyed by head name (e.g. {'bbox': box_loss, 'classification': class_loss}), or "
    "set the balancing method to 'equal'")


@dataclass
class JointCall:
    """What the joint function received and returned in its latest call."""

    y_true: dict[str, TensorInfo]
    y_pred: dict[str, TensorInfo]
    returned: dict[str, TensorInfo] | TensorInfo


@keras.saving.register_keras_serializable(package="mogui")
class JointLossModel(plain.JointLossModel):
    """Functional model trained by ``loss(y_true, y_pred)`` over dicts of every head.

    Build it like a functional model: ``JointLossModel(inputs, outputs, loss_source=...,
    term_weights=...)``; see the base class for how terms are reduced, weighted and logged.
    Loading a model file recompiles ``loss_source``: it runs only when trusted.
    """

    def __init__(self, *args: Any, loss_source: str = "",
                 term_weights: Mapping[str, float] | None = None, **kwargs: Any) -> None:
        self.loss_source = loss_source
        self.return_line = return_lineno(loss_source)
        self.loss_calls = 0
        self.last_call: JointCall | None = None
        super().__init__(*args, term_weights=term_weights, **kwargs)

    def make_loss_function(self) -> Any:
        return compile_loss_source(self.loss_source, JOINT_LABEL, allow_mask=True)

    def call_loss(self, y_true: dict[str, Any], y_pred: dict[str, Any],
                  mask: dict[str, Any] | None) -> Any:
        self.loss_calls += 1
        result = call_user_code(super().call_loss, JOINT_LABEL, y_true, y_pred, mask,
                                heads=list(self.head_names))
        received = ({k: TensorInfo.of(v) for k, v in y_true.items()},
                    {k: TensorInfo.of(v) for k, v in y_pred.items()})
        if isinstance(result, Mapping):
            unknown = [str(k) for k in result if k not in self.head_names]
            if unknown:
                raise CustomCodeError(
                    f"loss() returned terms {unknown} that name no head; the keys of the "
                    f"returned dict must be head names: {list(self.head_names)}",
                    JOINT_LABEL, self.return_line)
            if not result:
                raise CustomCodeError("loss() returned an empty dict; return a scalar or "
                                      "a dict of terms keyed by head name", JOINT_LABEL,
                                      self.return_line)
            self.last_call = JointCall(*received, {h: TensorInfo.of(v) for h, v in result.items()})
            return dict(result)
        if result is None:
            raise CustomCodeError("loss() returned None; return a scalar or a dict of terms "
                                  "keyed by head name", JOINT_LABEL, self.return_line)
        if self.balancer is not None:
            raise CustomCodeError(JOINT_SCALAR_BALANCED, JOINT_LABEL, self.return_line)
        self.last_call = JointCall(*received, TensorInfo.of(result))
        return result

    def reduce(self, value: Any, weight: Any, what: str) -> Any:
        value = numeric_tensor(value, what, JOINT_LABEL, self.return_line)
        info = TensorInfo.of(value)
        if len(info.shape) > 1:
            raise CustomCodeError(
                f"{what} has shape {info.shape_text()}; return a scalar or one value per "
                "sample (reduce the other axes, e.g. ops.mean(..., axis=-1))",
                JOINT_LABEL, self.return_line)
        return super().reduce(value, weight, what)

    def by_head(self, values: Any, what: str) -> dict[str, Any]:
        """``values`` (dict, list, tuple or single tensor) as a dict keyed by head name."""
        names = list(self.head_names)
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

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "loss_source": self.loss_source}
