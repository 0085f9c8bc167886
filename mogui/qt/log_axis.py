"""An axis whose log-scale labels never crowd each other.

pyqtgraph labels every minor tick of a log axis (2, 3, … 9 times each power of ten); across more
than about half a decade those labels overlap ("10¹ 9 8 7…"). :class:`LogAxis` keeps the labels
of the powers of ten and of 2 and 5 times them there, and every label on a narrower range.
"""

from __future__ import annotations

import math

import pyqtgraph as pg

#: Mantissas labelled across a wide range (each power of ten, and 2 and 5 times it).
LABELLED = (1, 2, 5)
#: Ticks spread over fewer decades than this are all labelled.
WIDE_DECADES = 0.6


def sparse_log_labels(values: list[float], strings: list[str]) -> list[str]:
    """``strings`` (the labels of the ticks at log10 ``values``) with those that would
    crowd a wide range left empty."""
    if len(values) < 2 or max(values) - min(values) < WIDE_DECADES:
        return strings
    shown = []
    for value, text in zip(values, strings, strict=True):
        mantissa = 10 ** (value - math.floor(value + 1e-9))
        keep = any(abs(mantissa - m) < 1e-6 * m for m in LABELLED)
        shown.append(text if keep else "")
    return shown


class LogAxis(pg.AxisItem):
    """A plot axis (linear as pyqtgraph's); on a log scale, its labels thinned out."""

    def logTickStrings(self, values, scale, spacing):  # noqa: ANN001, ANN201, N802
        return sparse_log_labels(list(values), super().logTickStrings(values, scale, spacing))


def log_axes() -> dict[str, pg.AxisItem]:
    """The ``axisItems`` for a plot whose left and right axes may turn logarithmic."""
    return {"left": LogAxis("left"), "right": LogAxis("right")}


__all__ = ["LogAxis", "log_axes", "sparse_log_labels"]
