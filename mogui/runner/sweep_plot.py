"""A sweep's Pareto front as ``pareto.png``: with two objectives a scatter of every complete
trial with the front highlighted, joined and labelled by trial number; with more, parallel
coordinates (each objective an axis scaled from its best to its worst value, the front's
trials drawn in colour and labelled).

Drawn with matplotlib's object API and the Agg canvas only (no pyplot, no GUI backend), and
written atomically (readers see the old picture or the new one).
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mogui.core.io import current_umask
from mogui.core.sweep_results import (
    PARETO_PLOT,
    Direction,
    SweepManifest,
    SweepTrial,
    non_dominated,
)

FRONT_COLOUR = "#d62728"
OTHER_COLOUR = "#9e9e9e"
LINE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#17becf")


def _axis_label(name: str, direction: Direction) -> str:
    return f"{name} ({'higher' if direction == 'maximize' else 'lower'} is better)"


def front_figure(manifest: SweepManifest, trials: Sequence[SweepTrial]) -> Figure:
    """The figure ``pareto.png`` shows for ``trials``."""
    objectives, directions = manifest.objectives, manifest.directions
    complete = [t for t in trials if t.complete and all(o in t.objectives for o in objectives)]
    front = non_dominated(complete, objectives, directions)
    figure = Figure(figsize=(7.5, 5.0), dpi=100)
    axes = figure.add_subplot()
    if not complete:
        axes.text(0.5, 0.5, "No complete trials yet", ha="center", va="center",
                  transform=axes.transAxes)
        axes.set_axis_off()
    elif len(objectives) == 2:
        _scatter(axes, complete, front, objectives, directions)
    else:
        _parallel(axes, complete, front, objectives, directions)
    axes.set_title(f"Pareto front: {len(front)} of {len(complete)} complete trials"
                   + (f"; {len(trials) - len(complete)} not complete"
                      if len(trials) > len(complete) else ""))
    figure.tight_layout()
    return figure


def _scatter(axes, complete: Sequence[SweepTrial], front: Sequence[SweepTrial],
             objectives: Sequence[str], directions: Sequence[Direction]) -> None:
    x_name, y_name = objectives
    others = [t for t in complete if t not in front]
    axes.scatter([t.objectives[x_name] for t in others], [t.objectives[y_name] for t in others],
                 color=OTHER_COLOUR, s=22, label="dominated", zorder=2)
    ordered = sorted(front, key=lambda t: (t.objectives[x_name], t.objectives[y_name]))
    xs = [t.objectives[x_name] for t in ordered]
    ys = [t.objectives[y_name] for t in ordered]
    # The edge of what the front dominates: a staircase through its points.
    steps = "steps-pre" if directions[0] == "maximize" else "steps-post"
    axes.plot(xs, ys, color=FRONT_COLOUR, linewidth=1.2, alpha=0.6, zorder=3, drawstyle=steps)
    axes.scatter(xs, ys, color=FRONT_COLOUR, s=40, label="Pareto front", zorder=4)
    for trial, x, y in zip(ordered, xs, ys, strict=True):
        axes.annotate(f"#{trial.number}", (x, y), textcoords="offset points", xytext=(5, 5),
                      fontsize="small", color=FRONT_COLOUR)
    for name, set_scale in ((x_name, axes.set_xscale), (y_name, axes.set_yscale)):
        values = [t.objectives[name] for t in complete]
        if min(values) > 0 and max(values) / min(values) > 100:  # decades apart: log scale
            set_scale("log")
    axes.set_xlabel(_axis_label(x_name, directions[0]))
    axes.set_ylabel(_axis_label(y_name, directions[1]))
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small")


def _parallel(axes, complete: Sequence[SweepTrial], front: Sequence[SweepTrial],
              objectives: Sequence[str], directions: Sequence[Direction]) -> None:
    """One vertical axis per objective, best at the bottom; a line per trial."""
    spans = []
    for name, direction in zip(objectives, directions, strict=True):
        values = [t.objectives[name] for t in complete]
        best, worst = (min(values), max(values)) if direction == "minimize" \
            else (max(values), min(values))
        spans.append((best, worst))

    def scaled(trial: SweepTrial) -> list[float]:
        points = []
        for name, (best, worst) in zip(objectives, spans, strict=True):
            width = worst - best
            points.append(0.5 if width == 0 or not math.isfinite(width)
                          else (trial.objectives[name] - best) / width)
        return points

    positions = list(range(len(objectives)))
    for trial in complete:
        if trial not in front:
            axes.plot(positions, scaled(trial), color=OTHER_COLOUR, alpha=0.5, linewidth=1,
                      zorder=2)
    for index, trial in enumerate(front):
        colour = LINE_COLOURS[index % len(LINE_COLOURS)]
        points = scaled(trial)
        axes.plot(positions, points, color=colour, linewidth=2, marker="o", markersize=4,
                  zorder=3, label=f"#{trial.number}")
    for position, (best, worst) in zip(positions, spans, strict=True):
        axes.axvline(position, color="#444444", linewidth=0.8, zorder=1)
        axes.annotate(f"{best:.4g}", (position, 0), textcoords="offset points", xytext=(3, -12),
                      fontsize="x-small")
        axes.annotate(f"{worst:.4g}", (position, 1), textcoords="offset points", xytext=(3, 4),
                      fontsize="x-small")
    axes.set_xticks(positions, [_axis_label(n, d).replace(" (", "\n(")
                                for n, d in zip(objectives, directions, strict=True)],
                    fontsize="small")
    axes.set_yticks([0, 1], ["best", "worst"])
    axes.set_ylim(-0.08, 1.08)
    axes.set_xlim(-0.2, len(objectives) - 0.6)
    axes.legend(title="front", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
                ncols=1 + len(front) // 16)


def write_front_plot(folder: Path, manifest: SweepManifest,
                     trials: Sequence[SweepTrial]) -> Path:
    """Write ``pareto.png`` into ``folder`` (atomically); its path."""
    buffer = io.BytesIO()
    FigureCanvasAgg(front_figure(manifest, trials)).print_png(buffer)
    path = Path(folder) / PARETO_PLOT
    fd, temporary = tempfile.mkstemp(prefix=f".{PARETO_PLOT}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(buffer.getvalue())
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
