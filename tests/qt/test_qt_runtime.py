"""Guards against Qt binding releases that break a long-running app."""

from __future__ import annotations

import sys

from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget


class _Painted(QWidget):
    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.drawLine(0, 0, 10, 10)
        painter.end()


def test_painting_does_not_leak_references_to_none(qtbot):
    """PySide6 6.12.0 drops a reference to None on every paint: the app aborts within minutes."""
    widget = _Painted()
    qtbot.addWidget(widget)
    widget.resize(50, 50)
    widget.show()
    widget.repaint()
    before = sys.getrefcount(None)
    for _ in range(200):
        widget.repaint()
    assert sys.getrefcount(None) - before > -50
