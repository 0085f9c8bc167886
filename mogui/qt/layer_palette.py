"""The layer palette: every layer kind of the catalog by category, with a search box.

Drag a kind onto the model graph to add it (:mod:`mogui.qt.graph_gestures` says where it
goes). Double-clicking a kind, or pressing Enter in it or in the search box (the first match),
asks for it to be inserted after the selected box (:attr:`LayerPalette.activated`).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mogui.core.layers import LAYER_KINDS
from mogui.qt.graph_gestures import LAYER_MIME, layer_mime

KIND_ROLE = Qt.ItemDataRole.UserRole


class _KindTree(QTreeWidget):
    """Categories with their kinds; kinds drag as :data:`~mogui.qt.graph_gestures.LAYER_MIME`."""

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:  # noqa: N802
        kinds = [item.data(0, KIND_ROLE) for item in items if item.data(0, KIND_ROLE)]
        return layer_mime(kinds[0]) if kinds else QMimeData()

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [LAYER_MIME]

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.CopyAction  # dragging a kind copies it: the palette keeps it


class LayerPalette(QWidget):
    """A searchable list of layer kinds to drag onto the graph."""

    #: A kind chosen by double-click or Enter.
    activated = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layerPalette")
        self.search = QLineEdit(objectName="layerPaletteSearch")
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree = _KindTree(objectName="layerPaletteList")
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(8)
        # A narrow palette cuts long names with "…" (the tooltip has them), never scrolls.
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.itemActivated.connect(self._on_activated)
        self.empty = QLabel("No layer matches", objectName="layerPaletteEmpty")
        self.empty.setStyleSheet("color: #777;")
        self.empty.hide()
        self._items: dict[str, QTreeWidgetItem] = {}
        categories: dict[str, QTreeWidgetItem] = {}
        for kind in sorted(LAYER_KINDS.values(), key=lambda k: (k.category, k.name)):
            group = categories.get(kind.category)
            if group is None:
                group = QTreeWidgetItem(self.tree, [kind.category])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                categories[kind.category] = group
            item = QTreeWidgetItem(group, [kind.name])
            item.setData(0, KIND_ROLE, kind.name)
            item.setToolTip(0, f"{kind.name}: {kind.summary}\nDrag onto the graph: on an arrow "
                            "to insert it there, on a box to insert it after that box, on "
                            "the background to start a branch")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            self._items[kind.name] = item
        self._groups = list(categories.values())
        self.tree.expandAll()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty)

    def item_for(self, kind: str) -> QTreeWidgetItem | None:
        return self._items.get(kind)

    def visible_kinds(self) -> list[str]:
        """The kinds the search leaves listed, in the order shown."""
        return [kind for kind, item in self._items.items() if not item.isHidden()]

    def _filter(self, text: str) -> None:
        words = text.lower().split()
        for kind, item in self._items.items():
            info = LAYER_KINDS[kind]
            haystack = f"{kind} {info.category} {info.summary}".lower()
            item.setHidden(not all(word in haystack for word in words))
        for group in self._groups:
            group.setHidden(all(group.child(i).isHidden() for i in range(group.childCount())))
        self.empty.setVisible(not self.visible_kinds())
        best = self.best_match() if words else None
        if best is not None:
            self.tree.setCurrentItem(self._items[best])  # what Enter would insert
        else:
            self.tree.setCurrentItem(None)
            self.tree.clearSelection()

    def best_match(self) -> str | None:
        """The listed kind Enter in the search box picks: a name starting with the text first."""
        shown = self.visible_kinds()
        text = self.search.text().strip().lower()
        return min(shown, key=lambda kind: not kind.lower().startswith(text), default=None)

    def _activate_first(self) -> None:
        best = self.best_match()
        if best is not None:
            self.activated.emit(best)

    def _on_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        kind = item.data(0, KIND_ROLE)
        if kind:
            self.activated.emit(kind)
