"""A 40-head (and 100-head) project in the app: the window fits a screen, the Training tab
reads at that size, and the model graph shows every head."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QGraphicsPathItem

from mogui.core.head_palette import NO_LOSS_COLOUR, head_colour
from mogui.qt.document import ProjectDocument
from mogui.qt.loss_plots import LEGEND_LIMIT
from mogui.qt.main_window import MainWindow
from mogui.qt.model_editor import ModelEditor
from mogui.qt.model_graph import MIN_FIT, SINGLE_ROW_UP_TO, HeadGrid, heads_per_row
from tests.many_heads import feed_run, many_heads_project
from tests.qt.conftest import wait_for_shapes

pytestmark = pytest.mark.gui

SCREEN_WIDTH = 1600


def _settle() -> None:
    """Let posted layout requests run (no waiting on time)."""
    QApplication.sendPostedEvents()
    QApplication.processEvents()


def _widths(window: MainWindow) -> tuple[int, int]:
    _settle()
    return window.minimumSizeHint().width(), window.sizeHint().width()


@pytest.mark.parametrize("heads", [40, 100])
def test_window_never_grows_wider_than_the_screen(qtbot, dialogs, heads):
    project = many_heads_project(heads)
    window = MainWindow(ProjectDocument(project))
    qtbot.addWidget(window)
    window.resize(1400, 860)
    window.show()
    wait_for_shapes(qtbot, window.editor)
    for index in range(window.tabs.count()):  # a hidden tab's layout is not worked out
        window.tabs.setCurrentIndex(index)
        assert max(_widths(window)) <= SCREEN_WIDTH, window.tabs.tabText(index)
        # ... nor taller than a 900-px screen (the Losses tab's tables scroll)
        assert window.minimumSizeHint().height() <= 860, window.tabs.tabText(index)
    panel = window.training_panel
    window.tabs.setCurrentWidget(panel)
    feed_run(panel, project, epochs=2)  # head table, plots and status filled
    panel.plots.refresh()
    assert max(_widths(window)) <= SCREEN_WIDTH
    assert window.width() <= SCREEN_WIDTH
    panel.views.setCurrentWidget(panel.heatmap)
    assert max(_widths(window)) <= SCREEN_WIDTH
    assert panel.minimumSizeHint().height() <= 700  # the tab itself fits a 900-px screen
    window.document.undo_stack.setClean()


def test_forty_heads_read_in_the_training_tab(qtbot, dialogs):
    project = many_heads_project(40)
    window = MainWindow(ProjectDocument(project))
    qtbot.addWidget(window)
    window.show()
    panel, plots = window.training_panel, window.training_panel.plots
    window.tabs.setCurrentWidget(panel)
    feed_run(panel, project, epochs=2)
    plots.refresh()
    assert plots.total_apart and plots.curve_on_total_axis("loss")  # not squashing the heads
    assert not plots.curve_on_total_axis("size_0_loss")
    assert plots.log_check.isChecked()
    low, high = plots.loss_plot.plotItem.vb.viewRange()[1]  # log10 of the head losses only
    assert 1.9 < high < 3.0  # log10: the highest head loss is 80 (validation), the total 1640
    assert plots.loss_plot.plotItem.legend.items == []  # 41 entries: the table says instead
    assert len(panel.head_table.heads) == 40 > LEGEND_LIMIT
    plots.total_axis_check.click()  # the user's choice holds for the next run
    assert not plots.curve_on_total_axis("loss")
    feed_run(panel, project, epochs=1)
    plots.refresh()
    assert not plots.total_apart and not plots.curve_on_total_axis("loss")
    plots.total_check.setChecked(False)
    assert not plots.curve_visible("loss") and plots.curve_visible("size_0_loss")
    graph = window.editor.graph
    for index, head in enumerate(project.heads):  # one colour per head in all views
        outline = graph.node_by_name(head.name).pen().color().name()
        assert outline == panel.head_table.swatch_colour(head.name) == head_colour(index)
    window.document.undo_stack.setClean()


@pytest.fixture
def editor(qtbot):
    widget = ModelEditor(ProjectDocument(many_heads_project(40)))
    qtbot.addWidget(widget)
    widget.resize(1400, 800)
    widget.show()
    wait_for_shapes(qtbot, widget)
    yield widget
    widget.inspection.wait()


def _head_boxes(graph) -> list:  # noqa: ANN001
    return [item for path, item in graph.nodes.items() if path.startswith("heads[")
            and ".layers" not in path]


def _all_inside(graph) -> bool:  # noqa: ANN001
    view = graph.viewport().rect()
    return all(view.contains(graph.mapFromScene(item.sceneBoundingRect()).boundingRect())
               for item in _head_boxes(graph))


def test_graph_fits_all_forty_heads_on_open(editor: ModelEditor):
    graph = editor.graph
    assert len(_head_boxes(graph)) == 40
    assert 1 < graph.grid.per_row < 40 and graph.grid.rows > 1  # wrapped into rows
    assert MIN_FIT <= graph.zoom < 1.0
    assert graph.horizontalScrollBar().maximum() == 0  # never scrolled sideways
    assert _all_inside(graph)
    lines = [item for item in graph.scene().items() if isinstance(item, QGraphicsPathItem)]
    assert len(lines) < 20  # the trunk's arrows and one bus, not 40 crossing arrows


def test_graph_keeps_the_users_zoom_until_asked_to_fit(qtbot, editor: ModelEditor):
    graph = editor.graph
    fitted = graph.zoom
    wheel = QWheelEvent(QPointF(50, 50), graph.mapToGlobal(QPointF(50, 50)), QPoint(0, 0),
                        QPoint(0, 120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(graph.viewport(), wheel)
    zoomed = graph.zoom
    assert zoomed > fitted and graph.user_zoomed
    editor.document.edit("rename", lambda p: setattr(p.heads[0], "name", "renamed"))
    wait_for_shapes(qtbot, editor)
    assert graph.zoom == pytest.approx(zoomed)  # an edit does not undo the user's zoom
    assert graph.node_by_name("renamed") is not None
    graph.setFocus()
    qtbot.keyClick(graph, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert not graph.user_zoomed and graph.zoom == pytest.approx(fitted)
    graph.scale(2, 2)
    graph.user_zoomed = True
    editor.document.replace(many_heads_project(40), None)  # another project: fitted on open
    assert not graph.user_zoomed and graph.zoom == pytest.approx(fitted)


def test_graph_colours_heads_like_their_curves(editor: ModelEditor):
    graph = editor.graph
    editor.document.edit("no loss", lambda p: setattr(p.heads[1].loss, "enabled", False))
    names = [h.name for h in editor.document.project.heads]
    assert graph.node_by_name(names[1]).pen().color().name() == NO_LOSS_COLOUR
    assert graph.node_by_name(names[0]).pen().color().name() == head_colour(0)
    assert graph.node_by_name(names[2]).pen().color().name() == head_colour(1)
    fill = graph.node_by_name(names[0]).brush().color()
    assert fill.lightness() > 200  # a light tint, so the text stays readable


def test_heads_per_row_fits_the_view():
    assert heads_per_row(2, 1, 9, 1, (480, 720)) == 2
    assert heads_per_row(SINGLE_ROW_UP_TO, 1, 9, 1, (300, 300)) == SINGLE_ROW_UP_TO
    wide, narrow = heads_per_row(40, 1, 9, 1, (1600, 700)), heads_per_row(40, 1, 9, 1,
                                                                        (480, 900))
    assert wide > narrow > 1
    per_row = heads_per_row(100, 1, 9, 1, (480, 700))  # cannot all fit: rows fit the width
    assert HeadGrid(100, per_row, 1, 9).size(1)[0] * MIN_FIT <= 480
    assert HeadGrid(100, per_row + 1, 1, 9).size(1)[0] * MIN_FIT > 480
