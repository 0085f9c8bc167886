"""Heads × epochs heatmap of relative loss: how far each head has come since its first epoch.

Each cell is a head's loss at an epoch divided by that head's loss at the first epoch, so heads
whose losses differ by orders of magnitude read on one scale: white is "as at epoch 1", blue
lower (better), red higher, on a log scale from 0.1× to 10× (beyond it the colour saturates).
It is redrawn once per epoch. Rows follow the head table's choice of heads, in training order
or least improved first; pointing at a cell names the head, epoch and values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from mogui.core.events import EpochEnded
from mogui.qt.curve_items import summary_plot

TRAIN, VALIDATION = "train", "val"
HEAD_ORDER, LEAST_IMPROVED = "order", "least_improved"
LOG_SPAN = 1.0  # colours span 10**-LOG_SPAN .. 10**LOG_SPAN times the first epoch
_MISSING = (224, 224, 224, 255)  # a cell without a value (no loss yet, or not finite)
_COLOURS = [(33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43)]
_TICK_FONT_PT = 7
_NAME_WIDTH = 160  # at most this many pixels of head names beside the rows


def loss_key(head: str, source: str) -> str:
    """The log key of ``head``'s loss: ``<head>_loss`` or ``val_<head>_loss``."""
    return f"val_{head}_loss" if source == VALIDATION else f"{head}_loss"


def relative_losses(epochs: Sequence[dict[str, float]], heads: Sequence[str],
                    source: str) -> np.ndarray:
    """``heads`` × epochs: each head's loss divided by its loss at the first epoch.

    NaN where a value is missing or not finite, and for a whole row whose first value is not
    a finite positive number (there is nothing to compare with).
    """
    table = np.full((len(heads), len(epochs)), np.nan)
    for column, logs in enumerate(epochs):
        for row, head in enumerate(heads):
            value = logs.get(loss_key(head, source))
            if value is not None and math.isfinite(value):
                table[row, column] = value
    if table.size:
        first = table[:, :1]
        with np.errstate(divide="ignore", invalid="ignore"):
            table = np.where(first > 0, table / first, np.nan)
    return table


class LossHeatmap(QWidget):
    """The relative-loss heatmap with its choice of values and row order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossHeatmap")
        self._heads: list[str] = []
        self._shown: list[str] = []
        self._epochs: list[dict[str, float]] = []
        self._epoch_count = 0
        self._rows: list[str] = []
        self._values = np.empty((0, 0))
        self._source_chosen = False
        self._stale = False

        self.source_combo = QComboBox(self, objectName="heatmapSource")
        self.source_combo.addItem("Validation loss", VALIDATION)
        self.source_combo.addItem("Training loss", TRAIN)
        self.source_combo.activated.connect(self._on_source_chosen)
        self.order_combo = QComboBox(self, objectName="heatmapOrder")
        self.order_combo.addItem("Training order", HEAD_ORDER)
        self.order_combo.addItem("Least improved first", LEAST_IMPROVED)
        self.order_combo.setToolTip("Least improved first: by the last epoch's value, highest "
                                    "(least improved, or got worse) at the top")
        self.order_combo.currentIndexChanged.connect(lambda _index: self._redraw())
        self.hover_label = QLabel("", self, objectName="heatmapHover")
        self.hover_label.setMinimumWidth(0)
        note = QLabel("Loss ÷ the head's loss at epoch 1: blue lower, red higher", self)
        note.setStyleSheet("color: #555;")
        note.setWordWrap(True)

        self.plot = summary_plot(self, "heatmapPlot", min_height=180)
        item = self.plot.plotItem
        item.vb.invertY(True)
        self._font = QFont()
        self._font.setPointSize(_TICK_FONT_PT)
        item.getAxis("left").setStyle(tickFont=self._font)
        self.image = pg.ImageItem()
        item.addItem(self.image)
        self.colour_map = pg.ColorMap(np.linspace(0.0, 1.0, len(_COLOURS)), _COLOURS)
        self.colour_bar = pg.ColorBarItem(values=(-LOG_SPAN, LOG_SPAN), colorMap=self.colour_map,
                                          interactive=False, width=12, pen="#888",
                                          colorMapMenu=False)
        ticks = [(value, f"{10 ** value:g}×") for value in (-1.0, -0.5, 0.0, 0.5, 1.0)
                 if abs(value) <= LOG_SPAN]
        self.colour_bar.axis.setTicks([ticks])
        self.colour_bar.axis.setStyle(tickFont=self._font)
        self.colour_bar.axis.setTextPen("#333")
        item.layout.addItem(self.colour_bar, 2, 5)
        self.plot.scene().sigMouseMoved.connect(self._on_hover)
        item.vb.sigResized.connect(lambda *_: self._update_ticks())

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Values:", self))
        controls.addWidget(self.source_combo)
        controls.addWidget(QLabel("Rows:", self))
        controls.addWidget(self.order_combo)
        controls.addWidget(note, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.hover_label)

    # -- data -------------------------------------------------------------------------------
    def reset(self, heads: Iterable[str], epochs: int | None = None) -> None:
        """Forget the values; rows for ``heads``; room for ``epochs`` columns when known."""
        self._heads = list(heads)
        self._shown = list(self._heads)
        self._epochs = []
        self._epoch_count = epochs or 0
        if not self._source_chosen:
            self.source_combo.setCurrentIndex(self.source_combo.findData(VALIDATION))
        self._redraw()

    def add_epoch(self, event: EpochEnded) -> None:
        """Add the epoch's losses (a column); redrawn now if shown, else when next shown."""
        while len(self._epochs) < event.epoch:
            self._epochs.append({})
        self._epochs[event.epoch:event.epoch + 1] = [dict(event.logs)]
        if not self._source_chosen and self.source == VALIDATION \
                and not any(key.startswith("val_") for key in event.logs):
            self.source_combo.setCurrentIndex(self.source_combo.findData(TRAIN))
        self._redraw()

    def set_shown_heads(self, heads: Iterable[str]) -> None:
        """Rows for ``heads`` only (kept in training order)."""
        wanted = set(heads)
        self._shown = [head for head in self._heads if head in wanted]
        self._redraw()

    @property
    def source(self) -> str:
        return self.source_combo.currentData()

    def set_source(self, source: str) -> None:
        self.source_combo.setCurrentIndex(self.source_combo.findData(source))
        self._on_source_chosen()

    def set_order(self, order: str) -> None:
        self.order_combo.setCurrentIndex(self.order_combo.findData(order))

    def _on_source_chosen(self, *_args: object) -> None:
        self._source_chosen = True
        self._redraw()

    # -- drawing ----------------------------------------------------------------------------
    def rows(self) -> list[str]:
        """The heads of the rows, top to bottom."""
        return list(self._rows)

    def values(self) -> np.ndarray:
        """The drawn relative losses: one row per :meth:`rows` head, one column per epoch."""
        return self._values.copy()

    def showEvent(self, event) -> None:  # noqa: ANN001
        super().showEvent(event)
        if self._stale:
            self._redraw()

    def _redraw(self) -> None:
        values = relative_losses(self._epochs, self._shown, self.source)
        rows = list(self._shown)
        if self.order_combo.currentData() == LEAST_IMPROVED and values.size:
            last = np.array([row[np.isfinite(row)][-1] if np.isfinite(row).any() else -np.inf
                             for row in values])
            order = sorted(range(len(rows)), key=lambda i: -last[i])
            rows = [rows[i] for i in order]
            values = values[order]
        self._rows, self._values = rows, values
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        columns = max(self._epoch_count, values.shape[1], 1)
        view = self.plot.plotItem.vb
        if values.size:
            self.image.setImage(self._colours(values), autoLevels=False)
            self.image.setRect(QRectF(0.5, -0.5, values.shape[1], len(rows)))
            self.image.show()
        else:
            self.image.hide()
        view.setRange(xRange=(0.5, columns + 0.5), yRange=(-0.5, max(len(rows), 1) - 0.5),
                      padding=0)
        self._update_ticks()

    def _colours(self, values: np.ndarray) -> np.ndarray:
        """RGBA bytes of the cells, laid out x = epoch, y = row as the image item wants."""
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.clip(np.log10(values), -LOG_SPAN, LOG_SPAN) / (2 * LOG_SPAN) + 0.5
        missing = ~np.isfinite(scaled)
        rgba = self.colour_map.map(np.where(missing, 0.5, scaled).ravel(), mode="byte")
        rgba = np.asarray(rgba, dtype=np.uint8).reshape(*values.shape, 4)
        rgba[missing] = _MISSING
        return np.ascontiguousarray(rgba.transpose(1, 0, 2))

    def _update_ticks(self) -> None:
        """Head names beside the rows; only every n-th one when the rows are too thin."""
        axis = self.plot.plotItem.getAxis("left")
        metrics = QFontMetrics(self._font)
        height = max(self.plot.plotItem.vb.height(), 1.0)
        step = max(1, math.ceil(len(self._rows) * metrics.height() / height))
        names = [(row, metrics.elidedText(name, Qt.TextElideMode.ElideRight, _NAME_WIDTH))
                 for row, name in enumerate(self._rows) if row % step == 0]
        axis.setTicks([names])
        widest = max((metrics.horizontalAdvance(name) for _row, name in names), default=20)
        axis.setWidth(min(widest, _NAME_WIDTH) + 12)

    def _on_hover(self, position: QPointF) -> None:
        view = self.plot.plotItem.vb
        if not view.sceneBoundingRect().contains(position) or not self._values.size:
            self.hover_label.setText("")
            return
        point = view.mapSceneToView(position)
        row, column = round(point.y()), round(point.x()) - 1
        if not (0 <= row < len(self._rows) and 0 <= column < self._values.shape[1]):
            self.hover_label.setText("")
            return
        self.hover_label.setText(self.describe(row, column))

    def describe(self, row: int, column: int) -> str:
        """What pointing at a cell says: head, epoch, relative value and the two losses."""
        head = self._rows[row]
        key = loss_key(head, self.source)
        now = self._epochs[column].get(key) if column < len(self._epochs) else None
        first = self._epochs[0].get(key) if self._epochs else None
        ratio = self._values[row, column]
        if now is None or not math.isfinite(ratio):
            return f"{head}, epoch {column + 1}: no value to compare ({key})"
        return (f"{head}, epoch {column + 1}: {ratio:.3g}× epoch 1 "
                f"({key} {first:.4g} → {now:.4g})")

