"""Complete epochs only: a stop in the middle of an epoch leaves no trace of that epoch.

Keras ends the interrupted epoch early and still reports it (validation and history included),
with weights from part of an epoch. :class:`CompleteEpochs` tells that epoch apart, so the
progress events and run files leave it out, and puts back the weights of the last complete
epoch: a run "stopped after 5 epochs" holds exactly 5 epochs of training.
"""

from __future__ import annotations

from typing import Any

import keras


class CompleteEpochs(keras.callbacks.Callback):
    """Knows which epoch, if any, a stop cut short, and keeps the last complete epoch's weights.

    Put it first in the callback list, so that later callbacks can ask :meth:`cut_short`.
    """

    def __init__(self, steps_per_epoch: int) -> None:
        super().__init__()
        self.steps_per_epoch = steps_per_epoch
        self.completed = 0
        #: The 0-based epoch a stop ended before its last batch, or ``None``.
        self.cut_short_epoch: int | None = None
        self._batches = 0
        self._weights: list[Any] | None = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._batches = 0

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._batches = batch + 1

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.model.stop_training and self._batches < self.steps_per_epoch:
            self.cut_short_epoch = epoch
            return
        self.completed = epoch + 1
        self._weights = None  # the model holds this epoch's weights; copied only when needed

    def cut_short(self, epoch: int) -> bool:
        """True when ``epoch`` (0-based) was ended early by a stop."""
        return self.cut_short_epoch == epoch

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if batch == 0 and self._weights is None and self.completed > 0:
            # The first batch of an epoch is about to change the weights: keep those of the
            # last complete epoch, in case a stop cuts this epoch short.
            self._weights = self.model.get_weights()

    def finish(self, history: dict[str, list[float]]) -> dict[str, list[float]]:
        """After ``fit``: the history of complete epochs; the model gets their weights back."""
        if self.cut_short_epoch is None:
            return history
        if self._weights is not None:
            self.model.set_weights(self._weights)
        return {key: values[: self.completed] for key, values in history.items()}
