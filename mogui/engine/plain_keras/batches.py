"""Training batches in a new order every epoch, the same orders for the same seed.

``fit(x, y, shuffle=True)`` on arrays repeats one order in every epoch once a seed is set
(Keras 3 on TensorFlow: its permutation op restarts from the same seed each epoch). Here each
pass draws one permutation of all rows from a seeded random generator whose state carries on
from pass to pass, cuts it into batches of row numbers, and gathers each batch from the arrays
in one step, as Keras does for arrays.
"""

import math

import numpy as np
import tensorflow as tf


def needed_weights(sample_weight):
    """The per-head sample weights, or ``None`` when every row of every head weighs 1.

    Weights only leave out rows without a label; when no label is missing, training without
    them gives the same numbers and skips their cost.
    """
    if all(np.all(weights == 1) for weights in sample_weight.values()):
        return None
    return sample_weight


def packed_weights(sample_weight):
    """Per-head sample weights as one float32 ``(rows, heads)`` matrix, a column per head in
    the order of the sorted head names, which is how a multi-head model reads it.

    A step then takes one weight tensor, not one per head: every tensor a compiled step takes
    costs host-side work whatever its size.
    """
    heads = sorted(sample_weight)
    columns = [np.asarray(sample_weight[head], "float32").reshape(-1) for head in heads]
    return np.stack(columns, axis=1)


def epoch_batches(x, y, sample_weight, batch_size, seed, shuffle=True):
    """``(x, y, sample_weight)`` batches for ``fit`` (``(x, y)`` when ``sample_weight`` is
    ``None``): ``x`` and ``y`` dicts of arrays, sliced by row; per-head sample weights as one
    matrix (see :func:`packed_weights`).

    With ``shuffle`` the rows are visited in a new order every epoch; the orders depend only on
    ``seed``. The last batch of an epoch may be short, as in ``fit(batch_size=...)``.
    """
    if isinstance(sample_weight, dict):
        sample_weight = packed_weights(sample_weight)
    arrays = (x, y) if sample_weight is None else (x, y, sample_weight)
    rows = len(next(iter(x.values())))
    full = rows // batch_size * batch_size

    def in_batches(rows_in_order):
        """The row numbers of one pass cut into batches (the last one may be short)."""
        batches = tf.data.Dataset.from_tensor_slices(
            tf.reshape(rows_in_order[:full], [-1, batch_size])
        )
        if full < rows:
            batches = batches.concatenate(tf.data.Dataset.from_tensors(rows_in_order[full:]))
        return batches

    generator = tf.random.Generator.from_seed(seed) if shuffle else None

    def row_order(_):
        if generator is None:
            return tf.range(rows, dtype=tf.int64)
        return tf.argsort(generator.uniform_full_int([rows], dtype=tf.int64), stable=True)

    # One order per pass: the generator's state carries on, so every epoch's order differs.
    order = tf.data.Dataset.range(1).map(row_order).flat_map(in_batches)
    whole = tf.data.Dataset.from_tensors(arrays).repeat()

    def gather(rows_of_batch, data):
        return tf.nest.map_structure(lambda array: tf.gather(array, rows_of_batch), data)

    batches = tf.data.Dataset.zip((order, whole)).map(gather, num_parallel_calls=tf.data.AUTOTUNE)
    batches = batches.apply(tf.data.experimental.assert_cardinality(math.ceil(rows / batch_size)))
    batches = batches.prefetch(tf.data.AUTOTUNE)
    batches.row_order_generator = generator  # its state variable lives as long as the batches
    return batches
