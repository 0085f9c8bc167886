"""Each batch's own loss and metric values, recovered from Keras' running means.

Keras reports, after every batch, means over the epoch so far, so a per-batch curve of them
restarts at every epoch. For a tracker that is a plain ``keras.metrics.Mean`` (the losses, and
metrics such as accuracy or MAE) the batch's own value is the change of its total over the
change of its count, whatever the weighting. Metrics that are not plain means (AUC, precision,
recall, RMSE) have no per-batch value and keep what Keras reports.

Reading the trackers costs about a millisecond, so they are read at most 10 times a second:
when batches are faster than that, a value covers the batches since the last one read.
"""

from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from mogui.engine.training.keras_metrics import MeanSlot, mean_trackers

#: Least time between two reads of the trackers (seconds).
MIN_READ_INTERVAL = 0.1  # as often as the window shows them


class BatchValues:
    """Turns the running means after each batch into that batch's own values."""

    def __init__(self) -> None:
        self._trackers: dict[str, MeanSlot] = {}
        self._sums: dict[str, tuple[float, float]] = {}  # (total, count) at the last read
        self._read = None  # reads every tracker's total and count in one TensorFlow call
        self._last_read = -np.inf

    def new_epoch(self, model: keras.Model) -> None:
        """Keras resets its metrics at every epoch start; per-output ones exist once built."""
        self._sums = {}
        self._track(mean_trackers(model))

    def _track(self, trackers: dict[str, MeanSlot]) -> None:
        if _identity(trackers) == _identity(self._trackers) and self._read is not None:
            return
        self._trackers = trackers
        slots = list(trackers.values())

        def read() -> tf.Tensor:
            return tf.stack([tf.cast(v.value if s.index is None else v.value[s.index],
                                     tf.float64) for s in slots for v in (s.total, s.count)])

        # One graph call instead of two eager reads per tracker (0.1 ms each on a busy CPU).
        self._read = tf.function(read, autograph=False) if slots else None

    def after_batch(self, model: keras.Model, logs: dict[str, float],
                    last_of_epoch: bool = False, hold: bool = False) -> dict[str, float]:
        """This batch's own value for every log key that has a plain-mean tracker.

        Empty when the last read was under ``MIN_READ_INTERVAL`` ago (unless ``last_of_epoch``)
        or when ``hold``: the next value then covers this batch too. NaN where the batches
        added no weight to the tracker (every label of a head missing).
        """
        if hold and self._sums:
            return {}
        if any(key not in self._trackers for key in logs) and not self._sums:
            self._track(mean_trackers(model))  # built during the epoch's first step
        now = time.perf_counter()
        if self._read is None or (now - self._last_read < MIN_READ_INTERVAL
                                  and not last_of_epoch and self._sums):
            return {}
        self._last_read = now
        sums = np.asarray(self._read()).reshape(-1, 2)
        values = {}
        for key, (total, count) in zip(self._trackers, sums, strict=True):
            if key not in logs:
                continue
            total, count = float(total), float(count)
            last_total, last_count = self._sums.get(key, (0.0, 0.0))
            self._sums[key] = (total, count)
            # No weight in this batch (a head whose labels are all missing): no value, a gap.
            values[key] = ((total - last_total) / (count - last_count) if count > last_count
                           else float("nan"))
        return values


def _identity(trackers: dict[str, MeanSlot]) -> list[tuple[int, int | None]]:
    return [(id(s.total), s.index) for s in trackers.values()]
