"""Edit ▸ Run tracking: log the app's training runs to MLflow, write TensorBoard logs.

Both are preferences (:mod:`mogui.qt.settings`), read when a run starts
(:func:`app_tracking`). The menu shows where MLflow logs (``$MLFLOW_TRACKING_URI``, else the
``runs/mlflow.db`` beside the current project) and whether MLflow is installed.
TensorBoard logs go to ``tensorboard/`` in each run's folder (``train/``, ``validation/``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from mogui.core.project import Project
from mogui.core.tracking import (
    INSTALL_HINT,
    TrackingOptions,
    mlflow_missing,
    mlflow_options,
    tracking_uri,
)
from mogui.qt.document import ProjectDocument
from mogui.qt.settings import (
    MLFLOW_KEY,
    TENSORBOARD_KEY,
    set_tracking_enabled,
    tracking_enabled,
)

#: The folder of a run's TensorBoard logs, in the run's folder.
TENSORBOARD_FOLDER = "tensorboard"


def app_tracking(project: Project, project_path: Path | None,
                 run_folder: Path) -> TrackingOptions | None:
    """How an app run in ``run_folder`` is logged, as the preferences say (MLflow only where
    it is installed); ``None``: nowhere."""
    tensorboard = Path(run_folder) / TENSORBOARD_FOLDER if tracking_enabled(TENSORBOARD_KEY) \
        else None
    uri = tracking_uri(project, project_path)
    if tracking_enabled(MLFLOW_KEY) and mlflow_missing(uri) is None:
        return mlflow_options(project, project_path, run_name=Path(run_folder).name,
                              tensorboard_dir=tensorboard)
    if tensorboard is not None:
        return TrackingOptions(run_name=Path(run_folder).name, tensorboard_dir=tensorboard)
    return None


class TrackingMenu(QMenu):
    """The two preferences, and where the current project's runs are logged."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__("Run &tracking", parent, objectName="trackingMenu")
        self.document = document
        self.action_mlflow = QAction("Log runs to MLflow", self, objectName="actionMlflow",
                                     checkable=True, checked=tracking_enabled(MLFLOW_KEY))
        self.action_mlflow.toggled.connect(lambda on: set_tracking_enabled(MLFLOW_KEY, on))
        self.action_tensorboard = QAction(
            "Write TensorBoard logs", self, objectName="actionTensorBoard", checkable=True,
            checked=tracking_enabled(TENSORBOARD_KEY))
        self.action_tensorboard.toggled.connect(
            lambda on: set_tracking_enabled(TENSORBOARD_KEY, on))
        self.addActions([self.action_mlflow, self.action_tensorboard])
        self.addSeparator()
        self.store_info = QAction(self, objectName="mlflowStore", enabled=False)
        self.tensorboard_info = QAction(
            f"TensorBoard logs: {TENSORBOARD_FOLDER}/ in each run's folder", self,
            objectName="tensorBoardFolder", enabled=False)
        self.addActions([self.store_info, self.tensorboard_info])
        self.aboutToShow.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Show the current project's MLflow store, and whether MLflow is installed."""
        uri = tracking_uri(self.document.project, self.document.path)
        missing = mlflow_missing(uri)
        self.action_mlflow.setEnabled(missing is None)
        self.action_mlflow.setText("Log runs to MLflow" if missing is None else
                                   f"Log runs to MLflow (not installed: {INSTALL_HINT})")
        self.action_mlflow.setToolTip(missing or f"Each run is logged to {uri}")
        self.store_info.setText(f"MLflow store: {uri}")
