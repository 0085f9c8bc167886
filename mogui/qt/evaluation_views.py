"""One head's evaluation, drawn: a confusion matrix with each class's precision and recall
(classification), precision and recall per label (multi-label), predicted against true values
and a histogram of the residuals (regression), and the rows the head gets most wrong, with the
image for image inputs.

The figures come from :mod:`mogui.engine.evaluation` (computed in a child process); these views
only draw them. They are plain data here: a
:class:`~mogui.engine.evaluation.HeadEvaluation` is read by its attributes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mogui.core.tasks import Task

THUMBNAIL = 64
HIT, MISS = QColor(46, 125, 50), QColor(198, 40, 40)
MAX_BINS = 30


def share(value: float | None) -> str:
    """``83.3 %``, or ``–`` for a share of nothing."""
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:.1%}"


def _table(name: str, headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers), objectName=name)
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.verticalHeader().hide()
    return table


def _cell(text: str, align_right: bool = True) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _fit(table: QTableWidget, rows: int) -> None:
    """As wide as its columns, and tall enough for ``rows`` rows (more scroll)."""
    table.resizeColumnsToContents()
    table.resizeRowsToContents()
    frame = 2 * table.frameWidth()
    width = frame + sum(table.columnWidth(c) for c in range(table.columnCount()))
    scroll = table.verticalScrollBar().sizeHint().width() if table.rowCount() > rows else 0
    table.setFixedWidth(width + scroll)
    height = table.horizontalHeader().sizeHint().height() + frame
    height += sum(table.rowHeight(r) for r in range(min(rows, table.rowCount())))
    table.setFixedHeight(height)


def confusion_table(head: str, names: list[str], matrix: np.ndarray) -> QTableWidget:
    """Rows: true class, columns: predicted class; each cell shaded by its share of the row
    (green on the diagonal, red off it). The first column names the true class."""
    table = _table(f"confusion_{head}", ["true ↓ / predicted →", *names])
    table.setRowCount(len(names))
    table.setToolTip("Rows: the true class. Columns: the class predicted.")
    for t, row in enumerate(matrix):
        total = max(1, int(row.sum()))
        name = _cell(names[t], align_right=False)
        name.setFont(table.horizontalHeader().font())
        table.setItem(t, 0, name)
        for p, count in enumerate(row):
            item = _cell(str(int(count)))
            colour = QColor(HIT if t == p else MISS)
            colour.setAlpha(int(200 * count / total))
            item.setBackground(QBrush(colour))
            item.setToolTip(f"true {names[t]}, predicted {names[p]}: {int(count)} of {total} "
                            f"rows ({share(count / total)})")
            table.setItem(t, p + 1, item)
    _fit(table, 12)
    return table


def class_table(head: str, classes: list[Any], label: str = "Class") -> QTableWidget:
    """Per class (or label): support, predictions, hits, precision and recall."""
    table = _table(f"classStats_{head}", [label, "True rows", "Predicted", "Correct",
                                          "Precision", "Recall"])
    table.setRowCount(len(classes))
    for r, c in enumerate(classes):
        cells = [str(c.support), str(c.predicted), str(c.correct), share(c.precision),
                 share(c.recall)]
        table.setItem(r, 0, _cell(c.name, align_right=False))
        for i, text in enumerate(cells, start=1):
            table.setItem(r, i, _cell(text))
    _fit(table, 12)
    return table


def thumbnail(array: np.ndarray) -> QPixmap | None:
    """An image input (height, width, 1/3/4 channels; 0..1, -1..1 or 0..255) as a small
    pixmap; ``None`` for anything that is not an image."""
    array = np.asarray(array)
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4) or min(array.shape[:2]) < 2:
        return None
    values = array.astype(np.float32)
    low, high = float(values.min()), float(values.max())
    if low >= 0 and high <= 1.0:
        values = values * 255.0
    elif low >= -1.0 and high <= 1.0:
        values = (values + 1.0) * 127.5
    pixels = np.ascontiguousarray(np.clip(values, 0, 255).astype(np.uint8)[..., :3])
    height, width, channels = pixels.shape
    fmt = QImage.Format.Format_Grayscale8 if channels == 1 else QImage.Format.Format_RGB888
    image = QImage(pixels.data, width, height, width * channels, fmt).copy()
    return QPixmap.fromImage(image).scaled(THUMBNAIL, THUMBNAIL,
                                           Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation)


def worst_table(head: str, worst: list[Any], error: str) -> QTableWidget:
    """The rows the head gets most wrong: data row (from 0), its file (image folders), true
    and predicted value, the error, and the image when the row's input is one."""
    images = [next((p for p in (thumbnail(v) for v in w.inputs.values()) if p is not None),
                   None) for w in worst]
    named = any(w.name for w in worst)
    headers = ["Row", *(["File"] if named else []), "True", "Predicted", error]
    if any(p is not None for p in images):
        headers.append("Image")
    table = _table(f"worst_{head}", headers)
    table.setRowCount(len(worst))
    table.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
    for r, (w, pixmap) in enumerate(zip(worst, images, strict=True)):
        cells = [_cell(str(w.row)), *([_cell(w.name, align_right=False)] if named else []),
                 _cell(w.true, align_right=False), _cell(w.predicted, align_right=False),
                 _cell(f"{w.error:.4g}")]
        for column, cell in enumerate(cells):
            table.setItem(r, column, cell)
        if pixmap is not None:
            item = QTableWidgetItem()
            item.setIcon(QIcon(pixmap))
            table.setItem(r, len(cells), item)
    _fit(table, min(len(worst), 4 if len(headers) > 4 else 10))  # pictures are tall
    return table


def scatter_plot(head: str, true: np.ndarray, predicted: np.ndarray) -> pg.PlotWidget:
    """Predicted against true values (every unit), with the line of perfect predictions."""
    plot = pg.PlotWidget(background="w")
    plot.setObjectName(f"scatter_{head}")
    plot.setTitle("Predicted against true", color="#333")
    plot.setLabel("bottom", "true value")
    plot.setLabel("left", "predicted")
    plot.showGrid(x=True, y=True, alpha=0.2)
    x, y = np.ravel(true), np.ravel(predicted)
    if x.size:
        low, high = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
        plot.plot([low, high], [low, high], pen=pg.mkPen("#9e9e9e", width=1,
                                                          style=Qt.PenStyle.DashLine))
        plot.addItem(pg.ScatterPlotItem(x, y, size=6, pen=None,
                                        brush=pg.mkBrush(21, 101, 192, 150)))
    plot.setMinimumSize(300, 260)
    return plot


def residual_histogram(head: str, residuals: np.ndarray) -> pg.PlotWidget:
    """How many rows have each size of residual (predicted − true)."""
    plot = pg.PlotWidget(background="w")
    plot.setObjectName(f"residuals_{head}")
    plot.setTitle("Residuals (predicted − true)", color="#333")
    plot.setLabel("bottom", "residual")
    plot.setLabel("left", "rows")
    values = np.ravel(residuals)
    values = values[np.isfinite(values)]
    if values.size:
        bins = max(1, min(MAX_BINS, int(math.sqrt(values.size)) + 1))
        counts, edges = np.histogram(values, bins=bins)
        plot.addItem(pg.BarGraphItem(x0=edges[:-1], x1=edges[1:], height=counts,
                                     brush=pg.mkBrush(21, 101, 192, 170), pen=pg.mkPen("w")))
        plot.addLine(x=0, pen=pg.mkPen("#9e9e9e", style=Qt.PenStyle.DashLine))
    plot.setMinimumSize(300, 260)
    return plot


def summary_text(evaluation: Any) -> str:
    """One line: the labelled rows and the head's headline figures."""
    s = evaluation.summary
    text = f"{evaluation.labelled} labelled rows"
    if evaluation.labelled == 0:
        return f"{text}: nothing to evaluate."
    if evaluation.task == Task.REGRESSION:
        return (f"{text}. MAE {s['mae']:.4g} · RMSE {s['rmse']:.4g} · R² {s['r2']:.3f} · mean "
                f"residual {s['mean_residual']:.4g} (spread {s['std_residual']:.4g})")
    what = "accuracy over every label" if evaluation.task == Task.MULTILABEL else "accuracy"
    return f"{text}. {what} {share(s.get('accuracy'))}"


class HeadEvaluationView(QWidget):
    """Everything about one head (see the module docstring)."""

    def __init__(self, evaluation: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        head = evaluation.head
        self.setObjectName(f"evaluation_{head}")
        self.evaluation = evaluation
        self.summary = QLabel(summary_text(evaluation), objectName=f"summary_{head}",
                              wordWrap=True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.confusion: QTableWidget | None = None
        self.classes: QTableWidget | None = None
        self.scatter: pg.PlotWidget | None = None
        self.histogram: pg.PlotWidget | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        figures = QHBoxLayout()
        plots = False
        if evaluation.confusion is not None:
            names = [c.name for c in evaluation.classes]
            self.confusion = confusion_table(head, names, evaluation.confusion)
            self.classes = class_table(head, evaluation.classes)
            figures.addLayout(_titled("Confusion matrix (rows: true class, columns: "
                                      "predicted)", self.confusion))
            figures.addLayout(_titled("Per class", self.classes))
            figures.addStretch(1)
        elif evaluation.task == Task.MULTILABEL:
            self.classes = class_table(head, evaluation.classes, "Label")
            figures.addLayout(_titled("Per label (predicted when its probability ≥ 0.5)",
                                      self.classes))
            figures.addStretch(1)
        elif evaluation.task == Task.REGRESSION and evaluation.labelled:
            self.scatter = scatter_plot(head, evaluation.true, evaluation.predicted)
            self.histogram = residual_histogram(head, evaluation.residuals)
            figures.addWidget(self.scatter, 1)
            figures.addWidget(self.histogram, 1)
            plots = True
        layout.addLayout(figures, 1 if plots else 0)
        error = "Error (−log p of the true class)" if evaluation.task != Task.REGRESSION \
            else "Error (mean absolute)"
        if evaluation.task == Task.MULTILABEL:
            error = "Error (mean crossentropy)"
        self.worst = worst_table(head, evaluation.worst, error)
        layout.addLayout(_titled("The rows it gets most wrong (rows count from 0)", self.worst))
        if not plots:
            layout.addStretch(1)


def _titled(title: str, widget: QWidget) -> QVBoxLayout:
    """``widget`` under a bold title, both at the top of their space."""
    column = QVBoxLayout()
    column.addWidget(QLabel(f"<b>{title}</b>"))
    column.addWidget(widget)
    column.addStretch(1)
    return column
