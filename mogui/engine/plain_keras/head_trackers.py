"""Per-head values a multi-head model keeps between steps: its heads' means and weights.

:class:`HeadMeans` keeps a mean per head in one pair of vector variables, so a step updates
two variables whatever the number of heads, and hands every head's mean out of a compiled step
as one vector (:meth:`HeadMeans.packed_result`), turned back into one log value per head on
the host (:meth:`HeadMeans.unpack`). :class:`HeadWeights` holds each head's loss weight as a
variable that steps read and callbacks change between steps.
"""

import keras
import numpy as np
from keras import ops


def as_number(value):
    """A scalar log value as a Python float; other values as they are."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


class HeadMeans(keras.metrics.Metric):
    """A mean per head in one metric, logged as ``<prefix><head><suffix>`` each.

    One pair of vector variables for every head, so a step updates two variables whatever the
    number of heads (a ``keras.metrics.Mean`` per head would update two per head). Only the
    heads in ``shown`` are logged.
    """

    def __init__(self, heads, prefix="", suffix="", name="head_means"):
        super().__init__(name=name)
        self.heads = list(heads)
        self.keys = [f"{prefix}{head}{suffix}" for head in self.heads]
        self.shown = tuple(self.heads)
        size = (len(self.heads),)
        self.total = self.add_variable(shape=size, initializer="zeros", name="total")
        self.count = self.add_variable(shape=size, initializer="zeros", name="count")

    def update_state(self, values, sample_weight=1.0):
        """Add ``values`` (head -> scalar; heads left out are not counted) with the weight
        ``sample_weight``."""
        present = [1.0 if head in values else 0.0 for head in self.heads]
        stacked = ops.stack(
            [ops.cast(values[h], "float32") if h in values else 0.0 for h in self.heads]
        )
        weight = ops.cast(sample_weight, "float32") * ops.convert_to_tensor(present, "float32")
        self.total.assign_add(stacked * weight)
        self.count.assign_add(weight)

    @property
    def packed_key(self):
        """The log key of every head's mean as one vector (see :meth:`packed_result`)."""
        return f"{self.name}:vector"

    def result(self):
        means = ops.divide_no_nan(self.total, self.count)
        return {
            key: means[i]
            for i, (head, key) in enumerate(zip(self.heads, self.keys, strict=True))
            if head in self.shown
        }

    def packed_result(self):
        """Every head's mean as one vector, under :attr:`packed_key`."""
        return {self.packed_key: ops.divide_no_nan(self.total, self.count)}

    def unpack(self, vector, logs):
        """Add the shown heads' means from ``vector`` (a :meth:`packed_result`) to ``logs``."""
        values = np.asarray(vector, dtype="float64").reshape(-1).tolist()
        for value, head, key in zip(values, self.heads, self.keys, strict=True):
            if head in self.shown:
                logs[key] = value

    def reset_state(self):
        self.total.assign(ops.zeros_like(self.total))
        self.count.assign(ops.zeros_like(self.count))


class HeadWeights:
    """Each head's loss weight as a variable that every step reads and that callbacks change
    between steps. Not a Keras attribute type, so the model does not save the variables."""

    def __init__(self, heads):
        self.variables = {
            head: keras.Variable(1.0, trainable=False, dtype="float32", name=f"weight_of_{head}")
            for head in heads
        }

    def __getitem__(self, head):
        return self.variables[head]

    def assign(self, weights):
        """Set the weights of the heads named in ``weights`` (head -> number)."""
        for head, value in weights.items():
            if head in self.variables:
                self.variables[head].assign(float(value))
