"""The Export dialog: choose formats and a folder, preview the training script, export.

The export (which may train first) runs in a child process, like training: the project's code
never runs in the app. Its errors appear in the dialog as a plain sentence, with the technical
details behind a toggle. The app's last run is offered only for the project it trained (the
run list opens the dialog on any run of the project), and a run is exported with its own
project snapshot, never with what the editor holds now.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from mogui.core.errors import MoguiError
from mogui.core.events import EpochEnded
from mogui.core.io import atomic_write_text
from mogui.core.project import Project
from mogui.core.runs import Run
from mogui.core.trust import project_code
from mogui.qt.child_jobs import model_code
from mogui.qt.code_editor import PythonHighlighter
from mogui.qt.document import ProjectDocument
from mogui.qt.engine_loader import load_engine
from mogui.qt.jobs import JobError
from mogui.qt.process_runner import ProcessRunner, SpareChild
from mogui.qt.run_model import RunModel

FORMAT_LABELS = {
    "keras": "Keras (.keras: training model and plain inference model)",
    "savedmodel": "TensorFlow SavedModel",
    "onnx": "ONNX",
}


def progress_text(event: object) -> str | None:
    """A line of progress for the dialog, from an event the export reports."""
    if isinstance(event, EpochEnded):
        return (f"Training: epoch {event.epoch + 1} done, loss "
                f"{event.logs.get('loss', float('nan')):.4f}")
    return None


class ExportDialog(QDialog):
    """Export the document's project: model files, training script, history and plots."""

    finished_export = Signal(object)  # ExportResult, or None after an error

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None, *,
                 runs: RunModel | None = None, spare: SpareChild | None = None,
                 run: Run | None = None) -> None:
        """``runs``: the app's runs; the last one is offered when it trained this project.
        ``run``: a run of this project (from the run list) to offer instead."""
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export")
        self.document = document
        self.runner = ProcessRunner(self, spare=spare)
        self.runner.progress.connect(self._progress)
        self.runner.succeeded.connect(self._succeeded)
        self.runner.failed.connect(self._failed)
        self.runner.finished.connect(lambda: self.export_button.setEnabled(True))
        self.result = None
        project = document.project

        load_engine()  # TensorFlow: waits if it is still loading (see engine_loader)
        from mogui.engine.export import EXPORT_FORMATS, onnx_missing

        self.format_boxes: dict[str, QCheckBox] = {}
        formats = QHBoxLayout()
        for name in EXPORT_FORMATS:
            box = QCheckBox(FORMAT_LABELS[name], objectName=f"format_{name}")
            box.setChecked(name == "keras")
            if name == "onnx" and (reason := onnx_missing()):
                box.setEnabled(False)
                box.setToolTip(reason)
            self.format_boxes[name] = box
            formats.addWidget(box)

        self.folder_edit = QLineEdit(objectName="folderEdit")
        self.folder_edit.setPlaceholderText("a new or empty folder")
        if document.path is not None:
            self.folder_edit.setText(str(document.path.parent / f"{document.path.stem}_export"))
        choose = QPushButton("Choose…", clicked=self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(choose)

        self.epochs_spin = QSpinBox(objectName="epochsSpin", minimum=1, maximum=100000)
        self.epochs_spin.setValue(project.training.epochs)
        self.epochs_spin.valueChanged.connect(self._refresh_code)

        self.from_run_box = QCheckBox("Export from an existing training output folder "
                                      "(no training)", objectName="fromRunBox")
        self.run_edit = QLineEdit(objectName="runEdit", enabled=False)
        self.run_edit.setPlaceholderText("folder with model.keras and history.csv")
        self.run_choose = QPushButton("Choose…", clicked=self._choose_run, enabled=False)
        self.from_run_box.toggled.connect(self._from_run_toggled)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_edit, 1)
        run_row.addWidget(self.run_choose)
        self.run_note = QLabel(objectName="runNote", wordWrap=True)
        self.run_note.setVisible(False)
        chosen = run is not None
        run = run if chosen else runs.current if runs is not None else None
        self.last_run: Run | None = None
        if run is not None and run.ended and run.has_model:
            if chosen or run.belongs_to(document.identity):
                self.last_run = run
                which = "the run" if chosen else "the app's last run"
                self.from_run_box.setText(
                    f"Export the model of {which} ({run.describe()}; no training), or "
                    "another training output folder")
                self.run_edit.setText(str(run.folder))
                self.from_run_box.setChecked(True)
            else:
                self.run_note.setText(
                    f"The app's last run trained another project ({run.describe()}), so it "
                    "is not offered here. Train this project to export its model.")
                self.run_note.setVisible(True)
        self.run_edit.textChanged.connect(self._refresh_code)
        self.from_run_box.toggled.connect(self._refresh_code)

        form = QFormLayout()
        form.addRow("Model formats:", formats)
        form.addRow("Export folder:", folder_row)
        form.addRow("Epochs:", self.epochs_spin)
        form.addRow(self.from_run_box)
        form.addRow("Training output:", run_row)
        form.addRow(self.run_note)

        self.code_view = QPlainTextEdit(objectName="codeView", readOnly=True)
        self.code_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.code_view.setFont(QGuiApplication.font())
        self._highlighter = PythonHighlighter(self.code_view.document())
        copy = QPushButton("Copy", objectName="copyButton", clicked=self.copy_code)
        save = QPushButton("Save…", objectName="saveButton", clicked=self._save_code_dialog)
        code_buttons = QHBoxLayout()
        code_buttons.addWidget(QLabel("Standalone training script (keras, tensorflow, numpy):"))
        code_buttons.addStretch(1)
        code_buttons.addWidget(copy)
        code_buttons.addWidget(save)

        self.status_label = QLabel(objectName="statusLabel", wordWrap=True)
        self.error_label = QLabel(objectName="errorLabel", wordWrap=True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setTextInteractionFlags(
            self.error_label.textInteractionFlags().TextSelectableByMouse)
        self.details_view = QPlainTextEdit(objectName="detailsView", readOnly=True)
        self.details_view.setVisible(False)
        self.details_button = QPushButton("Show details", objectName="detailsButton",
                                          checkable=True, visible=False)
        self.details_button.toggled.connect(self.details_view.setVisible)

        self.export_button = QPushButton("Export", objectName="exportButton",
                                         clicked=self.start_export, default=True)
        close = QPushButton("Close", clicked=self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.details_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(code_buttons)
        layout.addWidget(self.code_view, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.details_view)
        layout.addLayout(buttons)
        self.resize(900, 700)
        self._refresh_code()

    # -- script preview --------------------------------------------------------------------
    def _exports_last_run(self) -> bool:
        run = self.last_run
        return (run is not None and self.from_run_box.isChecked()
                and self.run_edit.text().strip() == str(run.folder))

    def _project_for_export(self) -> Project:
        """The app's last run: the project it trained; otherwise the editor's project."""
        if self._exports_last_run():
            return self.last_run.project.model_copy(deep=True)
        project = self.document.project.model_copy(deep=True)
        project.training.epochs = self.epochs_spin.value()
        return project

    def _project_dir(self) -> Path | None:
        path = self.last_run.project_path if self._exports_last_run() else self.document.path
        return path.parent if path is not None else None

    def _refresh_code(self) -> None:
        # engine loads TensorFlow: imported when first needed
        from mogui.engine.export.codegen import generate_script

        try:
            text = generate_script(self._project_for_export(), self._project_dir())
        except Exception as exc:  # noqa: BLE001 - an unbuildable project shows why
            text = f"# The script cannot be generated yet: {exc}\n"
        self.code_view.setPlainText(text)

    def code(self) -> str:
        return self.code_view.toPlainText()

    def copy_code(self) -> None:
        QGuiApplication.clipboard().setText(self.code())
        self.status_label.setText("Script copied to the clipboard.")

    def save_code(self, path: Path) -> None:
        try:
            atomic_write_text(path, self.code())
        except OSError as exc:
            self._show_error(f"Cannot save the script to '{path}': {exc.strerror or exc}", "")
            return
        self.status_label.setText(f"Script saved to {path}.")

    def _save_code_dialog(self) -> None:
        # engine loads TensorFlow: imported when first needed
        from mogui.engine.export.codegen import script_name

        name, _ = QFileDialog.getSaveFileName(self, "Save training script",
                                              script_name(self._project_for_export()),
                                              "Python (*.py)")
        if name:
            self.save_code(Path(name))

    # -- choosing folders ------------------------------------------------------------------
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def _choose_run(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Training output folder",
                                                  self.run_edit.text())
        if folder:
            self.run_edit.setText(folder)

    def _from_run_toggled(self, on: bool) -> None:
        self.run_edit.setEnabled(on)
        self.run_choose.setEnabled(on)
        self.epochs_spin.setEnabled(not on)

    # -- export ----------------------------------------------------------------------------
    def selected_formats(self) -> list[str]:
        return [name for name, box in self.format_boxes.items() if box.isChecked()]

    def start_export(self) -> None:
        if self.runner.is_running:
            return
        self._show_error("", "")
        folder = self.folder_edit.text().strip()
        if not folder:
            self._show_error("Choose an export folder first.", "")
            return
        from_run = None
        if self.from_run_box.isChecked():
            if not self.run_edit.text().strip():
                self._show_error("Choose the training output folder to export from.", "")
                return
            from_run = Path(self.run_edit.text().strip()).absolute()
        project = self._project_for_export()
        if from_run is None and self.document.untrusted_code:
            names = ", ".join(item.describe() for item in self.document.untrusted_code)
            self._show_error(f"Exporting trains the project, and it holds code you have not "
                             f"trusted ({names}). Read it on the Losses tab, then press "
                             "“Trust and enable” in the banner.", "")
            return
        allowed = [item.source for item in project_code(project)] if from_run is None else \
            model_code(from_run)
        options = {"formats": self.selected_formats(),
                   "epochs": None if from_run else self.epochs_spin.value(),
                   "from_run": from_run, "project_dir": self._project_dir()}
        self.export_button.setEnabled(False)
        self.status_label.setText("Loading the trained model…" if from_run else "Training…")
        self.runner.start("export", project, Path(folder).absolute(), options,
                          allowed_code=allowed)

    def _progress(self, event: object) -> None:
        text = progress_text(event)
        if text is not None:
            self.status_label.setText(text)

    def _succeeded(self, result: object) -> None:
        self.result = result
        warned = "".join(f" Note: {w}." for w in getattr(result, "warnings", []))
        self.status_label.setText(f"Exported to {result.folder}.{warned}")  # type: ignore[attr-defined]
        self.code_view.setPlainText(result.script)  # type: ignore[attr-defined]
        self.finished_export.emit(result)

    def _failed(self, error: JobError) -> None:
        exc = error.exception
        message = str(exc) if isinstance(exc, MoguiError) else \
            f"The export failed unexpectedly: {type(exc).__name__}: {exc}"
        self.status_label.setText("Export failed; nothing was written.")
        self._show_error(message, error.traceback)
        self.finished_export.emit(None)

    def _show_error(self, message: str, details: str) -> None:
        self.error_label.setText(message)
        self.details_view.setPlainText(details)
        self.details_button.setVisible(bool(details))
        if not details:
            self.details_button.setChecked(False)

    def reject(self) -> None:
        if self.runner.is_running:
            self.status_label.setText("Please wait: the export is still running.")
            return
        super().reject()

