"""A head's loss as a mean over its labelled rows, on one device or split across replicas.

Rows without a label for a head have sample weight 0 and count for nothing, not even in the
divisor. Under ``tf.distribute`` each replica's share is divided by the weights of every
replica's rows, so the shares add up to the mean over the whole batch.
"""

import tensorflow as tf
from keras import ops


def replica_count():
    """How many replicas train at once (``tf.distribute``); 1 on one device."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def sum_over_replicas(value):
    """``value`` summed over the replicas inside a replica's step; as it is on one device.

    No gradient flows through the sum."""
    context = tf.distribute.get_replica_context()
    if replica_count() == 1 or context is None:
        return value
    return context.all_reduce("sum", ops.stop_gradient(value))


def reduce_term(value, weight):
    """A loss term as this replica's share of its mean over the batch's labelled rows.

    One value per sample (more are averaged per sample) is summed over this replica's rows,
    each times its sample weight (0 for a row without a label), and divided by the weights
    of all replicas' rows: the shares add up to the mean over the labelled rows of the whole
    batch. A scalar is taken as the mean over its replica's rows and divided by the number of
    replicas. On one device: the scalar, or the mean over the labelled rows.
    """
    value = ops.cast(ops.convert_to_tensor(value), "float32")
    if len(value.shape) == 0:
        return value / replica_count()
    if len(value.shape) > 1:
        value = ops.mean(ops.reshape(value, (ops.shape(value)[0], -1)), axis=-1)
    if weight is None:  # every row labelled
        if replica_count() == 1:
            return ops.mean(value)
        count = sum_over_replicas(ops.cast(ops.shape(value)[0], "float32"))
        return ops.divide_no_nan(ops.sum(value), count)
    weight = ops.reshape(ops.cast(ops.convert_to_tensor(weight), "float32"), (-1,))
    count = sum_over_replicas(ops.sum(weight))
    return ops.divide_no_nan(ops.sum(value * weight), count)


def reduce_terms(values, weights=None):
    """:func:`reduce_term` of several heads: ``values`` keyed by head, ``weights`` a
    ``(batch, heads)`` matrix whose columns are those heads' sample weights, in order (None:
    every row labelled).

    The weights are split and counted for all heads at once: each head adds three operations
    to the step, not six. Each term still depends on its own head's value only, so one head's
    gradient never reaches another head's layers.
    """
    heads = list(values)
    if weights is None:
        return {head: reduce_term(value, None) for head, value in values.items()}
    columns = ops.unstack(weights, len(heads), axis=1)
    counts = ops.unstack(sum_over_replicas(ops.sum(weights, axis=0)), len(heads))
    terms = {}
    for head, weight, count in zip(heads, columns, counts, strict=True):
        value = ops.cast(ops.convert_to_tensor(values[head]), "float32")
        if len(value.shape) == 0:
            terms[head] = value / replica_count()
            continue
        if len(value.shape) > 1:
            value = ops.mean(ops.reshape(value, (ops.shape(value)[0], -1)), axis=-1)
        terms[head] = ops.divide_no_nan(ops.sum(value * weight), count)
    return terms
