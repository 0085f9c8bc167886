"""Predict…: a trained run's predictions for a new data file, written as a CSV table with one
column per head (class names for classification heads, values in the target's units for
regression heads).

The file is read the way the run's project reads its own data (a CSV table by its input
columns, an ``.npz`` file by its arrays, a folder of images for an image project). The
``predict`` job runs in a child process and writes the table atomically, so a bad file writes
nothing and says why. When the file also holds every head's targets, the rows are evaluated
too and the figures shown. Opened from File ▸ Predict… and the Runs tab.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mogui.core import run_store
from mogui.core.paths import path_problem
from mogui.core.run_store import RunInfo
from mogui.qt.child_jobs import failure_text, model_code
from mogui.qt.data_widgets import PathField
from mogui.qt.document import ProjectDocument
from mogui.qt.jobs import JobError
from mogui.qt.process_runner import ProcessRunner, SpareChild


def run_label(info: RunInfo) -> str:
    """``2026-03-04 12:00:00 — finished, 40 epochs``."""
    when = info.started_at.strftime("%Y-%m-%d %H:%M:%S") if info.started_at else \
        info.folder.name
    return f"{when} — {info.status_text()}"


def predictions_path(data: Path) -> Path:
    """Where the predictions of ``data`` go by default: ``<data>_predictions.csv`` beside it."""
    return data.with_name(f"{data.stem if data.suffix else data.name}_predictions.csv")


class PredictDialog(QDialog):
    """Choose a run, a data file and where to write; Predict. ``predicted`` carries the
    job's :class:`~mogui.runner.requests.PredictSummary` (``None`` after an error)."""

    predicted = Signal(object)

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None, *,
                 spare: SpareChild | None = None, run: Path | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("predictDialog")
        self.setWindowTitle("Predict")
        self.document = document
        self.result_summary = None
        self.runner = ProcessRunner(self, spare=spare)
        self.runner.succeeded.connect(self._succeeded)
        self.runner.failed.connect(self._failed)
        self.runner.finished.connect(lambda: self.predict_button.setEnabled(True))

        self.run_box = QComboBox(objectName="predictRun")
        self.runs = [info for info in run_store.list_runs(document.project, document.path)
                     if info.has_model]
        for info in self.runs:
            self.run_box.addItem(run_label(info), str(info.folder))
        if run is not None and (index := self.run_box.findData(str(run))) >= 0:
            self.run_box.setCurrentIndex(index)
        images = document.project.data.kind == "image_folder"
        base = document.path.parent if document.path is not None else None
        self.data_path = PathField("" if images else
                                   "Data (*.csv *.txt *.tsv *.npz);;All files (*)", base,
                                   folder=images, name="predictData")
        self.data_path.changed.connect(self._suggest_out)
        self.out_edit = QLineEdit(objectName="predictOut")
        self.out_edit.setPlaceholderText("the predictions file to write (.csv)")
        choose = QPushButton("Choose…", objectName="predictOutBrowse")
        choose.clicked.connect(lambda _checked=False: self._choose_out())
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(choose)
        self.keep_edit = QLineEdit(objectName="predictKeep")
        self.keep_edit.setPlaceholderText("columns of the data to copy first, e.g. an id to "
                                          "join the predictions back by (optional)")

        what = ("a folder of images (predictions only: Evaluate… on the Runs tab evaluates "
                "the project's own labelled images)" if images else "a CSV table with the "
                "project's input columns (other columns are ignored) or an .npz file with its "
                "input arrays. When it also holds the targets, the rows are evaluated too")
        note = QLabel(f"Data to predict: {what}.", wordWrap=True)
        self.status = QLabel(objectName="predictStatus", wordWrap=True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel(objectName="predictError", wordWrap=True)
        self.error.setStyleSheet("color: #b00020;")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report = QPlainTextEdit(objectName="predictReport", readOnly=True)
        self.report.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.report.setVisible(False)
        self.predict_button = QPushButton("Predict", objectName="predictButton", default=True)
        self.predict_button.clicked.connect(lambda _checked=False: self.predict())
        close = QPushButton("Close")
        close.clicked.connect(lambda _checked=False: self.reject())

        form = QFormLayout()
        form.addRow("Trained run", self.run_box)
        form.addRow("Data", self.data_path)
        form.addRow("Write to", out_row)
        if document.project.data.kind == "csv":  # other data has no columns to copy
            form.addRow("Keep columns", self.keep_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.predict_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(self.report, 1)
        layout.addLayout(buttons)
        if not self.runs:
            self._show_error("This project has no trained run yet: train it on the Training tab "
                             "first (runs are listed on the Runs tab).")
            self.predict_button.setEnabled(False)
        self.resize(760, 420)

    # -- fields ------------------------------------------------------------------------------
    def _suggest_out(self) -> None:
        data = self.data_path.resolved()
        if data is not None and not self.out_edit.text().strip():
            self.out_edit.setText(str(predictions_path(data.absolute())))

    def _choose_out(self) -> None:
        start = self.out_edit.text().strip() or str(Path.cwd() / "predictions.csv")
        name, _ = QFileDialog.getSaveFileName(self, "Write the predictions to", start,
                                              "CSV table (*.csv)")
        if name:
            self.out_edit.setText(name)

    def problem(self) -> str | None:
        """Why Predict cannot start with what the fields say (``None`` when it can)."""
        if not self.runs:
            return "This project has no trained run yet: train it first."
        data = self.data_path.resolved()
        if data is None:
            return "Choose the data to predict (Browse…)."
        kind = "folder" if self.data_path.folder else "file"
        if (problem := path_problem(data, kind)) is not None:
            return f"The data {kind} '{data}' {problem}. Choose it again."
        if not self.out_edit.text().strip():
            return "Choose where to write the predictions (a .csv file)."
        out = self.out_path()
        if out.is_dir():
            return f"'{out}' is a folder; give a file name for the predictions (e.g. " \
                   "predictions.csv)."
        if out.suffix.lower() != ".csv":
            return f"'{out.name}' is no .csv file name; the predictions are a CSV table " \
                   "(e.g. predictions.csv)."
        if out.exists() and out.resolve() == data.resolve():
            return "The predictions would replace the data file itself; choose another file."
        return None

    def out_path(self) -> Path:
        text = Path(self.out_edit.text().strip())
        if not text.is_absolute() and self.document.path is not None:
            text = self.document.path.parent / text
        return text.absolute()

    # -- predicting --------------------------------------------------------------------------
    def predict(self, replace: bool | None = None) -> bool:
        """Start the prediction; False (with the reason shown) when it cannot start.
        ``replace``: whether an existing output file may be replaced (``None``: ask)."""
        if self.runner.is_running:
            return False
        self._show_error("")
        if (problem := self.problem()) is not None:
            self._show_error(problem)
            return False
        out = self.out_path()
        if out.exists():
            if replace is None:
                answer = QMessageBox.question(
                    self, "Replace the file?", f"'{out}' exists already. Replace it with the "
                    "predictions?", QMessageBox.StandardButton.Yes
                    | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
                replace = answer == QMessageBox.StandardButton.Yes
            if not replace:
                self._show_error(f"'{out.name}' exists already; choose another file to write "
                                 "the predictions to.")
                return False
        folder = Path(self.run_box.currentData())
        data = self.data_path.resolved()
        assert data is not None
        self.report.setVisible(False)
        self.predict_button.setEnabled(False)
        self.status.setText("Predicting: loading the model and the data…")
        return self.runner.start("predict", folder, data.absolute(), out, None,
                                 self.keep_edit.text().strip(),
                                 allowed_code=model_code(folder))

    def _succeeded(self, summary) -> None:  # noqa: ANN001 - a PredictSummary
        self.result_summary = summary
        self.status.setText(f"Wrote {summary.rows} predictions ({', '.join(summary.columns)}) "
                            f"to {self.out_path()}.")
        if summary.evaluation:
            self.report.setPlainText("\n".join(summary.evaluation))
            self.report.setVisible(True)
        self.predicted.emit(summary)

    def _failed(self, error: JobError) -> None:
        self.status.setText("Nothing was written.")
        self._show_error(failure_text(error, "prediction"))
        self.predicted.emit(None)

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def reject(self) -> None:
        """Close; a prediction still running is stopped (it writes nothing then)."""
        if self.runner.is_running:
            self.runner.cancel()
        super().reject()
