"""A sweep's Pareto front, drawn: two objectives as a scatter of every complete trial with the
front highlighted and joined, three or more as parallel coordinates (one line per trial, the
front's lines highlighted). A click picks the trial under the mouse.

Objective ``i`` is drawn in the colour of the ``i``-th trained head
(:mod:`mogui.core.head_palette`): a sweep's objectives are one per head, in training order.
Failed and unfinished trials have no objectives to draw; the view's table lists them.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from mogui.core.head_palette import head_colour
from mogui.core.sweep_results import SweepTrial
from mogui.qt.sweep_watch import SweepState

FRONT_COLOUR = "#d62728"
DOMINATED_COLOUR = "#8c9cae"
SELECTED_COLOUR = "#111111"
#: A click this close to a point or a line (pixels) picks its trial.
PICK_TOLERANCE = 8.0


def direction_word(direction: str) -> str:
    return "higher is better" if direction == "maximize" else "lower is better"


def _segment_distance(p: QPointF, a: QPointF, b: QPointF) -> float:
    """Distance from ``p`` to the segment ``a``–``b`` (scene pixels)."""
    ax, ay, bx, by, px, py = a.x(), a.y(), b.x(), b.y(), p.x(), p.y()
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def staircase(xs: list[float], ys: list[float], *, before: bool = False
              ) -> tuple[list[float], list[float]]:
    """The steps through points sorted by x: each y holds until the next x (``before``: from
    the x before), as matplotlib's ``steps-post`` (``steps-pre``)."""
    if len(xs) < 2:
        return list(xs), list(ys)
    out_x, out_y = [xs[0]], [ys[0]]
    for x, y, last in zip(xs[1:], ys[1:], ys[:-1], strict=True):
        out_x += [out_x[-1] if before else x, x]
        out_y += [y if before else last, y]
    return out_x, out_y


class ParetoPlot(QWidget):
    """The front of one sweep; :meth:`show_state` draws a state, :meth:`select` marks a trial."""

    picked = Signal(int)  # a trial number

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paretoPlot")
        self.plot = pg.PlotWidget(self, background="w")
        self.plot.setObjectName("paretoPlotWidget")
        self.plot.setMinimumSize(320, 260)
        item = self.plot.plotItem
        item.setMenuEnabled(False)
        item.hideButtons()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.vb.setDefaultPadding(0.08)
        for name in ("left", "bottom"):
            item.getAxis(name).setTextPen("#333")
            item.getAxis(name).enableAutoSIPrefix(False)
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        #: ``"empty"``, ``"scatter"`` (one or two objectives) or ``"parallel"`` (three or more).
        self.mode = "empty"
        self.selected: int | None = None
        self._complete: list[SweepTrial] = []
        self._front: list[int] = []
        self._points: dict[int, list[tuple[float, float]]] = {}  # trial -> view points
        self._lines: dict[int, pg.PlotDataItem] = {}
        self._marker: pg.ScatterPlotItem | None = None
        self._front_scatter: pg.ScatterPlotItem | None = None
        self._names: list[str] = []
        self._message("No complete trial yet")

    # -- drawing ----------------------------------------------------------------------------
    def _clear(self) -> None:
        item = self.plot.plotItem
        item.clear()
        item.getAxis("bottom").setTicks(None)
        item.getAxis("left").setStyle(showValues=True)
        self._points, self._lines = {}, {}
        self._marker = self._front_scatter = None

    def _message(self, text: str) -> None:
        self.plot.plotItem.setTitle(text, color="#333", size="10pt")

    def show_state(self, state: SweepState) -> None:
        """Draw the complete trials of ``state`` and its front; keeps the selection."""
        self._clear()
        manifest = state.manifest
        objectives = list(manifest.objectives) if manifest is not None else []
        self._complete = [t for t in state.trials
                          if t.complete and all(o in t.objectives for o in objectives)]
        self._front = [n for n in state.front if any(t.number == n for t in self._complete)]
        if manifest is None or not objectives or not self._complete:
            self.mode = "empty"
            self.plot.plotItem.setLabel("bottom", "")
            self.plot.plotItem.setLabel("left", "")
            self._message(state.problem if state.problem and manifest is None
                          else "No complete trial yet")
            return
        title = (f"Pareto front: {len(self._front)} of {len(self._complete)} complete "
                 f"trial{'' if len(self._complete) == 1 else 's'}")
        self._message(title)
        if len(objectives) <= 2:
            self.mode = "scatter"
            self._draw_scatter(objectives, list(manifest.directions))
        else:
            self.mode = "parallel"
            self._draw_parallel(objectives, list(manifest.directions))
        # Kept automatic: the points' extent depends on the plot's size in pixels.
        self.plot.plotItem.vb.enableAutoRange()
        self.select(self.selected)

    def _draw_scatter(self, objectives: list[str], directions: list[str]) -> None:
        item = self.plot.plotItem
        self._names = objectives
        one = len(objectives) == 1
        for trial in self._complete:
            values = [trial.objectives[o] for o in objectives]
            self._points[trial.number] = [(float(trial.number), values[0]) if one
                                          else (values[0], values[1])]
        others = [n for n in self._points if n not in self._front]
        if others:
            item.addItem(self._scatter(others, 9, DOMINATED_COLOUR))
        ordered = sorted(self._front, key=lambda n: self._points[n][0])
        xs = [self._points[n][0][0] for n in ordered]
        ys = [self._points[n][0][1] for n in ordered]
        if not one:  # the edge of what the front dominates, as pareto.png draws it
            xs, ys = staircase(xs, ys, before=directions[0] == "maximize")
        line = pg.PlotDataItem(xs, ys, pen=pg.mkPen(FRONT_COLOUR, width=2))
        item.addItem(line)
        self._front_scatter = self._scatter(self._front, 12, FRONT_COLOUR)
        item.addItem(self._front_scatter)
        # Labels alternate above-right and below-left along the front, so that neighbours'
        # numbers do not print over each other.
        for index, n in enumerate(ordered):
            x, y = self._points[n][0]
            anchor = (-0.15, 1.05) if index % 2 == 0 else (1.15, -0.05)
            label = pg.TextItem(f"#{n}", color="#5a1010", anchor=anchor)
            label.setPos(x, y)
            item.addItem(label, ignoreBounds=True)
        names = (["trial", objectives[0]] if one else objectives)
        colours = (["#333", head_colour(0)] if one else [head_colour(0), head_colour(1)])
        words = ["", direction_word(directions[0])] if one else \
            [direction_word(d) for d in directions]
        for axis, name, colour, word in zip(("bottom", "left"), names, colours, words,
                                            strict=True):
            text = f"{name} ({word})" if word else name
            item.setLabel(axis, text, color=colour)

    def _scatter(self, numbers: list[int], size: int, colour: str) -> pg.ScatterPlotItem:
        spots = [{"pos": self._points[n][0], "data": n} for n in numbers]
        return pg.ScatterPlotItem(spots=spots, size=size, brush=pg.mkBrush(colour),
                                  pen=pg.mkPen("w", width=1), hoverable=True,
                                  tip=self._tip, hoverSize=size + 3)

    def _tip(self, x: float, y: float, data: object) -> str:
        """The tooltip of a point: its trial and values."""
        names = self._names
        if len(names) == 1:
            return f"trial {data}: {names[0]} {y:.4g}"
        return f"trial {data}: {names[0]} {x:.4g}, {names[1]} {y:.4g}"

    def _draw_parallel(self, objectives: list[str], directions: list[str]) -> None:
        """Each objective scaled to 0 (its best trial) … 1 (its worst), so better is lower on
        every axis; each axis is labelled with its best and worst values."""
        item = self.plot.plotItem
        table = np.array([[t.objectives[o] for o in objectives] for t in self._complete])
        low, high = table.min(axis=0), table.max(axis=0)
        span = np.where(high > low, high - low, 1.0)
        scaled = (table - low) / span
        scaled[:, high == low] = 0.5
        for i, direction in enumerate(directions):
            if direction == "maximize":
                scaled[:, i] = 1.0 - scaled[:, i]
        xs = list(range(len(objectives)))
        for i in xs:
            colour = head_colour(i)
            item.addItem(pg.PlotDataItem([i, i], [0, 1], pen=pg.mkPen(colour, width=2)))
            best, worst = (high[i], low[i]) if directions[i] == "maximize" else \
                (low[i], high[i])
            for value, y, anchor in ((best, 0.0, (0.5, -0.1)), (worst, 1.0, (0.5, 1.1))):
                text = pg.TextItem(f"{value:.4g}", color=colour, anchor=anchor)
                text.setPos(i, y)
                item.addItem(text, ignoreBounds=True)
        for row, trial in enumerate(self._complete):
            self._points[trial.number] = list(zip(xs, scaled[row].tolist(), strict=True))
        for trial in self._complete:
            on_front = trial.number in self._front
            pen = pg.mkPen(FRONT_COLOUR if on_front else DOMINATED_COLOUR,
                           width=2.5 if on_front else 1)
            points = self._points[trial.number]
            line = pg.PlotDataItem([p[0] for p in points], [p[1] for p in points], pen=pen)
            line.setZValue(2 if on_front else 1)
            item.addItem(line)
            self._lines[trial.number] = line
        item.getAxis("bottom").setTicks([[(i, name) for i, name in enumerate(objectives)]])
        item.getAxis("left").setStyle(showValues=False)
        item.setLabel("bottom", "objective")
        item.setLabel("left", "better ↓ (each axis from its best to its worst trial)",
                      color="#333")

    # -- selection and picking --------------------------------------------------------------
    def select(self, number: int | None) -> None:
        """Mark trial ``number`` (``None``: none); a trial not drawn is marked nowhere."""
        self.selected = number
        item = self.plot.plotItem
        if self._marker is not None:
            item.removeItem(self._marker)
            self._marker = None
        for n, line in self._lines.items():
            on_front = n in self._front
            colour = SELECTED_COLOUR if n == number else \
                FRONT_COLOUR if on_front else DOMINATED_COLOUR
            width = 3.5 if n == number else 2.5 if on_front else 1
            line.setPen(pg.mkPen(colour, width=width))
            line.setZValue(3 if n == number else 2 if on_front else 1)
        if number is None or number not in self._points:
            return
        self._marker = pg.ScatterPlotItem(pos=self._points[number], size=18,
                                          brush=pg.mkBrush(None),
                                          pen=pg.mkPen(SELECTED_COLOUR, width=2))
        self._marker.setZValue(4)
        item.addItem(self._marker, ignoreBounds=True)

    def scene_points(self, number: int) -> list[QPointF]:
        """Where trial ``number`` is drawn, in scene coordinates (empty when it is not)."""
        view = self.plot.plotItem.vb
        return [view.mapViewToScene(QPointF(x, y)) for x, y in self._points.get(number, [])]

    def trial_at(self, scene_pos: QPointF, tolerance: float = PICK_TOLERANCE) -> int | None:
        """The trial drawn within ``tolerance`` pixels of ``scene_pos`` (the nearest)."""
        best: tuple[float, int] | None = None
        for number in self._points:
            points = self.scene_points(number)
            if len(points) == 1:
                p = points[0]
                distance = math.hypot(p.x() - scene_pos.x(), p.y() - scene_pos.y())
            else:
                distance = min(_segment_distance(scene_pos, a, b)
                               for a, b in zip(points, points[1:], strict=False))
            if distance <= tolerance and (best is None or distance < best[0]):
                best = (distance, number)
        return None if best is None else best[1]

    def _on_click(self, event) -> None:  # noqa: ANN001 - pyqtgraph's MouseClickEvent
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        number = self.trial_at(event.scenePos())
        if number is not None:
            self.picked.emit(number)

    # -- what is drawn (tests, the view's status) ------------------------------------------
    def plotted_trials(self) -> list[int]:
        """The trials drawn, in trial order."""
        return sorted(self._points)

    def plotted_front(self) -> list[int]:
        """The trials drawn as the front, in trial order."""
        if self._front_scatter is not None:
            return sorted(int(spot.data()) for spot in self._front_scatter.points())
        return sorted(n for n in self._lines if n in self._front)
