"""TrainingPanel: train the demo through the buttons, live curves, pause/resume, stop, failure."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from mogui.qt.document import ProjectDocument
from mogui.qt.loss_plots import BATCH_VIEW, EPOCH_VIEW
from mogui.qt.training_panel import TrainingPanel

pytestmark = pytest.mark.gui


@pytest.fixture
def document(demo_project):
    return ProjectDocument(demo_project)


@pytest.fixture
def panel(qtbot, document):
    widget = TrainingPanel(document)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    yield widget
    widget.shutdown()


def _button(panel: TrainingPanel, name: str) -> QPushButton:
    return panel.findChild(QPushButton, name)


def _click(qtbot, panel: TrainingPanel, name: str) -> None:
    qtbot.mouseClick(_button(panel, name), Qt.MouseButton.LeftButton)


def test_one_epoch_gives_every_head_a_curve(qtbot, panel, document):
    running: list[bool] = []
    panel.running_changed.connect(running.append)
    _click(qtbot, panel, "startButton")
    assert running == [True]
    assert panel.snapshot_label.isVisible() and not _button(panel, "startButton").isEnabled()
    document.edit("rename", lambda p: setattr(p, "name", "edited while training"))
    qtbot.waitUntil(lambda: running == [True, False], timeout=90_000)
    assert panel.device_label.text().startswith("Device: ") and "–" not in panel.device_label.text()
    for key in ("loss", "bbox_loss", "classification_loss"):
        assert panel.plots.curve_points(key, BATCH_VIEW) > 0, key
    for key in ("loss", "bbox_loss", "classification_loss", "val_loss", "val_bbox_loss",
                "val_classification_loss"):
        assert panel.plots.curve_points(key, EPOCH_VIEW) == 1, key
    assert panel.plots.curve_points("bbox_mae", BATCH_VIEW) > 0
    assert "Finished after 1 epoch" in panel.status_label.text()
    assert panel.progress.value() == panel.progress.maximum()
    assert not panel.snapshot_label.isVisible() and _button(panel, "startButton").isEnabled()


def test_pause_then_resume(qtbot, panel, document):
    document.edit("small batches", lambda p: setattr(p.training, "batch_size", 4))
    requested: list[bool] = []

    def pause_once(_items: list) -> None:
        if not requested:
            requested.append(True)
            _button(panel, "pauseButton").click()

    panel.worker.batches.connect(pause_once)
    _click(qtbot, panel, "startButton")
    qtbot.waitUntil(lambda: _button(panel, "resumeButton").isEnabled(), timeout=90_000)
    assert "Paused" in panel.status_label.text()
    assert not _button(panel, "pauseButton").isEnabled()
    qtbot.wait(100)
    points = panel.plots.curve_points("loss", BATCH_VIEW)
    assert points > 0
    qtbot.wait(300)
    assert panel.plots.curve_points("loss", BATCH_VIEW) == points
    _click(qtbot, panel, "resumeButton")
    qtbot.waitUntil(lambda: not panel.is_running, timeout=90_000)
    assert panel.plots.curve_points("loss", BATCH_VIEW) > points
    assert "Finished" in panel.status_label.text()


def test_stop_mid_epoch(qtbot, panel, document):
    document.edit("small batches", lambda p: setattr(p.training, "batch_size", 4))
    panel.epochs_spin.setValue(5)
    panel.worker.batches.connect(lambda _items: _button(panel, "stopButton").click())
    _click(qtbot, panel, "startButton")
    qtbot.waitUntil(lambda: not panel.is_running, timeout=90_000)
    assert panel.worker.last_result.stopped
    assert panel.worker.last_result.epochs_run == 1
    assert "Stopped" in panel.status_label.text()
    assert panel.plots.curve_points("loss", BATCH_VIEW) < 13


def test_failing_run_shows_a_dialog_and_the_panel_stays_usable(qtbot, panel, document):
    def break_loss(project):
        head = project.head("classification")
        head.loss.kind = "custom"
        head.loss.source = ("def loss(y_true, y_pred):\n"
                            "    return ops.square(y_pred)\n")

    document.edit("loss of the wrong shape", break_loss)
    _click(qtbot, panel, "startButton")
    qtbot.waitUntil(lambda: panel.error_dialog is not None, timeout=90_000)
    dialog = panel.error_dialog
    assert dialog.isVisible()
    assert "classification loss" in dialog.text()
    assert "shape (batch, 6)" in dialog.text()
    assert dialog.detailedText()
    assert "Training failed" in panel.status_label.text()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=30_000)
    assert _button(panel, "startButton").isEnabled()
    assert not _button(panel, "stopButton").isEnabled()
    dialog.close()
    assert panel.error_dialog is None
