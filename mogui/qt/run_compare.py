"""Several runs on one plot: each head's loss per epoch, for every run selected in the Runs tab.

A head keeps its colour in every run (the app's head colours, :mod:`mogui.core.head_palette`);
each run has a line style of its own (solid, dashed, dotted…, then the same styles lighter),
and the legend names the runs by their line style and the heads by their colour. The values
are read from each run's ``history.csv``; the heads and their order from its ``project.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from mogui.core.head_palette import head_colours, tint
from mogui.core.run_history import head_loss_keys, read_history
from mogui.core.run_store import RunInfo, RunStoreError, run_project
from mogui.qt.curve_items import make_plot

#: Line styles that tell runs apart, in order; after them the same styles come lighter.
RUN_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine,
              Qt.PenStyle.DashDotLine, Qt.PenStyle.DashDotDotLine)
#: How much lighter each further round of styles is.
_SHADE_STEP = 0.35
#: The legend's sample colour of a run (its line style, no head's colour).
RUN_SAMPLE_COLOUR = "#555555"
SPLITS = {"Validation loss": True, "Training loss": False}
#: The legend's entries per row, at most.
LEGEND_COLUMNS = 6


@dataclass(frozen=True)
class RunCurves:
    """One run as compared: its name in the legend and each head's loss key and values."""

    folder: Path
    label: str
    heads: tuple[str, ...]
    history: dict[str, list[float]]


def run_style(index: int) -> tuple[Qt.PenStyle, float]:
    """The line style and how much lighter (0: not) the ``index``-th run is drawn."""
    rounds, position = divmod(index, len(RUN_STYLES))
    return RUN_STYLES[position], min(0.8, rounds * _SHADE_STEP)


def run_heads(folder: Path, history: dict[str, list[float]]) -> tuple[str, ...]:
    """The heads a run trained, in training order (its ``project.json``; else its history)."""
    try:
        return tuple(head.name for head in run_project(folder).loss_heads())
    except RunStoreError:
        return tuple(key.removesuffix("_loss") for key in history
                     if key.endswith("_loss") and not key.startswith("val_"))


class RunComparison(QWidget):
    """Each head's loss over the epochs, for several runs at once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runComparison")
        self.runs: list[RunCurves] = []
        self._heads_of: dict[Path, tuple[str, ...]] = {}  # a run's project.json never changes
        self.split = QComboBox(self, objectName="compareSplit")
        self.split.addItems(list(SPLITS))
        self.split.currentTextChanged.connect(lambda _text: self.redraw())
        # Heads' losses often differ by orders of magnitude: each is readable on a log axis.
        self.log_scale = QCheckBox("Log scale", self, objectName="compareLogScale")
        self.log_scale.setChecked(True)
        self.log_scale.toggled.connect(self._set_log)
        self.note = QLabel(self, objectName="compareNote", wordWrap=True)
        self.plot = make_plot(self, "", legend_columns=4)
        self.plot.setObjectName("comparePlot")
        self.plot.setLabel("left", "loss")
        self.plot.plotItem.showGrid(x=True, y=True, alpha=0.15)
        top = QHBoxLayout()
        top.addWidget(QLabel("Compare:", self))
        top.addWidget(self.split)
        top.addWidget(self.log_scale)
        top.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        self.items: dict[tuple[Path, str], pg.PlotDataItem] = {}

    @property
    def validation(self) -> bool:
        return SPLITS[self.split.currentText()]

    def show_runs(self, runs: list[tuple[RunInfo, str]]) -> None:
        """Compare ``runs`` (each with its name in the legend), reading their histories now."""
        self.runs = []
        for info, label in runs:
            history = read_history(info.folder)
            heads = self._heads_of.get(info.folder)
            if heads is None:
                heads = run_heads(info.folder, history)
                if heads:
                    self._heads_of[info.folder] = heads
            self.runs.append(RunCurves(info.folder, label, heads, history))
        self.redraw()

    def head_colours(self) -> dict[str, str]:
        """Every head of the runs shown and its colour: the first run's heads in its order,
        then heads only later runs have."""
        heads: list[str] = []
        for run in self.runs:
            heads += [head for head in run.heads if head not in heads]
        return head_colours(heads)

    def redraw(self) -> None:
        plot = self.plot.plotItem
        plot.clear()
        legend = plot.legend
        legend.clear()
        self.items = {}
        colours = self.head_colours()
        empty = []
        for index, run in enumerate(self.runs):
            style, shade = run_style(index)
            keys = head_loss_keys(list(run.heads), run.history, self.validation)
            if not keys:
                empty.append(run.label)
            for head, key in keys.items():
                values = np.asarray(run.history[key], dtype=float)
                pen = pg.mkPen(color=tint(colours[head], shade), width=2, style=style)
                item = pg.PlotDataItem(np.arange(1, len(values) + 1), values, pen=pen)
                item.setToolTip(f"{run.label} · {head}")
                plot.addItem(item)
                self.items[(run.folder, head)] = item
            sample = pg.PlotDataItem(pen=pg.mkPen(color=tint(RUN_SAMPLE_COLOUR, shade),
                                                  width=2, style=style))
            legend.addItem(sample, run.label)
        for head, colour in colours.items():
            legend.addItem(pg.PlotDataItem(pen=pg.mkPen(color=colour, width=2)), head)
        legend.setColumnCount(max(1, min(LEGEND_COLUMNS, len(self.runs) + len(colours))))
        split = "validation" if self.validation else "training"
        self.note.setText(
            f"No {split} loss recorded in: {', '.join(empty)}" if empty else
            f"{len(self.runs)} runs: a colour per head, a line style per run")
        plot.setTitle(f"Each head's {split} loss", color="#333", size="10pt")
        self._set_log(self.log_scale.isChecked())

    def _set_log(self, on: bool) -> None:
        self.plot.plotItem.setLogMode(y=on)

    def curve(self, folder: Path, head: str) -> tuple[np.ndarray, np.ndarray]:
        """The points drawn for ``head`` of the run in ``folder`` (epochs, values)."""
        x, y = self.items[(Path(folder), head)].getOriginalDataset()
        return np.asarray(x), np.asarray(y)

    def legend_labels(self) -> list[str]:
        """The legend's entries, in order: the runs, then the heads."""
        return [label.text for _sample, label in self.plot.plotItem.legend.items]
