"""Edit ▸ Run tracking: the two preferences, where MLflow logs, and an app run logged to
MLflow and TensorBoard by the training child."""

from __future__ import annotations

import sys

import pytest
from mlflow.tracking import MlflowClient
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorflow import make_ndarray

from mogui.core.recovery import data_dir
from mogui.core.tracking import INSTALL_HINT, URI_VARIABLE
from mogui.engine.training import read_history_csv
from mogui.qt.document import ProjectDocument
from mogui.qt.settings import MLFLOW_KEY, TENSORBOARD_KEY, tracking_enabled
from mogui.qt.tracking_menu import TrackingMenu, app_tracking
from mogui.qt.training_panel import TrainingPanel

pytestmark = pytest.mark.gui


@pytest.fixture
def document(demo_project):
    return ProjectDocument(demo_project)


@pytest.fixture
def menu(qtbot, document, monkeypatch):
    monkeypatch.delenv(URI_VARIABLE, raising=False)
    return TrackingMenu(document)


def test_the_preferences_are_off_until_turned_on_and_then_kept(menu, document, tmp_path):
    assert not menu.action_mlflow.isChecked() and not menu.action_tensorboard.isChecked()
    assert app_tracking(document.project, None, tmp_path / "run") is None
    menu.action_mlflow.trigger()
    menu.action_tensorboard.trigger()
    assert tracking_enabled(MLFLOW_KEY) and tracking_enabled(TENSORBOARD_KEY)
    again = TrackingMenu(document)
    assert again.action_mlflow.isChecked() and again.action_tensorboard.isChecked()
    options = app_tracking(document.project, None, tmp_path / "run")
    assert options.run_name == "run" and options.tensorboard_dir == tmp_path / "run" / \
        "tensorboard"
    assert options.mlflow_uri == f"sqlite:///{data_dir() / 'runs' / 'mlflow.db'}"
    menu.action_mlflow.trigger()
    assert app_tracking(document.project, None, tmp_path / "run").mlflow_uri is None


def test_the_menu_shows_where_runs_are_logged(menu, document, tmp_path, monkeypatch):
    assert menu.store_info.text() == \
        f"MLflow store: sqlite:///{data_dir() / 'runs' / 'mlflow.db'}"
    document.save(tmp_path / "shapes.json")
    menu.aboutToShow.emit()
    assert menu.store_info.text() == f"MLflow store: sqlite:///{tmp_path / 'runs' / 'mlflow.db'}"
    monkeypatch.setenv(URI_VARIABLE, "http://tracking.example:5000")
    menu.aboutToShow.emit()
    assert menu.store_info.text() == "MLflow store: http://tracking.example:5000"
    assert "tensorboard/" in menu.tensorboard_info.text()


def test_without_mlflow_its_preference_says_what_to_install(menu, monkeypatch, document,
                                                             tmp_path):
    menu.action_mlflow.trigger()
    monkeypatch.setitem(sys.modules, "mlflow", None)
    menu.aboutToShow.emit()
    assert not menu.action_mlflow.isEnabled() and INSTALL_HINT in menu.action_mlflow.text()
    assert app_tracking(document.project, None, tmp_path / "run") is None


@pytest.mark.slow
def test_an_app_run_is_logged_to_mlflow_and_tensorboard(qtbot, menu, document):
    menu.action_mlflow.trigger()
    menu.action_tensorboard.trigger()
    panel = TrainingPanel(document)
    qtbot.addWidget(panel)
    panel.show()
    try:
        qtbot.mouseClick(panel.findChild(QPushButton, "startButton"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.run is not None and panel.run.ended, timeout=120_000)
    finally:
        panel.shutdown()
    folder = panel.run.folder
    history = read_history_csv(folder / "history.csv")
    client = MlflowClient(f"sqlite:///{data_dir() / 'runs' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name(folder.parent.name)  # the project's slug
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == folder.name and run.data.tags["mogui.status"] == "complete"
    assert [m.value for m in client.get_metric_history(run.info.run_id, "val_bbox_loss")] == \
        pytest.approx(history["val_bbox_loss"], abs=1e-6)
    reader = EventAccumulator(str(folder / "tensorboard" / "validation"),
                              size_guidance={"tensors": 0})
    reader.Reload()
    assert [float(make_ndarray(e.tensor_proto)) for e in reader.Tensors("loss/bbox")] == \
        pytest.approx(history["val_bbox_loss"], abs=1e-6)
