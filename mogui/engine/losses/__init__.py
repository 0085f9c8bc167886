"""Losses: built-in and user-written per-head losses, the joint loss, compile, the dry run.

The public face: :func:`make_training_model` (the project's model compiled as it trains, with
the balancer of :func:`make_balancer`),
:func:`dry_run` and :func:`loss_contract` (what each loss receives, before training),
:func:`compile_loss_source` (check user code), and the names the views show.
"""

from mogui.engine.losses.dry_run import (
    DryRunReport,
    HeadDryRun,
    LossContract,
    dry_run,
    loss_contract,
)
from mogui.engine.losses.failures import training_failure
from mogui.engine.losses.head_losses import (
    BUILTIN_LOSSES,
    CROSSENTROPY_LOSSES,
    CustomLoss,
    describe_head_loss,
    head_loss_label,
    head_outputs_logits,
    make_head_loss,
)
from mogui.engine.losses.joint import JOINT_LABEL, JointLossModel
from mogui.engine.losses.tensor_info import TensorInfo
from mogui.engine.losses.training_model import (
    LOSS_BALANCERS,
    OPTIMIZERS,
    HeadLossModel,
    balancing_params,
    compile_model,
    make_balancer,
    make_optimizer,
    make_training_model,
)
from mogui.engine.losses.user_code import compile_loss_source

__all__ = [
    "BUILTIN_LOSSES",
    "CROSSENTROPY_LOSSES",
    "JOINT_LABEL",
    "LOSS_BALANCERS",
    "OPTIMIZERS",
    "CustomLoss",
    "DryRunReport",
    "HeadDryRun",
    "HeadLossModel",
    "JointLossModel",
    "LossContract",
    "TensorInfo",
    "balancing_params",
    "compile_loss_source",
    "compile_model",
    "describe_head_loss",
    "dry_run",
    "head_loss_label",
    "head_outputs_logits",
    "loss_contract",
    "make_balancer",
    "make_head_loss",
    "make_optimizer",
    "make_training_model",
    "training_failure",
]
