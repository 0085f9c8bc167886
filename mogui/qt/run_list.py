"""The Runs tab: every run of the open project, newest first, and what to do with one.

The list reads the run store (:mod:`mogui.core.run_store`): when each run started, how it
ended, its epochs, how it balanced the heads (from the run's ``project.json``) and its final
per-head losses. It refreshes when a run starts, after each
epoch, when a run ends and when another project is opened. Export… and Save model… use the
run's own project (its ``project.json``), never what the editor holds now.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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
from mogui.core.balancing import BALANCING_METHODS
from mogui.core.project import Project
from mogui.core.run_store import RunInfo, RunStoreError
from mogui.core.runs import HISTORY_FILE, MODEL_FILE, PROJECT_FILE, RunStatus, plural
from mogui.qt import error_dialog
from mogui.qt.document import ProjectDocument
from mogui.qt.export_dialog import ExportDialog
from mogui.qt.predict_dialog import PredictDialog
from mogui.qt.process_runner import SpareChild
from mogui.qt.run_model import RunModel

if TYPE_CHECKING:
    from mogui.qt.run_compare import RunComparison

COLUMNS = ("Started", "Status", "Epochs", "Balancing", "Final losses")
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


def run_balancing(folder: Path) -> tuple[str, str]:
    """How the run in ``folder`` balanced its heads, from its ``project.json``: the method's
    title and a tooltip with its parameters (``("", reason)`` when that file cannot be read).
    A project from before balancing existed used fixed weights."""
    try:
        data = json.loads((Path(folder) / PROJECT_FILE).read_text(encoding="utf-8"))
        balancing = (data.get("training") or {}).get("balancing") or {}
        method = BALANCING_METHODS[balancing.get("method", "equal")]
        given = dict(balancing.get("params") or {})
    except (OSError, UnicodeDecodeError, ValueError, RecursionError, AttributeError, KeyError,
            TypeError) as exc:
        return "", f"The run's {PROJECT_FILE} cannot be read ({type(exc).__name__})"
    settings = {**method.defaults, **given}
    devices = (data.get("training") or {}).get("devices", 1)
    values = ", ".join(f"{name} {value:g}" for name, value in settings.items()
                       if isinstance(value, int | float))
    tip = f"{method.title} ({method.name})" + (f": {values}" if values else "")
    if isinstance(devices, int) and devices > 1:
        tip += f"; {devices} devices"
    return method.title, tip


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
        self._balancing: dict[Path, tuple[str, str]] = {}  # a run's project.json never changes

        self.folder_label = QLabel(objectName="runsFolderLabel", wordWrap=True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTreeWidget(objectName="runTable")
        self.table.setColumnCount(len(COLUMNS))
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        # Several runs selected are compared on one plot (shift- or ctrl-click).
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemSelectionChanged.connect(self._update_comparison)
        self.comparison: RunComparison | None = None  # made when two runs are first selected
        self.compare_holder = QWidget(self, objectName="compareHolder")
        QVBoxLayout(self.compare_holder).setContentsMargins(0, 0, 0, 0)
        self.compare_holder.hide()
        self.table.itemDoubleClicked.connect(lambda *_: self.open_folder())

        self.export_button = self._button("Export…", "exportRunButton", self._export_clicked,
                                          "Export this run's model with the project it trained")
        self.save_button = self._button("Save model…", "saveRunModelButton",
                                        self._save_model_dialog,
                                        "Save this run's model as a .keras file, with its "
                                        "history as CSV")
        self.evaluate_button = self._button("Evaluate…", "evaluateRunButton", self.evaluate_run,
                                            "Per head: confusion matrix, predicted against "
                                            "true, the rows it gets most wrong")
        self.predict_button = self._button("Predict…", "predictRunButton", self.predict_run,
                                           "Predict a new data file with this run's model")
        self.open_button = self._button("Open folder", "openRunFolderButton", self.open_folder,
                                        "Show the run's folder in the file manager")
        self.delete_button = self._button("Delete…", "deleteRunButton", self.delete_run,
                                          "Delete this run's folder")
        self.refresh_button = self._button("Refresh", "refreshRunsButton", self.refresh,
                                           "Read the runs folder again")
        buttons = QHBoxLayout()
        for button in (self.export_button, self.save_button, self.evaluate_button,
                       self.predict_button, self.open_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.folder_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.compare_holder, 2)
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
        """Read the project's runs again, keeping the selected ones selected."""
        chosen = [info.folder for info in self.selected_runs()]
        self._shown_folder = self.folder
        self.entries = run_store.list_runs(self.document.project, self.document.path)
        self.table.clear()
        for info in self.entries:
            balancing, balancing_tip = self._balancing_of(info)
            item = QTreeWidgetItem(self.table, self._cells(info, balancing))
            item.setData(0, _FOLDER_ROLE, str(info.folder))
            tip = info.problem or info.message or str(info.folder)
            for column in range(len(COLUMNS)):
                item.setToolTip(column, tip)
            if balancing_tip and info.readable:
                item.setToolTip(COLUMNS.index("Balancing"), balancing_tip)
        for column in range(len(COLUMNS) - 1):
            self.table.resizeColumnToContents(column)
        count = len(self.entries)
        self.folder_label.setText(
            f"{plural(count, 'run')} of this project, kept in {self.folder}"
            if count else f"No runs of this project yet: train it on the Training tab. Each "
            f"run is kept in {self.folder}")
        self.select(*chosen)  # updates the buttons and the comparison

    def _balancing_of(self, info: RunInfo) -> tuple[str, str]:
        if not info.readable:
            return "", ""
        known = self._balancing.get(info.folder)
        if known is None:
            known = run_balancing(info.folder)
            if known[0]:  # read: kept (a file not readable now is tried again next time)
                self._balancing[info.folder] = known
        return known

    @staticmethod
    def _cells(info: RunInfo, balancing: str = "") -> list[str]:
        when = info.started_at.strftime("%Y-%m-%d %H:%M:%S") if info.started_at else \
            info.folder.name
        epochs = str(info.epochs_completed) if info.readable else ""
        return [when, info.status_text(), epochs, balancing, info.losses_text()]

    def _on_document_changed(self) -> None:
        if self.folder != self._shown_folder:
            self.refresh()

    def selected(self) -> RunInfo | None:
        """The run selected, when exactly one is."""
        runs = self.selected_runs()
        return runs[0] if len(runs) == 1 else None

    def selected_runs(self) -> list[RunInfo]:
        """The runs selected, in the list's order (newest first)."""
        folders = {item.data(0, _FOLDER_ROLE) for item in self.table.selectedItems()}
        return [info for info in self.entries if str(info.folder) in folders]

    def select(self, *folders: Path) -> bool:
        """Select the runs in ``folders`` (only them); False when one is not listed."""
        wanted = {Path(folder) for folder in folders}
        rows = [row for row, info in enumerate(self.entries) if info.folder in wanted]
        self.table.blockSignals(True)
        self.table.clearSelection()
        for position, row in enumerate(rows):
            item = self.table.topLevelItem(row)
            if position == 0:
                self.table.setCurrentItem(item)
            item.setSelected(True)
        self.table.blockSignals(False)
        self._update_buttons()
        self._update_comparison()
        return len(rows) == len(wanted)

    def _update_comparison(self) -> None:
        """Several readable runs selected: their per-head curves on one plot."""
        runs = [info for info in self.selected_runs() if info.readable]
        if len(runs) < 2:
            self.compare_holder.hide()
            return
        if self.comparison is None:
            # Imported here, for the window's start: it brings pyqtgraph. Not a way round a
            # circle.
            from mogui.qt.run_compare import RunComparison

            self.comparison = RunComparison(self.compare_holder)
            self.compare_holder.layout().addWidget(self.comparison)
        self.comparison.show_runs([(info, self._cells(info)[0]) for info in runs])
        self.compare_holder.show()

    def _update_buttons(self) -> None:
        info = self.selected()
        usable = info is not None and info.has_model
        self.export_button.setEnabled(usable)
        self.save_button.setEnabled(usable)
        self.evaluate_button.setEnabled(usable)
        self.predict_button.setEnabled(usable)
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

    def evaluate_run(self, info: RunInfo | None = None):  # noqa: ANN201 - EvaluationDialog
        """Open the evaluation of a run (the selected one) and start it."""
        info = info or self.selected()
        if info is None or not info.has_model:
            return None
        # Imported here, for the window's start: its plots bring pyqtgraph. Not a way round
        # a circle.
        from mogui.qt.evaluation_dialog import EvaluationDialog

        dialog = EvaluationDialog(info.folder, self._cells(info)[0], self, spare=self.spare)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.start()
        return dialog

    def predict_run(self, info: RunInfo | None = None):  # noqa: ANN201 - PredictDialog
        """Open Predict… on a run (the selected one)."""
        info = info or self.selected()
        if info is None or not info.has_model:
            return None
        dialog = PredictDialog(self.document, self, spare=self.spare, run=info.folder)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

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
