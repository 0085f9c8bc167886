"""Exported loss plots draw each head in its colour in the app."""

from __future__ import annotations

from matplotlib.colors import to_hex

from mogui.core.head_palette import TOTAL_COLOUR, head_colour
from mogui.engine.export.plots import loss_figure


def test_exported_plot_uses_the_app_colours():
    heads = [f"h{i}" for i in range(12)]
    history = {"loss": [2.0, 1.0], "val_loss": [2.5, 1.5]}
    for head in heads:
        if head != "h3":  # a head missing from the history keeps the others' colours
            history[f"{head}_loss"] = [1.0, 0.5]
            history[f"val_{head}_loss"] = [1.1, 0.6]
    axes = loss_figure(history, heads).axes[0]
    colours = {line.get_label(): to_hex(line.get_color()) for line in axes.get_lines()}
    assert colours["loss"] == colours["val_loss"] == TOTAL_COLOUR
    for i, head in enumerate(heads):
        if head != "h3":
            assert colours[f"{head}_loss"] == colours[f"val_{head}_loss"] == head_colour(i)
    assert colours["h10_loss"] != colours["h0_loss"]  # no repeat after ten heads
