"""The project's model compiled for training: optimizer, losses, weights and metrics.

Per-output mode wraps the model in :class:`HeadLossModel` and compiles it with dicts keyed by
head name (loss, loss_weights, metrics); joint mode wraps it in
:class:`~mogui.engine.losses.joint.JointLossModel`. Both log every head's loss as a mean over
samples, so an epoch's ``loss`` is the weighted sum of the heads' losses. A project that
balances its heads gets the method's balancer (:func:`make_balancer`), from
:mod:`mogui.engine.plain_keras.loss_balancing` or ``gradient_step``.
"""

from __future__ import annotations

from typing import Any

import keras

from mogui.core.balancing import BALANCING_METHODS
from mogui.core.project import Project, TrainingSettings
from mogui.engine.losses.head_losses import make_head_loss, make_head_metrics
from mogui.engine.losses.joint import JointLossModel
from mogui.engine.model import build_model, outputs_by_head
from mogui.engine.plain_keras import gradient_balancing, gradient_step, loss_balancing, multi_head


@keras.saving.register_keras_serializable(package="mogui")
class HeadLossModel(multi_head.HeadLossModel):
    """The per-head model of :mod:`mogui.engine.plain_keras.multi_head`, registered for loading."""

OPTIMIZERS: dict[str, type[keras.optimizers.Optimizer]] = {
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "sgd": keras.optimizers.SGD,
    "rmsprop": keras.optimizers.RMSprop,
}


def make_optimizer(settings: TrainingSettings) -> keras.optimizers.Optimizer:
    """The optimizer named in the training settings, with its learning rate."""
    return OPTIMIZERS[settings.optimizer](learning_rate=settings.learning_rate)


#: The classes of the loss-based methods.
LOSS_BALANCERS: dict[str, type[loss_balancing.LossBalancing]] = {
    "uw": loss_balancing.UncertaintyWeighting,
    "dwa": loss_balancing.DynamicWeightAverage,
    "rlw": loss_balancing.RandomLossWeighting,
    "gls": loss_balancing.GeometricLossStrategy,
    "famo": loss_balancing.Famo,
}


def balancing_params(project: Project) -> dict[str, float | int]:
    """The balancing method's parameters, defaults filled in, whole-number ones as ``int``."""
    method = BALANCING_METHODS[project.training.balancing.method]
    settings = project.training.balancing.settings()
    whole = {p.name for p in method.parameters if p.integer}
    return {name: int(value) if name in whole else float(value)
            for name, value in settings.items()}


def make_balancer(project: Project) -> Any:
    """The balancer of the project's method for its loss heads, or ``None`` for ``equal``."""
    method = project.training.balancing.method
    if method == "equal":
        return None
    heads = [head.name for head in project.loss_heads()]
    params = balancing_params(project)
    if method == "rlw":
        return loss_balancing.RandomLossWeighting(heads, seed=project.training.seed)
    if method in LOSS_BALANCERS:
        return LOSS_BALANCERS[method](heads, **params)
    update = gradient_balancing.gradnorm_update if method == "gradnorm" else None
    return gradient_step.GradientBalancing(
        method, gradient_balancing.GRADIENT_METHODS[method], heads, seed=project.training.seed,
        update=update, **params)


def compile_model(model: keras.Model, project: Project) -> keras.Model:
    """``model`` as a :class:`HeadLossModel` or :class:`JointLossModel`, compiled.

    Every compile argument is a dict keyed by head name, covering every head: heads without a
    loss get ``None``. Metrics are weighted metrics, so rows without a label for a head (sample
    weight 0) count neither in its loss nor in its metrics. Under a distribution strategy,
    call it inside the strategy's scope (the balancer's variables are made here).
    """
    optimizer = make_optimizer(project.training)
    metrics = {head.name: make_head_metrics(head) for head in project.heads}
    if project.loss_mode == "joint":
        joint = JointLossModel(
            inputs=model.input,
            outputs=outputs_by_head(model),
            loss_source=project.joint_loss.source,
            term_weights=dict(project.joint_loss.term_weights),
            name=model.name,
        )
        joint.compile(optimizer=optimizer, weighted_metrics=metrics)
        joint.balance_with(make_balancer(project))
        return joint
    per_head = HeadLossModel(inputs=model.input, outputs=outputs_by_head(model), name=model.name)
    per_head.compile(
        optimizer=optimizer,
        loss={head.name: make_head_loss(head) for head in project.heads},
        loss_weights={head.name: float(head.loss.weight) for head in project.heads},
        weighted_metrics=metrics,
    )
    per_head.balance_with(make_balancer(project))
    return per_head


def make_training_model(project: Project) -> keras.Model:
    """Build the project's model and compile it for training."""
    return compile_model(build_model(project), project)
