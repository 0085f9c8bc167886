"""The Training tab's Weights view: each head's effective loss weight over the epochs, and the
heads' own loss weights, edited while a run is paused.

The plot draws ``weight_<head>`` of every epoch in the head's colour: the weight in effect, the
head's own weight times its schedule and the balancing method's weight (a run that logs none
used the project's weights throughout). The table beside it lists, per head, the weight in
effect now and the head's own weight; while the run is paused the latter is editable, and
Resume sends the changed ones to the run. Where they took effect the plot gets a dashed line,
and the change is listed under the table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mogui.core.events import BatchEnded, EpochEnded, LossWeightsChanged
from mogui.core.head_palette import NO_LOSS_COLOUR
from mogui.core.project import Project
from mogui.core.runs import plural
from mogui.qt.balancing_form import NumberBox
from mogui.qt.contribution_view import weight_key
from mogui.qt.curve_items import summary_plot

HEAD, NOW, NEW = range(3)
#: Largest weight that can be typed (as the Losses tab's weight boxes).
MAX_WEIGHT = 1e6
#: Changes listed under the table, newest last.
MAX_CHANGES_LISTED = 5


def project_weights(project: Project) -> dict[str, float]:
    """Each head's own loss weight in ``project``: its loss weight, or in joint mode its term
    weight (a missing term weighs 1)."""
    if project.loss_mode == "joint":
        return {head: float(project.joint_loss.term_weights.get(head, 1.0))
                for head in project.head_names}
    return {head.name: float(head.loss.weight) for head in project.heads}


def describe_change(event: LossWeightsChanged, before: dict[str, float]) -> str:
    """``Epoch 3, batch 8: bbox 1 → 0.5, classification 1 → 2``."""
    parts = [f"{head} {before[head]:g} → {value:g}" if head in before else f"{head} {value:g}"
             for head, value in event.weights.items()]
    return f"Epoch {event.epoch + 1}, batch {event.batch + 1}: {', '.join(parts)}"


class WeightView(QWidget):
    """Weights per epoch, and the weights to send at Resume."""

    edits_changed = Signal()  # a weight was typed or the edits were reverted

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._stale = False  # curves to set once the view is shown
        self.setObjectName("weightView")
        self._heads: list[str] = []
        self._colours: dict[str, str] = {}
        self._current: dict[str, float] = {}  # the weight in effect (logged)
        self._base: dict[str, float] = {}  # the head's own weight (what an edit sets)
        self._history: dict[str, list[float]] = {}
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._markers: list[pg.InfiniteLine] = []
        self._shown: set[str] = set()
        self._paused = False
        self._epoch_count = 0
        self.changes: list[str] = []

        self.filter_edit = QLineEdit(self, objectName="weightFilter")
        self.filter_edit.setPlaceholderText("Filter heads")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter)
        self.revert_button = QPushButton("Revert", self, objectName="revertWeights")
        self.revert_button.setToolTip("Put back the weights the run has now")
        self.revert_button.clicked.connect(lambda _checked=False: self.revert())
        self.note = QLabel("", self, objectName="weightNote")
        self.note.setWordWrap(True)
        self.table = QTableWidget(0, 3, self)
        self.table.setObjectName("liveWeightsTable")
        self.table.setHorizontalHeaderLabels(["Head", "Now", "Weight"])
        self.table.horizontalHeaderItem(NOW).setToolTip(
            "The weight in effect: the head's weight × its schedule × the balancing method's "
            "weight")
        self.table.horizontalHeaderItem(NEW).setToolTip(
            "The head's own loss weight; editable while the run is paused")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.setColumnWidth(HEAD, 130)
        self.table.setColumnWidth(NOW, self.fontMetrics().horizontalAdvance("0.0001234") + 14)
        self.changes_label = QLabel("", self, objectName="weightChanges")
        self.changes_label.setWordWrap(True)
        self.changes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.log_check = QCheckBox("Log scale", self, objectName="weightLogScale")
        self.log_check.toggled.connect(self._on_log_scale)
        self.plot = summary_plot(self, "weightPlot", "loss weight", still=False)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.revert_button)
        left_layout.addLayout(top)
        left_layout.addWidget(self.note)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.changes_label)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.log_check, 0, Qt.AlignmentFlag.AlignLeft)
        right_layout.addWidget(self.plot, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([330, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)
        self._update_editable()

    # -- a run ------------------------------------------------------------------------------
    def reset(self, heads: Sequence[str], epochs: int, colours: dict[str, str],
              weights: dict[str, float]) -> None:
        """Rows and curves for a run of ``heads``, starting from the project's ``weights``."""
        self._heads = list(heads)
        self._colours = dict(colours)
        self._base = {head: float(weights.get(head, 1.0)) for head in self._heads}
        self._current = dict(self._base)
        self._history = {head: [] for head in self._heads}
        self._shown = set(self._heads)
        self._paused = False
        self._epoch_count = epochs
        self.changes = []
        self.changes_label.setText("")
        item = self.plot.plotItem
        for curve in self._curves.values():
            item.removeItem(curve)
        for marker in self._markers:
            item.removeItem(marker)
        self._curves, self._markers = {}, []
        for head in self._heads:
            colour = self._colours.get(head, NO_LOSS_COLOUR)
            curve = pg.PlotDataItem([], [], pen=pg.mkPen(colour, width=1.5), symbol="o",
                                    symbolSize=5, symbolBrush=colour, symbolPen=colour)
            item.addItem(curve)
            self._curves[head] = curve
        self._fill_table()
        self._update_editable()
        item.setXRange(0.5, max(epochs, 1) + 0.5, padding=0)

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self._heads))
        for row, head in enumerate(self._heads):
            name = QTableWidgetItem(head)
            name.setData(Qt.ItemDataRole.DecorationRole,
                         QColor(self._colours.get(head, NO_LOSS_COLOUR)))
            self.table.setItem(row, HEAD, name)
            now = QTableWidgetItem(f"{self._current[head]:.4g}")
            now.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, NOW, now)
            box = NumberBox(self.table)
            box.setObjectName(f"liveWeight_{head}")
            box.setDecimals(9)
            box.setRange(0.0, MAX_WEIGHT)  # a negative weight cannot be typed
            box.setStepType(NumberBox.StepType.AdaptiveDecimalStepType)
            box.setKeyboardTracking(False)
            box.setValue(self._base[head])
            box.setToolTip(f"{head}'s own loss weight (0 to {MAX_WEIGHT:g})")
            box.valueChanged.connect(lambda _value, h=head: self._on_edited(h))
            self.table.setCellWidget(row, NEW, box)
        self._on_filter(self.filter_edit.text())

    def add_batches(self, events: Sequence[BatchEnded]) -> None:
        """Follow the weights the run reports during an epoch (in the last batch with logs)."""
        last = next((event for event in reversed(events) if event.logs), None)
        if last is not None:
            self._take_weights(last.logs)

    def add_epoch(self, event: EpochEnded) -> None:
        """The epoch's weights: a point per head."""
        self._take_weights(event.logs)
        for head in self._heads:
            points = self._history[head]
            while len(points) < event.epoch:
                points.append(math.nan)
            points[event.epoch:event.epoch + 1] = [self._current[head]]
        self._redraw()

    def _take_weights(self, logs: dict[str, float]) -> None:
        for row, head in enumerate(self._heads):
            value = logs.get(weight_key(head))
            if value is None or value == self._current[head]:
                continue
            self._current[head] = float(value)
            self.table.item(row, NOW).setText(f"{value:.4g}")

    def set_paused(self, paused: bool) -> None:
        """While paused the Weight column is editable; otherwise it is not, and shows the
        heads' weights in the run."""
        self._paused = paused
        self.revert()  # the run's weights: to edit from, or dropped unsent at a resume
        self._update_editable()

    def mark_change(self, event: LossWeightsChanged, steps_per_epoch: int) -> str:
        """The run applied new weights: a dashed line in the plot, a line in the list of
        changes; returns that line."""
        before = dict(self._base)
        for head, value in event.weights.items():
            if head in self._base:
                self._base[head] = float(value)
        x = event.epoch + 0.5 + event.batch / max(1, steps_per_epoch)
        marker = pg.InfiniteLine(pos=x, angle=90, pen=pg.mkPen("#222", width=1,
                                                                  style=Qt.PenStyle.DashLine))
        self.plot.plotItem.addItem(marker)
        self._markers.append(marker)
        line = describe_change(event, before)
        self.changes.append(line)
        self.changes_label.setText("Weights changed:\n" + "\n".join(
            self.changes[-MAX_CHANGES_LISTED:]))
        self.revert()
        return line

    # -- edits ------------------------------------------------------------------------------
    @property
    def editable(self) -> bool:
        return self._paused and bool(self._heads)

    def box(self, head: str) -> NumberBox:
        return self.table.cellWidget(self._heads.index(head), NEW)  # type: ignore[return-value]

    def pending(self) -> dict[str, float]:
        """The weights typed that differ from the heads' weights in the run (head -> new)."""
        if not self.editable:
            return {}
        return {head: self.box(head).value() for head in self._heads
                if not math.isclose(self.box(head).value(), self._base[head],
                                    rel_tol=1e-9, abs_tol=1e-12)}

    def revert(self) -> None:
        """Show the heads' weights in the run in the Weight column again."""
        for head in self._heads:
            box = self.box(head)
            box.blockSignals(True)
            box.setValue(self._base[head])
            box.blockSignals(False)
        self._on_edited(None)

    def _on_edited(self, _head: str | None) -> None:
        changed = self.pending()
        for head in self._heads:
            font = self.box(head).font()
            font.setBold(head in changed)
            self.box(head).setFont(font)
        self.revert_button.setEnabled(bool(changed))
        if self.editable:
            self.note.setText(f"{plural(len(changed), 'weight')} changed: Resume applies "
                              "them from the next batch." if changed else
                              "Paused: type new weights, then press Resume to apply them from "
                              "the next batch.")
        self.edits_changed.emit()

    def _update_editable(self) -> None:
        editable = self.editable
        for head in self._heads:
            self.box(head).setEnabled(editable)
        self.revert_button.setEnabled(bool(self.pending()))
        if editable:
            self._on_edited(None)
        else:
            self.note.setText("Pause the run to edit the weights; Resume applies them.")

    def _on_filter(self, text: str) -> None:
        pattern = text.strip().lower()
        for row, head in enumerate(self._heads):
            self.table.setRowHidden(row, bool(pattern) and pattern not in head.lower())

    # -- drawing ----------------------------------------------------------------------------
    def set_shown_heads(self, heads: Iterable[str]) -> None:
        """Curves for ``heads`` only."""
        self._shown = set(heads)
        for head, curve in self._curves.items():
            curve.setVisible(head in self._shown)

    def weights(self, head: str) -> list[float]:
        """The weight of ``head`` per epoch so far."""
        return list(self._history.get(head, []))

    def marker_positions(self) -> list[float]:
        """Where the dashed lines of weight changes are (x: epochs from 0.5)."""
        return [float(marker.value()) for marker in self._markers]

    def current(self) -> dict[str, float]:
        """Each head's weight in effect in the run now (as last logged)."""
        return dict(self._current)

    def base(self) -> dict[str, float]:
        """Each head's own weight in the run now (what the Weight column edits)."""
        return dict(self._base)

    def _on_log_scale(self, on: bool) -> None:
        self.plot.plotItem.setLogMode(y=on)
        self._redraw()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._stale:
            self._redraw()

    def _redraw(self) -> None:
        """Set every head's curve; while the view is hidden (another tab is in front), only
        note that it must be done when the view is shown: a curve with its symbols costs about
        half a millisecond, 20-30 ms an epoch with 40 heads."""
        self._stale = not self.isVisible()
        if self._stale:
            return
        log = self.log_check.isChecked()
        for head, curve in self._curves.items():
            values = self._history[head]
            x = [i + 1.0 for i, v in enumerate(values) if not log or v > 0]
            y = [v for v in values if not log or v > 0]
            curve.setData(x, y)
        self.plot.plotItem.setXRange(0.5, max(self._epoch_count, len(next(
            iter(self._history.values()), [])), 1) + 0.5, padding=0)
