"""Shape and dtype of a tensor, as shown to users in loss reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TensorInfo:
    """Shape (``None`` for an unknown dimension) and dtype name of a tensor."""

    shape: tuple[int | None, ...]
    dtype: str

    @classmethod
    def of(cls, value: Any) -> TensorInfo:
        """Describe a tensor, array or Python number."""
        shape = getattr(value, "shape", None)
        if shape is None:
            value = np.asarray(value)
            shape = value.shape
        dims = tuple(None if d is None else int(d) for d in tuple(shape))
        dtype = getattr(value, "dtype", None)
        name = getattr(dtype, "name", None) or str(dtype)
        return cls(dims, str(name))

    def shape_text(self, batch_name: str = "batch") -> str:
        """``(batch, 4)`` style text; an unknown first dimension reads ``batch``."""
        dims = [batch_name if d is None else str(d) for d in self.shape]
        if len(dims) == 1:
            return f"({dims[0]},)"
        return "(" + ", ".join(dims) + ")"

    def __str__(self) -> str:
        return f"{self.dtype} {self.shape_text()}"
