"""Checks that the data and the model suit each other, before training: an output activation
that cannot reach the targets, features on a scale nothing normalizes, constant columns, and
classification heads with fewer than two classes.

:class:`InputStats` gathers each input's per-feature mean, spread and range chunk by chunk
(streamed data stays streamed); :func:`sanity_problems` turns them and the heads' target
summaries into findings for :mod:`mogui.engine.data.checks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from mogui.core.project import CsvData, Project
from mogui.core.tasks import Task


class TargetSummary(Protocol):
    """What a head's targets hold (:class:`mogui.engine.data.checks.TargetSummary`)."""

    labelled: int
    low: float | None
    high: float | None
    class_counts: dict[int, int]

#: Features whose mean is beyond this (in absolute value), or whose standard deviation is,
#: count as unscaled when nothing normalizes them.
UNSCALED = 100.0
#: Layers that put what they read on a scale of their own.
SCALING_LAYERS = ("Normalization", "BatchNormalization", "LayerNormalization", "Embedding")
#: The values each bounded activation can output.
ACTIVATION_RANGES: dict[str, tuple[float, float]] = {
    "sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0),
    "relu": (0.0, float("inf")), "softplus": (0.0, float("inf")),
    "elu": (-1.0, float("inf")), "selu": (-1.7581, float("inf")),
}

Finding = tuple[Literal["error", "warning"], str]


@dataclass
class InputStats:
    """One input's values per feature (its last axis), merged over chunks."""

    count: int = 0
    mean: np.ndarray | None = None
    m2: np.ndarray | None = None
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    rank: int = 1

    def add(self, array: np.ndarray) -> None:
        values = np.asarray(array, dtype=np.float64)
        if values.ndim < 2 or values.shape[0] == 0 or not np.isfinite(values).all():
            return
        self.rank = values.ndim - 1
        flat = values.reshape(-1, values.shape[-1])
        n, mean = len(flat), flat.mean(axis=0)
        m2 = ((flat - mean) ** 2).sum(axis=0)
        low, high = flat.min(axis=0), flat.max(axis=0)
        if self.mean is None or self.m2 is None or self.low is None or self.high is None:
            self.count, self.mean, self.m2, self.low, self.high = n, mean, m2, low, high
            return
        delta, total = mean - self.mean, self.count + n
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + m2 + delta ** 2 * (self.count * n / total)
        self.low, self.high = np.minimum(self.low, low), np.maximum(self.high, high)
        self.count = total

    @property
    def std(self) -> np.ndarray | None:
        return None if self.m2 is None else np.sqrt(self.m2 / max(self.count, 1))


@dataclass
class SanityInputs:
    """What the sanity checks need besides the target summaries."""

    inputs: dict[str, InputStats] = field(default_factory=dict)

    def add_chunk(self, x: dict[str, np.ndarray]) -> None:
        for name, array in x.items():
            self.inputs.setdefault(name, InputStats()).add(array)


def consumers(project: Project, name: str) -> list[str]:
    """The kinds of the layers that read input ``name`` directly (``Dense`` for a head's
    output layer)."""
    found: list[str] = []
    previous = project.inputs[0].name if len(project.inputs) == 1 else None
    for spec in project.trunk:
        if name in (spec.inputs or [previous]):
            found.append(spec.kind)
        previous = spec.name
    for head in project.heads:
        source = head.source or previous
        for spec in head.layers:
            if name in (spec.inputs or [source]):
                found.append(spec.kind)
            source = spec.name
        if source == name:
            found.append("Dense")
    return found


def _feature_name(project: Project, input_name: str, index: int, stats: InputStats) -> str:
    """``column 'price'`` for a table's column, ``channel 0`` for images, else ``feature 3``."""
    if isinstance(project.data, CsvData) and stats.rank == 1:
        for m in project.data.inputs:
            if m.name == input_name and index < len(m.columns) and not m.classes:
                return f"column '{m.columns[index]}'"
    return f"channel {index}" if stats.rank == 3 else f"feature {index}"


def _input_findings(project: Project, stats: SanityInputs) -> list[Finding]:
    found: list[Finding] = []
    for spec in project.inputs:
        s = stats.inputs.get(spec.name)
        if s is None or s.mean is None or s.std is None or s.low is None:
            continue
        kinds = consumers(project, spec.name)
        scaled = any(kind in SCALING_LAYERS for kind in kinds)
        big = np.flatnonzero((np.abs(s.mean) > UNSCALED) | (s.std > UNSCALED))
        if not scaled and big.size and spec.dtype == "float32":
            i = int(big[np.argmax(np.maximum(np.abs(s.mean[big]), s.std[big]))])
            found.append(("warning", f"Input '{spec.name}' is not normalized and its "
                          f"{_feature_name(project, spec.name, i, s)} has mean "
                          f"{s.mean[i]:.4g} and standard deviation {s.std[i]:.4g} "
                          f"({big.size} feature(s) beyond ±{UNSCALED:g}); large values "
                          "make training slow or unstable. Add a Normalization layer right "
                          "after the input (mogui measures it on the training rows) or scale "
                          "the data."))
        if s.rank == 1 and s.count > 1:
            constant = np.flatnonzero(s.high == s.low)
            if constant.size:
                names = ", ".join(_feature_name(project, spec.name, int(i), s)
                                  for i in constant[:5])
                more = f" and {constant.size - 5} more" if constant.size > 5 else ""
                found.append(("warning", f"Input '{spec.name}': {names}{more} hold(s) the "
                              f"same value in every row, which tells the model nothing. "
                              "Leave such columns out."))
    return found


def _head_findings(project: Project, summaries: dict[str, TargetSummary]) -> list[Finding]:
    found: list[Finding] = []
    trained = {h.name for h in project.loss_heads()}
    for head in project.heads:
        summary = summaries.get(head.name)
        if head.name not in trained or summary is None or summary.labelled == 0:
            continue
        if head.task in (Task.MULTICLASS, Task.MULTICLASS_ONEHOT) and head.units < 2:
            found.append(("error", f"Head '{head.name}' is {head.task.value} with 1 unit: a "
                          "softmax over one class always outputs 1, so it learns nothing. Give "
                          "it one unit per class, or make it binary."))
        elif head.task in (Task.BINARY, Task.MULTICLASS, Task.MULTICLASS_ONEHOT) and \
                len(summary.class_counts) == 1:
            (only,) = summary.class_counts
            found.append(("warning", f"Head '{head.name}' has one class (id {only}) in all "
                          f"its {summary.labelled} labelled rows, so there is nothing to tell "
                          "apart. Check its column, or give it rows of other classes."))
        if head.task == Task.REGRESSION and summary.low is not None \
                and summary.high is not None:
            found += _activation_findings(head.name, head.output_activation,
                                          head.standardize, summary.low, summary.high)
    return found


def _activation_findings(name: str, activation: str, standardize: bool, low: float,
                         high: float) -> list[Finding]:
    reach = ACTIVATION_RANGES.get(activation)
    if reach is None or (reach[0] <= low and high <= reach[1]):
        return []
    span = f"{reach[0]:g}..{reach[1]:g}".replace("inf", "∞")
    if standardize:
        return [("warning", f"Head '{name}' ends in {activation}, so even standardized it "
                 f"predicts only part of its targets' range ({low:.4g}..{high:.4g}). Use the "
                 "linear activation.")]
    return [("error", f"Head '{name}' ends in {activation}, whose outputs lie in {span}, but "
             f"its targets range from {low:.4g} to {high:.4g}: it can never reach them. Use "
             "the linear activation (and switch on standardize), or scale the targets into "
             f"{span}.")]


def sanity_problems(project: Project, summaries: dict[str, TargetSummary],
                    stats: SanityInputs) -> list[Finding]:
    """Everything these checks find, errors first."""
    found = _head_findings(project, summaries) + _input_findings(project, stats)
    return sorted(found, key=lambda f: f[0] != "error")
