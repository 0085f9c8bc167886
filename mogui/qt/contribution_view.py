"""What each head contributes to the loss that trains: raw loss, weight, weighted loss, share.

Training minimises the weighted sum of the heads' losses, so a head whose weighted loss is 10⁴
times another's decides the gradient alone. The table lists, per head, the loss as logged
(unweighted), its effective weight (``weight_<head>`` in the logs; a run that logs none used the
project's weight), the product and its share of the sum, live during an epoch (running means)
and at its end; a filter narrows the rows and a click on a header sorts them. Beside it, one
stacked bar per epoch splits the total into the heads' shares, in the heads' colours, and a
label gives the largest ÷ smallest weighted loss, so an imbalance is obvious at a glance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from mogui.core.events import BatchEnded, EpochEnded, LossWeightsChanged
from mogui.core.head_palette import NO_LOSS_COLOUR
from mogui.qt.curve_items import summary_plot
from mogui.qt.loss_heatmap import TRAIN, VALIDATION, loss_key

HEAD, RAW, WEIGHT, WEIGHTED, SHARE = range(5)
COLUMNS = ("Head", "Loss", "Weight", "Weighted", "Share")
#: A largest ÷ smallest weighted loss from this ratio on is marked as an imbalance.
IMBALANCE_RATIO = 100.0
_SORT_ROLE = Qt.ItemDataRole.UserRole + 1
_BAR_WIDTH = 0.8


def weight_key(head: str) -> str:
    """The log key of ``head``'s effective loss weight."""
    return f"weight_{head}"


@dataclass(frozen=True)
class Contribution:
    """One head's part of the total: ``weighted = raw × weight``, ``share`` of the sum of all
    heads' weighted losses (``None`` where a value is missing or the sum is not positive)."""

    head: str
    raw: float | None
    weight: float
    weighted: float | None
    share: float | None


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def contributions(logs: dict[str, float], heads: Sequence[str], weights: dict[str, float],
                  source: str = TRAIN) -> list[Contribution]:
    """Each head's contribution in ``logs``; ``weights`` is used for a head whose effective
    weight is not logged (the project's ``loss.weight``). ``source`` picks the training or
    validation losses; both are weighted by the same weight."""
    raw = {head: _finite(logs.get(loss_key(head, source))) for head in heads}
    weight = {head: float(logs.get(weight_key(head), weights.get(head, 1.0))) for head in heads}
    weighted = {head: None if raw[head] is None else raw[head] * weight[head] for head in heads}
    total = sum(value for value in weighted.values() if value is not None)
    return [Contribution(head, raw[head], weight[head], weighted[head],
                         weighted[head] / total if weighted[head] is not None and total > 0
                         else None)
            for head in heads]


def imbalance(rows: Iterable[Contribution]) -> tuple[float, str, str] | None:
    """Largest ÷ smallest positive weighted loss and the two heads; ``None`` with fewer than
    two such heads."""
    positive = [(row.weighted, row.head) for row in rows
                if row.weighted is not None and row.weighted > 0]
    if len(positive) < 2:
        return None
    high, low = max(positive), min(positive)
    return high[0] / low[0], high[1], low[1]


def format_share(share: float | None) -> str:
    """``99.9 %``, ``0.0099 %``: small shares keep two significant digits."""
    if share is None:
        return "–"
    percent = 100 * share
    return f"{percent:.1f} %" if percent >= 0.1 else f"{percent:.2g} %"


def _format(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


class ContributionView(QWidget):
    """The weighted-contribution table and the stacked shares per epoch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("contributionView")
        self._heads: list[str] = []
        self._colours: dict[str, str] = {}
        self._weights: dict[str, float] = {}
        self._shown: set[str] = set()
        self._epochs: list[dict[str, float]] = []
        self._live: tuple[int, dict[str, float]] | None = None  # (epoch, running means)
        self._rows: list[Contribution] = []
        self._items: dict[str, list[QStandardItem]] = {}
        self._bars: dict[str, pg.BarGraphItem] = {}
        self._markers: list[pg.InfiniteLine] = []
        self._epoch_count = 0
        self._stale = False

        self.source_combo = QComboBox(self, objectName="contributionSource")
        self.source_combo.addItem("Training loss", TRAIN)
        self.source_combo.addItem("Validation loss", VALIDATION)
        self.source_combo.activated.connect(self._on_source_chosen)
        self.filter_edit = QLineEdit(self, objectName="contributionFilter")
        self.filter_edit.setPlaceholderText("Filter heads")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter)
        self.status_label = QLabel("", self, objectName="contributionStatus")
        self.imbalance_label = QLabel("", self, objectName="contributionImbalance")
        self.imbalance_label.setWordWrap(True)

        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(HEAD)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSortRole(_SORT_ROLE)
        self.table = QTableView(self, objectName="contributionTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(HEAD, Qt.SortOrder.AscendingOrder)  # training order
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        number = self.fontMetrics().horizontalAdvance("0.0001234") + 12
        self.table.setColumnWidth(HEAD, 120)
        for column in (RAW, WEIGHT, WEIGHTED, SHARE):
            self.table.setColumnWidth(column, number)

        self.plot = summary_plot(self, "contributionPlot", "share of the weighted total (%)")
        self.plot.plotItem.setYRange(0, 100, padding=0)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Values:", left))
        controls.addWidget(self.source_combo)
        controls.addWidget(self.filter_edit, 1)
        left_layout.addLayout(controls)
        left_layout.addWidget(self.status_label)
        left_layout.addWidget(self.table, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.plot)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([460, 500])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.imbalance_label)
        layout.addWidget(splitter, 1)

    # -- data -------------------------------------------------------------------------------
    def reset(self, heads: Sequence[str], epochs: int, colours: dict[str, str],
              weights: dict[str, float]) -> None:
        """Empty rows and bars for a run of ``heads``; ``weights``: the project's loss weights,
        for a run that does not log the effective ones."""
        self._heads = list(heads)
        self._colours = dict(colours)
        self._weights = dict(weights)
        self._shown = set(self._heads)
        self._epochs = []
        self._live = None
        self._epoch_count = epochs
        item = self.plot.plotItem
        for bar in self._bars.values():
            item.removeItem(bar)
        for marker in self._markers:
            item.removeItem(marker)
        self._markers = []
        self._bars = {}
        for head in self._heads:
            colour = QColor(self._colours.get(head, NO_LOSS_COLOUR))
            bar = pg.BarGraphItem(x=[], height=[], y0=[], width=_BAR_WIDTH,
                                  brush=colour, pen=pg.mkPen(colour.darker(130), width=0.5))
            item.addItem(bar)
            self._bars[head] = bar
        self._fill_rows()
        self._refresh()

    def add_batches(self, events: Sequence[BatchEnded]) -> None:
        """The epoch so far (running means of its batches): the table follows it live.
        Batches reported without logs (read at most 10 times a second) are skipped."""
        last = next((event for event in reversed(events) if event.logs), None)
        if last is None:
            return
        self._live = (last.epoch, dict(last.logs))
        if self.source != TRAIN:
            return
        if self.isVisible():
            self._show_table()
        else:
            self._stale = True  # shown again when the view is

    def add_epoch(self, event: EpochEnded) -> None:
        """An epoch's values: the table shows them and the plot gets its bar."""
        while len(self._epochs) < event.epoch:
            self._epochs.append({})
        self._epochs[event.epoch:event.epoch + 1] = [dict(event.logs)]
        self._live = None
        self._refresh()

    def mark_change(self, event: LossWeightsChanged, steps_per_epoch: int) -> None:
        """A dashed line where weights edited during a pause took effect."""
        x = event.epoch + 0.5 + event.batch / max(1, steps_per_epoch)
        marker = pg.InfiniteLine(pos=x, angle=90, pen=pg.mkPen("#222", width=1,
                                                                  style=Qt.PenStyle.DashLine))
        marker.setToolTip(f"Loss weights changed in epoch {event.epoch + 1}, batch "
                          f"{event.batch + 1}")
        self.plot.plotItem.addItem(marker)
        self._markers.append(marker)

    def set_shown_heads(self, heads: Iterable[str]) -> None:
        """Bars for ``heads`` only (their shares stay shares of every head's total)."""
        self._shown = set(heads)
        self._refresh()

    @property
    def source(self) -> str:
        return self.source_combo.currentData()

    def set_source(self, source: str) -> None:
        self.source_combo.setCurrentIndex(self.source_combo.findData(source))
        self._on_source_chosen()

    def _on_source_chosen(self, *_args: object) -> None:
        self._refresh()

    def _on_filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())

    # -- values -----------------------------------------------------------------------------
    def rows(self) -> list[Contribution]:
        """What the table shows, in training order."""
        return list(self._rows)

    def shares(self) -> np.ndarray:
        """Each head's share (rows, training order) per epoch (columns); NaN where unknown."""
        table = np.full((len(self._heads), len(self._epochs)), np.nan)
        for column, logs in enumerate(self._epochs):
            for row, entry in enumerate(contributions(logs, self._heads, self._weights,
                                                      self.source)):
                if entry.share is not None:
                    table[row, column] = entry.share
        return table

    def cell_text(self, head: str, column: int) -> str:
        return self._items[head][column].text()

    def _fill_rows(self) -> None:
        self.model.removeRows(0, self.model.rowCount())
        self._items = {}
        for index, head in enumerate(self._heads):
            name = QStandardItem(head)
            name.setData(QColor(self._colours.get(head, NO_LOSS_COLOUR)),
                         Qt.ItemDataRole.DecorationRole)
            name.setData(index, _SORT_ROLE)
            cells = [name] + [QStandardItem("–") for _ in COLUMNS[1:]]
            for cell in cells[1:]:
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                cell.setData(-math.inf, _SORT_ROLE)
            self.model.appendRow(cells)
            self._items[head] = cells

    def _refresh(self) -> None:
        self._show_table()
        self._redraw()

    def _show_table(self) -> None:
        if self._live is not None and self.source == TRAIN:
            epoch, logs = self._live
            where = f"Epoch {epoch + 1} so far (running means)"
        elif self._epochs:
            epoch, logs = len(self._epochs) - 1, self._epochs[-1]
            where = f"Epoch {epoch + 1}"
        else:
            logs, where = {}, "No epoch yet"
        self._rows = contributions(logs, self._heads, self._weights, self.source)
        self.model.blockSignals(True)
        try:
            for row in self._rows:
                cells = self._items[row.head]
                for column, value, text in (
                        (RAW, row.raw, _format(row.raw)),
                        (WEIGHT, row.weight, _format(row.weight)),
                        (WEIGHTED, row.weighted, _format(row.weighted)),
                        (SHARE, row.share, format_share(row.share))):
                    cells[column].setText(text)
                    cells[column].setData(-math.inf if value is None else value, _SORT_ROLE)
        finally:
            self.model.blockSignals(False)
        if self._heads:
            self.model.dataChanged.emit(self.model.index(0, RAW),
                                        self.model.index(len(self._heads) - 1, SHARE))
        self.proxy.invalidate()
        kind = "validation" if self.source == VALIDATION else "training"
        self.status_label.setText(f"{where}: {kind} losses")
        self._show_imbalance()

    def _show_imbalance(self) -> None:
        found = imbalance(self._rows)
        if found is None:
            self.imbalance_label.setText("Each head's loss × its weight, and its share of the "
                                         "sum that training minimises.")
            self.imbalance_label.setStyleSheet("")
            return
        ratio, high, low = found
        text = (f"Largest ÷ smallest weighted loss: {ratio:.3g} ({high} ÷ {low}).")
        if ratio >= IMBALANCE_RATIO:
            text += (f" {high} decides most of the gradient; consider lowering its weight or a "
                     "balancing method.")
            self.imbalance_label.setStyleSheet("color: #8a5a00; font-weight: bold;")
        else:
            self.imbalance_label.setStyleSheet("")
        self.imbalance_label.setText(text)

    # -- drawing ----------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: ANN001
        super().showEvent(event)
        if self._stale:
            self._refresh()

    def _redraw(self) -> None:
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        shares = np.nan_to_num(self.shares(), nan=0.0) * 100
        x = np.arange(1, shares.shape[1] + 1, dtype=float)
        bottom = np.zeros(shares.shape[1])
        for row, head in enumerate(self._heads):
            bar = self._bars[head]
            if head not in self._shown or not shares.size:
                bar.setOpts(x=[], height=[], y0=[])
                continue
            bar.setOpts(x=x, height=shares[row], y0=bottom.copy(), width=_BAR_WIDTH)
            bottom = bottom + shares[row]
        columns = max(self._epoch_count, shares.shape[1], 1)
        self.plot.plotItem.setXRange(0.5, columns + 0.5, padding=0)
        self.plot.plotItem.setYRange(0, 100, padding=0.02)  # the top tick label whole

    def marker_positions(self) -> list[float]:
        """Where the dashed lines of weight changes are (x: epochs from 0.5)."""
        return [float(marker.value()) for marker in self._markers]

    def bar_bottoms(self, head: str) -> list[float]:
        """Where ``head``'s bars start (percent per epoch; empty when not drawn)."""
        bottoms = self._bars[head].opts.get("y0")
        return [] if bottoms is None else [float(b) for b in bottoms]

    def bar_heights(self, head: str) -> list[float]:
        """The heights drawn for ``head`` (percent per epoch; empty when not drawn)."""
        heights = self._bars[head].opts.get("height")
        return [] if heights is None else [float(h) for h in heights]
