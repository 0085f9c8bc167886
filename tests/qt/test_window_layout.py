"""The window at 1024x640 and at its default size: every tab fits, the training banner is
compact and the plots keep a usable height."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from mogui.qt.document import ProjectDocument
from mogui.qt.main_window import MainWindow
from tests.qt.conftest import wait_for_shapes

pytestmark = pytest.mark.gui

SMALL, DEFAULT = (1024, 640), (1400, 860)


def _settle() -> None:
    QApplication.sendPostedEvents()
    QApplication.processEvents()


def _window(qtbot, project, size: tuple[int, int]) -> MainWindow:
    window = MainWindow(ProjectDocument(project))
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    wait_for_shapes(qtbot, window.editor)
    window.tabs.setCurrentWidget(window.training_panel)
    _settle()
    return window


def _banner_height(window: MainWindow) -> int:
    """From the top of the buttons' row to the bottom of the status line."""
    panel = window.training_panel
    return panel.status_label.geometry().bottom() - panel.settings_box.toggle.geometry().top()


@pytest.mark.parametrize("size", [SMALL, DEFAULT])
def test_every_tab_fits_the_window(qtbot, dialogs, demo_project, size):
    window = _window(qtbot, demo_project, size)
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        _settle()
        hint = window.minimumSizeHint()
        assert hint.width() <= size[0] and hint.height() <= size[1], window.tabs.tabText(index)
        assert (window.width(), window.height()) == size, window.tabs.tabText(index)
    window.tabs.setCurrentWidget(window.editor)
    _settle()
    assert window.editor.graph.width() >= 250 and window.editor.inspector.isVisible()


def test_at_1024_by_640_the_settings_fold_away_and_the_plots_keep_their_height(
        qtbot, dialogs, demo_project):
    window = _window(qtbot, demo_project, SMALL)
    panel = window.training_panel
    assert not panel.settings_box.shown and not panel.settings_form.isVisible()
    assert _banner_height(window) <= 60
    assert panel.plots.loss_plot.height() >= 300
    qtbot.mouseClick(panel.settings_box.toggle, Qt.MouseButton.LeftButton)  # the user's choice
    _settle()
    assert panel.settings_form.isVisible()
    window.resize(*SMALL)
    _settle()
    assert panel.settings_box.shown
    window.document.undo_stack.setClean()
    again = _window(qtbot, demo_project, SMALL)  # remembered at the next start
    assert again.training_panel.settings_box.shown


def test_at_the_default_size_the_settings_show_and_the_banner_stays_compact(
        qtbot, dialogs, demo_project):
    window = _window(qtbot, demo_project, DEFAULT)
    panel = window.training_panel
    assert panel.settings_box.shown and panel.settings_form.isVisible()
    assert _banner_height(window) <= 60
    assert panel.plots.loss_plot.height() >= 300
    long_text = "Finished after 3 epochs in 0:05. " * 10
    panel.status_label.setText(long_text)  # one line, however long: the tooltip has it all
    _settle()
    assert _banner_height(window) <= 60 and panel.status_label.text() == long_text
    panel.status_label.repaint()
    assert panel.status_label.elided and panel.status_label.toolTip() == long_text
