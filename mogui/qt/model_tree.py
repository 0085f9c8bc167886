"""The model as a tree: Inputs / Trunk / Heads ▸ layers, for precise selection and editing."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from mogui.qt.document import ProjectDocument
from mogui.qt.model_edits import owning_item
from mogui.qt.selection import Selection

PATH_ROLE = Qt.ItemDataRole.UserRole
ERROR_COLOUR = QColor("#c62828")


class ModelTree(QTreeWidget):
    """Shows the project's inputs, trunk layers and heads; follows and drives the selection."""

    def __init__(self, document: ProjectDocument, selection: Selection,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelTree")
        self.setHeaderLabels(["Item", "Kind"])
        self.setColumnWidth(0, 170)
        self.setUniformRowHeights(True)
        self._document = document
        self._selection = selection
        self._items: dict[str, QTreeWidgetItem] = {}
        document.changed.connect(self.rebuild)
        selection.changed.connect(self._show_selection)
        self.itemSelectionChanged.connect(self._on_item_selection)
        self.rebuild()

    def item_for(self, path: str) -> QTreeWidgetItem | None:
        return self._items.get(path)

    def rebuild(self) -> None:
        project = self._document.project
        bad = {owning_item(p.path) for p in self._document.problems}
        self.blockSignals(True)
        self.clear()
        self._items = {}
        inputs = self._group("Inputs", "inputs")
        for i, inp in enumerate(project.inputs):
            shape = "×".join(str(d) for d in inp.shape)
            self._add(inputs, f"inputs[{i}]", inp.name, f"Input ({shape})", bad)
        trunk = self._group("Trunk", "trunk")
        for i, layer in enumerate(project.trunk):
            self._add(trunk, f"trunk[{i}]", layer.name, layer.kind, bad)
        heads = self._group("Heads", "heads")
        for h, head in enumerate(project.heads):
            units = f"{head.units} unit{'' if head.units == 1 else 's'}"
            head_item = self._add(heads, f"heads[{h}]", head.name,
                                  f"{head.task.value}, {units}", bad)
            for i, layer in enumerate(head.layers):
                self._add(head_item, f"heads[{h}].layers[{i}]", layer.name, layer.kind, bad)
        self.expandAll()
        self.blockSignals(False)
        self._show_selection(self._selection.path)

    def _group(self, title: str, key: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self, [title, ""])
        item.setData(0, PATH_ROLE, "")
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        self._items[f"group:{key}"] = item
        return item

    def _add(self, parent: QTreeWidgetItem, path: str, name: str, kind: str,
             bad: set[str | None]) -> QTreeWidgetItem:
        item = QTreeWidgetItem(parent, [name, kind])
        item.setData(0, PATH_ROLE, path)
        if path in bad:
            item.setForeground(0, QBrush(ERROR_COLOUR))
            messages = [str(p) for p in self._document.problems
                        if owning_item(p.path) == path]
            item.setToolTip(0, "\n".join(messages))
        self._items[path] = item
        return item

    def _on_item_selection(self) -> None:
        items = self.selectedItems()
        path = items[0].data(0, PATH_ROLE) if items else ""
        self._selection.select(path or "")

    def _show_selection(self, path: str) -> None:
        item = self._items.get(path)
        self.blockSignals(True)
        self.clearSelection()
        if item is not None:
            item.setSelected(True)
            self.setCurrentItem(item)
            self.scrollToItem(item)
        self.blockSignals(False)
