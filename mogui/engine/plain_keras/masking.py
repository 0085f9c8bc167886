"""Missing labels: which target rows hold no label, and per-row weights that leave them out.

A float row holding any NaN has no label (an empty CSV cell becomes NaN); so has an integer
row of a classification head that is all ``-1``. Such rows get a harmless placeholder target
and weight 0, so every loss and metric averages over the labelled rows only.
"""

import numpy as np

MISSING_LABEL = -1


def missing_rows(target, classification):
    """Boolean ``(n,)``: True where the row has no label (see the module docstring)."""
    target = np.asarray(target)
    n = len(target) if target.ndim else 0
    if n == 0:
        return np.zeros(n, dtype=bool)
    flat = target.reshape(n, -1)
    if flat.shape[1] == 0:
        return np.zeros(n, dtype=bool)
    if target.dtype.kind == "f":
        return np.isnan(flat).any(axis=1)
    if target.dtype.kind in "iu" and classification:
        return (flat == MISSING_LABEL).all(axis=1)
    return np.zeros(n, dtype=bool)


def fill_missing(target, missing, one_hot):
    """A copy of ``target`` whose ``missing`` rows hold 0 (a one-hot row for class 0)."""
    target = np.array(target, copy=True)
    if not missing.any():
        return target
    rows = target[missing]
    rows[...] = 0
    if one_hot and rows.ndim == 2 and rows.shape[1] > 1:
        rows[:, 0] = 1
    target[missing] = rows
    return target


def mask_missing(y, classification_heads, one_hot_heads):
    """Targets with unlabelled rows filled in, and a float32 weight per head and row.

    ``y`` maps head names to targets; Keras takes both results as dicts keyed by head name.
    """
    targets, weights = {}, {}
    for name, target in y.items():
        missing = missing_rows(target, name in classification_heads)
        targets[name] = fill_missing(target, missing, name in one_hot_heads)
        weights[name] = (~missing).astype("float32")
    return targets, weights
