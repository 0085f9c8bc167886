"""The model as an editable diagram: a box per input, layer and head output, arrows for data flow.

Boxes show name, kind and output shape (from the live inspection). Each head, with its own
layers, is drawn in its colour (:mod:`mogui.core.head_palette`, the colour of its curves in the
Training tab); a layer that fails to build, or that has validation problems, is drawn red with
the message as its tooltip; a layer that feeds nothing has a dashed outline.

The layout (:mod:`mogui.qt.graph_layout`) keeps boxes where they were across edits. The view
fits the whole model when a project opens, when it is resized, and on Ctrl+0 or a double-click
on the background; an edit keeps the zoom and the part of the model in view (zooming out only
when the model outgrows the view and the user has not zoomed). Ctrl+wheel, Ctrl+= and Ctrl+-
zoom. A node that feeds many heads feeds them through one line, a bus, running above each row.

Editing gestures (:mod:`mogui.qt.graph_gestures`) come out as signals; :mod:`mogui.qt.canvas_edits`
makes the edits. Clicking a box selects it everywhere; Ctrl+click and a rubber band (drag on the
background) select several.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QShortcut, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsView, QWidget

from mogui.core.head_palette import project_head_colours, tint
from mogui.qt.document import ProjectDocument
from mogui.qt.graph_edits import consumers, feeds_of
from mogui.qt.graph_gestures import Gestures
from mogui.qt.graph_items import (
    INPUT_COLOUR,
    TRUNK_COLOUR,
    BusItem,
    EdgeItem,
    NodeItem,
    add_edge,
    format_shape,
)
from mogui.qt.graph_layout import (
    MARGIN,
    MIN_FIT,
    SINGLE_ROW_UP_TO,
    HeadGrid,
    heads_per_row,
    layout_nodes,
)
from mogui.qt.inspection import LiveInspection
from mogui.qt.model_edits import graph_nodes, owning_item
from mogui.qt.selection import Selection

__all__ = ["MIN_FIT", "SINGLE_ROW_UP_TO", "HeadGrid", "ModelGraph", "format_shape",
           "heads_per_row"]

HEAD_TINT = 0.72  # head boxes: the head's colour this far towards white
BUS_FROM = 5  # a node feeding this many heads or more feeds them through a bus
DEFAULT_VIEWPORT = (480.0, 720.0)  # before the view has a size of its own
ZOOM_STEP = 1.15
MAX_ZOOM = 3.0


class ModelGraph(QGraphicsView):
    """Draws the project's layer graph and reports editing gestures as signals."""

    #: A layer kind dropped: ``(kind, DropTarget)``.
    layer_dropped = Signal(str, object)
    #: A port drag from one box onto another: ``(source, target)`` names.
    connect_requested = Signal(str, str)
    #: Delete (or Backspace) pressed with boxes selected.
    delete_requested = Signal()
    #: Right-click: ``(path or "", global position)``.
    menu_requested = Signal(str, object)

    def __init__(self, document: ProjectDocument, selection: Selection,
                 inspection: LiveInspection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelGraph")
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._scene = QGraphicsScene(self)
        # A few hundred items at most, rebuilt on every edit: no index to keep (and arrows,
        # picked by their widened shape, are always found).
        self._scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.setScene(self._scene)
        self.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setAcceptDrops(True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self._document = document
        self._selection = selection
        self._inspection = inspection
        self.nodes: dict[str, NodeItem] = {}
        self.grid = HeadGrid(0, 1, 1, 0)
        self._columns: dict[str, int] = {}
        self.user_zoomed = False  # the user zoomed: keep the user's zoom until a fit
        self._identity = document.identity
        self._deferred = False  # a rebuild waits for the port drag under way
        self.gestures = Gestures(self, lambda: self.nodes,
                                 on_drop=lambda kind, where: self.layer_dropped.emit(kind, where),
                                 on_connect=self.connect_requested.emit)
        self._scene.selectionChanged.connect(self._on_scene_selection)
        document.changed.connect(self.rebuild)
        inspection.updated.connect(self.rebuild)
        selection.changed.connect(lambda _path: self._show_selection())
        selection.paths_changed.connect(self._show_selection)
        for keys, slot in (("Ctrl+0", self.zoom_to_fit), ("Ctrl+=", self.zoom_in),
                           ("Ctrl++", self.zoom_in), ("Ctrl+-", self.zoom_out)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self._build(fit=True)

    def node_by_name(self, name: str) -> NodeItem | None:
        return next((n for n in self.nodes.values() if n.node.name == name), None)

    def edges(self) -> list[tuple[str, str]]:
        """Every arrow drawn, as ``(source, target)`` names (buses not included)."""
        return sorted((i.source, i.target) for i in self._scene.items()
                      if isinstance(i, EdgeItem))

    def set_editable(self, editable: bool) -> None:
        """Off while training runs: no drops, port drags or deletions."""
        self.gestures.enabled = editable
        self.gestures.cancel()

    def _viewport_size(self) -> tuple[float, float]:
        """The room for the drawing: the viewport as it is without scroll bars."""
        size = self.maximumViewportSize()
        if size.width() < 100 or size.height() < 100:
            return DEFAULT_VIEWPORT
        return float(size.width()), float(size.height())

    # -- building ---------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Draw the project again: fitted when another project opened, else as it was."""
        if self.gestures.source is not None:
            self._deferred = True  # not under the pointer's port drag
            return
        opened = self._document.identity != self._identity
        if opened:
            self._identity = self._document.identity
            self.user_zoomed = False
            self._columns = {}
        self._build(fit=opened)

    def _build(self, fit: bool) -> None:
        project = self._document.project
        centre = self.mapToScene(self.viewport().rect().center())
        nodes = graph_nodes(project)
        rows, failing = self._inspection_rows()
        problems: dict[str, list[str]] = {}
        for problem in self._document.problems:
            owner = owning_item(problem.path)
            if owner:
                problems.setdefault(owner, []).append(str(problem))
        colours = project_head_colours(project)
        feeds = feeds_of(project)
        self.gestures.forget_items()
        self._scene.blockSignals(True)
        self._scene.clear()
        self.nodes = {}
        # Python keeps the items it made: an item whose Python object were freed would lose
        # its overrides (an arrow its wide pick shape, a bus its arrow heads).
        self._edges: list[QGraphicsItem] = []
        keep_rows = None if fit or self.grid.heads == 0 else self.grid.per_row
        layout = layout_nodes(nodes, self._viewport_size(), self._columns, keep_rows)
        self.grid, self._columns = layout.grid, layout.columns
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
            dangling = node.section in ("trunk", "head_layer") and not consumers(feeds, node.name)
            item = NodeItem(node, fill, shape_text, error, outline, dangling)
            item.setPos(layout.positions[node.path])
            self._scene.addItem(item)
            self.nodes[node.path] = item
        self._connect(list(self.nodes.values()))
        self._scene.blockSignals(False)
        # With the scene's signals on: the view learns its new size from sceneRectChanged.
        self._scene.setSceneRect(self._scene.itemsBoundingRect().adjusted(
            -MARGIN, -MARGIN, MARGIN, MARGIN))
        self._show_selection()
        if fit:
            self._fit()
        else:
            self.centerOn(centre)
            if not self.user_zoomed and self._fit_scale() < self.zoom - 1e-9:
                self._fit()  # the model outgrew the view

    def _connect(self, items: list[NodeItem]) -> None:
        """Arrows along the data flow; a bus from a node that feeds many heads."""
        by_name = {item.node.name: item for item in items}
        boxes = [item.sceneBoundingRect() for item in items]
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
            bus = BusItem(by_name[source].out_point(), [item.in_point() for item in firsts[source]])
            self._scene.addItem(bus)
            self._edges.append(bus)
        for item in items:
            for source_name in item.node.inputs:
                source = by_name.get(source_name)
                if source is None or (source_name in bussed and item in firsts[source_name]):
                    continue
                self._edges.append(add_edge(self._scene, source, item, boxes))

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

    def output_shapes(self) -> dict[str, tuple[int | None, ...] | None]:
        """The output shape of every box the latest inspection built, by name."""
        rows, _failing = self._inspection_rows()
        return {name: row.output_shape for name, row in rows.items()}

    # -- zoom -------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_to_fit(self) -> None:
        """Show the whole model again (down to :data:`MIN_FIT`), relaying out the heads."""
        self.user_zoomed = False
        self._build(fit=True)

    def zoom_in(self) -> None:
        self._zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self._zoom_by(1 / ZOOM_STEP)

    def _zoom_by(self, factor: float) -> None:
        factor = max(MIN_FIT / 2, min(MAX_ZOOM, self.zoom * factor)) / self.zoom
        self.scale(factor, factor)
        self.user_zoomed = True

    def _fit_scale(self) -> float:
        rect: QRectF = self._scene.sceneRect()
        if rect.isEmpty():
            return 1.0
        width, height = self._viewport_size()
        return max(min(width / rect.width(), height / rect.height(), 1.0), MIN_FIT)

    def _fit(self) -> None:
        scale = self._fit_scale()
        self.setTransform(QTransform.fromScale(scale, scale))

    def wheelEvent(self, event) -> None:  # noqa: ANN001
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self._zoom_by(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP)
            return
        super().wheelEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: ANN001
        if self.gestures.node_at(event.position()) is None:
            self.zoom_to_fit()
            return
        super().mouseDoubleClickEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        super().resizeEvent(event)
        if self.user_zoomed:
            return
        nodes = graph_nodes(self._document.project)
        layout = layout_nodes(nodes, self._viewport_size(), self._columns)
        if layout.grid.per_row != self.grid.per_row:
            self._build(fit=True)  # another number of heads per row fits the new size better
        else:
            self._fit()

    # -- gestures ---------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: ANN001
        if self.gestures.press(event.position(), event.button()):
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: ANN001
        if self.gestures.move(event.position()):
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: ANN001
        if self.gestures.release(event.position()):
            event.accept()
            if self._deferred:
                self._deferred = False
                self.rebuild()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: ANN001
        key = event.key()
        if key == Qt.Key.Key_Escape and self.gestures.source is not None:
            self.gestures.cancel()
            return
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.gestures.enabled:
            if self._selection.paths:
                self.delete_requested.emit()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event) -> None:  # noqa: ANN001
        node = self.gestures.node_at(QPointF(event.pos()))
        path = node.path if node is not None else ""
        if path and path not in self._selection.paths:
            self._selection.select(path)
        elif path:
            self._selection.select_many(self._selection.paths, current=path)
        self.menu_requested.emit(path, event.globalPos())

    def dragEnterEvent(self, event) -> None:  # noqa: ANN001
        self.dragMoveEvent(event)

    def dragMoveEvent(self, event) -> None:  # noqa: ANN001
        if self.gestures.drag_move(event.mimeData(), event.position()):
            event.setDropAction(Qt.DropAction.CopyAction)  # the palette keeps its entry
            event.accept()
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:  # noqa: ANN001
        self.gestures.drag_leave()
        event.accept()

    def dropEvent(self, event) -> None:  # noqa: ANN001
        if self.gestures.drop(event.mimeData(), event.position()):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    # -- selection --------------------------------------------------------------------------
    def _on_scene_selection(self) -> None:
        paths = [i.path for i in self._scene.selectedItems() if isinstance(i, NodeItem)]
        self._selection.select_many(paths)

    def _show_selection(self) -> None:
        chosen = set(self._selection.paths)
        self._scene.blockSignals(True)
        for node_path, item in self.nodes.items():
            item.setSelected(node_path in chosen)
        self._scene.blockSignals(False)
        self._scene.update()
        item = self.nodes.get(self._selection.path)
        if item is not None and len(chosen) == 1:
            self.ensureVisible(item, 20, 20)
