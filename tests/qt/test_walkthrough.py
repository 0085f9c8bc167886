"""A new user's walkthrough: from a blank project to a trained two-branch model, on the canvas.

The project has one input (eight numbers from a CSV) and one regression head, nothing between
them. On the model graph the user drags a Dense layer onto the arrow, drops a second Dense
beside the input (a branch), narrows it in the form, drags its output onto the head (a
Concatenate appears), reads the shapes, and trains one epoch from the Training tab.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QPushButton, QSpinBox

from mogui.core.project import ColumnMap, CsvData, HeadLoss, HeadSpec, InputSpec, Project
from mogui.qt.document import ProjectDocument
from mogui.qt.graph_edits import feeds_of
from mogui.qt.main_window import MainWindow
from mogui.qt.model_editor import ModelEditor
from tests.qt.canvas_helpers import at, connect_by_drag, drop_from_palette
from tests.qt.conftest import wait_for_shapes

pytestmark = [pytest.mark.gui, pytest.mark.slow]

FEATURES = [f"f{i}" for i in range(8)]


def blank_csv_project(folder: Path) -> Project:
    """One input of 8 columns and one regression head on 48 rows of a CSV."""
    rng = np.random.default_rng(0)
    table = rng.normal(size=(48, 8))
    target = table @ rng.normal(size=8)
    lines = [",".join([*FEATURES, "price"])]
    lines += [",".join(f"{v:.4f}" for v in [*row, t]) for row, t in zip(table, target,
                                                                         strict=True)]
    path = folder / "houses.csv"
    path.write_text("\n".join(lines) + "\n")
    project = Project(
        name="Blank", inputs=[InputSpec(name="x", shape=[8])],
        heads=[HeadSpec(name="price", task="regression", units=1,
                        loss=HeadLoss(kind="mse", metrics=["mae"]))],
        data=CsvData(path=str(path), inputs=[ColumnMap(name="x", columns=FEATURES)],
                     targets=[ColumnMap(name="price", columns=["price"])]))
    project.training.epochs = 1
    project.training.batch_size = 16
    return project


def build_two_branches(qtbot, editor: ModelEditor) -> None:
    """The walkthrough's canvas part, as a user does it."""
    graph, palette = editor.graph, editor.palette
    edge = next(item for item in graph.scene().items()
                if getattr(item, "target", None) == "price")
    assert drop_from_palette(palette, graph, "Dense", at(graph, edge.path().pointAtPercent(0.5)))
    beside = graph.node_by_name("x").out_point() + QPointF(260, 40)
    assert drop_from_palette(palette, graph, "Dense", at(graph, beside))
    assert editor.selection.path == graph.node_by_name("dense_2").path  # the new layer
    units = editor.form.editor("params.units")
    assert isinstance(units, QSpinBox)
    units.setValue(16)  # a narrower branch
    wait_for_shapes(qtbot, editor)
    connect_by_drag(graph, "dense_2", "price")
    wait_for_shapes(qtbot, editor)


def test_a_blank_project_becomes_a_trained_two_branch_model(qtbot, dialogs, tmp_path):
    window = MainWindow(ProjectDocument(blank_csv_project(tmp_path)))
    qtbot.addWidget(window)
    window.resize(1400, 860)
    window.show()
    editor = window.editor
    wait_for_shapes(qtbot, editor)
    build_two_branches(qtbot, editor)

    assert feeds_of(window.document.project) == {
        "x": (), "dense_2": ("x",), "dense": ("x",), "concatenate": ("dense", "dense_2"),
        "price": ("concatenate",)}
    shapes = {name: editor.inspector.row_of(name)[2]
              for name in ("dense", "dense_2", "concatenate", "price")}
    assert shapes == {"dense": "(None, 64)", "dense_2": "(None, 16)",
                      "concatenate": "(None, 80)", "price": "(None, 1)"}
    assert window.problems_label.text() == "Ready"
    assert window.document.undo_stack.count() == 4  # one step per gesture

    window.tabs.setCurrentWidget(window.training_panel)
    panel = window.training_panel
    qtbot.mouseClick(panel.findChild(QPushButton, "startButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running, timeout=120_000)
    assert "Finished after 1 epoch" in panel.status_label.text(), panel.status_label.text()
    assert panel.plots.points_received("loss") > 0
    assert set(panel.plots.metric_plots) == {"mae"}
    window.document.undo_stack.setClean()
    panel.shutdown()
