"""Real mouse, key and drag-and-drop events for the graph canvas tests."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

from mogui.core.project import HeadSpec, InputSpec, Project
from mogui.qt.layer_palette import LayerPalette
from mogui.qt.model_graph import ModelGraph

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.MouseButton.NoButton


def blank_project() -> Project:
    """A blank project: one input and one head, nothing between them."""
    return Project(name="Blank", inputs=[InputSpec(name="x", shape=[8])],
                   heads=[HeadSpec(name="y", task="regression", units=1)])


def at(graph: ModelGraph, scene_point: QPointF) -> QPoint:
    """The viewport point showing ``scene_point``."""
    return graph.mapFromScene(scene_point)


def mouse(graph: ModelGraph, kind: QEvent.Type, pos: QPoint, button: Qt.MouseButton = LEFT,
          buttons: Qt.MouseButton = LEFT,
          modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    viewport = graph.viewport()
    event = QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)), button,
                        buttons, modifiers)
    QApplication.sendEvent(viewport, event)


def drag(graph: ModelGraph, start: QPoint, end: QPoint, steps: int = 6) -> None:
    """Press at ``start``, move to ``end`` with the button held, release there."""
    mouse(graph, QEvent.Type.MouseButtonPress, start)
    for step in range(1, steps + 1):
        point = start + (end - start) * (step / steps)
        mouse(graph, QEvent.Type.MouseMove, point, NONE, LEFT)
    mouse(graph, QEvent.Type.MouseButtonRelease, end, LEFT, NONE)


def click(graph: ModelGraph, pos: QPoint,
          modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    mouse(graph, QEvent.Type.MouseButtonPress, pos, modifiers=modifiers)
    mouse(graph, QEvent.Type.MouseButtonRelease, pos, LEFT, NONE, modifiers)


def connect_by_drag(graph: ModelGraph, source: str, target: str) -> None:
    """Drag from ``source``'s output port onto the middle of ``target``'s box."""
    start = at(graph, graph.node_by_name(source).out_point())
    end = at(graph, graph.node_by_name(target).sceneBoundingRect().center())
    drag(graph, start, end)


def drop_from_palette(palette: LayerPalette, graph: ModelGraph, kind: str, pos: QPoint) -> bool:
    """Drag ``kind`` as the palette offers it over the graph and drop it at ``pos``; returns
    whether the graph accepted the drag."""
    mime = palette.tree.mimeData([palette.item_for(kind)])
    viewport = graph.viewport()
    copy = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(pos, copy, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, enter)
    move = QDragMoveEvent(pos, copy, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, move)
    if not move.isAccepted():
        return False
    drop = QDropEvent(QPointF(pos), copy, mime, LEFT, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)
    return drop.isAccepted()
