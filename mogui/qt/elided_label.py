"""A one-line label that never widens its window: text too long for it ends in "…".

:meth:`text` stays the whole text, and the tooltip holds it while it does not fit.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """One line of text, cut with "…" at the label's width (the tooltip has it all)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self._own_tip = ""

    def setToolTip(self, tip: str) -> None:  # noqa: N802
        self._own_tip = tip
        super().setToolTip(tip)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return False  # one line, whatever the width

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, self.fontMetrics().height())

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.fontMetrics().horizontalAdvance(self.text()),
                     self.fontMetrics().height())

    @property
    def elided(self) -> bool:
        """True while the text is cut."""
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def paintEvent(self, event) -> None:  # noqa: ANN001, N802
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                              rect.width())
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), shown)
        tip = self.text() if shown != self.text() else self._own_tip
        if super().toolTip() != tip:
            super().setToolTip(tip)
