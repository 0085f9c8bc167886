"""Code generation, balancing part: loss weights that change, balancing methods, devices.

The balancers, the weight schedule callback and the distribution strategy are the engine's
own code (:mod:`mogui.engine.plain_keras`: ``loss_balancing``, ``gradient_balancing``,
``gradient_step``, ``distribution``), copied as written, with only what the project's method
uses; the balancer is made with the arguments :func:`mogui.engine.losses.make_balancer` gives.
"""

from __future__ import annotations

from mogui.core.balancing import BALANCING_METHODS
from mogui.core.project import Project
from mogui.engine.export.codegen.literals import banner, lit
from mogui.engine.export.codegen.shared import definitions, needed_names
from mogui.engine.losses import LOSS_BALANCERS, balancing_params
from mogui.engine.plain_keras import (
    distribution,
    gradient_balancing,
    gradient_step,
    loss_balancing,
)
from mogui.engine.training import base_weights, weight_schedules


def uses_schedule(project: Project) -> bool:
    """Whether the script needs the callback that sets the weights each epoch."""
    return bool(weight_schedules(project)) or project.training.balancing.method == "dwa"


def balancer_expression(project: Project) -> str | None:
    """The expression that makes the project's balancer (``None`` for ``equal``)."""
    method = project.training.balancing.method
    if method == "equal":
        return None
    params = balancing_params(project)
    if method == "rlw":
        return "RandomLossWeighting(LOSS_HEADS, seed=SEED)"
    arguments = "".join(f", {name}={value!r}" for name, value in params.items())
    if method in LOSS_BALANCERS:
        return f"{LOSS_BALANCERS[method].__name__}(LOSS_HEADS{arguments})"
    update = ", update=gradnorm_update" if method == "gradnorm" else ""
    return f'GradientBalancing("{method}", {method}, LOSS_HEADS, seed=SEED{update}{arguments})'


def balancing_settings(project: Project) -> list[str]:
    """Settings lines: the base weights and schedules, the number of devices."""
    lines = []
    if uses_schedule(project):
        lines.append("# Each head's base loss weight, and the schedules of those that change.")
        lines.append(f"BASE_WEIGHTS = {lit(base_weights(project))}")
        lines.append(f"HEAD_SCHEDULES = {lit(weight_schedules(project))}")
    if project.training.devices > 1:
        lines.append("# Devices trained on at once (tf.distribute.MirroredStrategy).")
        lines.append(f"DEVICES = {project.training.devices}")
    return lines


def balancing_section(project: Project) -> str:
    """The engine's code the project's balancing, schedules and devices need."""
    method = project.training.balancing.method
    parts = []
    roots = ["LossWeightSchedule"] if uses_schedule(project) else []
    if method in LOSS_BALANCERS:
        roots.append(LOSS_BALANCERS[method].__name__)
    if roots:
        parts.append(definitions(loss_balancing, *needed_names(loss_balancing, *roots)))
    if BALANCING_METHODS[method].kind == "gradient":
        aggregate = [method, "gradnorm_update"] if method == "gradnorm" else [method]
        parts.append(definitions(gradient_balancing,
                                 *needed_names(gradient_balancing, *aggregate)))
        parts.append(definitions(gradient_step, *needed_names(gradient_step,
                                                              "GradientBalancing")))
    if project.training.devices > 1:
        parts.append(definitions(distribution, "training_devices", "training_strategy"))
    if not parts:
        return ""
    title = BALANCING_METHODS[method]
    comment = (f"# How the heads' losses are combined: {title.name} ({title.title}, "
               f"{title.paper}).\n" if method != "equal" else "")
    return banner("loss weights and balancing") + "\n" + comment + "\n\n".join(parts)
