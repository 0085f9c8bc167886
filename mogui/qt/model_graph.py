"""The model as a diagram: a box per input, layer and head output, arrows for data flow.

Boxes show name, kind and output shape (from the live inspection). Each head, with its own
layers, is drawn in its colour (:mod:`mogui.core.head_palette`, the colour of its curves in the
Training tab); a layer that fails to build, or that has validation problems, is drawn red with
the message as its tooltip.

Heads sit in a grid below the trunk, as many per row as let the whole model fit the view
best (:func:`heads_per_row`), so every head is reachable without scrolling sideways. A node
that feeds many heads feeds them through one line, a bus, running above each row. The view
zooms to fit the model when it opens, changes or resizes, until the user zooms (Ctrl+wheel);
Ctrl+0 or a double-click on the background fits it again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
    QShortcut,
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

from mogui.core.head_palette import project_head_colours, tint
from mogui.qt.document import ProjectDocument
from mogui.qt.inspection import LiveInspection
from mogui.qt.model_edits import GraphNode, graph_nodes, owning_item
from mogui.qt.selection import Selection

BOX_W, BOX_H = 180.0, 54.0
GAP_X, GAP_Y = 30.0, 26.0
PITCH_X, PITCH_Y = BOX_W + GAP_X, BOX_H + GAP_Y
MARGIN = 20.0
INPUT_COLOUR = QColor("#dbeafe")
TRUNK_COLOUR = QColor("#eeeeee")
HEAD_TINT = 0.72  # head boxes: the head's colour this far towards white
ERROR_FILL = QColor("#ffcdd2")
ERROR_PEN = QColor("#c62828")
LINE_COLOUR = QColor("#6b6b6b")
BUS_FROM = 5  # a node feeding this many heads or more feeds them through a bus
SINGLE_ROW_UP_TO = 6  # this many heads or fewer always stand in one row
MIN_FIT = 0.35  # fitting never shrinks text below this; what does not fit then scrolls down
DEFAULT_VIEWPORT = (480.0, 720.0)  # before the view has a size of its own


def format_shape(shape: tuple[int | None, ...] | None) -> str:
    if shape is None:
        return "shape unknown"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


class NodeItem(QGraphicsRectItem):
    """One box; ``path`` is the item it shows (``trunk[2]`` …)."""

    def __init__(self, node: GraphNode, fill: QColor, shape_text: str, error: str | None,
                 outline: QColor | None = None) -> None:
        super().__init__(0, 0, BOX_W, BOX_H)
        self.node = node
        self.path = node.path
        self.error = error
        self.fill = fill
        self.setBrush(QBrush(ERROR_FILL if error else fill))
        if error:
            pen = QPen(ERROR_PEN, 2.0)
        elif outline is not None:
            pen = QPen(outline, 1.5)
        else:
            pen = QPen(QColor("#555555"), 1.0)
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


def _arrow_head(scene: QGraphicsScene, tip: QPointF) -> None:
    head = QGraphicsPolygonItem(QPolygonF([QPointF(tip.x(), tip.y() - 1),
                                           QPointF(tip.x() - 5, tip.y() - 8),
                                           QPointF(tip.x() + 5, tip.y() - 8)]))
    head.setPen(QPen(LINE_COLOUR, 1.0))
    head.setBrush(QBrush(LINE_COLOUR))
    scene.addItem(head)


def _line(scene: QGraphicsScene, path: QPainterPath) -> None:
    line = QGraphicsPathItem(path)
    line.setPen(QPen(LINE_COLOUR, 1.4))
    line.setZValue(-1)
    scene.addItem(line)


def _arrow(scene: QGraphicsScene, start: QPointF, end: QPointF) -> None:
    base = QPointF(end.x(), end.y() - 8)
    path = QPainterPath(start)
    mid = (start.y() + base.y()) / 2
    path.cubicTo(QPointF(start.x(), mid), QPointF(base.x(), mid), base)
    _line(scene, path)
    _arrow_head(scene, end)


def _bus(scene: QGraphicsScene, start: QPointF, ends: list[QPointF]) -> None:
    """One line from ``start`` to every point of ``ends`` (tops of boxes in rows).

    It runs down to a horizontal line just above each row, joined at the left of the rows,
    and drops an arrow into each box.
    """
    rows: dict[float, list[float]] = {}
    for end in ends:
        rows.setdefault(end.y(), []).append(end.x())
    spine = min(end.x() for end in ends) - (BOX_W + GAP_X) / 2
    path = QPainterPath(start)
    tops = sorted(rows)
    first = tops[0] - GAP_Y / 2
    path.lineTo(start.x(), first)
    path.moveTo(spine, first)
    path.lineTo(spine, tops[-1] - GAP_Y / 2)
    for top in tops:
        y = top - GAP_Y / 2
        right = max(*rows[top], start.x()) if top == tops[0] else max(rows[top])
        path.moveTo(spine, y)
        path.lineTo(right, y)
        for x in rows[top]:
            path.moveTo(x, y)
            path.lineTo(x, top - 8)
            _arrow_head(scene, QPointF(x, top))
    _line(scene, path)


@dataclass(frozen=True)
class HeadGrid:
    """How the heads stand: ``per_row`` head columns a row, ``depth`` boxes the deepest."""

    heads: int
    per_row: int
    depth: int
    top_levels: int  # levels of inputs and trunk above the heads

    @property
    def rows(self) -> int:
        return max(1, math.ceil(self.heads / max(1, self.per_row)))

    def size(self, trunk_width: int) -> tuple[float, float]:
        """Width and height of the drawing, margins included."""
        width = max(min(self.heads, self.per_row), trunk_width, 1) * PITCH_X - GAP_X
        height = self.top_levels * PITCH_Y + self.rows * (self.depth * PITCH_Y + GAP_Y)
        return width + 2 * MARGIN, height + 2 * MARGIN


def heads_per_row(heads: int, depth: int, top_levels: int, trunk_width: int,
                  viewport: tuple[float, float]) -> int:
    """How many heads a row holds so that the whole model fits ``viewport`` largest.

    Up to :data:`SINGLE_ROW_UP_TO` heads stand in one row. Otherwise the count that gives
    the largest zoom-to-fit scale wins (the wider row on a tie); when even that is below
    :data:`MIN_FIT`, rows as wide as fit the viewport's width at that scale (the rest of the
    model is then reached by scrolling down, never sideways).
    """
    if heads <= SINGLE_ROW_UP_TO:
        return max(heads, 1)
    width, height = viewport
    best, best_scale = heads, -1.0
    for per_row in range(heads, 0, -1):
        w, h = HeadGrid(heads, per_row, depth, top_levels).size(trunk_width)
        scale = min(width / w, height / h, 1.0)
        if scale > best_scale + 1e-9:
            best, best_scale = per_row, scale
    if best_scale >= MIN_FIT:
        return best
    for per_row in range(heads, 0, -1):
        w, _h = HeadGrid(heads, per_row, depth, top_levels).size(trunk_width)
        if width / w >= MIN_FIT:
            return per_row
    return 1


def layout_nodes(nodes: list[GraphNode], viewport: tuple[float, float]
                 ) -> tuple[dict[str, QPointF], HeadGrid]:
    """Top-left corner of every box: inputs and trunk by level, centred; heads in a grid."""
    level: dict[str, int] = {}
    for node in nodes:
        level[node.name] = 1 + max((level.get(n, 0) for n in node.inputs), default=-1)
    per_level: dict[int, list[GraphNode]] = {}
    columns: dict[int, list[GraphNode]] = {}
    for node in nodes:
        if node.head is None:
            per_level.setdefault(level[node.name], []).append(node)
        else:
            columns.setdefault(node.head, []).append(node)
    positions: dict[str, QPointF] = {}
    for lvl, members in per_level.items():
        for i, node in enumerate(members):
            positions[node.path] = QPointF((i - (len(members) - 1) / 2) * PITCH_X, lvl * PITCH_Y)
    top_levels = 1 + max(per_level, default=-1)
    trunk_width = max((len(members) for members in per_level.values()), default=1)
    depth = max((len(column) for column in columns.values()), default=1)
    per_row = heads_per_row(len(columns), depth, top_levels, trunk_width, viewport)
    grid = HeadGrid(len(columns), per_row, depth, top_levels)
    in_row = min(len(columns), per_row)
    for order, head in enumerate(sorted(columns)):
        row, column = divmod(order, per_row)
        x = (column - (in_row - 1) / 2) * PITCH_X
        top = top_levels * PITCH_Y + row * (depth * PITCH_Y + GAP_Y)
        for i, node in enumerate(columns[head]):
            positions[node.path] = QPointF(x, top + i * PITCH_Y)
    return positions, grid


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
        self.grid = HeadGrid(0, 1, 1, 0)
        self.user_zoomed = False  # Ctrl+wheel was used: keep the user's zoom until a fit
        self._identity = document.identity
        self._scene.selectionChanged.connect(self._on_scene_selection)
        document.changed.connect(self.rebuild)
        inspection.updated.connect(self.rebuild)
        selection.changed.connect(self._show_selection)
        fit = QShortcut(QKeySequence("Ctrl+0"), self)
        fit.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        fit.activated.connect(self.zoom_to_fit)
        self.rebuild()

    def node_by_name(self, name: str) -> NodeItem | None:
        return next((n for n in self.nodes.values() if n.node.name == name), None)

    def _viewport_size(self) -> tuple[float, float]:
        """The room for the drawing: the viewport as it is without scroll bars."""
        size = self.maximumViewportSize()
        if size.width() < 100 or size.height() < 100:
            return DEFAULT_VIEWPORT
        return float(size.width()), float(size.height())

    def rebuild(self) -> None:
        project = self._document.project
        if self._document.identity != self._identity:  # another project: fit it on open
            self._identity = self._document.identity
            self.user_zoomed = False
        nodes = graph_nodes(project)
        rows, failing = self._inspection_rows()
        problems: dict[str, list[str]] = {}
        for problem in self._document.problems:
            owner = owning_item(problem.path)
            if owner:
                problems.setdefault(owner, []).append(str(problem))
        colours = project_head_colours(project)
        self._scene.blockSignals(True)
        self._scene.clear()
        self.nodes = {}
        positions, self.grid = layout_nodes(nodes, self._viewport_size())
        for node in nodes:
            row = rows.get(node.name)
            error = failing.get(node.name) or "\n".join(problems.get(node.path, [])) or None
            outline = None
            if node.section == "input":
                fill = INPUT_COLOUR
            elif node.head is None:
                fill = TRUNK_COLOUR
            else:
                colour = colours[project.heads[node.head].name]
                fill, outline = QColor(tint(colour, HEAD_TINT)), QColor(colour)
            shape_text = format_shape(row.output_shape) if row is not None else "…"
            item = NodeItem(node, fill, shape_text, error, outline)
            item.setPos(positions[node.path])
            self._scene.addItem(item)
            self.nodes[node.path] = item
        self._connect(list(self.nodes.values()))
        self._scene.setSceneRect(self._scene.itemsBoundingRect().adjusted(
            -MARGIN, -MARGIN, MARGIN, MARGIN))
        self._scene.blockSignals(False)
        self._show_selection(self._selection.path)
        if not self.user_zoomed:
            self._fit()

    def _connect(self, items: list[NodeItem]) -> None:
        """Arrows along the data flow; a bus from a node that feeds many heads."""
        by_name = {item.node.name: item for item in items}
        firsts: dict[str, list[NodeItem]] = {}  # source -> heads' first boxes it feeds
        seen_heads: set[int] = set()
        for item in items:
            head = item.node.head
            if head is not None and head not in seen_heads:
                seen_heads.add(head)
                for source in item.node.inputs:
                    firsts.setdefault(source, []).append(item)
        bussed = {source for source, fed in firsts.items()
                  if len(fed) >= BUS_FROM and source in by_name}
        for source in bussed:
            start = by_name[source].pos() + QPointF(BOX_W / 2, BOX_H)
            _bus(self._scene, start, [item.pos() + QPointF(BOX_W / 2, 0)
                                      for item in firsts[source]])
        for item in items:
            for source_name in item.node.inputs:
                source = by_name.get(source_name)
                if source is None or (source_name in bussed and item in firsts[source_name]):
                    continue
                _arrow(self._scene, source.pos() + QPointF(BOX_W / 2, BOX_H),
                       item.pos() + QPointF(BOX_W / 2, 0))

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

    # -- zoom -------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_to_fit(self) -> None:
        """Show the whole model again (down to :data:`MIN_FIT`), relaying out the heads."""
        self.user_zoomed = False
        self.rebuild()

    def _fit(self) -> None:
        rect: QRectF = self._scene.sceneRect()
        if rect.isEmpty():
            return
        width, height = self._viewport_size()
        scale = min(width / rect.width(), height / rect.height(), 1.0)
        scale = max(scale, MIN_FIT)
        self.setTransform(QTransform.fromScale(scale, scale))

    def wheelEvent(self, event) -> None:  # noqa: ANN001
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
            self.scale(factor, factor)
            self.user_zoomed = True
            return
        super().wheelEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: ANN001
        if self.itemAt(event.position().toPoint()) is None:
            self.zoom_to_fit()
            return
        super().mouseDoubleClickEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        super().resizeEvent(event)
        if self.user_zoomed:
            return
        nodes = graph_nodes(self._document.project)
        _positions, grid = layout_nodes(nodes, self._viewport_size())
        if grid.per_row != self.grid.per_row:
            self.rebuild()  # another number of heads per row fits the new size better
        else:
            self._fit()

    # -- selection --------------------------------------------------------------------------
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
