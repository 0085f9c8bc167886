"""The Export dialog: choose formats and a folder, preview the training script, export.

The export (which may train first) runs as a background job; its errors appear in the dialog
as a plain sentence, with the technical details behind a toggle.
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
from mogui.core.events import EpochEnded, TrainingEvent
from mogui.core.io import atomic_write_text
from mogui.core.project import Project
from mogui.qt.code_editor import PythonHighlighter
from mogui.qt.document import ProjectDocument
from mogui.qt.jobs import JobError, JobHandle, ThreadRunner

FORMAT_LABELS = {
    "keras": "Keras (.keras: training model and plain inference model)",
    "savedmodel": "TensorFlow SavedModel",
    "onnx": "ONNX",
}


def export_job(job: JobHandle, project: Project, out_dir: Path, formats: list[str],
               epochs: int | None, from_run: Path | None, project_dir: Path | None) -> object:
    """The job: :func:`mogui.engine.export.export_project`, progress reported as text."""
    # engine loads TensorFlow: imported when first needed
    from mogui.engine.export import export_project

    def report(event: TrainingEvent) -> None:
        if isinstance(event, EpochEnded):
            job.report(f"Training: epoch {event.epoch + 1} done, loss "
                       f"{event.logs.get('loss', float('nan')):.4f}")

    job.report("Loading the trained model…" if from_run else "Training…")
    return export_project(project, out_dir, formats=formats, epochs=epochs, from_run=from_run,
                          project_dir=project_dir, reporter=report)


class ExportDialog(QDialog):
    """Export the document's project: model files, training script, history and plots."""

    finished_export = Signal(object)  # ExportResult, or None after an error

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None, *,
                 last_run: Path | None = None) -> None:
        """``last_run``: the output folder of the run trained in the app, offered first."""
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export")
        self.document = document
        self.runner = ThreadRunner(self, name="mogui-export")
        self.runner.progress.connect(self._progress)
        self.runner.succeeded.connect(self._succeeded)
        self.runner.failed.connect(self._failed)
        self.runner.finished.connect(lambda: self.export_button.setEnabled(True))
        self.result = None
        project = document.project

        # engine loads TensorFlow: imported when first needed
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
        self.last_run = last_run
        if last_run is not None:
            self.from_run_box.setText("Export the model trained in the app's last run "
                                      "(no training), or another training output folder")
            self.run_edit.setText(str(last_run))
            self.from_run_box.setChecked(True)

        form = QFormLayout()
        form.addRow("Model formats:", formats)
        form.addRow("Export folder:", folder_row)
        form.addRow("Epochs:", self.epochs_spin)
        form.addRow(self.from_run_box)
        form.addRow("Training output:", run_row)

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
    def _project_for_export(self) -> Project:
        project = self.document.project.model_copy(deep=True)
        project.training.epochs = self.epochs_spin.value()
        return project

    def _project_dir(self) -> Path | None:
        return self.document.path.parent if self.document.path is not None else None

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
                                              script_name(self.document.project),
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
            from_run = Path(self.run_edit.text().strip())
        epochs = None if from_run else self.epochs_spin.value()
        self.export_button.setEnabled(False)
        self.runner.start(export_job, self.document.project.model_copy(deep=True), Path(folder),
                          self.selected_formats(), epochs, from_run, self._project_dir())

    def _progress(self, text: object) -> None:
        self.status_label.setText(str(text))

    def _succeeded(self, result: object) -> None:
        self.result = result
        self.status_label.setText(f"Exported to {result.folder}.")  # type: ignore[attr-defined]
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
