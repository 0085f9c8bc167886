"""Shape inspector: every input and layer with its output shape and parameter count.

Fed by :class:`LiveInspection`; the layer that fails to build is shown inline with its
plain-language message, and selecting a row selects that item in the tree and graph. Until
TensorFlow has loaded (seconds after the app starts) it says "Loading TensorFlow…".
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mogui.qt.document import ProjectDocument
from mogui.qt.engine_loader import engine_loaded
from mogui.qt.inspection import LiveInspection
from mogui.qt.model_edits import item_paths
from mogui.qt.model_graph import format_shape
from mogui.qt.selection import Selection

COLUMNS = ["Name", "Kind", "Output shape", "Params", "Section"]
PATH_ROLE = Qt.ItemDataRole.UserRole
ERROR_FILL = QColor("#ffcdd2")
LOADING = "Loading TensorFlow…"
COMPUTING = "Computing shapes…"


def waiting_text() -> str:
    """What the table waits for: TensorFlow to load (after start), or the shapes."""
    return COMPUTING if engine_loaded() else LOADING


class ShapeInspector(QWidget):
    """A table of the live inspection; its rows carry the item path they describe."""

    def __init__(self, document: ProjectDocument, selection: Selection,
                 inspection: LiveInspection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._selection = selection
        self._inspection = inspection
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(COLUMNS), objectName="shapeInspector")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.status = QLabel(waiting_text(), objectName="shapeInspectorStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.table)
        layout.addWidget(self.status)
        self.table.itemSelectionChanged.connect(self._on_row_selection)
        inspection.updated.connect(self.refresh)
        selection.changed.connect(self._show_selection)
        self.refresh()

    def row_texts(self) -> list[list[str]]:
        """The table's cells as text, row by row."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    def row_of(self, name: str) -> list[str]:
        return next(row for row in self.row_texts() if row[0] == name)

    def refresh(self) -> None:
        result = self._inspection.inspection
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        if result is None:
            self.status.setText(self._inspection.failure or waiting_text())
            self._set_status_style(bool(self._inspection.failure))
            self.table.blockSignals(False)
            return
        paths = item_paths(self._document.project)
        self.table.setRowCount(len(result.rows))
        for r, row in enumerate(result.rows):
            shape = row.error if row.error else (
                format_shape(row.output_shape) if row.output_shape is not None else "—")
            section = row.section if row.head is None else f"head {row.head}"
            cells = [row.name, row.kind, shape, f"{row.param_count:,}", section]
            for c, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setData(PATH_ROLE, paths.get(row.name, ""))
                if c == 3:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if row.error:
                    cell.setBackground(QBrush(ERROR_FILL))
                    cell.setToolTip(row.error)
                self.table.setItem(r, c, cell)
        if result.error is not None:
            self.status.setText(f"The model cannot be built: {result.error}")
        else:
            self.status.setText(f"Total parameters: {result.total_params:,}")
        self._set_status_style(result.error is not None)
        self.table.blockSignals(False)
        self._show_selection(self._selection.path)

    def _set_status_style(self, is_error: bool) -> None:
        self.status.setStyleSheet("color: #c62828; font-weight: bold;" if is_error else "")

    def _on_row_selection(self) -> None:
        items = self.table.selectedItems()
        if items:
            path = items[0].data(PATH_ROLE)
            if path:
                self._selection.select(path)

    def _show_selection(self, path: str) -> None:
        self.table.blockSignals(True)
        self.table.clearSelection()
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(PATH_ROLE) == path:
                self.table.selectRow(r)
                self.table.scrollToItem(self.table.item(r, 0))
                break
        self.table.blockSignals(False)
