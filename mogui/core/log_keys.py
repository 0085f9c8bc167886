"""The values Keras logs for a project, by the names a monitor (early stopping, checkpoints)
uses: ``loss``, ``<head>_loss``, ``<head>_<metric>`` and their ``val_`` twins; each head's
loss weight, ``weight_<head>`` (training only); and with gradient diagnostics on,
``gradnorm_<head>`` and ``gradcos_<a>__<b>`` (training only, never monitored)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

from mogui.core.project import Project


def log_keys(project: Project) -> list[str]:
    """Training log keys; each has a ``val_`` twin when there is validation data.

    Per head: ``<head>_loss`` when more than one loss trains (in joint mode, for every term
    the function may return) and ``<head>_<metric>`` (just ``<metric>`` in a one-head model).
    """
    keys = ["loss"]
    if project.loss_mode == "joint":
        keys += [f"{name}_loss" for name in project.head_names]
    elif len(project.loss_heads()) > 1:
        keys += [f"{head.name}_loss" for head in project.loss_heads()]
    single = len(project.heads) == 1
    for head in project.heads:
        keys += [metric if single else f"{head.name}_{metric}" for metric in head.loss.metrics]
    return keys


def weight_keys(project: Project) -> list[str]:
    """``weight_<head>``: the weight each head's loss got in training, an epoch's mean (no
    ``val_`` twin). In joint mode, for every term the function may return."""
    return [f"weight_{head.name}" for head in project.loss_heads()]


def monitor_problem(project: Project, monitor: str) -> str | None:
    """Why ``monitor`` names nothing training will log (``None`` when it does)."""
    keys = log_keys(project)
    validating = project.training.validation_split > 0
    if monitor.removeprefix("val_") in keys and (not monitor.startswith("val_") or validating):
        return None
    offered = keys + ([f"val_{k}" for k in keys] if validating else [])
    if monitor.startswith("val_") and monitor[4:] in keys:
        return (f"watches {monitor!r}, but there is no validation data (the validation split "
                f"is 0); watch {monitor[4:]!r} or set a validation split")
    return f"names {monitor!r}, which training does not log; choose one of {offered}"


def pair_name(first: str, second: str) -> str:
    """Two heads as one name: ``"<first>__<second>"``."""
    return f"{first}__{second}"


def gradnorm_key(head: str) -> str:
    """The log key of ``head``'s gradient norm on the shared trunk (gradient diagnostics)."""
    return f"gradnorm_{head}"


def gradcos_key(first: str, second: str) -> str:
    """The log key of the cosine between two heads' trunk gradients (gradient diagnostics)."""
    return f"gradcos_{pair_name(first, second)}"


def gradient_keys(heads: Sequence[str]) -> list[str]:
    """``gradnorm_<head>`` per head, then ``gradcos_<a>__<b>`` per pair (``a`` before ``b`` in
    ``heads``, which is training order)."""
    return [*(gradnorm_key(head) for head in heads),
            *(gradcos_key(a, b) for a, b in combinations(heads, 2))]


def is_gradient_key(key: str, heads: Sequence[str]) -> bool:
    """Whether ``key`` is a gradient diagnostic's log key for ``heads`` (not a head's metric,
    even for a head named ``gradnorm``)."""
    if key.startswith("gradnorm_"):
        return key[len("gradnorm_"):] in heads
    if key.startswith("gradcos_"):
        pair = key[len("gradcos_"):]
        return any(pair == pair_name(a, b) for a in heads for b in heads if a != b)
    return False
