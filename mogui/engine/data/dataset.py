"""In-memory training data: arrays keyed by input name and by head name."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mogui.engine.plain_keras.split import split_rows


@dataclass
class Dataset:
    """Inputs ``x`` keyed by input name and targets ``y`` keyed by head name; equal row counts."""

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]

    @property
    def num_samples(self) -> int:
        for array in (*self.x.values(), *self.y.values()):
            return int(array.shape[0])
        return 0

    def subset(self, indices: np.ndarray) -> Dataset:
        """The rows at ``indices``, in that order."""
        return Dataset(x={k: v[indices] for k, v in self.x.items()},
                       y={k: v[indices] for k, v in self.y.items()})

    def take(self, n: int) -> Dataset:
        """The first ``n`` rows (all of them when there are fewer)."""
        return Dataset(x={k: v[:n] for k, v in self.x.items()},
                       y={k: v[:n] for k, v in self.y.items()})

    def split(self, validation_split: float, seed: int, shuffle: bool = True
              ) -> tuple[Dataset, Dataset | None]:
        """Split into (train, validation); validation is ``None`` when the split is 0.

        With ``shuffle`` the rows are permuted by ``seed`` first (same seed, same split);
        without it the validation rows are the last ones, as Keras' ``validation_split`` does.
        """
        train, val = split_rows(self.num_samples, validation_split, seed, shuffle)
        if val is None:
            return self, None
        return self.subset(train), self.subset(val)
