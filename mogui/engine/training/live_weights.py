"""Loss weights that change during a run: each head's schedule, and weights edited while it
runs (usually while paused), applied before the next batch and reported.

The weights are the model's :class:`~mogui.engine.plain_keras.head_trackers.HeadWeights`
variables; :class:`~mogui.engine.plain_keras.loss_balancing.LossWeightSchedule` (which the
exported script uses too) sets them as every epoch begins; :class:`LiveLossWeights` hands it
the weights a :class:`TrainingControl` holds.
"""

from __future__ import annotations

import keras

from mogui.core.events import LossWeightsChanged, Reporter
from mogui.core.project import Project
from mogui.engine.plain_keras.loss_balancing import LossWeightSchedule
from mogui.engine.training.control import TrainingControl


def base_weights(project: Project) -> dict[str, float]:
    """Each loss head's base weight: its loss weight, or its term weight in joint mode."""
    if project.loss_mode == "joint":
        weights = project.joint_loss.term_weights
        return {head: float(weights.get(head, 1.0)) for head in project.head_names}
    return {head.name: float(head.loss.weight) for head in project.loss_heads()}


def weight_schedules(project: Project) -> dict[str, tuple[str, dict[str, float]]]:
    """``head -> (kind, params)`` for the loss heads whose weight follows a schedule."""
    heads = base_weights(project)
    return {head.name: (head.loss.schedule.kind, dict(head.loss.schedule.params))
            for head in project.heads
            if head.name in heads and head.loss.schedule.kind != "constant"}


def weight_schedule(project: Project, epochs: int) -> LossWeightSchedule:
    """The callback that sets the project's weights each epoch, over a run of ``epochs``."""
    return LossWeightSchedule(base_weights(project), weight_schedules(project), epochs)


class LiveLossWeights(keras.callbacks.Callback):
    """Applies the weights given to ``control.set_loss_weights`` before the next batch, as new
    base weights of ``schedule``, and reports :class:`LossWeightsChanged`.

    Put it after the callback that pauses the run between batches, so that weights edited
    during a pause apply to the first batch after it.
    """

    def __init__(self, control: TrainingControl, schedule: LossWeightSchedule,
                 reporter: Reporter) -> None:
        super().__init__()
        self.control = control
        self.schedule = schedule
        self.reporter = reporter

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        weights = self.control.take_loss_weights()
        if not weights:
            return
        applied = self.schedule.set_base(weights)
        if applied:
            self.reporter(LossWeightsChanged(self.schedule.epoch, batch, applied))
