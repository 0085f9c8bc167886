"""The editable graph: palette drops, port drags, Delete, rubber band, context menu, zoom.

Every gesture is made with real events (mouse, keys, drag and drop) on the real widgets, and
each is one step on the undo stack that undo and redo take back and forth.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragMoveEvent
from PySide6.QtWidgets import QApplication, QDialog

from mogui.qt.document import ProjectDocument
from mogui.qt.graph_edits import feeds_of
from mogui.qt.model_dialogs import AddHeadDialog, RenameDialog
from mogui.qt.model_editor import ModelEditor
from tests.qt.canvas_helpers import (
    at,
    blank_project,
    click,
    connect_by_drag,
    drag,
    drop_from_palette,
)
from tests.qt.conftest import wait_for_shapes

pytestmark = pytest.mark.gui


@pytest.fixture
def editor(qtbot, dialogs) -> Iterator[ModelEditor]:
    """The model editor on a blank project (x -> y), shapes computed."""
    widget = ModelEditor(ProjectDocument(blank_project()))
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    wait_for_shapes(qtbot, widget)
    yield widget
    widget.inspection.wait()


def feeds(editor: ModelEditor) -> dict[str, tuple[str, ...]]:
    return feeds_of(editor.document.project)


def undo_redo(qtbot, editor: ModelEditor, before: dict, after: dict) -> None:
    """One undo gives ``before`` back, one redo ``after``; the graph follows both."""
    stack = editor.document.undo_stack
    stack.undo()
    assert feeds(editor) == before
    assert sorted(editor.graph.edges()) == sorted(
        (s, t) for t, sources in before.items() for s in sources)
    stack.redo()
    assert feeds(editor) == after
    wait_for_shapes(qtbot, editor)


def edge_point(editor: ModelEditor, source: str, target: str) -> QPoint:
    """The viewport point in the middle of the arrow ``source`` -> ``target``."""
    graph = editor.graph
    edge = next(item for item in graph.scene().items()
                if getattr(item, "source", None) == source
                and getattr(item, "target", None) == target)
    return at(graph, edge.path().pointAtPercent(0.5))


def test_palette_search_lists_matching_kinds_and_enter_inserts_the_best(qtbot, editor):
    palette = editor.palette
    qtbot.keyClicks(palette.search, "norm")
    assert palette.visible_kinds() == ["BatchNormalization", "LayerNormalization",
                                       "Normalization"]
    palette.search.clear()
    qtbot.keyClicks(palette.search, "zzz")
    assert palette.visible_kinds() == [] and palette.empty.isVisible()
    palette.search.clear()
    qtbot.keyClicks(palette.search, "drop")
    editor.selection.select("inputs[0]")
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)  # after the selected box
    assert feeds(editor) == {"x": (), "dropout": ("x",), "y": ("dropout",)}
    assert editor.selection.path == "trunk[0]"


def test_drop_on_an_arrow_inserts_between_undo_and_redo(qtbot, editor):
    before = feeds(editor)
    count = editor.document.undo_stack.count()
    assert drop_from_palette(editor.palette, editor.graph, "Dense",
                             edge_point(editor, "x", "y"))
    after = {"x": (), "dense": ("x",), "y": ("dense",)}
    assert feeds(editor) == after
    assert editor.document.undo_stack.count() == count + 1  # one gesture, one step
    wait_for_shapes(qtbot, editor)
    assert editor.inspector.row_of("dense")[2] == "(None, 64)"  # the shape checks ran
    assert editor.graph.node_by_name("dense").isSelected()
    undo_redo(qtbot, editor, before, after)


def test_drop_on_a_box_inserts_after_it_and_on_the_background_starts_a_branch(qtbot, editor):
    graph = editor.graph
    x_box = graph.node_by_name("x")
    assert drop_from_palette(editor.palette, graph, "Dense",
                             at(graph, x_box.sceneBoundingRect().center()))
    assert feeds(editor) == {"x": (), "dense": ("x",), "y": ("dense",)}
    before = feeds(editor)
    x_box = graph.node_by_name("x")  # the graph is drawn anew after each edit
    beside = x_box.out_point() + QPointF(260, 40)  # empty canvas below-right of x
    assert graph.gestures.node_at(QPointF(at(graph, beside))) is None
    assert drop_from_palette(editor.palette, graph, "Dense", at(graph, beside))
    after = {**before, "dense_2": ("x",)}
    assert feeds(editor) == after
    assert graph.node_by_name("dense_2").dangling  # feeds nothing yet: dashed outline
    undo_redo(qtbot, editor, before, after)


def test_a_drag_without_a_layer_kind_is_not_accepted(editor):
    mime = QMimeData()
    mime.setText("Dense")
    event = QDragMoveEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                           Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(editor.graph.viewport(), event)
    assert not event.isAccepted()


def _two_branches(editor: ModelEditor) -> None:
    """x -> dense -> y and a branch x -> dense_2, made on the canvas."""
    graph = editor.graph
    drop_from_palette(editor.palette, graph, "Dense", edge_point(editor, "x", "y"))
    beside = graph.node_by_name("x").out_point() + QPointF(260, 40)
    drop_from_palette(editor.palette, graph, "Dense", at(graph, beside))


def test_port_drag_onto_a_taken_input_makes_a_merge(qtbot, editor):
    _two_branches(editor)
    wait_for_shapes(qtbot, editor)
    before = feeds(editor)
    connect_by_drag(editor.graph, "dense_2", "y")
    after = {**before, "add": ("dense", "dense_2"), "y": ("add",)}  # same shapes: Add
    assert feeds(editor) == after
    assert editor.selection.path == "trunk[2]" and editor.canvas.message == ""
    wait_for_shapes(qtbot, editor)
    assert editor.inspector.row_of("add")[2] == "(None, 64)"
    undo_redo(qtbot, editor, before, after)


def test_port_drag_into_a_merge_adds_an_input_and_other_shapes_concatenate(qtbot, editor):
    _two_branches(editor)
    editor.document.edit("units", lambda p: p.trunk[0].params.update(units=16))
    wait_for_shapes(qtbot, editor)
    connect_by_drag(editor.graph, "dense_2", "y")
    assert feeds(editor)["concatenate"] == ("dense", "dense_2")  # 64 and 16 wide
    connect_by_drag(editor.graph, "x", "concatenate")  # a merge takes one more input
    assert feeds(editor)["concatenate"] == ("dense", "dense_2", "x")
    wait_for_shapes(qtbot, editor)
    assert editor.inspector.row_of("concatenate")[2] == "(None, 88)"


def test_a_refused_connection_says_why_and_changes_nothing(qtbot, editor):
    _two_branches(editor)
    count = editor.document.undo_stack.count()
    before = feeds(editor)
    connect_by_drag(editor.graph, "dense", "x")
    assert "is an input" in editor.canvas.message
    assert editor.canvas_message.isVisible()
    assert feeds(editor) == before and editor.document.undo_stack.count() == count
    drag(editor.graph, at(editor.graph, editor.graph.node_by_name("dense").out_point()),
         QPoint(3, 3))  # released on the background: nothing
    assert feeds(editor) == before
    connect_by_drag(editor.graph, "dense_2", "y")
    assert editor.canvas.message == ""  # the next edit clears it


def test_rubber_band_selects_boxes_and_delete_removes_them_in_one_step(qtbot, editor):
    _two_branches(editor)
    wait_for_shapes(qtbot, editor)
    graph = editor.graph
    before = feeds(editor)
    boxes = [graph.node_by_name(n).sceneBoundingRect() for n in ("dense", "dense_2")]
    band = boxes[0].united(boxes[1]).adjusted(-4, -4, 4, 4)
    drag(graph, at(graph, band.topLeft()) - QPoint(0, 0), at(graph, band.bottomRight()))
    assert sorted(editor.selection.paths) == ["trunk[0]", "trunk[1]"]
    assert all(graph.node_by_name(n).isSelected() for n in ("dense", "dense_2"))
    graph.setFocus()
    count = editor.document.undo_stack.count()
    qtbot.keyClick(graph, Qt.Key.Key_Delete)
    assert feeds(editor) == {"x": (), "y": ("x",)}
    assert editor.document.undo_stack.count() == count + 1
    assert editor.selection.paths == []
    undo_redo(qtbot, editor, before, {"x": (), "y": ("x",)})


def test_ctrl_click_adds_to_the_selection_and_delete_refuses_an_input(qtbot, editor):
    _two_branches(editor)
    graph = editor.graph
    click(graph, at(graph, graph.node_by_name("dense").sceneBoundingRect().center()))
    click(graph, at(graph, graph.node_by_name("x").sceneBoundingRect().center()),
          Qt.KeyboardModifier.ControlModifier)
    assert sorted(editor.selection.paths) == ["inputs[0]", graph.node_by_name("dense").path]
    before = feeds(editor)
    graph.setFocus()
    qtbot.keyClick(graph, Qt.Key.Key_Delete)
    assert feeds(editor) == before
    assert "x is an input" in editor.canvas.message
    editor.selection.select("heads[0]")
    qtbot.keyClick(graph, Qt.Key.Key_Delete)
    assert "last head" in editor.canvas.message and feeds(editor) == before


def test_context_menu_insert_after_rename_add_head_and_remove(qtbot, editor, monkeypatch):
    _two_branches(editor)
    graph, canvas, stack = editor.graph, editor.canvas, editor.document.undo_stack
    editor.selection.select("trunk[1]")  # dense
    menu = canvas.menu_for("trunk[1]")
    texts = [action.text() for action in menu.actions()]
    assert texts == ["Add a head here…", "Insert after", "Rename…", "Remove"]
    before = feeds(editor)
    menu.findChild(type(menu.actions()[0]), "insertAfter_Dropout").trigger()
    after = dict(before)
    after.update({"dropout": ("dense",), "y": ("dropout",)})
    assert feeds(editor) == after
    undo_redo(qtbot, editor, before, after)

    def rename(dialog: RenameDialog) -> int:
        dialog.name_edit.setText("wide")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(RenameDialog, "exec", rename)
    editor.selection.select("trunk[1]")
    next(a for a in canvas.menu_for("trunk[1]").actions() if a.text() == "Rename…").trigger()
    assert "wide" in feeds(editor) and feeds(editor)["dropout"] == ("wide",)
    stack.undo()
    assert "dense" in feeds(editor)
    stack.redo()

    def new_head(dialog: AddHeadDialog) -> int:
        dialog.name_edit.setText("side")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(AddHeadDialog, "exec", new_head)
    path = graph.node_by_name("dense_2").path
    next(a for a in canvas.menu_for(path).actions() if a.text() == "Add a head here…").trigger()
    assert feeds(editor)["side"] == ("dense_2",)
    assert editor.document.project.heads[1].source == "dense_2"
    stack.undo()
    assert "side" not in feeds(editor)
    stack.redo()
    head_menu = canvas.menu_for("heads[1]")
    assert not next(a for a in head_menu.actions() if a.text() == "Insert after").isEnabled()
    editor.selection.select("heads[1]")
    next(a for a in head_menu.actions() if a.text() == "Remove").trigger()
    assert "side" not in feeds(editor)
    stack.undo()
    assert "side" in feeds(editor)


def test_zoom_keys_wheel_and_fit(qtbot, editor):
    graph = editor.graph
    fitted = graph.zoom
    graph.setFocus()
    qtbot.keyClick(graph, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert graph.zoom == pytest.approx(fitted * 1.15) and graph.user_zoomed
    qtbot.keyClick(graph, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(graph, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert graph.zoom == pytest.approx(fitted / 1.15)
    drop_from_palette(editor.palette, graph, "Dense", edge_point(editor, "x", "y"))
    assert graph.zoom == pytest.approx(fitted / 1.15)  # an edit keeps the zoom
    qtbot.keyClick(graph, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert not graph.user_zoomed and graph.zoom == pytest.approx(fitted)
    texts = [a.text() for a in editor.canvas.menu_for("").actions()]
    assert texts[0].startswith("Fit to view")


def test_boxes_stay_where_they_were_after_edits(qtbot, editor):
    _two_branches(editor)
    wait_for_shapes(qtbot, editor)  # the merge's kind follows the shapes
    graph = editor.graph
    where = {name: graph.node_by_name(name).pos() for name in ("x", "dense", "dense_2")}
    connect_by_drag(graph, "dense_2", "y")  # a merge below: the boxes above do not move
    for name, pos in where.items():
        assert graph.node_by_name(name).pos() == pos, name
    y_pos = graph.node_by_name("y").pos()
    drop_from_palette(editor.palette, graph, "Dropout", edge_point(editor, "dense", "add"))
    assert graph.node_by_name("dense").pos() == where["dense"]
    assert graph.node_by_name("dense_2").pos() == where["dense_2"]
    assert graph.node_by_name("y").pos().x() == y_pos.x()  # one level lower, same column
    assert graph.node_by_name("y").pos().y() > y_pos.y()


def test_a_locked_editor_takes_no_canvas_edits(qtbot, editor):
    editor.set_locked(True)
    before = feeds(editor)
    assert not drop_from_palette(editor.palette, editor.graph, "Dense",
                                 edge_point(editor, "x", "y"))
    editor.canvas.connect_boxes("x", "y")
    assert feeds(editor) == before
    assert "locked" in editor.canvas.message
