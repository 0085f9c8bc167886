"""A section that folds away: a toggle button (placed anywhere) shows or hides its content.

The content scrolls inside the section when there is too little room for it, so it never
makes the window wider or taller than the screen. Until the user opens or closes it, the
section shows when its parent is at least ``auto_below`` pixels tall and folds away in a
shorter one (the rest of the parent keeps a usable height); the user's choice is remembered
(QSettings) and holds from then on.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QSizePolicy, QToolButton, QWidget

from mogui.qt.settings import settings


class Collapsible(QScrollArea):
    """Holds ``content``; :attr:`toggle` (a checkable button) shows or hides it."""

    def __init__(self, title: str, content: QWidget, key: str, parent: QWidget, *,
                 name: str = "", auto_below: int = 0) -> None:
        super().__init__(parent)
        self._key = key
        self._content = content
        self._bar_needed = False
        self._auto_below = auto_below
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.toggle = QToolButton(parent, objectName=f"{name}Toggle" if name else "")
        self.toggle.setText(title)
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setToolTip(f"Show or hide the {title.lower()}")
        chosen = settings().value(key)
        self.chosen: bool | None = None if chosen is None else str(chosen).lower() == "true"
        self.toggle.toggled.connect(self._apply)
        self.toggle.clicked.connect(self._choose)
        self.toggle.setChecked(self.chosen if self.chosen is not None else True)
        self._apply(self.toggle.isChecked())
        parent.installEventFilter(self)

    @property
    def shown(self) -> bool:
        return self.toggle.isChecked()

    def _choose(self, shown: bool) -> None:
        """The user opened or closed it: that holds, now and at the next start."""
        self.chosen = shown
        settings().setValue(self._key, shown)

    def _apply(self, shown: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.setVisible(shown)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize \
                and self.chosen is None and self._auto_below:
            self.toggle.setChecked(watched.height() >= self._auto_below)
        return super().eventFilter(watched, event)  # the scroll area watches its content

    def _needs_bar(self) -> bool:
        return self._content.minimumSizeHint().width() > self.viewport().width()

    def sizeHint(self) -> QSize:  # noqa: N802
        """As tall as the content, and its scroll bar when it scrolls sideways."""
        hint = self._content.sizeHint()
        bar = self.horizontalScrollBar().sizeHint().height() if self._needs_bar() else 0
        return QSize(hint.width(), hint.height() + bar)

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802
        needed = self._needs_bar()
        super().resizeEvent(event)
        if needed != self._bar_needed:
            self._bar_needed = needed
            self.updateGeometry()
