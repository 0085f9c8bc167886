"""Code generation, loss part: custom loss code, the joint-loss model and ``compile``.

The head-loss wrapper, the joint-loss model, the masked reduction and the logit-metric table
are the engine's own code (:mod:`mogui.engine.plain_keras`), copied as written; the Keras
loss classes, their arguments and the optimizer are those :mod:`mogui.engine.losses` uses.
"""

from __future__ import annotations

import re
import textwrap

from mogui.core.project import HeadSpec, Project
from mogui.core.tasks import CUSTOM_LOSS
from mogui.engine.export.codegen.literals import banner, lit
from mogui.engine.export.codegen.shared import definitions
from mogui.engine.losses import (
    BUILTIN_LOSSES,
    CROSSENTROPY_LOSSES,
    OPTIMIZERS,
    head_outputs_logits,
)
from mogui.engine.plain_keras import head_loss, head_trackers, multi_head, reduction

#: Registers a copied class so that the script's ``model.keras`` reloads where it is imported.
REGISTER = '@keras.saving.register_keras_serializable(package="exported")\n'

_FUTURE = re.compile(r"^from __future__ import [^\n]*\n?", re.MULTILINE)


def custom_sources(project: Project) -> list[str]:
    """Every piece of user-written loss code the script will contain."""
    if project.loss_mode == "joint":
        return [project.joint_loss.source]
    return [h.loss.source for h in project.heads if h.is_custom]


def _factory(function: str, docstring: str, source: str) -> str:
    body = _FUTURE.sub("", source).strip("\n")
    return (f"def {function}():\n"
            f'    """{docstring}"""\n'
            f"{textwrap.indent(body, '    ')}\n\n"
            "    return loss\n")


def _custom_head_losses(project: Project) -> str:
    heads = [h for h in project.heads if h.is_custom] if project.loss_mode != "joint" else []
    if not heads:
        return ""
    parts = [
        banner("custom losses") + "\n"
        "# Your loss code, copied from the project. Each head's code sits inside its own\n"
        "# function so that helpers with the same name in two heads cannot clash.\n",
    ]
    for head in heads:
        parts.append(_factory(f"make_{head.name}_loss",
                              f'The custom loss of head "{head.name}".', head.loss.source))
    factories = ", ".join(f'"{h.name}": make_{h.name}_loss' for h in heads)
    parts.append(f"CUSTOM_LOSSES = {{{factories}}}\n")
    parts.append(REGISTER + definitions(head_loss, "HeadLoss"))
    return "\n\n".join(parts)


#: What every script copies from :mod:`mogui.engine.plain_keras.reduction`: a term as a
#: mean over the labelled rows (per replica).
REDUCTION = ("replica_count", "sum_over_replicas", "reduce_term", "reduce_terms")
#: What every script copies from :mod:`mogui.engine.plain_keras.multi_head`: the base model.
MODEL_BASE = ("MultiHeadModel",)
#: What every script copies from :mod:`mogui.engine.plain_keras.head_trackers`.
TRACKERS = ("as_number", "HeadMeans", "HeadWeights")


def losses_section(project: Project) -> str:
    """Custom loss code and the model class that sums the heads' losses."""
    base = "\n\n".join((definitions(head_trackers, *TRACKERS),
                         definitions(reduction, *REDUCTION), definitions(multi_head, *MODEL_BASE)))
    if project.loss_mode == "joint":
        return (
            banner("joint loss") + "\n"
            "# Your joint loss code, copied from the project. It receives y_true and y_pred as\n"
            "# dicts keyed by head name and returns a scalar or a dict of terms per head.\n\n"
            + _factory("make_joint_loss", "The joint loss over all heads.",
                       project.joint_loss.source)
            + "\n\n" + definitions(multi_head, "as_float32")
            + "\n\n" + base + "\n\n" + REGISTER + definitions(multi_head, "JointLossModel")
        )
    custom = _custom_head_losses(project)
    return ((custom + "\n\n" if custom else "") + banner("the per-head model") + "\n"
            + base + "\n\n" + definitions(multi_head, "loss_values") + "\n\n"
            + REGISTER + definitions(multi_head, "HeadLossModel"))


def shared_section() -> str:
    """The masked reduction, the logit-metric table and ``head_metrics``."""
    return definitions(head_loss, "MASKED_MEAN", "LOGIT_METRICS", "head_metrics")


def _loss_expression(head: HeadSpec) -> str:
    if not head.has_loss:
        return "None"
    kind = str(head.loss.kind)
    if kind == CUSTOM_LOSS:
        return f'HeadLoss("{head.name}", name="{head.name}_loss", reduction=MASKED_MEAN)'
    name = BUILTIN_LOSSES[kind].__name__
    if kind in CROSSENTROPY_LOSSES:
        return (f"keras.losses.{name}(from_logits={head_outputs_logits(head)}, "
                "reduction=MASKED_MEAN)")
    return f"keras.losses.{name}(reduction=MASKED_MEAN)"


def _metrics_expression(head: HeadSpec) -> str:
    return f"head_metrics({lit(list(head.loss.metrics))}, logits={head_outputs_logits(head)})"


def compile_section(project: Project) -> str:
    """``compile_model(model)`` with the project's optimizer, losses, weights and metrics."""
    optimizer = OPTIMIZERS[project.training.optimizer].__name__
    metrics = ", ".join(f'"{h.name}": {_metrics_expression(h)}' for h in project.heads)
    lines = [
        "def compile_model(model):",
    ]
    if project.loss_mode == "joint":
        lines += [
            '    """No loss argument: JointLossModel.compute_loss computes it from all heads."""',
            "    model.compile(",
            f"        optimizer=keras.optimizers.{optimizer}(learning_rate=LEARNING_RATE),",
            f"        weighted_metrics={{{metrics}}},",
            "    )",
        ]
    else:
        losses = ", ".join(f'"{h.name}": {_loss_expression(h)}' for h in project.heads)
        weights = ", ".join(f'"{h.name}": {float(h.loss.weight)!r}' for h in project.heads)
        lines += [
            '    """One loss per head; the total loss is the sum of weight * head loss."""',
            "    model.compile(",
            f"        optimizer=keras.optimizers.{optimizer}(learning_rate=LEARNING_RATE),",
            "        # Dicts keyed by head name: Keras matches them to the outputs by name.",
            "        # A list would be matched by position, and a single loss would be",
            "        # copied to every head. None leaves a head untrained.",
            f"        loss={{{losses}}},",
            f"        loss_weights={{{weights}}},",
            "        # Weighted metrics: rows without a label (weight 0) count in no metric.",
            f"        weighted_metrics={{{metrics}}},",
            "    )",
        ]
    return "\n".join(lines) + "\n"
