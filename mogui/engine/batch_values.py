"""Each batch's own loss and metric values, recovered from Keras' running means.

Keras reports, after every batch, means over the epoch so far, so a per-batch curve of them
restarts at every epoch. For a tracker that is a plain ``keras.metrics.Mean`` (the losses, and
metrics such as accuracy or MAE) the batch's own value is the change of its total over the
change of its count, whatever the weighting. Metrics that are not plain means (AUC, precision,
recall, RMSE) have no per-batch value and keep what Keras reports.
"""

from __future__ import annotations

import keras


def is_plain_mean(metric: object) -> bool:
    """True for a Mean whose result is its total over its count."""
    return (isinstance(metric, keras.metrics.Mean)
            and type(metric).result is keras.metrics.Mean.result)


def mean_trackers(model: keras.Model) -> dict[str, keras.metrics.Mean]:
    """The model's plain-mean trackers by the log key Keras reports them under."""
    found: dict[str, keras.metrics.Mean] = {}
    for metric in model.metrics:
        name = metric.name
        if is_plain_mean(metric) and (name == "loss" or name.endswith("_loss")):
            found[name] = metric
        elif hasattr(metric, "_flat_metrics"):  # the compiled metrics of every output
            found.update(_compiled(metric))
    return found


def _compiled(container: object) -> dict[str, keras.metrics.Mean]:
    """Compiled metrics named as Keras names their logs (``<output>_<metric>``).

    Names Keras has to number (the same metric twice) are left out; where Keras' layout is not
    the one expected, nothing is returned and the plots show what Keras reports.
    """
    found: dict[str, keras.metrics.Mean] = {}
    seen: set[str] = set()
    try:
        groups = [*container._flat_metrics, *container._flat_weighted_metrics]
        for group in groups:
            if not group:
                continue
            for metric in group.metrics:
                name = f"{group.output_name}_{metric.name}" if group.output_name else metric.name
                if name in seen:
                    found.pop(name, None)
                    continue
                seen.add(name)
                if is_plain_mean(metric):
                    found[name] = metric
    except (AttributeError, TypeError):
        return {}
    return found


class BatchValues:
    """Turns the running means after each batch into that batch's own values."""

    def __init__(self) -> None:
        self._trackers: dict[str, keras.metrics.Mean] = {}
        self._sums: dict[str, tuple[float, float]] = {}  # (total, count) after the last batch

    def new_epoch(self, model: keras.Model) -> None:
        """Keras resets its metrics at every epoch start; per-output ones exist once built."""
        self._sums = {}
        self._trackers = mean_trackers(model)

    def after_batch(self, model: keras.Model, logs: dict[str, float]) -> dict[str, float]:
        """This batch's own value for every log key that has a plain-mean tracker.

        NaN where the batch added no weight to the tracker (every label of a head missing).
        """
        if any(key not in self._trackers for key in logs) and not self._sums:
            self._trackers = mean_trackers(model)  # built during the epoch's first step
        values = {}
        for key, tracker in self._trackers.items():
            if key not in logs:
                continue
            total = float(keras.ops.convert_to_numpy(tracker.total))
            count = float(keras.ops.convert_to_numpy(tracker.count))
            last_total, last_count = self._sums.get(key, (0.0, 0.0))
            self._sums[key] = (total, count)
            # No weight in this batch (a head whose labels are all missing): no value, a gap.
            values[key] = ((total - last_total) / (count - last_count) if count > last_count
                           else float("nan"))
        return values
