"""The catalog of ways to balance the heads, and of schedules for a head's loss weight.

Plain data, no Keras: the project's schema, the CLI and the app read it; the engine implements
each entry (``mogui.engine.plain_keras.loss_balancing`` and ``gradient_balancing``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BalancingKind = Literal["fixed", "loss", "gradient"]


@dataclass(frozen=True)
class Parameter:
    """One numeric parameter of a method or schedule, with its default and allowed range."""

    name: str
    default: float
    minimum: float
    maximum: float
    help: str
    integer: bool = False


@dataclass(frozen=True)
class BalancingMethod:
    """A balancing method: its id, its family, a one-line summary, its paper and parameters."""

    name: str
    title: str
    kind: BalancingKind
    summary: str
    paper: str
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)

    @property
    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.parameters}


def _iterations(default: int) -> Parameter:
    return Parameter("iterations", default, 1, 1000, "solver iterations per step", integer=True)


BALANCING_METHODS: dict[str, BalancingMethod] = {m.name: m for m in (
    BalancingMethod("equal", "Fixed weights", "fixed",
                    "the weighted sum of the heads' losses with each head's loss weight", ""),
    BalancingMethod("uw", "Uncertainty weighting", "loss",
                    "learns one log variance per head; weight exp(-s)",
                    "Kendall, Gal & Cipolla, CVPR 2018"),
    BalancingMethod("dwa", "Dynamic weight average", "loss",
                    "weights from how fast each head's loss fell over the last two epochs",
                    "Liu, Johns & Davison, CVPR 2019",
                    (Parameter("temperature", 2.0, 0.01, 100.0, "softmax temperature T"),)),
    BalancingMethod("rlw", "Random loss weighting", "loss",
                    "random weights each step (softmax of normal samples)",
                    "Lin et al., TMLR 2022"),
    BalancingMethod("gls", "Geometric loss strategy", "loss",
                    "the geometric mean of the heads' losses",
                    "Chennupati et al., CVPR Workshops 2019"),
    BalancingMethod("famo", "FAMO", "loss",
                    "fast adaptive multitask optimization: weights that even out the heads' "
                    "rates of improvement", "Liu et al., NeurIPS 2023",
                    (Parameter("lr", 0.025, 1e-6, 10.0, "learning rate of the weight logits"),
                     Parameter("decay", 1e-3, 0.0, 1.0, "weight decay of the logits"))),
    BalancingMethod("pcgrad", "PCGrad", "gradient",
                    "projects away the conflicting part of each head's gradient",
                    "Yu et al., NeurIPS 2020"),
    BalancingMethod("gradnorm", "GradNorm", "gradient",
                    "learns weights that equalise the heads' gradient norms at their "
                    "training rates", "Chen et al., ICML 2018",
                    (Parameter("alpha", 1.5, 0.0, 10.0, "restoring force alpha"),
                     Parameter("lr", 0.025, 1e-6, 10.0, "learning rate of the weights"))),
    BalancingMethod("mgda", "MGDA", "gradient",
                    "the min-norm point of the heads' gradients' convex hull",
                    "Sener & Koltun, NeurIPS 2018", (_iterations(20),)),
    BalancingMethod("cagrad", "CAGrad", "gradient",
                    "the update that improves the worst head most, near the average gradient",
                    "Liu et al., NeurIPS 2021",
                    (Parameter("c", 0.5, 0.0, 10.0, "radius c around the average gradient"),
                     _iterations(20))),
    BalancingMethod("imtl_g", "IMTL-G", "gradient",
                    "the update with equal projections onto every head's unit gradient",
                    "Liu et al., ICLR 2021"),
    BalancingMethod("aligned_mtl", "Aligned-MTL", "gradient",
                    "aligns the gradients' principal components (condition number 1)",
                    "Senushkin et al., CVPR 2023"),
    BalancingMethod("nash_mtl", "Nash-MTL", "gradient",
                    "the Nash bargaining solution between the heads",
                    "Navon et al., ICML 2022", (_iterations(20),)),
    BalancingMethod("upgrad", "UPGrad", "gradient",
                    "projects the gradients onto the dual cone of all heads' gradients, "
                    "then averages", "Quinton & Rey, 2024", (_iterations(100),)),
)}

BalancingName = Literal["equal", "uw", "dwa", "rlw", "gls", "famo", "pcgrad", "gradnorm", "mgda",
                        "cagrad", "imtl_g", "aligned_mtl", "nash_mtl", "upgrad"]


@dataclass(frozen=True)
class WeightScheduleKind:
    """A schedule of a head's loss weight over the epochs."""

    name: str
    title: str
    summary: str
    parameters: tuple[Parameter, ...] = field(default_factory=tuple)

    @property
    def defaults(self) -> dict[str, float]:
        return {p.name: p.default for p in self.parameters}


WEIGHT_SCHEDULES: dict[str, WeightScheduleKind] = {s.name: s for s in (
    WeightScheduleKind("constant", "Constant", "the loss weight in every epoch"),
    WeightScheduleKind(
        "linear_warmup", "Linear warm-up",
        "from start × weight up to the weight over the first epochs",
        (Parameter("start", 0.0, 0.0, 1e6, "fraction of the weight in epoch 1"),
         Parameter("warmup", 5, 1, 100_000, "epochs to reach the weight", integer=True))),
    WeightScheduleKind(
        "step", "Step", "the weight times gamma every few epochs",
        (Parameter("gamma", 0.5, 0.0, 1e6, "factor applied at each step"),
         Parameter("every", 10, 1, 100_000, "epochs between steps", integer=True))),
    WeightScheduleKind(
        "cosine", "Cosine", "from the weight down to minimum × weight along a half cosine",
        (Parameter("minimum", 0.0, 0.0, 1e6, "fraction of the weight in the last epoch"),)),
)}

ScheduleName = Literal["constant", "linear_warmup", "step", "cosine"]


def parameter_problems(what: str, parameters: tuple[Parameter, ...],
                       given: dict[str, float]) -> list[str]:
    """Plain messages for unknown, out-of-range or non-integer parameters in ``given``."""
    known = {p.name: p for p in parameters}
    problems = []
    for name, value in given.items():
        spec = known.get(name)
        if spec is None:
            allowed = ", ".join(known) or "none"
            problems.append(f"{what} has no parameter '{name}' (it takes: {allowed}).")
        elif not spec.minimum <= value <= spec.maximum:
            problems.append(f"{what}: '{name}' is {value:g}; use a value from {spec.minimum:g} "
                            f"to {spec.maximum:g} ({spec.help}).")
        elif spec.integer and value != int(value):
            problems.append(f"{what}: '{name}' is {value:g}; use a whole number ({spec.help}).")
    return problems
