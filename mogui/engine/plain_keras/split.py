"""The train/validation split: the same rows for inputs, targets and sample weights."""

import numpy as np


def split_rows(n, validation_split, seed, shuffle=True):
    """Row indices ``(train, validation)``; validation is ``None`` when the split is 0.

    With ``shuffle`` the rows are permuted by ``seed`` first (same seed, same split); without
    it the validation rows are the last ones, as Keras' ``validation_split`` does.
    """
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
    n_val = int(round(n * validation_split))
    if validation_split > 0.0:
        n_val = min(max(n_val, 1), n - 1)
    if n_val <= 0:
        return np.arange(n), None
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    return order[: n - n_val], order[n - n_val :]


def split_arrays(arrays, validation_split, seed, shuffle=True):
    """``arrays`` (a dict of equally long arrays) as ``(train, validation)`` dicts."""
    n = len(next(iter(arrays.values())))
    train, val = split_rows(n, validation_split, seed, shuffle)
    if val is None:
        return arrays, None
    return (
        {name: array[train] for name, array in arrays.items()},
        {name: array[val] for name, array in arrays.items()},
    )
