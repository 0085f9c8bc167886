"""The Training tab's Gradients view: do the heads help or fight each other in the shared trunk?

With gradient diagnostics on (Settings ▸ Gradient diagnostics) the run samples each head's
gradient on the shared trunk every N steps (:class:`~mogui.core.events.GradientsSampled`).
The heatmap shows the last sample's cosine between every two heads' gradients, on a diverging
scale from −1 to 1: blue where two heads pull the trunk the same way, red where they pull it
opposite ways (a conflict), white where their pulls are unrelated; with few heads the values
are written in the cells, and pointing at a cell names the pair. The plot beside it follows
each head's gradient norm over the run, on the whole trunk or on one trunk layer, in the
head's colour (log scale by default: norms differ by orders of magnitude), or one head's
cosine with every other head.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from mogui.core.events import GradientsSampled
from mogui.core.head_palette import NO_LOSS_COLOUR
from mogui.core.log_keys import pair_name
from mogui.qt.curve_items import summary_plot

#: Cells get their value written in them up to this many heads shown.
TEXT_LIMIT = 8
#: −1 red, 0 white, +1 blue (ColorBrewer RdBu).
_COLOURS = [(178, 24, 43), (244, 165, 130), (247, 247, 247), (146, 197, 222), (33, 102, 172)]
_MISSING = (224, 224, 224, 255)
_TICK_FONT_PT = 7
_NAME_WIDTH = 120
NORM, COSINE = "norm", "cosine"
WHOLE = ""  # the whole trunk in a NORM series


def cosine(sample: GradientsSampled, first: str, second: str) -> float:
    """The cosine of two heads in ``sample`` (1 for a head with itself; NaN when unknown)."""
    if first == second:
        return 1.0 if sample.norms.get(first, 0.0) > 0 else math.nan
    value = sample.cosines.get(pair_name(first, second),
                               sample.cosines.get(pair_name(second, first)))
    return math.nan if value is None else float(value)


def cosine_matrix(sample: GradientsSampled | None, heads: Sequence[str]) -> np.ndarray:
    """``heads`` × ``heads`` cosines of ``sample`` (NaN where unknown)."""
    table = np.full((len(heads), len(heads)), np.nan)
    if sample is not None:
        for row, first in enumerate(heads):
            for column, second in enumerate(heads):
                table[row, column] = cosine(sample, first, second)
    return table


def format_cosine(value: float) -> str:
    """``0.53``, ``−0.98``, ``–`` for an unknown value."""
    return "–" if not math.isfinite(value) else f"{value:.2f}".replace("-", "−")


class GradientView(QWidget):
    """The cosine heatmap of the last sample and the heads' gradients over the run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradientView")
        self._heads: list[str] = []
        self._shown: list[str] = []
        self._colours: dict[str, str] = {}
        self._samples: list[GradientsSampled] = []
        self._steps = 0
        self._epoch_count = 0
        self._every: str | None = None
        self._blocks: list[str] = []
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._texts: list[pg.TextItem] = []
        self._matrix = np.empty((0, 0))
        self._stale = False

        self.status_label = QLabel("", self, objectName="gradientStatus")
        self.status_label.setWordWrap(True)
        self.hover_label = QLabel("", self, objectName="gradientHover")
        self.series_combo = QComboBox(self, objectName="gradientSeries")
        self.series_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.series_combo.setMinimumContentsLength(8)
        self.series_combo.currentIndexChanged.connect(lambda _index: self._redraw_series())
        self.log_check = QCheckBox("Log scale", self, objectName="gradientLogScale")
        self.log_check.setChecked(True)
        self.log_check.toggled.connect(lambda _on: self._redraw_series())

        self._font = QFont()
        self._font.setPointSize(_TICK_FONT_PT)
        self.heatmap = summary_plot(self, "gradientHeatmap", min_height=180)
        item = self.heatmap.plotItem
        item.vb.invertY(True)
        item.vb.setAspectLocked(True)
        item.setLabel("bottom", "")
        for name in ("left", "bottom"):
            item.getAxis(name).setStyle(tickFont=self._font)
        self.image = pg.ImageItem()
        item.addItem(self.image)
        self.colour_map = pg.ColorMap(np.linspace(0.0, 1.0, len(_COLOURS)), _COLOURS)
        self.colour_bar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=self.colour_map,
                                          interactive=False, width=12, pen="#888",
                                          colorMapMenu=False)
        self.colour_bar.axis.setTicks([[(v, f"{v:g}".replace("-", "−"))
                                        for v in (-1.0, -0.5, 0.0, 0.5, 1.0)]])
        self.colour_bar.axis.setStyle(tickFont=self._font)
        self.colour_bar.axis.setTextPen("#333")
        item.layout.addItem(self.colour_bar, 2, 5)
        self.heatmap.scene().sigMouseMoved.connect(self._on_hover)

        self.plot = summary_plot(self, "gradientPlot", "gradient norm", still=False)
        self.plot.plotItem.setLogMode(y=True)

        note = QLabel("Cosine between two heads' gradients on the shared trunk: blue the same "
                      "way, red opposite ways (they conflict)", self)
        note.setStyleSheet("color: #555;")
        note.setWordWrap(True)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(note)
        left_layout.addWidget(self.heatmap, 1)
        left_layout.addWidget(self.hover_label)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Show:", right))
        controls.addWidget(self.series_combo, 1)
        controls.addWidget(self.log_check)
        right_layout.addLayout(controls)
        right_layout.addWidget(self.plot, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([420, 520])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status_label)
        layout.addWidget(splitter, 1)
        self._show_status()

    # -- a run ------------------------------------------------------------------------------
    def reset(self, heads: Sequence[str], epochs: int, colours: dict[str, str],
              steps_per_epoch: int = 0) -> None:
        """Empty views for a run of ``heads`` (``steps_per_epoch`` places samples on the
        epoch axis; 0 until the run has said)."""
        self._heads = list(heads)
        self._shown = list(self._heads)
        self._colours = dict(colours)
        self._samples = []
        self._steps = steps_per_epoch
        self._epoch_count = epochs
        self._blocks = []
        item = self.plot.plotItem
        for curve in self._curves.values():
            item.removeItem(curve)
        self._curves = {}
        for head in self._heads:
            colour = self._colours.get(head, NO_LOSS_COLOUR)
            curve = pg.PlotDataItem([], [], pen=pg.mkPen(colour, width=1.5), symbol="o",
                                    symbolSize=4, symbolBrush=colour, symbolPen=None, name=head)
            item.addItem(curve)
            self._curves[head] = curve
        self._fill_series()
        self._show_status()
        self._redraw()

    def set_sampling(self, how: str | None) -> None:
        """How often the run samples, in words, e.g. "every 50 steps" (``None``: diagnostics
        are off for it)."""
        self._every = how
        self._show_status()

    def add_sample(self, event: GradientsSampled) -> None:
        """A sample: the heatmap shows it, the curves get a point."""
        self._samples.append(event)
        blocks = list(next(iter(event.block_norms.values()), {}))
        if blocks != self._blocks:
            self._blocks = blocks
            self._fill_series()
        self._show_status()
        self._redraw()

    def set_shown_heads(self, heads: Iterable[str]) -> None:
        """Rows, columns and curves for ``heads`` only (in training order)."""
        wanted = set(heads)
        self._shown = [head for head in self._heads if head in wanted]
        self._redraw()

    # -- what is shown ----------------------------------------------------------------------
    @property
    def samples(self) -> list[GradientsSampled]:
        return list(self._samples)

    def rows(self) -> list[str]:
        """The heads of the heatmap's rows (and columns), top to bottom."""
        return list(self._shown)

    def matrix(self) -> np.ndarray:
        """The cosines the heatmap shows (rows and columns: :meth:`rows`)."""
        return cosine_matrix(self._samples[-1] if self._samples else None, self._shown)

    def cell_texts(self) -> list[str]:
        """The values written in the cells, row by row (none with many heads)."""
        return [text.textItem.toPlainText() for text in self._texts if text.isVisible()]

    def series_names(self) -> list[str]:
        """What the plot can show, as the list offers it."""
        return [self.series_combo.itemText(i) for i in range(self.series_combo.count())]

    def choose_series(self, kind: str, name: str = WHOLE) -> None:
        """Show norms (``NORM``, of the trunk layer ``name`` or the whole trunk) or ``name``'s
        cosines with the other heads (``COSINE``)."""
        self.series_combo.setCurrentIndex(self.series_combo.findData(f"{kind}|{name}"))

    def series(self, head: str) -> tuple[list[float], list[float]]:
        """The points of ``head``'s curve: x in epochs, y the values shown."""
        return self._points(head)

    def drawn_heads(self) -> list[str]:
        """The heads whose curves are drawn (shown, with points)."""
        return [head for head, curve in self._curves.items() if curve.isVisible()]

    def describe(self, row: int, column: int) -> str:
        """What pointing at a cell says."""
        first, second = self._shown[row], self._shown[column]
        sample = self._samples[-1] if self._samples else None
        if sample is None:
            return ""
        value = cosine(sample, first, second)
        where = f"epoch {sample.epoch + 1}, batch {sample.batch + 1} (step {sample.step})"
        return f"{first} · {second}: cosine {format_cosine(value)} at {where}"

    # -- filling ----------------------------------------------------------------------------
    def _fill_series(self) -> None:
        combo = self.series_combo
        chosen = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("Gradient norm: whole trunk", f"{NORM}|{WHOLE}")
        for block in self._blocks:
            combo.addItem(f"Gradient norm: layer {block}", f"{NORM}|{block}")
        for head in self._heads:
            combo.addItem(f"Cosine of {head} with each head", f"{COSINE}|{head}")
        index = combo.findData(chosen) if chosen is not None else 0
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)

    def _show_status(self) -> None:
        if self._every is None:
            text = ("Gradient diagnostics are off for this run: switch them on under Settings "
                    "▸ Gradient diagnostics, then start a run.")
        elif not self._samples:
            text = (f"Each head's gradient on the shared trunk, {self._every}, on "
                    "a fixed batch of training rows; the first sample comes with the first "
                    "step.")
        else:
            last = self._samples[-1]
            text = (f"{len(self._samples)} sample{'s' if len(self._samples) > 1 else ''}, "
                    f"{self._every}; the heatmap shows the last (epoch "
                    f"{last.epoch + 1}, batch {last.batch + 1}, step {last.step}; "
                    f"{1000 * last.seconds:.0f} ms).")
            if last.step > 0:
                text += f" Sampling has added {last.share:.0%} to the training steps' time."
        self.status_label.setText(text)

    # -- drawing ----------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: ANN001
        super().showEvent(event)
        if self._stale:
            self._redraw()

    def _redraw(self) -> None:
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        self._redraw_heatmap()
        self._redraw_series()

    def _redraw_heatmap(self) -> None:
        values = self.matrix()
        self._matrix = values
        count = len(self._shown)
        view = self.heatmap.plotItem.vb
        if values.size and self._samples:
            self.image.setImage(self._image(values), autoLevels=False)
            self.image.setRect(QRectF(-0.5, -0.5, count, count))
            self.image.show()
        else:
            self.image.hide()
        view.setRange(xRange=(-0.5, max(count, 1) - 0.5), yRange=(-0.5, max(count, 1) - 0.5),
                      padding=0)
        self._write_cells(values)
        self._update_ticks()

    def _image(self, values: np.ndarray) -> np.ndarray:
        """RGBA bytes of the cells (x = column, y = row, as the image item wants)."""
        scaled = (np.clip(values, -1.0, 1.0) + 1.0) / 2.0
        missing = ~np.isfinite(scaled)
        rgba = self.colour_map.map(np.where(missing, 0.5, scaled).ravel(), mode="byte")
        rgba = np.asarray(rgba, dtype=np.uint8).reshape(*values.shape, 4)
        rgba[missing] = _MISSING
        return np.ascontiguousarray(rgba.transpose(1, 0, 2))

    def _write_cells(self, values: np.ndarray) -> None:
        item = self.heatmap.plotItem
        for text in self._texts:
            item.removeItem(text)
        self._texts = []
        if not self._samples or not 0 < len(self._shown) <= TEXT_LIMIT:
            return
        for row in range(values.shape[0]):
            for column in range(values.shape[1]):
                value = values[row, column]
                dark = math.isfinite(value) and abs(value) > 0.6
                text = pg.TextItem(format_cosine(value), color="#fff" if dark else "#222",
                                   anchor=(0.5, 0.5))
                text.setFont(self._font)
                text.setPos(column, row)
                item.addItem(text)
                self._texts.append(text)

    def _update_ticks(self) -> None:
        metrics = QFontMetrics(self._font)
        height = max(self.heatmap.plotItem.vb.height(), 1.0)
        step = max(1, math.ceil(len(self._shown) * metrics.height() / height))
        names = [(i, metrics.elidedText(name, Qt.TextElideMode.ElideRight, _NAME_WIDTH))
                 for i, name in enumerate(self._shown) if i % step == 0]
        left = self.heatmap.plotItem.getAxis("left")
        left.setTicks([names])
        widest = max((metrics.horizontalAdvance(name) for _i, name in names), default=20)
        left.setWidth(min(widest, _NAME_WIDTH) + 12)
        width = max(self.heatmap.plotItem.vb.width(), 1.0)
        short = max(1, math.ceil(len(self._shown) * metrics.horizontalAdvance("mmmmmm")
                                 / width))
        self.heatmap.plotItem.getAxis("bottom").setTicks([[
            (i, metrics.elidedText(name, Qt.TextElideMode.ElideRight, 60))
            for i, name in enumerate(self._shown) if i % short == 0]])

    @property
    def _series(self) -> tuple[str, str]:
        """What the plot shows: ``(NORM, layer or WHOLE)`` or ``(COSINE, head)``."""
        kind, _bar, name = (self.series_combo.currentData() or f"{NORM}|{WHOLE}").partition("|")
        return kind, name

    def _points(self, head: str) -> tuple[list[float], list[float]]:
        kind, name = self._series
        xs, ys = [], []
        for sample in self._samples:
            if kind == NORM:
                value = sample.norms.get(head, math.nan) if name == WHOLE else \
                    sample.block_norms.get(head, {}).get(name, math.nan)
            else:
                value = math.nan if head == name else cosine(sample, name, head)
            if not math.isfinite(value) or (kind == NORM and self._log and value <= 0):
                continue
            xs.append(sample.epoch + sample.batch / self._steps if self._steps
                      else float(sample.step))
            ys.append(float(value))
        return xs, ys

    @property
    def _log(self) -> bool:
        kind, _name = self._series
        return kind == NORM and self.log_check.isChecked()

    def _redraw_series(self) -> None:
        kind, _name = self._series
        item = self.plot.plotItem
        item.setLogMode(y=self._log)
        self.log_check.setEnabled(kind == NORM)
        item.setLabel("left", "gradient norm" if kind == NORM else "cosine")
        item.setLabel("bottom", "epoch" if self._steps else "step")
        shown = set(self._shown)
        for head, curve in self._curves.items():
            xs, ys = self._points(head)
            curve.setData(xs, ys)
            curve.setVisible(head in shown and bool(xs))
        if kind == COSINE:
            item.setYRange(-1.05, 1.05, padding=0)
        else:
            item.enableAutoRange(y=True)
        if self._steps:
            item.setXRange(0, max(self._epoch_count, 1), padding=0.02)

    def _on_hover(self, position: QPointF) -> None:
        view = self.heatmap.plotItem.vb
        if not view.sceneBoundingRect().contains(position) or not self._matrix.size:
            self.hover_label.setText("")
            return
        point = view.mapSceneToView(position)
        row, column = round(point.y()), round(point.x())
        if not (0 <= row < len(self._shown) and 0 <= column < len(self._shown)):
            self.hover_label.setText("")
            return
        self.hover_label.setText(self.describe(row, column))
