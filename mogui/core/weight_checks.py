"""What the heads' loss weights must allow before training: something to train, and for a
balancing method two heads to balance. Pure Python: no Qt, no keras.

A head with loss weight 0 takes no part in training (its loss is multiplied by 0, before any
balancing), so it does not count as a head that a balancing method balances.
"""

from __future__ import annotations

from mogui.core.balancing import BALANCING_METHODS
from mogui.core.project import Project


def weighted_heads(project: Project) -> list[str]:
    """The heads training takes part in: every head in joint mode; else the heads with a
    loss whose weight is not 0."""
    if project.loss_mode == "joint":
        return list(project.head_names)
    return [h.name for h in project.loss_heads() if h.loss.weight != 0]


def weight_problems(project: Project) -> list[tuple[str, str]]:
    """``(field path, message)`` for loss weights that leave nothing to train, or too few
    heads for the balancing method."""
    losses = project.loss_heads()
    if not losses:
        return []  # "no head has a loss" is said on its own
    taking_part = weighted_heads(project)
    if not taking_part:
        return [("heads", "every head's loss weight is 0, so training would change nothing; "
                          "give at least one head a weight above 0")]
    method = BALANCING_METHODS[project.training.balancing.method]
    path = "training.balancing.method"
    if method.name != "equal" and len(taking_part) < 2:
        zero = [h.name for h in losses if h.name not in taking_part]
        why = (f"{len(taking_part)} head has a loss" if not zero else
               f"only '{taking_part[0]}' takes part ({', '.join(repr(z) for z in zero)} "
               "has loss weight 0)")
        return [(path, f"is '{method.name}', which balances two or more heads, but {why}; "
                       "give another head a loss (and a weight above 0) or choose 'equal'")]
    if method.kind == "gradient" and not project.trunk:
        return [(path, f"is '{method.name}', which balances the heads' gradients on the layers "
                       "they share, but the model has no shared layers (trunk); add trunk "
                       "layers or choose a loss-based method (uw, dwa, rlw, gls, famo)")]
    return []





def changing_weights(project: Project) -> list[str]:
    """What changes the weighting of the total loss during training: each head's weight
    schedule, and a loss-based balancing method (gradient-based methods leave the logged
    total at the heads' own weights)."""
    causes = [f"the {h.loss.schedule.kind} schedule of '{h.name}'" for h in project.loss_heads()
              if project.loss_mode != "joint" and h.loss.schedule.kind != "constant"]
    method = BALANCING_METHODS[project.training.balancing.method]
    if method.kind == "loss":
        causes.append(f"balancing '{method.name}'")
    return causes


def total_loss_warnings(project: Project) -> list[str]:
    """Early stopping or checkpoints that watch the total loss while its weighting changes:
    a later epoch's total is weighted differently, so it can look worse while every head
    improves."""
    causes = changing_weights(project)
    if not causes:
        return []
    warnings = []
    for name, title, option in (("early_stopping", "early stopping", "--stop-on"),
                                ("checkpointing", "checkpoints", "--checkpoint-on")):
        setting = getattr(project.training, name)
        if setting.enabled and setting.criterion == "monitor" \
                and setting.monitor in ("loss", "val_loss"):
            warnings.append(
                f"{title} watches {setting.monitor}, the weighted total of the heads' losses, "
                f"while {' and '.join(causes)} changes its weighting from epoch to epoch: a "
                "later total can be higher although every head improved. Watch the heads' "
                f"own losses instead ({option} all-heads, or the {title} criterion in the app)")
    return warnings
__all__ = ["changing_weights", "total_loss_warnings", "weight_problems", "weighted_heads"]
