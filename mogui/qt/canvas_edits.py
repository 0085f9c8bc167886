"""The canvas' gestures made into edits: one undoable step each, or a message saying why not.

Listens to the graph's and the palette's signals and applies :mod:`mogui.qt.graph_edits`
through :meth:`ProjectDocument.edit`, so each gesture is one step on the undo stack and the
live shape checks run after it. A refused edit changes nothing; the reason shows under the
graph (``canvasMessage``) until the next edit. Builds the graph's context menu.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QPoint
from PySide6.QtWidgets import QLabel, QMenu, QWidget

from mogui.core.layers import LAYER_KINDS
from mogui.core.project import Project
from mogui.qt.document import ProjectDocument
from mogui.qt.graph_edits import (
    EditRefused,
    add_branch,
    connect,
    insert_after,
    insert_on_edge,
    remove_boxes,
)
from mogui.qt.graph_gestures import DropTarget
from mogui.qt.layer_palette import LayerPalette
from mogui.qt.model_edits import add_trunk_layer, item_at, parse_path, unique_name
from mogui.qt.model_graph import ModelGraph
from mogui.qt.selection import Selection

LOCKED = "Training in progress: model edits are locked until it stops."


class CanvasEdits(QObject):
    """Turns drops, port drags, Delete and context-menu choices into document edits."""

    def __init__(self, document: ProjectDocument, selection: Selection, graph: ModelGraph,
                 palette: LayerPalette, message: QLabel, *, locked: Callable[[], bool],
                 add_head: Callable[[str | None], None], rename: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._selection = selection
        self._graph = graph
        self._message = message
        self._locked = locked
        self._add_head = add_head
        self._rename = rename
        graph.layer_dropped.connect(self.drop)
        graph.connect_requested.connect(self.connect_boxes)
        graph.delete_requested.connect(self.delete_selected)
        graph.menu_requested.connect(self._show_menu)
        palette.activated.connect(self.insert_kind)
        self.show_message("")

    # -- messages ---------------------------------------------------------------------------
    @property
    def message(self) -> str:
        return self._message.text()

    def show_message(self, text: str) -> None:
        self._message.setText(text)
        self._message.setVisible(bool(text))

    # -- edits ------------------------------------------------------------------------------
    def _apply(self, text: str, mutate: Callable[[Project], str | None]) -> bool:
        """One undoable edit; ``mutate`` returns the path to select. False when refused."""
        if self._locked():
            self.show_message(LOCKED)
            return False
        made: list[str | None] = []
        try:
            self._document.edit(text, lambda project: made.append(mutate(project)))
        except EditRefused as exc:
            self.show_message(str(exc))
            return False
        self.show_message("")
        if made and made[0]:
            self._selection.select(made[0])
        return True

    def drop(self, kind: str, where: DropTarget) -> bool:
        """A layer kind dropped on the graph (see :class:`DropTarget`)."""
        name = unique_name(self._document.project, kind)
        if where.how == "edge":
            return self._apply(f"Insert {name} between {where.node} and {where.target}",
                               lambda p: insert_on_edge(p, kind, name, where.node,
                                                        where.target))
        if where.how == "after":
            return self._apply(f"Insert {name} after {where.node}",
                               lambda p: insert_after(p, kind, name, where.node))
        return self._apply(f"Add {name} from {where.node}",
                           lambda p: add_branch(p, kind, name, where.node))

    def insert_kind(self, kind: str) -> bool:
        """From the palette without dragging: after the selected box, else at the trunk's end."""
        item = self._graph.nodes.get(self._selection.path)
        if item is None:
            name = unique_name(self._document.project, kind)
            return self._apply(f"Add {name}", lambda p: add_trunk_layer(p, kind, name))
        if item.node.section == "head":
            feeds = item.node.inputs
            return bool(feeds) and self.drop(kind, DropTarget("edge", feeds[0], item.name))
        return self.drop(kind, DropTarget("after", item.name))

    def connect_boxes(self, source: str, target: str) -> bool:
        shapes = self._graph.output_shapes()
        return self._apply(f"Connect {source} to {target}",
                           lambda p: connect(p, source, target, shapes))

    def delete_selected(self) -> bool:
        """Remove every selected box (one step); inputs and the last head are refused."""
        project = self._document.project
        names = [item.name for path in self._selection.paths
                 if (item := item_at(project, path)) is not None]
        if not names:
            return False
        text = f"Remove {names[0]}" if len(names) == 1 else f"Remove {len(names)} items"
        if self._apply(text, lambda p: remove_boxes(p, names)):
            self._selection.select("")
            return True
        return False

    # -- context menu -----------------------------------------------------------------------
    def menu_for(self, path: str, parent: QWidget | None = None) -> QMenu:
        """The graph's context menu for the box at ``path`` (``""``: the background)."""
        menu = QMenu(parent or self._graph)
        menu.setObjectName("graphContextMenu")
        ref = parse_path(path)
        item = self._graph.nodes.get(path)
        if ref is None or item is None:
            for text, slot in (("Fit to view\tCtrl+0", self._graph.zoom_to_fit),
                               ("Zoom in\tCtrl+=", self._graph.zoom_in),
                               ("Zoom out\tCtrl+-", self._graph.zoom_out)):
                menu.addAction(text, slot)
            return menu
        name, editable = item.name, not self._locked()
        head_here = menu.addAction("Add a head here…", lambda: self._add_head(name))
        head_here.setObjectName("menuAddHeadHere")
        head_here.setEnabled(editable and ref.section in ("input", "trunk"))
        if ref.section not in ("input", "trunk"):
            head_here.setToolTip("A head starts from an input or a trunk layer")
        after = menu.addMenu("Insert after")
        after.setObjectName("menuInsertAfter")
        after.setEnabled(editable and ref.section != "head")
        groups: dict[str, QMenu] = {}
        for kind in sorted(LAYER_KINDS.values(), key=lambda k: (k.category, k.name)):
            group = groups.get(kind.category) or after.addMenu(kind.category)
            groups[kind.category] = group
            action = group.addAction(kind.name, lambda k=kind.name: self.drop(
                k, DropTarget("after", name)))
            action.setObjectName(f"insertAfter_{kind.name}")
            action.setToolTip(kind.summary)
        rename = menu.addAction("Rename…", self._rename)
        rename.setObjectName("menuRename")
        rename.setEnabled(editable)
        count = len(self._selection.paths)
        remove = menu.addAction("Remove" if count <= 1 else f"Remove {count} items",
                                self.delete_selected)
        remove.setObjectName("menuRemove")
        remove.setEnabled(editable)
        return menu

    def _show_menu(self, path: str, position: QPoint) -> None:
        menu = self.menu_for(path)
        menu.exec(position)
        menu.deleteLater()
