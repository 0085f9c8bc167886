"""The model as a diagram: a box per input, layer and head output, arrows for data flow.

Boxes show name, kind and output shape (from the live inspection). Each head has its own
colour; a layer that fails to build, or that has validation problems, is drawn red with the
message as its tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
    QTransform,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPolygonItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

from mogui.qt.document import ProjectDocument
from mogui.qt.inspection import LiveInspection
from mogui.qt.model_edits import GraphNode, graph_nodes, owning_item
from mogui.qt.selection import Selection

BOX_W, BOX_H = 180.0, 54.0
GAP_X, GAP_Y = 30.0, 26.0
INPUT_COLOUR = QColor("#dbeafe")
TRUNK_COLOUR = QColor("#eeeeee")
HEAD_COLOURS = [QColor(c) for c in ("#ffe0b2", "#c8e6c9", "#e1bee7", "#b2ebf2", "#fff59d",
                                    "#f8bbd0")]
ERROR_FILL = QColor("#ffcdd2")
ERROR_PEN = QColor("#c62828")
MIN_SCALE = 0.7


def format_shape(shape: tuple[int | None, ...] | None) -> str:
    if shape is None:
        return "shape unknown"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


class NodeItem(QGraphicsRectItem):
    """One box; ``path`` is the item it shows (``trunk[2]`` …)."""

    def __init__(self, node: GraphNode, fill: QColor, shape_text: str, error: str | None) -> None:
        super().__init__(0, 0, BOX_W, BOX_H)
        self.node = node
        self.path = node.path
        self.error = error
        self.setBrush(QBrush(ERROR_FILL if error else fill))
        pen = QPen(ERROR_PEN if error else QColor("#555555"), 2.0 if error else 1.0)
        self.setPen(pen)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setToolTip(error or f"{node.name} ({node.kind}) → {shape_text}")
        bold = QFont()
        bold.setBold(True)
        lines = [(node.name, bold, 4.0), (node.kind, QFont(), 20.0), (shape_text, QFont(), 35.0)]
        for text, font, y in lines:
            label = QGraphicsSimpleTextItem(text, self)
            label.setFont(font)
            while label.boundingRect().width() > BOX_W - 12 and len(text) > 4:
                text = text[:-2]
                label.setText(text + "…")
            label.setPos((BOX_W - label.boundingRect().width()) / 2, y)

    def paint(self, painter, option, widget=None) -> None:  # noqa: ANN001
        pen = self.pen()
        if self.isSelected():
            pen = QPen(QColor("#1565c0"), 3.0)
        painter.setPen(pen)
        painter.setBrush(self.brush())
        painter.drawRoundedRect(self.rect(), 8, 8)


def _arrow(scene: QGraphicsScene, start: QPointF, end: QPointF) -> None:
    tip = QPointF(end.x(), end.y() - 1)
    base = QPointF(end.x(), end.y() - 8)
    path = QPainterPath(start)
    mid = (start.y() + base.y()) / 2
    path.cubicTo(QPointF(start.x(), mid), QPointF(base.x(), mid), base)
    colour = QColor("#6b6b6b")
    line = QGraphicsPathItem(path)
    line.setPen(QPen(colour, 1.4))
    line.setZValue(-1)
    scene.addItem(line)
    head = QGraphicsPolygonItem(QPolygonF([tip, QPointF(tip.x() - 5, base.y()),
                                           QPointF(tip.x() + 5, base.y())]))
    head.setPen(QPen(colour, 1.0))
    head.setBrush(QBrush(colour))
    scene.addItem(head)


class ModelGraph(QGraphicsView):
    """Draws the project's layer graph; clicking a box selects that item everywhere."""

    def __init__(self, document: ProjectDocument, selection: Selection,
                 inspection: LiveInspection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelGraph")
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self._document = document
        self._selection = selection
        self._inspection = inspection
        self.nodes: dict[str, NodeItem] = {}
        self._scene.selectionChanged.connect(self._on_scene_selection)
        document.changed.connect(self.rebuild)
        inspection.updated.connect(self.rebuild)
        selection.changed.connect(self._show_selection)
        self.rebuild()

    def node_by_name(self, name: str) -> NodeItem | None:
        return next((n for n in self.nodes.values() if n.node.name == name), None)

    def rebuild(self) -> None:
        project = self._document.project
        nodes = graph_nodes(project)
        rows, failing = self._inspection_rows()
        problems: dict[str, list[str]] = {}
        for problem in self._document.problems:
            owner = owning_item(problem.path)
            if owner:
                problems.setdefault(owner, []).append(str(problem))
        self._scene.blockSignals(True)
        self._scene.clear()
        self.nodes = {}
        positions = self._layout(nodes, len(project.heads))
        for node in nodes:
            row = rows.get(node.name)
            error = failing.get(node.name) or "\n".join(problems.get(node.path, [])) or None
            if node.section == "input":
                fill = INPUT_COLOUR
            elif node.head is None:
                fill = TRUNK_COLOUR
            else:
                fill = HEAD_COLOURS[node.head % len(HEAD_COLOURS)]
            shape_text = format_shape(row.output_shape) if row is not None else "…"
            item = NodeItem(node, fill, shape_text, error)
            item.setPos(positions[node.path])
            self._scene.addItem(item)
            self.nodes[node.path] = item
        by_name = {item.node.name: item for item in self.nodes.values()}
        for item in self.nodes.values():
            for source_name in item.node.inputs:
                source = by_name.get(source_name)
                if source is None:
                    continue
                start = source.pos() + QPointF(BOX_W / 2, BOX_H)
                end = item.pos() + QPointF(BOX_W / 2, 0)
                _arrow(self._scene, start, end)
        self._scene.setSceneRect(self._scene.itemsBoundingRect().adjusted(-20, -20, 20, 20))
        self._scene.blockSignals(False)
        self._show_selection(self._selection.path)
        self._fit()

    def _inspection_rows(self) -> tuple[dict, dict[str, str]]:
        result = self._inspection.inspection
        if result is None:
            return {}, {}
        rows = {row.name: row for row in result.rows}
        failing = {row.name: row.error for row in result.rows if row.error}
        error = result.error
        layer = getattr(error, "layer", None)
        if error is not None and layer:
            failing.setdefault(layer, str(error))
        return rows, failing

    @staticmethod
    def _layout(nodes: list[GraphNode], head_count: int) -> dict[str, QPointF]:
        level: dict[str, int] = {}
        for node in nodes:
            level[node.name] = 1 + max((level.get(n, 0) for n in node.inputs), default=-1)
        per_level: dict[int, list[GraphNode]] = {}
        for node in nodes:
            if node.head is None:
                per_level.setdefault(level[node.name], []).append(node)
        pitch = BOX_W + GAP_X
        positions: dict[str, QPointF] = {}
        for lvl, members in per_level.items():
            for i, node in enumerate(members):
                x = (i - (len(members) - 1) / 2) * pitch
                positions[node.path] = QPointF(x, lvl * (BOX_H + GAP_Y))
        for node in nodes:
            if node.head is not None:
                x = (node.head - (head_count - 1) / 2) * pitch
                positions[node.path] = QPointF(x, level[node.name] * (BOX_H + GAP_Y))
        return positions

    def _fit(self) -> None:
        rect: QRectF = self._scene.sceneRect()
        if rect.isEmpty() or self.viewport().width() <= 0:
            return
        scale = min(self.viewport().width() / rect.width(),
                    self.viewport().height() / rect.height(), 1.0)
        self.setTransform(QTransform.fromScale(max(scale, MIN_SCALE), max(scale, MIN_SCALE)))

    def wheelEvent(self, event) -> None:  # noqa: ANN001
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
            self.scale(factor, factor)
            return
        super().wheelEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        super().resizeEvent(event)
        self._fit()

    def _on_scene_selection(self) -> None:
        paths = [i.path for i in self._scene.selectedItems() if isinstance(i, NodeItem)]
        fresh = [p for p in paths if p != self._selection.path]
        if fresh:
            self._selection.select(fresh[0])

    def _show_selection(self, path: str) -> None:
        self._scene.blockSignals(True)
        for node_path, item in self.nodes.items():
            item.setSelected(node_path == path)
        self._scene.blockSignals(False)
        self._scene.update()
        item = self.nodes.get(path)
        if item is not None:
            self.ensureVisible(item)
