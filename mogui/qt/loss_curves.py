"""Which curve a Keras log key belongs to, and the state :class:`LossPlots` keeps per curve."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg

from mogui.qt.curve_items import CurveBuffer, CurveLine

BATCH_VIEW = "batch"
EPOCH_VIEW = "epoch"
TOTAL = "total"


@dataclass
class LossCurve:
    """One log key's points in one view, and the item that draws them."""

    key: str  # Keras log key, e.g. "val_bbox_loss"
    head: str  # head name or TOTAL
    is_loss: bool
    is_val: bool
    view: str  # BATCH_VIEW or EPOCH_VIEW
    item: CurveLine | pg.PlotDataItem | None = None  # made when its view is shown
    buffer: CurveBuffer = field(default_factory=CurveBuffer)
    drawn: int = 0  # points of the buffer the item shows
    stale: bool = False  # the view moved: draw again even if no point was added


def legend_label(key: str) -> str:
    """The legend's name for a log key: Keras' own, with the total called so."""
    return "loss (total)" if key == "loss" else key


def classify_key(key: str, heads: Iterable[str]) -> tuple[str, bool, bool] | None:
    """``(head or TOTAL, is_loss, is_validation)`` for a log key, or ``None`` to ignore it."""
    is_val = key.startswith("val_")
    base = key[4:] if is_val else key
    if base == "loss":
        return TOTAL, True, is_val
    for head in sorted(heads, key=len, reverse=True):
        if base == f"{head}_loss":
            return head, True, is_val
        if base.startswith(f"{head}_"):
            return head, False, is_val
    return None


def y_bounds(curves: Iterable[LossCurve], log: bool) -> tuple[float, float] | None:
    """The lowest and highest finite value of ``curves`` (log10 of them when ``log``).

    ``None`` when they have no finite value (no positive one on a log scale).
    """
    lows, highs = [], []
    for curve in curves:
        if curve.buffer.n:
            lows.append(curve.buffer.low_positive if log else curve.buffer.low)
            highs.append(curve.buffer.high)
    if not lows or not np.isfinite(min(lows)) or not np.isfinite(max(highs)):
        return None
    low, high = min(lows), max(highs)
    if log:
        return float(np.log10(low)), float(np.log10(max(high, low)))
    return low, high
