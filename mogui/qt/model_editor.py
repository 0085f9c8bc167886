"""The model editor: tree, layer palette, graph canvas, shape inspector and property form
around one selection."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from mogui.core.demo_targets import unused_demo_quantities
from mogui.core.project import DemoShapesData, Project
from mogui.core.validation import name_problem
from mogui.qt.canvas_edits import CanvasEdits
from mogui.qt.document import ProjectDocument
from mogui.qt.graph_edits import EditRefused, remove_boxes
from mogui.qt.inspection import LiveInspection
from mogui.qt.layer_form import LayerForm
from mogui.qt.layer_palette import LayerPalette
from mogui.qt.model_dialogs import AddHeadDialog, AddLayerDialog, RenameDialog
from mogui.qt.model_edits import (
    add_head,
    add_head_layer,
    add_input,
    add_trunk_layer,
    item_at,
    move_item,
    parse_path,
    remove_item,
    rename_item,
    unique_name,
)
from mogui.qt.model_graph import ModelGraph
from mogui.qt.model_tree import ModelTree
from mogui.qt.selection import Selection
from mogui.qt.shape_inspector import ShapeInspector

LOCK_MESSAGE = "Training in progress: model edits are locked until it stops"


class ModelEditor(QWidget):
    """Every structural edit goes through ``document.edit`` and then selects what it made."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelEditor")
        self.document = document
        self.selection = Selection(self)
        self.inspection = LiveInspection(document, self)
        self.locked = False

        self.banner = QLabel(LOCK_MESSAGE, objectName="trainingLockBanner")
        self.banner.setStyleSheet("background: #fff3cd; color: #7a5300; padding: 6px; "
                                  "border: 1px solid #e0c060; font-weight: bold;")
        self.banner.hide()
        self.tree = ModelTree(document, self.selection)
        # Delete in the tree removes the selected item, as the Remove button does.
        for key in (QKeySequence.StandardKey.Delete, QKeySequence(Qt.Key.Key_Backspace)):
            remove = QShortcut(key, self.tree)
            remove.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            remove.activated.connect(self.remove_selected)
        self.graph = ModelGraph(document, self.selection, self.inspection)
        self.palette = LayerPalette()
        self.canvas_message = QLabel(objectName="canvasMessage", wordWrap=True)
        self.canvas_message.setStyleSheet("color: #b71c1c; padding: 2px 4px;")
        self.canvas = CanvasEdits(document, self.selection, self.graph, self.palette,
                                  self.canvas_message, locked=lambda: self.locked,
                                  add_head=self.add_head, rename=self.rename_selected,
                                  parent=self)
        self.inspector = ShapeInspector(document, self.selection, self.inspection)
        self.form = LayerForm(document, self.selection)

        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        specs = [
            ("addInputButton", "Add input", self.add_input),
            ("addLayerButton", "Add trunk layer", self.add_trunk_layer),
            ("addHeadButton", "Add head", self.add_head),
            ("addHeadLayerButton", "Add layer to head", self.add_head_layer),
            ("renameButton", "Rename…", self.rename_selected),
            ("removeButton", "Remove", self.remove_selected),
            ("moveUpButton", "Move up", lambda: self.move_selected(-1)),
            ("moveDownButton", "Move down", lambda: self.move_selected(1)),
        ]
        for i, (name, text, slot) in enumerate(specs):
            button = QPushButton(text, objectName=name)
            button.clicked.connect(lambda _checked=False, s=slot: s())
            grid.addWidget(button, i // 2, i % 2)
            self.buttons[name] = button
            action = QAction(text, self)
            action.triggered.connect(lambda _checked=False, s=slot: s())
            self.tree.addAction(action)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        left_top = QWidget()
        left_layout = QVBoxLayout(left_top)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.tree)
        left_layout.addLayout(grid)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(left_top)
        left.addWidget(scroll)
        left.setSizes([430, 330])
        canvas = QWidget(objectName="graphCanvas")
        canvas_layout = QVBoxLayout(canvas)
        canvas_layout.setContentsMargins(0, 0, 0, 0)
        canvas_layout.setSpacing(2)
        canvas_layout.addWidget(self.graph, 1)
        canvas_layout.addWidget(self.canvas_message)
        middle = QSplitter(Qt.Orientation.Horizontal, objectName="canvasSplitter")
        middle.addWidget(self.palette)
        middle.addWidget(canvas)
        middle.setStretchFactor(0, 1)  # a smaller window takes a little from the palette
        middle.setStretchFactor(1, 5)
        middle.setSizes([140, 440])
        splitter = QSplitter(Qt.Orientation.Horizontal, objectName="modelSplitter")
        splitter.addWidget(left)
        splitter.addWidget(middle)
        splitter.addWidget(self.inspector)
        # A smaller window takes from the canvas and the shape table; the left column, with
        # its buttons and form, keeps its width.
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 2)
        splitter.setSizes([320, 580, 500])
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)  # one line: the splitter takes the height
        layout.addWidget(splitter, 1)

        self.selection.changed.connect(lambda _path: self._update_buttons())
        document.changed.connect(self._after_change)
        self._update_buttons()

    # -- edits ------------------------------------------------------------------------------
    def _edit(self, text: str, mutate: Callable[[Project], str | None]) -> None:
        if self.locked:
            return
        made: list[str | None] = []
        self.document.edit(text, lambda project: made.append(mutate(project)))
        if made and made[0]:
            self.selection.select(made[0])

    def add_input(self) -> None:
        name = unique_name(self.document.project, "input")
        self._edit(f"Add input {name}", lambda p: add_input(p, name, [8]))

    def _ask_layer(self, title: str) -> tuple[str, str] | None:
        project = self.document.project
        dialog = AddLayerDialog(title, lambda kind: unique_name(project, kind), self,
                                project=project)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.values()

    def add_trunk_layer(self) -> None:
        ref = parse_path(self.selection.path)
        after = ref.index if ref is not None and ref.section == "trunk" else None
        answer = self._ask_layer("Add trunk layer")
        if answer:
            kind, name = answer
            self._edit(f"Add {kind} {name}", lambda p: add_trunk_layer(p, kind, name, after))

    def add_head(self, source: str | None = None) -> None:
        """Ask for a new head; ``source``: the input or trunk layer it starts from."""
        project = self.document.project
        offered = (unused_demo_quantities(project)
                   if isinstance(project.data, DemoShapesData) else None)
        dialog = AddHeadDialog(unique_name(project, "head"), self, offered,
                               lambda base: unique_name(project, base), project=project)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        name, task, units = dialog.values()
        target = dialog.demo_target()
        def make(p: Project) -> str:
            path = add_head(p, name, task, units, target)
            p.heads[-1].source = source
            return path

        self._edit(f"Add head {name}", make)

    def add_head_layer(self) -> None:
        ref = parse_path(self.selection.path)
        if ref is None or ref.section not in ("head", "head_layer"):
            return
        head = ref.index if ref.section == "head" else ref.head
        after = ref.index if ref.section == "head_layer" else None
        answer = self._ask_layer(f"Add layer to head {self.document.project.heads[head].name}")
        if answer:
            kind, name = answer
            self._edit(f"Add {kind} {name}",
                       lambda p: add_head_layer(p, head, kind, name, after))

    def remove_selected(self) -> None:
        path = self.selection.path
        item = item_at(self.document.project, path)
        if item is None or not self._can_remove(path):
            return
        if parse_path(path).section == "input":
            self._edit(f"Remove {item.name}", lambda p: remove_item(p, path))
            return
        # As Delete on the graph: what the layer fed takes its input instead.
        self._edit(f"Remove {item.name}", lambda p: _remove_box(p, item.name, path))

    def rename_selected(self, new_name: str | None = None) -> None:
        path = self.selection.path
        item = item_at(self.document.project, path)
        if item is None:
            return
        if new_name is None:
            dialog = RenameDialog(self.document.project, path, item.name, self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            new_name = dialog.name()
        if name_problem(self.document.project, new_name, path) is None \
                and new_name != item.name:
            self._edit(f"Rename {item.name} to {new_name}",
                       lambda p: rename_item(p, path, new_name) or path)

    def move_selected(self, offset: int) -> None:
        path = self.selection.path
        item = item_at(self.document.project, path)
        if item is not None:
            self._edit(f"Move {item.name}", lambda p: move_item(p, path, offset))

    # -- state ------------------------------------------------------------------------------
    def set_locked(self, locked: bool) -> None:
        """Make the editor read-only (while training runs) with a visible banner."""
        self.locked = locked
        self.banner.setVisible(locked)
        self.form.setEnabled(not locked)
        self.palette.setEnabled(not locked)
        self.graph.set_editable(not locked)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu if locked
                                       else Qt.ContextMenuPolicy.ActionsContextMenu)
        self._update_buttons()

    def _can_remove(self, path: str) -> bool:
        ref = parse_path(path)
        project = self.document.project
        if ref is None:
            return False
        if ref.section == "input":
            return len(project.inputs) > 1
        if ref.section == "head":
            return len(project.heads) > 1
        return True

    def _after_change(self) -> None:
        project = self.document.project
        kept = [path for path in self.selection.paths if item_at(project, path) is not None]
        if kept != self.selection.paths:
            self.selection.select_many(kept)
        self._update_buttons()

    def _update_buttons(self) -> None:
        ref = parse_path(self.selection.path)
        has_item = item_at(self.document.project, self.selection.path) is not None
        enabled = {
            "addInputButton": True,
            "addLayerButton": True,
            "addHeadButton": True,
            "addHeadLayerButton": ref is not None and ref.section in ("head", "head_layer"),
            "renameButton": has_item,
            "removeButton": has_item and self._can_remove(self.selection.path),
            "moveUpButton": has_item,
            "moveDownButton": has_item,
        }
        for name, button in self.buttons.items():
            button.setEnabled(enabled[name] and not self.locked)


def _remove_box(project: Project, name: str, path: str) -> None:
    """Remove a layer or head as the graph does, rewiring what it fed; by its place alone
    when names are not unique (the graph then refuses to)."""
    try:
        remove_boxes(project, [name])
    except EditRefused:
        remove_item(project, path)
