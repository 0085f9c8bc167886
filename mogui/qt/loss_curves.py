"""Which curve a Keras log key belongs to, and the state :class:`LossPlots` keeps per curve."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg

from mogui.core.log_keys import is_gradient_key
from mogui.core.tasks import TASKS
from mogui.qt.curve_items import CurveBuffer, CurveLine, polyline_distance

_Y_PAD = 0.08  # fraction of the data span added above and below
_Y_SHRINK = 0.4  # re-fit when the data span falls below this fraction of the shown span

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
    metric: str = ""  # a metric's name without the head ("mae"); "" for losses
    item: CurveLine | pg.PlotDataItem | None = None  # made when its view is shown
    host: pg.ViewBox | None = None  # the view box the item is in (the total may have its own)
    buffer: CurveBuffer = field(default_factory=CurveBuffer)
    drawn: int = 0  # points of the buffer the item shows
    stale: bool = False  # the view moved: draw again even if no point was added


def legend_label(key: str) -> str:
    """The legend's name for a log key: Keras' own, with the total called so."""
    return "loss (total)" if key == "loss" else key


#: Every metric a head can have: a one-head model logs them without the head's name.
METRICS = frozenset(metric for info in TASKS.values() for metric in info.metrics)


def classify_key(key: str, heads: Iterable[str]) -> tuple[str, bool, bool] | None:
    """``(head or TOTAL, is_loss, is_validation)`` for a log key, or ``None`` to ignore it."""
    is_val = key.startswith("val_")
    base = key[4:] if is_val else key
    if base == "loss":
        return TOTAL, True, is_val
    heads = sorted(heads, key=len, reverse=True)
    if is_gradient_key(base, heads):  # gradient diagnostics, even for a head named "gradnorm"
        return None
    for head in heads:
        if base == f"{head}_loss":
            return head, True, is_val
        if base.startswith(f"{head}_"):
            return head, False, is_val
    if len(heads) == 1 and base in METRICS:  # Keras drops the name of a model's only output
        return heads[0], False, is_val
    return None


def metric_of(key: str, head: str) -> str:
    """The metric a log key reports, without ``val_`` and the head: ``val_bbox_mae`` -> ``mae``."""
    base = key[4:] if key.startswith("val_") else key
    return base[len(head) + 1:] if base.startswith(f"{head}_") else base


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


def y_range_for(bounds: tuple[float, float] | None, shown: tuple[float, float] | None,
                log: bool) -> tuple[float, float] | None:
    """The y range to show data spanning ``bounds``, or ``None`` to keep ``shown``.

    The range changes only when the data leave it or shrink well inside it (so the axes are
    rarely redrawn); ``shown=None`` always gives a range for the data.
    """
    if bounds is None:
        return None
    low, high = bounds
    span = max(high - low, 1e-6 if log else abs(high) * 1e-3 + 1e-9)
    if shown is not None and shown[0] <= low and high <= shown[1] \
            and span >= _Y_SHRINK * (shown[1] - shown[0]):
        return None
    return low - _Y_PAD * span, high + _Y_PAD * span


def nearest_head(curves: Iterable[LossCurve], scene_pos: object,
                 tolerance: float) -> str | None:
    """The head of the drawn curve nearest ``scene_pos`` (a scene point), if it is within
    ``tolerance`` pixels; distances are measured on screen, in each curve's own view box."""
    best, best_distance = None, tolerance
    for curve in curves:
        view = curve.host
        if view is None or curve.item is None:
            continue
        (left, right), (bottom, top) = view.viewRange()
        sx, sy = view.width() / (right - left), view.height() / (top - bottom)
        point = view.mapSceneToView(scene_pos)
        xs, ys = (curve.item.xData, curve.item.yData) if isinstance(curve.item, CurveLine) \
            else curve.item.getData()
        if xs is None or len(xs) == 0:
            continue
        distance = polyline_distance(point.x() * sx, point.y() * sy, np.asarray(xs) * sx,
                                     np.asarray(ys) * sy)
        if distance <= best_distance:
            best, best_distance = curve.head, distance
    return best


class CurveQueries:
    """What a plot widget keeping :class:`LossCurve` s by (view, log key) shows: for tests and
    status. The widget sets ``_curves`` and ``_view`` and says which curves are shown."""

    _curves: dict[tuple[str, str], LossCurve]
    _view: str

    def _shown(self, curve: LossCurve) -> bool:
        return curve.item is not None and curve.item.isVisible()

    def _curve(self, name: str, view: str | None) -> LossCurve | None:
        return self._curves.get((view or self._view, name))

    def curve_names(self, view: str | None = None) -> list[str]:
        """Log keys that have a curve in ``view`` (default: the current view)."""
        view = view or self._view
        return sorted(key for (v, key) in self._curves if v == view)

    def curve_points(self, name: str, view: str | None = None) -> int:
        """Points of log key ``name`` drawn so far in ``view`` (0 when there is no such curve).

        Curves of a hidden view are drawn when it is shown; until then this stays 0.
        """
        curve = self._curve(name, view)
        return 0 if curve is None else curve.drawn

    def points_received(self, name: str, view: str | None = None) -> int:
        """Points of log key ``name`` received for ``view``, drawn or not."""
        curve = self._curve(name, view)
        return 0 if curve is None else curve.buffer.n

    def curve_visible(self, name: str, view: str | None = None) -> bool:
        curve = self._curve(name, view)
        return curve is not None and self._shown(curve)

    def curve_item(self, name: str, view: str | None = None):
        """The pyqtgraph item of ``name`` in ``view``, or ``None`` (none until it is shown)."""
        curve = self._curve(name, view)
        return None if curve is None else curve.item
