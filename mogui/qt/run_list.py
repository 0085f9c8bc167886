"""The Runs tab: every run of the open project, newest first, and what to do with one.

The list reads the run store (:mod:`mogui.core.run_store`): when each run started, how it
ended, its epochs and its final per-head losses. It refreshes when a run starts, after each
epoch, when a run ends and when another project is opened. Export… and Save model… use the
run's own project (its ``project.json``), never what the editor holds now.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mogui.core import run_store
from mogui.core.project import Project
from mogui.core.run_store import RunInfo, RunStoreError
from mogui.core.runs import HISTORY_FILE, MODEL_FILE, RunStatus, plural
from mogui.qt import error_dialog
from mogui.qt.document import ProjectDocument
from mogui.qt.export_dialog import ExportDialog
from mogui.qt.process_runner import SpareChild
from mogui.qt.run_model import RunModel

COLUMNS = ("Started", "Status", "Epochs", "Final losses")
_FOLDER_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class SavedModel:
    """Where "Save model…" wrote a run's model and its history."""

    path: Path
    history: Path


def history_path_for(model_path: Path) -> Path:
    """Where "Save model…" writes the history that goes with ``model_path``."""
    return model_path.with_name(f"{model_path.stem}_history.csv")


def model_file_name(project: Project) -> str:
    """The file name "Save model…" suggests for a run of ``project``."""
    stem = re.sub(r"[^\w.-]+", "_", project.name).strip("._") or "model"
    return f"{stem}.keras"


def copy_file_atomic(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` through a temporary file in the target's folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_run_model(parent: QWidget | None, folder: Path, path: Path) -> SavedModel | None:
    """Copy the model of the run in ``folder`` to ``path`` (``.keras`` added when missing)
    and its history beside it; an error is shown to the user and gives ``None``."""
    path = Path(path)
    if path.suffix != ".keras":
        path = path.with_name(path.name + ".keras")
    history = history_path_for(path)
    try:
        copy_file_atomic(folder / MODEL_FILE, path)
        copy_file_atomic(folder / HISTORY_FILE, history)
    except OSError as exc:
        error_dialog.show_error(parent, "Cannot save the model",
                                f"The model could not be saved to '{path}': "
                                f"{exc.strerror or exc}. Choose another folder or file name.")
        return None
    return SavedModel(path, history)


class RunList(QWidget):
    """The runs of the document's project, with Export…, Save model…, Open folder, Delete."""

    def __init__(self, document: ProjectDocument, runs: RunModel,
                 parent: QWidget | None = None, *, spare: SpareChild | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runList")
        self.document = document
        self.runs = runs
        self.spare = spare
        self.entries: list[RunInfo] = []
        self.export_dialog: ExportDialog | None = None
        self._shown_folder: Path | None = None

        self.folder_label = QLabel(objectName="runsFolderLabel", wordWrap=True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTreeWidget(objectName="runTable")
        self.table.setColumnCount(len(COLUMNS))
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda *_: self.open_folder())

        self.export_button = self._button("Export…", "exportRunButton", self._export_clicked,
                                          "Export this run's model with the project it trained")
        self.save_button = self._button("Save model…", "saveRunModelButton",
                                        self._save_model_dialog,
                                        "Save this run's model as a .keras file, with its "
                                        "history as CSV")
        self.open_button = self._button("Open folder", "openRunFolderButton", self.open_folder,
                                        "Show the run's folder in the file manager")
        self.delete_button = self._button("Delete…", "deleteRunButton", self.delete_run,
                                          "Delete this run's folder")
        self.refresh_button = self._button("Refresh", "refreshRunsButton", self.refresh,
                                           "Read the runs folder again")
        buttons = QHBoxLayout()
        for button in (self.export_button, self.save_button, self.open_button,
                       self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.folder_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        runs.changed.connect(self.refresh)
        document.path_changed.connect(self.refresh)
        document.changed.connect(self._on_document_changed)  # an untitled project's name
        self.refresh()

    def _button(self, text: str, name: str, slot, tip: str) -> QPushButton:  # noqa: ANN001
        button = QPushButton(text, self, objectName=name, toolTip=tip)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    # -- the list ---------------------------------------------------------------------------
    @property
    def folder(self) -> Path:
        """Where the runs of the document's project are kept."""
        return run_store.runs_dir(self.document.project, self.document.path)

    def refresh(self) -> None:
        """Read the project's runs again, keeping the selected one selected."""
        chosen = self.selected()
        self._shown_folder = self.folder
        self.entries = run_store.list_runs(self.document.project, self.document.path)
        self.table.clear()
        for info in self.entries:
            item = QTreeWidgetItem(self.table, self._cells(info))
            item.setData(0, _FOLDER_ROLE, str(info.folder))
            tip = info.problem or info.message or str(info.folder)
            for column in range(len(COLUMNS)):
                item.setToolTip(column, tip)
        for column in range(len(COLUMNS) - 1):
            self.table.resizeColumnToContents(column)
        count = len(self.entries)
        self.folder_label.setText(
            f"{plural(count, 'run')} of this project, kept in {self.folder}"
            if count else f"No runs of this project yet: train it on the Training tab. Each "
            f"run is kept in {self.folder}")
        if chosen is not None:
            self.select(chosen.folder)
        self._update_buttons()

    @staticmethod
    def _cells(info: RunInfo) -> list[str]:
        when = info.started_at.strftime("%Y-%m-%d %H:%M:%S") if info.started_at else \
            info.folder.name
        epochs = str(info.epochs_completed) if info.readable else ""
        return [when, info.status_text(), epochs, info.losses_text()]

    def _on_document_changed(self) -> None:
        if self.folder != self._shown_folder:
            self.refresh()

    def selected(self) -> RunInfo | None:
        items = self.table.selectedItems()
        if not items:
            return None
        folder = items[0].data(0, _FOLDER_ROLE)
        return next((info for info in self.entries if str(info.folder) == folder), None)

    def select(self, folder: Path) -> bool:
        """Select the run in ``folder``; False when it is not listed."""
        for row, info in enumerate(self.entries):
            if info.folder == Path(folder):
                self.table.setCurrentItem(self.table.topLevelItem(row))
                return True
        return False

    def _update_buttons(self) -> None:
        info = self.selected()
        usable = info is not None and info.has_model
        self.export_button.setEnabled(usable)
        self.save_button.setEnabled(usable)
        self.open_button.setEnabled(info is not None)
        self.delete_button.setEnabled(info is not None and info.status != RunStatus.RUNNING)

    # -- actions ----------------------------------------------------------------------------
    def _load(self, info: RunInfo):  # noqa: ANN202 - a mogui.core.runs.Run or None
        try:
            return run_store.load_run(info.folder)
        except RunStoreError as exc:
            error_dialog.show_error(self, "Cannot read the run", str(exc))
            return None

    def export_run(self, info: RunInfo | None = None) -> ExportDialog | None:
        """Open the Export dialog on a run (the selected one), with the project it trained."""
        info = info or self.selected()
        if info is None or not info.has_model:
            return None
        run = self._load(info)
        if run is None:
            return None
        dialog = ExportDialog(self.document, self, runs=self.runs, spare=self.spare, run=run)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: setattr(self, "export_dialog", None))
        self.export_dialog = dialog
        return dialog

    def _export_clicked(self) -> None:
        dialog = self.export_run()
        if dialog is not None:
            dialog.open()

    def save_model(self, path: Path, info: RunInfo | None = None) -> SavedModel | None:
        """Copy a run's model (the selected one) to ``path`` and its history beside it."""
        info = info or self.selected()
        if info is None or not info.has_model:
            return None
        return save_run_model(self, info.folder, path)

    def _save_model_dialog(self) -> None:
        info = self.selected()
        run = self._load(info) if info is not None else None
        if run is None:
            return
        path = self.document.path
        start = path.parent if path is not None else Path.home()
        name, _ = QFileDialog.getSaveFileName(self, "Save trained model",
                                              str(start / model_file_name(run.project)),
                                              "Keras model (*.keras)")
        if name:
            self.save_model(Path(name), info)

    def open_folder(self, info: RunInfo | None = None) -> bool:
        """Show a run's folder (the selected one's) in the system's file manager."""
        info = info or self.selected()
        if info is None:
            return False
        if QDesktopServices.openUrl(QUrl.fromLocalFile(str(info.folder))):
            return True
        error_dialog.show_error(self, "Cannot open the folder",
                                f"The run's folder could not be opened; it is {info.folder}")
        return False

    def delete_run(self, info: RunInfo | None = None) -> bool:
        """Delete a run's folder (the selected one's), after asking."""
        info = info or self.selected()
        if info is None or info.status == RunStatus.RUNNING:
            return False
        when = info.started_at.strftime("%Y-%m-%d %H:%M:%S") if info.started_at else \
            info.folder.name
        answer = QMessageBox.question(
            self, "Delete run",
            f"Delete the run started {when} ({info.status_text()})? Its folder {info.folder} "
            "is removed with its model, history and project copy. This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return False
        try:
            run_store.delete_run(info.folder)
        except RunStoreError as exc:
            error_dialog.show_error(self, "Cannot delete the run", str(exc))
            self.refresh()
            return False
        self.runs.forget(info.folder)
        self.refresh()
        return True
