"""Shape inspector: rows from the live inspection, debounced updates, shared selection."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from mogui.qt.inspection import DEBOUNCE_MS
from tests.qt.conftest import wait_for_shapes

pytestmark = pytest.mark.gui


def test_rows_show_every_layer_with_shape_and_params(window):
    inspector = window.editor.inspector
    rows = inspector.row_texts()
    assert [r[0] for r in rows] == ["image", "conv1", "pool1", "conv2", "pool2", "conv3",
                                    "pool3", "flatten", "shared_dense", "bbox_hidden", "bbox",
                                    "class_hidden", "classification"]
    assert inspector.row_of("image")[2] == "(None, 32, 32, 1)"
    assert inspector.row_of("flatten")[2] == "(None, 512)"
    assert inspector.row_of("bbox") == ["bbox", "Dense", "(None, 4)", "260", "head bbox"]
    total = window.editor.inspection.inspection.total_params
    assert inspector.status.text() == f"Total parameters: {total:,}"


def test_rapid_edits_are_inspected_once(qtbot, window):
    editor = window.editor
    with qtbot.waitSignal(editor.inspection.updated, timeout=30_000):
        for units in (10, 20, 30):
            window.document.edit("units", lambda p, u=units: p.trunk[7].params.update(units=u))
        assert editor.inspection.pending
    wait_for_shapes(qtbot, editor)
    assert editor.inspector.row_of("shared_dense")[2] == "(None, 30)"
    updates = []
    editor.inspection.updated.connect(lambda: updates.append(1))
    qtbot.wait(DEBOUNCE_MS * 3)  # no second inspection follows
    assert updates == []


def test_selection_is_shared_by_table_tree_graph_and_form(qtbot, window):
    editor = window.editor
    table = editor.inspector.table
    row = [r[0] for r in editor.inspector.row_texts()].index("class_hidden")
    rect = table.visualRect(table.model().index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert editor.selection.path == "heads[1].layers[0]"
    assert editor.tree.currentItem().text(0) == "class_hidden"
    assert editor.graph.nodes["heads[1].layers[0]"].isSelected()
    assert editor.form.editor("name").text() == "class_hidden"

    editor.tree.setCurrentItem(editor.tree.item_for("trunk[2]"))
    assert editor.selection.path == "trunk[2]"
    assert table.item(table.currentRow(), 0).text() == "conv2"
    assert editor.graph.nodes["trunk[2]"].isSelected()

    node = editor.graph.nodes["heads[0]"]
    editor.graph.ensureVisible(node)
    centre = editor.graph.mapFromScene(node.sceneBoundingRect().center())
    qtbot.mouseClick(editor.graph.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert editor.selection.path == "heads[0]"
    assert [i.text() for i in table.selectedItems()][0] == "bbox"
    assert editor.tree.currentItem().text(0) == "bbox"
    assert not editor.graph.nodes["trunk[2]"].isSelected()


def test_failing_layer_is_shown_inline(qtbot, window):
    editor = window.editor
    window.document.edit("misfit", lambda p: setattr(p.trunk[7], "kind", "LSTM")
                         or setattr(p.trunk[7], "params", {}))
    wait_for_shapes(qtbot, editor)
    row = editor.inspector.row_of("shared_dense")
    assert row[1] == "LSTM"
    assert "shared_dense" in row[2] and "(None, 512)" in row[2]
    failing = editor.inspector.table.item(8, 2)
    assert failing.toolTip() == row[2]
    assert editor.inspector.status.text().startswith("The model cannot be built:")
    assert window.problems_label.text().startswith("Cannot train: the model cannot be built:")
