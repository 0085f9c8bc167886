"""What early stopping and checkpoints watch: one logged value, or a criterion over several.

A criterion other than ``monitor`` watches a list of logged values (``metrics``; empty means
each loss head's validation loss, weight 1, in head order):

- ``weighted``: their weighted sum; a value that is better higher (an accuracy) counts with a
  minus sign, so the sum is always better lower;
- ``lexicographic``: the first value decides unless the two epochs are within its tolerance,
  then the next one, and so on;
- ``all_heads``: each value on its own; training stops when none of them has improved for
  ``patience`` epochs, and the best epoch is the one with the best weighted sum.

Each value has a direction (:func:`metric_direction`): lower is better for losses and errors,
higher for accuracies, AUC, precision and recall. The engine's callback
(:mod:`mogui.engine.plain_keras.stopping`) gets what :func:`criterion_spec` gives.
"""

from __future__ import annotations

import math
from typing import Literal

from mogui.core.log_keys import log_keys, monitor_problem
from mogui.core.project import Checkpointing, CriterionKind, CriterionMetric, EarlyStopping, Project

Direction = Literal["min", "max"]
Setting = EarlyStopping | Checkpointing
#: One watched value as the callback takes it: ``(name, direction, weight, tolerance)``.
Watched = tuple[str, Direction, float, float | None]

#: Every metric a head may log, and whether it is better lower or higher.
METRIC_DIRECTIONS: dict[str, Direction] = {
    "mae": "min", "mse": "min", "root_mean_squared_error": "min",
    "binary_accuracy": "max", "auc": "max", "precision": "max", "recall": "max",
    "sparse_categorical_accuracy": "max", "sparse_top_k_categorical_accuracy": "max",
    "categorical_accuracy": "max", "top_k_categorical_accuracy": "max",
}

#: How the app and the command line name each kind of criterion.
KIND_TITLES: dict[CriterionKind, str] = {
    "monitor": "One value",
    "weighted": "Weighted sum",
    "lexicographic": "Lexicographic",
    "all_heads": "Every head",
}

#: ``--stop-on`` / ``--checkpoint-on``: how each kind is written.
SPEC_EXAMPLES = ("monitor:val_loss | weighted:val_a_loss=1,val_b_loss=0.5 | "
                 "lexicographic:val_a_loss~0.01,val_b_loss | all-heads[:val_a_loss,val_b_mae]")


def metric_direction(key: str) -> Direction:
    """``"min"`` when a lower ``key`` is better (losses, errors), ``"max"`` when higher is
    (accuracies, AUC, precision, recall). ``val_`` and a head's name in front are ignored."""
    base = key.removeprefix("val_")
    if base == "loss" or base.endswith("_loss"):
        return "min"
    for metric in sorted(METRIC_DIRECTIONS, key=len, reverse=True):
        if base == metric or base.endswith(f"_{metric}"):
            return METRIC_DIRECTIONS[metric]
    return "min"


def default_metrics(project: Project) -> list[CriterionMetric]:
    """Each loss head's loss (validation when there is a validation split), weight 1."""
    prefix = "val_" if project.training.validation_split > 0 else ""
    heads = [h.name for h in project.loss_heads()]
    per_head = project.loss_mode == "joint" or len(heads) > 1
    names = [f"{prefix}{h}_loss" for h in heads] if per_head else [f"{prefix}loss"]
    return [CriterionMetric(metric=name) for name in names]


def watched_metrics(project: Project, setting: Setting) -> list[CriterionMetric]:
    """What a criterion of several values watches: its metrics, or the heads' losses."""
    return list(setting.metrics) or default_metrics(project)


def criterion_spec(project: Project, setting: Setting) -> tuple[CriterionKind, list[Watched]]:
    """``(kind, watched values)`` as the engine's callback takes them."""
    if setting.criterion == "monitor":
        return "monitor", [(setting.monitor, metric_direction(setting.monitor), 1.0, None)]
    return setting.criterion, [
        (m.metric, metric_direction(m.metric), m.weight, m.tolerance)
        for m in watched_metrics(project, setting)]


def criterion_problems(project: Project) -> list[tuple[str, str]]:
    """``(path, message)`` for every value an enabled criterion watches that training will not
    log, a value named twice, and weights that are all 0."""
    problems: list[tuple[str, str]] = []
    for name in ("early_stopping", "checkpointing"):
        setting: Setting = getattr(project.training, name)
        if not setting.enabled:
            continue
        path = f"training.{name}"
        if setting.criterion == "monitor":
            if (problem := monitor_problem(project, setting.monitor)) is not None:
                problems.append((f"{path}.monitor", problem))
            continue
        seen: set[str] = set()
        for i, metric in enumerate(setting.metrics):
            where = f"{path}.metrics[{i}].metric"
            if (problem := monitor_problem(project, metric.metric)) is not None:
                problems.append((where, problem))
            elif metric.metric in seen:
                problems.append((where, f"names {metric.metric!r} a second time; name each "
                                 "value once"))
            seen.add(metric.metric)
        weighs = setting.criterion in ("weighted", "all_heads")
        if weighs and setting.metrics and not any(m.weight > 0 for m in setting.metrics):
            problems.append((f"{path}.metrics", "gives every value the weight 0, so no epoch "
                             "would be better than another; give at least one a weight above "
                             "0"))
    return problems


def _number(value: float) -> str:
    return f"{value:g}"


def describe_criterion(project: Project, setting: Setting) -> str:
    """What ``setting`` watches, in words: ``the weighted sum 1 × val_a_loss + 0.5 × …``."""
    kind, watched = criterion_spec(project, setting)
    if kind == "monitor":
        name, direction, _, _ = watched[0]
        return f"{name} ({'lower' if direction == 'min' else 'higher'} is better)"
    if kind == "lexicographic":
        delta = getattr(setting, "min_delta", 0.0)
        parts = [f"{name} ({'lower' if d == 'min' else 'higher'} is better, tolerance "
                 f"{_number(delta if tol is None else tol)})" for name, d, _, tol in watched]
        return "in order: " + ", then ".join(parts)
    terms: list[str] = []
    for i, (name, direction, weight, _) in enumerate(watched):
        sign = "-" if direction == "max" else "+"
        term = f"{_number(weight)} × {name}"
        terms.append(f"{sign} {term}" if i else ("-" + term if sign == "-" else term))
    total = " ".join(terms)
    if kind == "weighted":
        return f"the weighted sum {total} (lower is better)"
    names = ", ".join(name for name, *_ in watched)
    return f"each of {names} on its own; best epoch: the lowest {total}"


def describe_setting(project: Project, name: str) -> str:
    """One line for ``validate``: what early stopping or checkpoints watch, or ``off``."""
    setting: Setting = getattr(project.training, name)
    if not setting.enabled:
        return "off"
    text = describe_criterion(project, setting)
    if isinstance(setting, EarlyStopping):
        text += f"; patience {setting.patience}"
        if setting.min_delta:
            text += f", min_delta {_number(setting.min_delta)}"
        if setting.restore_best_weights:
            text += "; restores the best epoch's weights"
    elif setting.save_best_only:
        text += "; keeps the best epoch's model in checkpoint.keras"
    else:
        text += "; saves checkpoint.keras after every epoch"
    return text


def parse_criterion(text: str) -> tuple[CriterionKind, str, list[CriterionMetric]]:
    """``(kind, monitor, metrics)`` from ``weighted:val_a_loss=1,val_b_loss=0.5`` and the like
    (:data:`SPEC_EXAMPLES`); a ``ValueError`` says what is wrong."""
    head, _, rest = text.strip().partition(":")
    kind = head.strip().lower().replace("-", "_")
    if kind not in KIND_TITLES:
        raise ValueError(f"'{head}' is not a criterion; write one of {SPEC_EXAMPLES}")
    items = [item.strip() for item in rest.split(",")] if rest.strip() else []
    if any(not item for item in items):
        raise ValueError(f"'{text}' has an empty name between commas; write e.g. "
                         "weighted:val_a_loss=1,val_b_loss=0.5")
    if kind == "monitor":
        if len(items) != 1 or "=" in items[0] or "~" in items[0]:
            raise ValueError(f"'{text}' must name one logged value, e.g. monitor:val_loss")
        return kind, items[0], []
    if kind in ("weighted", "lexicographic") and not items:
        raise ValueError(f"'{text}' names no value; write e.g. {kind}:val_a_loss,val_b_loss")
    separator, wrong = ("~", "=") if kind == "lexicographic" else ("=", "~")
    metrics = []
    for item in items:
        name, mark, number = (part.strip() for part in item.partition(separator))
        if wrong in item or not name or (mark and not number):
            raise ValueError(f"'{item}': {_syntax(kind)}")
        value = None
        if mark:
            try:
                value = float(number)
            except ValueError:
                raise ValueError(f"'{item}': '{number}' is not a number; {_syntax(kind)}") \
                    from None
            if not math.isfinite(value) or value < 0:
                what = "tolerance" if kind == "lexicographic" else "weight"
                raise ValueError(f"'{item}': the {what} must be a number of 0 or more")
        if kind == "lexicographic":
            metrics.append(CriterionMetric(metric=name, tolerance=value))
        else:
            metrics.append(CriterionMetric(metric=name, weight=1.0 if value is None else value))
    return kind, "", metrics


def _syntax(kind: str) -> str:
    if kind == "lexicographic":
        return "write NAME or NAME~TOLERANCE, e.g. lexicographic:val_a_loss~0.01,val_b_loss"
    return f"write NAME or NAME=WEIGHT, e.g. {kind.replace('_', '-')}:val_a_loss=1,val_b_loss=0.5"


def choices(project: Project) -> list[str]:
    """Every value training logs for the project, validation values first."""
    keys = log_keys(project)
    validation = [f"val_{k}" for k in keys] if project.training.validation_split > 0 else []
    return [*validation, *keys]
