"""One shared selection for the tree, the graph, the form and the shape inspector."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, Signal


class Selection(QObject):
    """The selected model items as validation paths (``trunk[2]``, ``heads[0]`` …).

    :attr:`path` is the current item (``""`` for none), the one the form and the tree show;
    :attr:`paths` are all selected items (the graph selects several), the current one among
    them. ``changed`` is emitted when the current item changes, ``paths_changed`` when the
    set does.
    """

    changed = Signal(str)
    paths_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._path = ""
        self._paths: list[str] = []

    @property
    def path(self) -> str:
        return self._path

    @property
    def paths(self) -> list[str]:
        return list(self._paths)

    def select(self, path: str) -> None:
        """Select ``path`` alone (``""``: nothing)."""
        self._set([path] if path else [], path)

    def select_many(self, paths: Iterable[str], current: str | None = None) -> None:
        """Select ``paths`` with ``current`` as the current item; without it, the current
        item stays if it is among them, else the first one is current."""
        paths = list(dict.fromkeys(p for p in paths if p))
        if current not in paths:
            current = self._path if self._path in paths else (paths[0] if paths else "")
        self._set(paths, current)

    def _set(self, paths: list[str], current: str) -> None:
        changed_set = paths != self._paths
        changed_path = current != self._path
        self._paths, self._path = paths, current
        if changed_path:
            self.changed.emit(current)
        if changed_set:
            self.paths_changed.emit()
