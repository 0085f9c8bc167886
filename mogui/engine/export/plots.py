"""Loss curves as image files (PNG and SVG) for an export folder.

Drawn with matplotlib's object API and Agg/SVG canvases only (no pyplot, no GUI backend), so
it is safe in worker threads and never touches Qt.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from matplotlib import rcParams
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from mogui.core.head_palette import TOTAL_COLOUR, head_colour

PLOT_FILES = ("loss.png", "loss.svg")


def loss_figure(history: dict[str, list[float]], heads: Iterable[str], title: str = "") -> Figure:
    """Total loss and each head's loss per epoch; validation curves dashed in the same colour.

    Colours are the app's (:mod:`mogui.core.head_palette`): the total near black, each head
    its own by its place in ``heads``.
    """
    heads = list(heads)
    keys = ["loss", *(f"{h}_loss" for h in heads if f"{h}_loss" in history)]
    figure = Figure(figsize=(7.0, 4.2), dpi=100)
    axes = figure.add_subplot()
    for index, key in enumerate(keys):
        colour = TOTAL_COLOUR if index == 0 else head_colour(heads.index(key[:-len("_loss")]))
        values = history.get(key, [])
        epochs = range(1, len(values) + 1)
        axes.plot(epochs, values, color=colour, marker="o", markersize=3, label=key)
        val = history.get(f"val_{key}")
        if val:
            axes.plot(range(1, len(val) + 1), val, color=colour, linestyle="--", marker="o",
                      markersize=3, label=f"val_{key}")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss (head losses unweighted)")
    if title:
        axes.set_title(title)
    axes.grid(True, alpha=0.3)
    if keys:
        axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def write_loss_plots(history: dict[str, list[float]], heads: Iterable[str], folder: Path,
                     title: str = "") -> list[Path]:
    """Write ``loss.png`` and ``loss.svg`` into ``folder``; return their paths."""
    figure = loss_figure(history, heads, title)
    png, svg = (Path(folder) / name for name in PLOT_FILES)
    FigureCanvasAgg(figure).print_png(png)
    previous = rcParams["svg.hashsalt"]
    rcParams["svg.hashsalt"] = "mogui"  # stable element ids: same history, same file
    try:
        FigureCanvasSVG(figure).print_svg(svg, metadata={"Date": None})
    finally:
        rcParams["svg.hashsalt"] = previous
    return [png, svg]
