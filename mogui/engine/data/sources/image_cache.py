"""Decoded images kept for the epochs after the first, in records of :data:`CACHE_RECORD` rows.

A record holds the images of consecutive rows as whole 0..255 values, with their targets and
sample weights; ``tf.data``'s cache keeps the records, in memory or in a file. The epochs after
the first shuffle the records (all of them in memory; a disk cache holds a few at a time), then
the rows within groups of :data:`SHUFFLE_RECORDS` records (:func:`shuffle_rows`): each row moves
once per group instead of through a shuffle buffer of rows.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

#: Decoded images per record: reading a record per image costs more than most images take to
#: decode.
CACHE_RECORD = 256
#: Records whose rows are shuffled together (a new order every epoch).
SHUFFLE_RECORDS = 4


def shuffle_rows(records: Any, seed: int) -> Any:
    """The rows of ``records`` (batches of ``(x, y, sample_weight)`` rows, already in a
    random order) shuffled within each group of :data:`SHUFFLE_RECORDS` records, anew every
    epoch."""

    def permuted(group: Any, key: Any) -> tuple[Any, Any, Any]:
        rows = tf.range(tf.shape(group[2])[0])
        order = tf.random.experimental.stateless_shuffle(rows, seed=tf.stack([key, key // 7]))
        return tf.nest.map_structure(lambda t: tf.gather(t, order), group)

    groups = records.rebatch(CACHE_RECORD * SHUFFLE_RECORDS)
    keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    return tf.data.Dataset.zip(groups, keys).map(permuted, num_parallel_calls=tf.data.AUTOTUNE)
