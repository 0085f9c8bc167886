"""Training events: plain data sent from the training runner to whoever listens.

They hold only Python numbers and strings, so they cross threads (and Qt signals) safely.
Log keys follow Keras: ``loss``, ``<head>_loss``, ``<head>_<metric>``, and ``val_`` variants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class TrainingStarted:
    device: str  # e.g. "CPU" or "GPU:0 (NVIDIA H100)"
    epochs: int
    steps_per_epoch: int
    train_samples: int
    val_samples: int
    heads: tuple[str, ...]  # heads trained by a loss, i.e. with a <head>_loss log


@dataclass(frozen=True)
class BatchEnded:
    epoch: int  # 0-based
    batch: int  # 0-based within the epoch
    steps_per_epoch: int
    logs: dict[str, float]  # running means over the epoch so far, as Keras reports them
    samples_per_second: float
    elapsed: float  # seconds of training so far (time spent paused left out)
    #: This batch's own values of the losses and of the metrics that are plain means (not
    #: averaged with earlier batches of the epoch); other keys (AUC, RMSE, …) are left out.
    #: Read at most 10 times a second: empty for a batch in between, and then the next
    #: values cover the batches since the last ones.
    batch_values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EpochEnded:
    epoch: int
    logs: dict[str, float]  # train and val_ logs of the epoch
    elapsed: float


@dataclass(frozen=True)
class EarlyStop:
    """What early stopping did in a run (epochs counted from 1)."""

    stopped_after: int | None  # the epoch after which it ended training; None: it did not
    best_epoch: int | None  # the best epoch by its criterion; None: no epoch had a value
    restored_epoch: int | None  # whose weights the model ends with, when they were restored
    summary: str  # one sentence: why and when it stopped, which weights the model holds


@dataclass(frozen=True)
class TrainingFinished:
    history: dict[str, list[float]]
    stopped: bool  # True when stopped early by the user
    elapsed: float
    epochs_run: int
    forced: bool = False  # True when the run had to be ended by force (a loss never returned)
    early_stop: EarlyStop | None = None  # None: early stopping was off, or no epoch ended


@dataclass(frozen=True)
class TrainingFailed:
    message: str  # plain-language, one paragraph
    details: str = ""  # technical detail (traceback) for an expandable section


@dataclass(frozen=True)
class StateChanged:
    state: str  # "running", "paused", "stopping"


@dataclass(frozen=True)
class LossWeightsChanged:
    """Loss weights edited during a pause took effect, from ``batch`` of ``epoch`` on."""

    epoch: int  # 0-based
    batch: int  # 0-based within the epoch
    weights: dict[str, float]  # head -> its loss weight from then on


@dataclass(frozen=True)
class GradientsSampled:
    """Each head's gradient on the shared trunk layers, sampled before a training step (see
    ``training.gradient_diagnostics``); every head's own loss, on one fixed probe batch."""

    epoch: int  # 0-based
    batch: int  # 0-based within the epoch: sampled on the weights before this batch's step
    step: int  # 0-based over the run: the training steps taken before the sample
    norms: dict[str, float]  # head -> norm of its gradient over all shared layers
    block_norms: dict[str, dict[str, float]]  # head -> shared layer -> norm of its gradient
    #: "<a>__<b>" -> cosine between the two heads' gradients (a before b in training order);
    #: NaN when either gradient is zero.
    cosines: dict[str, float]
    seconds: float = 0.0  # what this sample took
    #: Seconds spent sampling so far ÷ seconds of the training steps so far (0 before any).
    share: float = 0.0


TrainingEvent = (
    TrainingStarted | BatchEnded | EpochEnded | TrainingFinished | TrainingFailed | StateChanged
    | LossWeightsChanged | GradientsSampled
)


class Reporter(Protocol):
    """Receives training events; called on the training thread, so keep it quick."""

    def __call__(self, event: TrainingEvent) -> None: ...
