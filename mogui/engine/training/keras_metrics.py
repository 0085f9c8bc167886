"""The one place that reads Keras internals: the metrics inside ``compile()``'s container.

Keras logs a compiled metric of output ``bbox`` as ``bbox_mae`` but gives no public way to
reach the metric object behind that key. Per-batch values need it (their total and count), so
this module reads the container's private ``_flat_metrics`` / ``_flat_weighted_metrics``
lists, checked against every Keras release by ``tests/engine/test_keras_metrics.py``.
"""

from __future__ import annotations

from typing import NamedTuple

import keras

from mogui.engine.plain_keras.head_trackers import HeadMeans


class MeanSlot(NamedTuple):
    """Where a logged mean keeps its total and count: the variables, and the position in them
    (``None``: the variables are scalars)."""

    total: keras.Variable
    count: keras.Variable
    index: int | None = None


def is_plain_mean(metric: object) -> bool:
    """True for a Mean whose result is its total over its count."""
    return (isinstance(metric, keras.metrics.Mean)
            and type(metric).result is keras.metrics.Mean.result)


def mean_trackers(model: keras.Model) -> dict[str, MeanSlot]:
    """Where each of the model's plain means (losses and compiled metrics) keeps its total
    and count, by the log key it is reported under. A model of mogui's keeps its heads'
    losses in one :class:`HeadMeans`: a slot per head shown."""
    found: dict[str, MeanSlot] = {}
    for metric in model.metrics:
        name = metric.name
        if is_plain_mean(metric) and (name == "loss" or name.endswith("_loss")):
            found[name] = MeanSlot(metric.total, metric.count)
        elif isinstance(metric, HeadMeans):
            found.update({key: MeanSlot(metric.total, metric.count, i)
                          for i, (head, key) in enumerate(zip(metric.heads, metric.keys,
                                                              strict=True))
                          if head in metric.shown and key.endswith("_loss")})
        else:
            found.update({key: MeanSlot(m.total, m.count)
                          for key, m in compiled_metrics(metric).items()})
    return found


def compiled_metrics(container: object) -> dict[str, keras.metrics.Mean]:
    """The plain-mean metrics inside Keras' compiled-metrics container, by log key.

    Keys are named as Keras names their logs (``<output>_<metric>``); names Keras has to number
    (the same metric twice) are left out. Anything that is not that container, or a container
    whose layout differs from the one expected, gives ``{}``: the plots then show what Keras
    reports. ``tests/engine/test_keras_metrics.py`` fails if a Keras release changes it.
    """
    if not hasattr(container, "_flat_metrics"):
        return {}
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
