"""The Keras callback that reports training progress and honours a run's control."""

from __future__ import annotations

import math
import time

import keras

from mogui.core.errors import TrainingError
from mogui.core.events import (
    BatchEnded,
    EpochEnded,
    Reporter,
    StateChanged,
    TrainingStarted,
)
from mogui.engine.training.batch_values import BatchValues
from mogui.engine.training.complete_epochs import CompleteEpochs
from mogui.engine.training.control import TrainingControl


class ProgressCallback(keras.callbacks.Callback):
    """Sends training events to a reporter and honours a :class:`TrainingControl`.

    Runs in the training thread; per batch it converts the logs, works out the batch's own
    values (:mod:`mogui.engine.training.batch_values`) and calls the reporter.
    """

    def __init__(self, reporter: Reporter, control: TrainingControl, *, started: TrainingStarted,
                 batch_size: int, complete: CompleteEpochs | None = None) -> None:
        super().__init__()
        self.complete = complete
        self.reporter = reporter
        self.control = control
        self.started = started
        self.batch_size = batch_size
        self.t0 = time.perf_counter()
        self.epoch = 0
        self.epoch_t0 = self.t0
        self.epochs_run = 0
        self.stopping = False
        self.paused_for = 0.0  # seconds spent paused, all epochs
        self.epoch_paused_for = 0.0  # the same, this epoch
        self._batch_values = BatchValues()
        # An epoch's last batch with under half a batch of samples shares its point with the
        # batch before: a handful of samples alone would show as a spike.
        rest = started.train_samples - (started.steps_per_epoch - 1) * batch_size
        self._short_last_batch = 0 < rest < batch_size / 2

    def _check_stop(self) -> None:
        if self.control.stop_requested:
            if not self.stopping:
                self.stopping = True
                self.reporter(StateChanged("stopping"))
            self.model.stop_training = True

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.t0 = time.perf_counter()
        self.reporter(self.started)
        self._check_stop()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch
        self.epoch_t0 = time.perf_counter()
        self.epoch_paused_for = 0.0
        self._batch_values.new_epoch(self.model)
        self._check_stop()

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._check_stop()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        now = time.perf_counter()
        steps = self.started.steps_per_epoch
        done = min((batch + 1) * self.batch_size, self.started.train_samples)
        rate = done / max(now - self.epoch_t0 - self.epoch_paused_for, 1e-9)
        values = _floats(logs)
        self.reporter(BatchEnded(
            epoch=self.epoch, batch=batch, steps_per_epoch=steps,
            logs=values, samples_per_second=rate, elapsed=now - self.t0 - self.paused_for,
            batch_values=self._batch_values.after_batch(
                self.model, values, last_of_epoch=batch + 1 >= steps,
                hold=batch + 2 == steps and self._short_last_batch)))
        if not math.isfinite(values.get("loss", 0.0)):
            raise TrainingError(_non_finite_message(values, self.epoch, batch))
        if self.control.paused and not self.control.stop_requested:
            self.reporter(StateChanged("paused"))
            paused_at = time.perf_counter()
            self.control.wait_while_paused()
            waited = time.perf_counter() - paused_at
            self.paused_for += waited
            self.epoch_paused_for += waited
            if not self.control.stop_requested:
                self.reporter(StateChanged("running"))
        self._check_stop()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.complete is not None and self.complete.cut_short(epoch):
            return  # a stop ended it early: it does not count as an epoch
        self.epochs_run = epoch + 1
        self.reporter(EpochEnded(epoch=epoch, logs=_floats(logs),
                                 elapsed=time.perf_counter() - self.t0))
        self._check_stop()


def _floats(logs: dict | None) -> dict[str, float]:
    return {str(k): float(v) for k, v in (logs or {}).items()}


def _non_finite_message(logs: dict[str, float], epoch: int, batch: int) -> str:
    bad = [k.removesuffix("_loss") for k, v in logs.items()
           if k.endswith("_loss") and not math.isfinite(v)]
    where = f" (head{'s' if len(bad) > 1 else ''}: {', '.join(bad)})" if bad else ""
    return (f"The loss became {logs['loss']} at epoch {epoch + 1}, batch {batch + 1}{where}, so "
            "training was stopped. Lower the learning rate, check the data for extreme values, "
            "or guard custom losses against log(0) and division by zero (clip, or add a small "
            "epsilon).")
