"""One colour per head, the same in every view: live plots, head table, graph, exported plots.

A head's colour is decided by its position among the heads a loss trains (``Project.loss_heads``
order, which is also the order of training's ``heads`` and of the exported plots). The palette
starts with eight of Matplotlib's ten familiar colours (no grey, no olive) and continues with
colours picked one at a time as far (in the perceptual OKLab space) from all earlier ones, and
from black and white, as the sRGB gamut allows, at lightnesses that read as a thin line on
white. Its first 40 colours are all at least 0.09 apart in OKLab (about five times a just
noticeable difference); beyond :data:`PALETTE`'s 48 the colours repeat.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from mogui.core.project import Project

#: The total loss: near black, apart from every head colour.
TOTAL_COLOUR = "#222222"
#: A head without a loss (nothing to plot): the graph draws it neutral.
NO_LOSS_COLOUR = "#9e9e9e"

PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#4608bb", "#106118", "#7a0969", "#34476e", "#d006a7", "#a5a16e", "#554ffe", "#7699fb",
    "#911bd3", "#861210", "#4b7e63", "#ce52f9", "#bc7579", "#5b4315", "#fa177b", "#ad115c",
    "#5f4daf", "#95761a", "#5996aa", "#aa93c0", "#44b782", "#fe626c", "#053be0", "#9457fa",
    "#b84f8a", "#734571", "#89af11", "#377df3", "#9e1393", "#196465", "#700fa5", "#cf7015",
    "#b680f3", "#69631c", "#143ca1", "#3c7b0a", "#fb48ce", "#ac2914", "#4f5f89", "#57307f",
)


def head_colour(index: int) -> str:
    """The colour of the ``index``-th trained head (``#rrggbb``)."""
    return PALETTE[index % len(PALETTE)]


def head_colours(heads: Iterable[str]) -> dict[str, str]:
    """Head name -> colour for heads in training order (``Project.loss_heads``)."""
    return {name: head_colour(i) for i, name in enumerate(heads)}


def project_head_colours(project: Project) -> dict[str, str]:
    """Every head of ``project`` -> its colour; a head without a loss gets the neutral one."""
    colours = head_colours(h.name for h in project.loss_heads())
    return {h.name: colours.get(h.name, NO_LOSS_COLOUR) for h in project.heads}


def tint(colour: str, amount: float) -> str:
    """``colour`` mixed with white: ``amount`` 0 keeps it, 1 gives white."""
    rgb = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in rgb)


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def oklab(colour: str) -> tuple[float, float, float]:
    """``#rrggbb`` in OKLab (L, a, b): equal distances look about equally different."""
    r, g, b = (_linear(int(colour[i:i + 2], 16) / 255) for i in (1, 3, 5))
    lms = (0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b,
           0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b,
           0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b)
    l_, m_, s_ = (math.copysign(abs(v) ** (1 / 3), v) for v in lms)
    return (0.2104542553 * l_ + 0.7936177850 * m_ - 0.0040720468 * s_,
            1.9779984951 * l_ - 2.4285922050 * m_ + 0.4505937099 * s_,
            0.0259040371 * l_ + 0.7827717662 * m_ - 0.8086757660 * s_)


def colour_distance(first: str, second: str) -> float:
    """Perceptual distance of two colours (OKLab; about 0.02 is just noticeable)."""
    return math.dist(oklab(first), oklab(second))
