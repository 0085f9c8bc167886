"""Normalization layers measured on the training rows, before the first epoch.

A ``keras.layers.Normalization`` layer of the model scales each feature of what reaches it to
mean 0 and variance 1; one with ``invert=True`` named after a head turns that head's output
from standard deviations back into its target's units. Both take their mean and variance from
the training rows only (never the validation rows): the inputs' values for the first, the
labelled targets of the head for the second. A feature whose variance is 0 keeps variance 1,
so a constant column becomes 0 instead of a division by nearly nothing.
"""

import keras
import numpy as np


def moments(pieces, axis=(-1,)):
    """Mean and variance (float64) of arrays given in pieces, per position of ``axis`` (the
    axes kept, counted with the batch axis first); the other axes are averaged over. Pieces
    are merged exactly (Chan, Golub & LeVeque), so the result does not depend on their sizes
    beyond rounding."""
    count, mean, m2 = 0, None, None
    for values in pieces:
        values = np.asarray(values, dtype=np.float64)
        if values.shape[0] == 0:
            continue
        keep = sorted(a % values.ndim for a in axis)
        values = np.moveaxis(values, keep, list(range(values.ndim - len(keep), values.ndim)))
        flat = values.reshape(-1, *values.shape[values.ndim - len(keep) :])
        n = flat.shape[0]
        piece_mean = flat.mean(axis=0)
        piece_m2 = ((flat - piece_mean) ** 2).sum(axis=0)
        if mean is None:
            count, mean, m2 = n, piece_mean, piece_m2
            continue
        delta = piece_mean - mean
        total = count + n
        mean = mean + delta * (n / total)
        m2 = m2 + piece_m2 + delta**2 * (count * n / total)
        count = total
    if mean is None:
        raise ValueError("no rows to measure the mean and variance on")
    return mean, m2 / count


def set_moments(layer, mean, variance):
    """Give a Normalization layer its mean and variance (variance 0 becomes 1)."""
    variance = np.where(variance > 0, variance, 1.0)
    layer.adapt_mean.assign(np.asarray(mean, dtype=layer.adapt_mean.dtype))
    layer.adapt_variance.assign(np.asarray(variance, dtype=layer.adapt_variance.dtype))
    layer.finalize_state()


def normalization_layers(model):
    """The model's Normalization layers without a given mean, in build order (each is measured
    after the ones before it)."""
    return [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.Normalization) and layer.input_mean is None
    ]


def layer_values(model, layer, x, batch_size=1024):
    """What reaches ``layer`` for the inputs ``x`` (a dict keyed by input name)."""
    inputs = model.input if isinstance(model.input, dict) else {t.name: t for t in model.inputs}
    for name, tensor in inputs.items():
        if layer.input is tensor:
            return x[name]
    feeder = keras.Model(inputs, layer.input)
    return feeder.predict(x, batch_size=batch_size, verbose=0)


def labelled(target, weights):
    """The rows of ``target`` whose sample weight is above 0 (all rows without weights)."""
    return target if weights is None else target[np.asarray(weights) > 0]


def adapt_scaling(model, chunks):
    """Measure every Normalization layer of ``model`` on the training rows.

    ``chunks()`` returns an iterable of ``(x, y, sample_weight)`` pieces of the training rows,
    dicts keyed by input and head name (``sample_weight`` may be None: every row labelled). A
    layer with ``invert=True`` is a standardized head's output, measured on that head's
    labelled targets; any other on the values that reach it. Returns the names of the layers
    measured (a layer without a training row to measure keeps mean 0 and variance 1).
    """
    adapted = []
    for layer in normalization_layers(model):
        if layer.invert:
            pieces = (
                labelled(y[layer.name], None if w is None else w.get(layer.name))
                for x, y, w in chunks()
            )
        else:
            pieces = (layer_values(model, layer, x) for x, y, w in chunks())
        try:
            mean, variance = moments(pieces, layer.axis)
        except ValueError:  # no training row (labelled): the layer stays as it is
            continue
        set_moments(layer, mean, variance)
        adapted.append(layer.name)
    return adapted
