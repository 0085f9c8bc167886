"""One shared selection for the tree, the graph, the form and the shape inspector."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Selection(QObject):
    """The selected model item as a validation path (``trunk[2]``, ``heads[0]`` …) or ``""``."""

    changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._path = ""

    @property
    def path(self) -> str:
        return self._path

    def select(self, path: str) -> None:
        if path != self._path:
            self._path = path
            self.changed.emit(path)
