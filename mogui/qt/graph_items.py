"""The model graph's items: boxes with ports, arrows that can take a dropped layer, buses.

A box shows name, kind and output shape. A box whose output can feed a layer has an output
port at its bottom centre: dragging from it onto another box connects them
(:mod:`mogui.qt.graph_gestures`). An arrow knows the two boxes it joins, so a layer dropped on
it is inserted between them; an arrow that would cross another box runs down the gap beside
it instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from mogui.qt.graph_layout import BOX_H, BOX_W, GAP_X, GAP_Y
from mogui.qt.model_edits import GraphNode

INPUT_COLOUR = QColor("#dbeafe")
TRUNK_COLOUR = QColor("#eeeeee")
ERROR_FILL = QColor("#ffcdd2")
ERROR_PEN = QColor("#c62828")
LINE_COLOUR = QColor("#6b6b6b")
SELECTED_COLOUR = QColor("#1565c0")
TARGET_COLOUR = QColor("#2e7d32")  # a drop or connection target under the pointer
PORT_RADIUS = 5.0
EDGE_PICK_WIDTH = 14.0  # how close to an arrow a drop counts as on it


def format_shape(shape: tuple[int | None, ...] | None) -> str:
    if shape is None:
        return "shape unknown"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


class PortItem(QGraphicsEllipseItem):
    """The small circle under a box: its output, to drag from onto another box."""

    def __init__(self, parent: NodeItem) -> None:
        super().__init__(BOX_W / 2 - PORT_RADIUS, BOX_H - PORT_RADIUS, 2 * PORT_RADIUS,
                         2 * PORT_RADIUS, parent)
        self.node_item = parent
        self.setBrush(QBrush(QColor("#ffffff")))
        self.setPen(QPen(LINE_COLOUR, 1.2))
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Drag onto a layer or a head to connect them")


class NodeItem(QGraphicsRectItem):
    """One box; ``path`` is the item it shows (``trunk[2]`` …)."""

    def __init__(self, node: GraphNode, fill: QColor, shape_text: str, error: str | None,
                 outline: QColor | None = None, dangling: bool = False) -> None:
        super().__init__(0, 0, BOX_W, BOX_H)
        self.node = node
        self.path = node.path
        self.error = error
        self.fill = fill
        self.dangling = dangling
        self.targeted = False
        self.setBrush(QBrush(ERROR_FILL if error else fill))
        if error:
            pen = QPen(ERROR_PEN, 2.0)
        elif outline is not None:
            pen = QPen(outline, 1.5)
        else:
            pen = QPen(QColor("#555555"), 1.0)
        if dangling:
            pen.setStyle(Qt.PenStyle.DashLine)
        self.setPen(pen)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        tip = error or f"{node.name} ({node.kind}) → {shape_text}"
        if dangling and not error:
            tip += ("\nFeeds nothing yet: drag from its output (the dot below it) to a layer "
                    "or a head")
        self.setToolTip(tip)
        self.output_port = PortItem(self) if node.section != "head" else None
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

    @property
    def name(self) -> str:
        return self.node.name

    def out_point(self) -> QPointF:
        return self.pos() + QPointF(BOX_W / 2, BOX_H)

    def in_point(self) -> QPointF:
        return self.pos() + QPointF(BOX_W / 2, 0)

    def set_targeted(self, on: bool) -> None:
        if on != self.targeted:
            self.targeted = on
            self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        pen = self.pen()
        if self.targeted:
            pen = QPen(TARGET_COLOUR, 3.0)
        elif self.isSelected():
            pen = QPen(SELECTED_COLOUR, 3.0)
        painter.setPen(pen)
        painter.setBrush(self.brush())
        painter.drawRoundedRect(self.rect(), 8, 8)


def _arrow_head(tip: QPointF) -> QPolygonF:
    return QPolygonF([QPointF(tip.x(), tip.y() - 1), QPointF(tip.x() - 5, tip.y() - 8),
                      QPointF(tip.x() + 5, tip.y() - 8)])


def _crosses(start: QPointF, end: QPointF, boxes: Sequence[QRectF]) -> bool:
    """True when the straight line from ``start`` to ``end`` passes through a box."""
    left, right = min(start.x(), end.x()), max(start.x(), end.x())
    top, bottom = start.y() + 1, end.y() - 1
    for box in boxes:
        if box.right() < left or box.left() > right or box.bottom() < top \
                or box.top() > bottom:
            continue
        for step in range(1, 12):
            t = step / 12
            point = QPointF(start.x() + (end.x() - start.x()) * t,
                            start.y() + (end.y() - start.y()) * t)
            if box.contains(point):
                return True
    return False


def edge_path(start: QPointF, end: QPointF, boxes: Sequence[QRectF] = ()) -> QPainterPath:
    """A path from an output port down to an input port, round any box in between."""
    base = QPointF(end.x(), end.y() - 8)
    path = QPainterPath(start)
    if end.y() > start.y() + BOX_H + GAP_Y and _crosses(start, base, boxes):
        side = max(start.x(), end.x()) + (BOX_W + GAP_X) / 2
        path.cubicTo(QPointF(start.x(), start.y() + GAP_Y / 2),
                     QPointF(side, start.y()), QPointF(side, start.y() + GAP_Y))
        path.lineTo(side, base.y() - GAP_Y)
        path.cubicTo(QPointF(side, base.y()), QPointF(base.x(), base.y() - GAP_Y / 2), base)
        return path
    mid = (start.y() + base.y()) / 2
    path.cubicTo(QPointF(start.x(), mid), QPointF(base.x(), mid), base)
    return path


class EdgeItem(QGraphicsPathItem):
    """An arrow from box ``source`` to box ``target`` (names)."""

    def __init__(self, source: str, target: str, path: QPainterPath, tip: QPointF) -> None:
        super().__init__(path)
        self.source = source
        self.target = target
        self.tip = tip
        self.targeted = False
        self.setPen(QPen(LINE_COLOUR, 1.4))
        self.setZValue(-1)
        self.setToolTip(f"{source} → {target}: drop a layer here to insert it between them")

    def set_targeted(self, on: bool) -> None:
        if on != self.targeted:
            self.targeted = on
            self.update()

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(EDGE_PICK_WIDTH)
        return stroker.createStroke(self.path())

    def boundingRect(self) -> QRectF:
        return super().boundingRect().adjusted(-EDGE_PICK_WIDTH, -EDGE_PICK_WIDTH,
                                               EDGE_PICK_WIDTH, EDGE_PICK_WIDTH)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        colour = TARGET_COLOUR if self.targeted else LINE_COLOUR
        painter.setPen(QPen(colour, 3.0 if self.targeted else 1.4))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
        painter.setPen(QPen(colour, 1.0))
        painter.setBrush(QBrush(colour))
        painter.drawPolygon(_arrow_head(self.tip))


def add_edge(scene: QGraphicsScene, source: NodeItem, target: NodeItem,
             boxes: Sequence[QRectF]) -> EdgeItem:
    start, end = source.out_point(), target.in_point()
    others = [box for box in boxes
              if box != source.sceneBoundingRect() and box != target.sceneBoundingRect()]
    item = EdgeItem(source.name, target.name, edge_path(start, end, others), end)
    scene.addItem(item)
    return item


class BusItem(QGraphicsPathItem):
    """One line from a box to the tops of many heads' first boxes (in rows), with arrows."""

    def __init__(self, start: QPointF, ends: list[QPointF]) -> None:
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
        self.tips = []
        for top in tops:
            y = top - GAP_Y / 2
            right = max(*rows[top], start.x()) if top == tops[0] else max(rows[top])
            path.moveTo(spine, y)
            path.lineTo(right, y)
            for x in rows[top]:
                path.moveTo(x, y)
                path.lineTo(x, top - 8)
                self.tips.append(QPointF(x, top))
        super().__init__(path)
        self.setPen(QPen(LINE_COLOUR, 1.4))
        self.setZValue(-1)

    def boundingRect(self) -> QRectF:
        return super().boundingRect().adjusted(-6, -6, 6, 10)  # the arrow heads

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        super().paint(painter, option, widget)
        painter.setPen(QPen(LINE_COLOUR, 1.0))
        painter.setBrush(QBrush(LINE_COLOUR))
        for tip in self.tips:
            painter.drawPolygon(_arrow_head(tip))
