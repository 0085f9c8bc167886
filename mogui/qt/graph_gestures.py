"""What the mouse does on the model graph: drops from the layer palette, port drags, targets.

:class:`Gestures` keeps the state of a gesture in progress and tells the view what was asked
for through callbacks; the view (:class:`mogui.qt.model_graph.ModelGraph`) turns them into
signals, and :mod:`mogui.qt.canvas_edits` into undoable edits.

- A layer kind dropped on an arrow is inserted between its two boxes; dropped on a box, it is
  inserted after that box (on a head's output: on the arrow into it); dropped on the
  background, it starts a branch from the box nearest above the drop point.
- A drag from a box's output port, released over another box, connects the two.
While a gesture is under way, the box or arrow it would act on is drawn green.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsView

from mogui.core.layers import LAYER_KINDS
from mogui.qt.graph_items import TARGET_COLOUR, EdgeItem, NodeItem, PortItem

#: The drag-and-drop format of a layer kind from the palette (its name, UTF-8).
LAYER_MIME = "application/x-mogui-layer-kind"


@dataclass(frozen=True)
class DropTarget:
    """Where a dropped layer goes: ``how`` is ``edge``, ``after`` or ``branch``."""

    how: str
    node: str  # edge: the source; after / branch: the box it follows
    target: str = ""  # edge: the box the arrow enters

    def describe(self, kind: str) -> str:
        if self.how == "edge":
            return f"Insert {kind} between {self.node} and {self.target}"
        if self.how == "after":
            return f"Insert {kind} after {self.node}"
        return f"Add {kind} as a new branch from {self.node}"


def kind_of(mime: QMimeData) -> str | None:
    """The layer kind a drag carries, or ``None`` when it carries none."""
    if not mime.hasFormat(LAYER_MIME):
        return None
    kind = bytes(mime.data(LAYER_MIME).data()).decode("utf-8", "replace")
    return kind if kind in LAYER_KINDS else None


def layer_mime(kind: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(LAYER_MIME, kind.encode("utf-8"))
    mime.setText(kind)
    return mime


def node_of(item: QGraphicsItem | None) -> NodeItem | None:
    """The box an item belongs to (the box itself, its labels or its ports)."""
    while item is not None and not isinstance(item, NodeItem):
        item = item.parentItem()
    return item


class Gestures:
    """Drops and port drags on ``view``; reports them through the callbacks."""

    def __init__(self, view: QGraphicsView, nodes: Callable[[], dict[str, NodeItem]], *,
                 on_drop: Callable[[str, DropTarget], None],
                 on_connect: Callable[[str, str], None]) -> None:
        self._view = view
        self._nodes = nodes
        self._on_drop = on_drop
        self._on_connect = on_connect
        self._lit: NodeItem | EdgeItem | None = None
        self.source: NodeItem | None = None  # a port drag's box, while one is under way
        self._line: QGraphicsPathItem | None = None
        self.enabled = True

    # -- where things are -------------------------------------------------------------------
    def _scene_pos(self, pos: QPointF) -> QPointF:
        return self._view.mapToScene(pos.toPoint())

    def node_at(self, pos: QPointF) -> NodeItem | None:
        """The box under the viewport point ``pos``."""
        for item in self._view.items(pos.toPoint()):
            node = node_of(item)
            if node is not None:
                return node
        return None

    def edge_at(self, pos: QPointF) -> EdgeItem | None:
        for item in self._view.items(pos.toPoint()):
            if isinstance(item, EdgeItem):
                return item
        return None

    def port_at(self, pos: QPointF) -> PortItem | None:
        for item in self._view.items(pos.toPoint()):
            if isinstance(item, PortItem):
                return item
        return None

    def drop_target(self, pos: QPointF) -> DropTarget | None:
        """What a layer dropped at viewport point ``pos`` would do."""
        node = self.node_at(pos)
        if node is not None:
            if node.node.section == "head":
                feeds = node.node.inputs
                return DropTarget("edge", feeds[0], node.name) if feeds else None
            return DropTarget("after", node.name)
        edge = self.edge_at(pos)
        if edge is not None:
            return DropTarget("edge", edge.source, edge.target)
        above = self.nearest_above(self._scene_pos(pos))
        return DropTarget("branch", above.name) if above is not None else None

    def nearest_above(self, point: QPointF) -> NodeItem | None:
        """The box (not a head's output) whose output port is nearest above ``point``."""
        candidates = [n for n in self._nodes().values() if n.node.section != "head"]
        above = [n for n in candidates if n.out_point().y() <= point.y()]
        pool = above or [n for n in candidates if n.node.section == "input"]

        def distance(node: NodeItem) -> float:
            delta = node.out_point() - point
            return delta.x() ** 2 + delta.y() ** 2

        return min(pool, key=distance, default=None)

    def _light(self, item: NodeItem | EdgeItem | None) -> None:
        if item is not self._lit:
            if self._lit is not None:
                self._lit.set_targeted(False)
            if item is not None:
                item.set_targeted(True)
            self._lit = item

    # -- drops from the palette -------------------------------------------------------------
    def drag_move(self, mime: QMimeData, pos: QPointF) -> bool:
        """Accept a drag carrying a layer kind; light what a drop here would act on."""
        kind = kind_of(mime) if self.enabled else None
        target = self.drop_target(pos) if kind else None
        if target is None:
            self._light(None)
            self._view.setToolTip("")
            return False
        if target.how == "edge":
            lit = next((item for item in self._view.scene().items()
                        if isinstance(item, EdgeItem) and item.source == target.node
                        and item.target == target.target), None)
        elif target.how == "after":
            lit = self.node_at(pos)
        else:
            lit = None
        self._light(lit)
        self._view.setToolTip(target.describe(kind or ""))
        return True

    def drag_leave(self) -> None:
        self._light(None)
        self._view.setToolTip("")

    def drop(self, mime: QMimeData, pos: QPointF) -> bool:
        kind = kind_of(mime) if self.enabled else None
        target = self.drop_target(pos) if kind else None
        self.drag_leave()
        if kind is None or target is None:
            return False
        self._on_drop(kind, target)
        return True

    # -- port drags -------------------------------------------------------------------------
    def press(self, pos: QPointF, button: Qt.MouseButton) -> bool:
        """Start a connection when the press is on an output port."""
        port = self.port_at(pos) if self.enabled else None
        if button != Qt.MouseButton.LeftButton or port is None:
            return False
        self.source = port.node_item
        self._line = QGraphicsPathItem()
        self._line.setPen(QPen(TARGET_COLOUR, 2.0, Qt.PenStyle.DashLine))
        self._line.setZValue(10)
        self._view.scene().addItem(self._line)
        self.move(pos)
        return True

    def move(self, pos: QPointF) -> bool:
        if self.source is None or self._line is None:
            return False
        start, end = self.source.out_point(), self._scene_pos(pos)
        path = QPainterPath(start)
        path.lineTo(end)
        self._line.setPath(path)
        target = self.node_at(pos)
        self._light(target if target is not None and target is not self.source else None)
        return True

    def release(self, pos: QPointF) -> bool:
        if self.source is None:
            return False
        source, target = self.source, self.node_at(pos)
        self.cancel()
        if target is not None and target is not source:
            self._on_connect(source.name, target.name)
        return True

    def cancel(self) -> None:
        """Drop the port drag under way, if any."""
        if self._line is not None and self._line.scene() is not None:
            self._view.scene().removeItem(self._line)
        self._line = None
        self.source = None
        self._light(None)

    def forget_items(self) -> None:
        """The scene is about to be cleared: hold no item of it."""
        self._lit = None
        self._line = None
        self.source = None
