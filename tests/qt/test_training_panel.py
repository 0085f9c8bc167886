"""TrainingPanel: train the demo through the buttons, live curves, pause/resume, stop, failure."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QSpinBox

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
    assert not _button(panel, "saveModelButton").isEnabled() and panel.run is None
    _click(qtbot, panel, "startButton")
    assert running == [True]
    assert panel.snapshot_label.isVisible() and not _button(panel, "startButton").isEnabled()
    assert not panel.settings_form.isEnabled()
    document.edit("rename", lambda p: setattr(p, "name", "edited while training"))
    qtbot.waitUntil(lambda: running == [True, False], timeout=90_000)
    assert panel.device_label.text().startswith("Device: ") and "–" not in panel.device_label.text()
    for key in ("loss", "bbox_loss", "classification_loss"):
        assert panel.plots.curve_points(key, BATCH_VIEW) > 0, key
    for key in ("loss", "bbox_loss", "classification_loss", "val_loss", "val_bbox_loss",
                "val_classification_loss"):
        assert panel.plots.points_received(key, EPOCH_VIEW) == 1, key
    assert panel.plots.curve_points("bbox_mae", BATCH_VIEW) > 0
    panel.plots.set_view(EPOCH_VIEW)  # the epoch view is drawn when it is shown
    assert panel.plots.curve_points("val_bbox_loss") == 1
    assert "Finished after 1 epoch" in panel.status_label.text()
    assert panel.progress.value() == panel.progress.maximum()
    assert not panel.snapshot_label.isVisible() and _button(panel, "startButton").isEnabled()
    assert panel.settings_form.isEnabled()


def test_trained_model_can_be_saved_and_exported_without_training(qtbot, panel, document,
                                                                  tmp_path, dialogs):
    import json

    import keras
    import numpy as np

    import mogui.engine.losses  # noqa: F401 - registers the model classes a run file holds
    from mogui.qt.export_dialog import ExportDialog

    _click(qtbot, panel, "startButton")
    qtbot.waitUntil(lambda: not panel.is_running, timeout=90_000)
    run = panel.run.folder
    assert (run / "model.keras").is_file() and (run / "history.csv").is_file()
    assert panel.run.epochs_completed == 1 and panel.run.history["loss"]
    assert _button(panel, "saveModelButton").isEnabled()
    assert "Save model" in panel.status_label.text()
    assert panel.save_model(tmp_path / "trained")
    saved = keras.saving.load_model(tmp_path / "trained.keras")
    trained = keras.saving.load_model(run / "model.keras")
    assert all(np.array_equal(a, b) for a, b in zip(saved.get_weights(), trained.get_weights(),
                                                    strict=True))
    header = (tmp_path / "trained_history.csv").read_text().splitlines()[0]
    assert header.startswith("epoch,loss,bbox_loss,classification_loss")
    (tmp_path / "notes.txt").write_text("not a folder")
    assert not panel.save_model(tmp_path / "notes.txt" / "model.keras")
    assert "could not be saved" in dialogs.errors[-1] and "Traceback" not in dialogs.errors[-1]

    dialog = ExportDialog(document, runs=panel.runs)
    qtbot.addWidget(dialog)
    assert dialog.from_run_box.isChecked() and dialog.run_edit.text() == str(run)
    assert not dialog.epochs_spin.isEnabled()
    dialog.folder_edit.setText(str(tmp_path / "export"))
    with qtbot.waitSignal(dialog.finished_export, timeout=60_000) as blocker:
        dialog.start_export()
    assert blocker.args[0] is not None, dialog.error_label.text()
    assert "Training" not in dialog.status_label.text()
    assert (tmp_path / "export" / "model_inference.keras").is_file()
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled())
    panel.shutdown()
    assert (run / "model.keras").is_file()  # the run folder is kept (the Runs tab lists it)
    assert json.loads((run / "run.json").read_text())["status"] == "finished"
    assert run.parent.parent == tmp_path / "data" / "runs"  # untitled: the data folder


def test_pause_then_resume(qtbot, panel, document):
    document.edit("small batches", lambda p: setattr(p.training, "batch_size", 4))
    document.edit("room to pause", lambda p: setattr(p.training, "epochs", 5))
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
    qtbot.waitUntil(lambda: panel.plots.curve_points("loss", BATCH_VIEW) > 0, timeout=10_000)
    # The pause came after the batches before it (one ordered pipe): deliver and draw them.
    panel.worker.flush_batches()
    panel.plots.refresh()
    points = panel.plots.curve_points("loss", BATCH_VIEW)
    qtbot.wait(400)  # a paused run sends nothing more
    assert panel.plots.curve_points("loss", BATCH_VIEW) == points
    # While paused the bar says where the run holds, with no ETA or speed.
    assert panel.progress.format().endswith("· paused")
    assert "ETA" not in panel.progress.format() and "samples/s" not in panel.progress.format()
    _click(qtbot, panel, "resumeButton")
    qtbot.waitUntil(lambda: "Paused" not in panel.status_label.text(), timeout=10_000)
    qtbot.waitUntil(lambda: not panel.is_running, timeout=90_000)
    assert panel.plots.curve_points("loss", BATCH_VIEW) > points
    assert "Finished" in panel.status_label.text()


def test_stop_mid_epoch(qtbot, panel, document):
    document.edit("small batches", lambda p: setattr(p.training, "batch_size", 2))
    document.edit("epochs", lambda p: setattr(p.training, "epochs", 5))
    assert panel.settings_form.findChild(QSpinBox, "setting_epochs").value() == 5
    steps: list[int] = []
    received: list = []
    states: list[str] = []
    panel.worker.started.connect(lambda event: steps.append(event.steps_per_epoch))
    panel.worker.state_changed.connect(states.append)
    panel.worker.batches.connect(received.extend)
    panel.worker.batches.connect(lambda _items: _button(panel, "pauseButton").click())
    _click(qtbot, panel, "startButton")
    qtbot.waitUntil(lambda: "paused" in states, timeout=90_000)
    panel.worker.flush_batches()
    held = received[-1]  # the run waits after this batch; the stop ends it there
    _click(qtbot, panel, "stopButton")
    qtbot.waitUntil(lambda: not panel.is_running, timeout=90_000)
    assert panel.worker.last_result.stopped
    assert received[-1] == held
    complete = held.epoch + (held.batch + 1 == steps[0])
    if held.batch + 1 < steps[0]:
        assert (f"Stopped during epoch {held.epoch + 1} after {complete} complete epoch"
                in panel.status_label.text())
        assert f"{complete}/5 epochs complete" in panel.progress.format()
    else:
        assert f"Stopped after {complete} complete epoch" in panel.status_label.text()
    # no epoch point for the interrupted epoch
    assert panel.plots.points_received("loss", EPOCH_VIEW) == complete
    assert panel.run.epochs_completed == complete


def test_stop_after_complete_epochs_counts_them(qtbot, panel, document):
    document.edit("small batches", lambda p: setattr(p.training, "batch_size", 16))
    document.edit("epochs", lambda p: setattr(p.training, "epochs", 20))
    panel.worker.epoch_ended.connect(
        lambda event: _button(panel, "stopButton").click() if event.epoch == 1 else None)
    _click(qtbot, panel, "startButton")
    qtbot.waitUntil(lambda: not panel.is_running, timeout=90_000)
    text = panel.status_label.text()
    epochs = panel.plots.points_received("loss", EPOCH_VIEW)
    assert epochs >= 2
    if "during epoch" in text:  # the stop landed inside the next epoch
        assert f"during epoch {epochs + 1} after {epochs} complete epochs" in text
    else:
        assert f"Stopped after {epochs} complete epochs" in text


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
    assert "Traceback" not in dialog.detailedText()  # a user error, not a crash
    assert "Training failed" in panel.status_label.text()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=30_000)
    assert _button(panel, "startButton").isEnabled()
    assert not _button(panel, "stopButton").isEnabled()
    dialog.close()
    assert panel.error_dialog is None


def test_a_run_exports_with_its_own_project_never_with_another(qtbot, panel, document,
                                                               tmp_path):
    import json

    from mogui.core.io import load_example
    from mogui.qt.export_dialog import ExportDialog

    _click(qtbot, panel, "startButton")
    qtbot.waitUntil(lambda: not panel.is_running, timeout=90_000)
    trained_name = document.project.name
    document.edit("rename", lambda p: setattr(p, "name", "Renamed after the run"))

    dialog = ExportDialog(document, runs=panel.runs)
    qtbot.addWidget(dialog)
    assert dialog.from_run_box.isChecked()
    assert trained_name in dialog.code() and "Renamed after the run" not in dialog.code()
    dialog.folder_edit.setText(str(tmp_path / "export"))
    with qtbot.waitSignal(dialog.finished_export, timeout=60_000) as blocker:
        dialog.start_export()
    result = blocker.args[0]
    assert result is not None, dialog.error_label.text()
    exported = json.loads((tmp_path / "export" / "project.json").read_text())
    assert exported["name"] == trained_name
    assert result.files[0] == "train_shapes_bounding_box_class.py"
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled())

    # File ▸ New from example: the run belongs to the other document now.
    document.replace(load_example("multi_input"), None)
    assert panel.run is None and not _button(panel, "saveModelButton").isEnabled()
    other = ExportDialog(document, runs=panel.runs)
    qtbot.addWidget(other)
    assert not other.from_run_box.isChecked() and other.run_edit.text() == ""
    assert other.run_note.isVisibleTo(other) and trained_name in other.run_note.text()
    assert "multi" in other.code().lower() and trained_name not in other.code()
