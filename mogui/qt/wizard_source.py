"""New ▸ From data…, the first page: which data (a CSV table, an ``.npz`` file, or an image
folder with a table naming each image), read and summarised in a background thread
(:func:`mogui.engine.data.summarize_data`) before the wizard moves on."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWizardPage

from mogui.core.errors import DataError, MoguiError
from mogui.core.from_data import DataSummary
from mogui.qt.data_widgets import PathField, combo_of
from mogui.qt.engine_loader import load_engine
from mogui.qt.jobs import JobError, JobHandle, ThreadRunner
from mogui.qt.wizard_columns import ERROR_STYLE

DATA_KINDS = (("csv", "CSV table"), ("npz", "NumPy .npz file"),
              ("image_folder", "Image folder + table of labels"))
DELIMITERS = (("", "Automatic"), (",", ", (comma)"), (";", "; (semicolon)"),
              ("\t", "Tab"), ("|", "| (bar)"))
#: A data request: kind, path, labels table, file-name column, delimiter (empty: found).
Request = tuple[str, str, str, str, str]


def _summarize(_job: JobHandle, request: Request) -> tuple[Request, DataSummary]:
    """The job: read and summarise the data ``request`` names."""
    load_engine()  # TensorFlow: one thread imports it (see engine_loader)
    from mogui.engine.data import summarize_data

    kind, path, labels, file_column, delimiter = request
    if kind == "image_folder" and not Path(path).is_dir():
        raise DataError(f"'{path}' is not a folder. Choose the folder that holds the images.")
    if kind != "image_folder" and Path(path).is_dir():
        raise DataError(f"'{path}' is a folder. Choose a data file, or pick “Image folder + "
                        "table of labels” for a folder of images.")
    summary = summarize_data(path, labels=labels or None, file_column=file_column or None,
                             delimiter=delimiter or None)
    return request, summary


class SourcePage(QWizardPage):
    """Which data: its kind and where it is. Next reads it (in the background) and moves on
    once it is read; what is wrong with it shows on the page."""

    def __init__(self) -> None:
        super().__init__(objectName="sourcePage")
        self.setTitle("Your data")
        self.setSubTitle("A CSV table with a header row, a NumPy .npz file, or a folder of "
                         "images with a table naming each image and its targets.")
        self.summary: DataSummary | None = None
        self._request: Request | None = None
        self.kind = combo_of(DATA_KINDS, "dataKind")
        self.data_path = PathField("Data (*.csv *.txt *.tsv *.npz);;All files (*)", None,
                                   name="dataPath")
        self.image_folder = PathField("", None, folder=True, name="imageFolder")
        self.labels_path = PathField("CSV table (*.csv *.txt);;All files (*)", None,
                                     name="labelsPath")
        self.labels_path.edit.setPlaceholderText(
            "found by itself: the folder's only CSV file, or labels.csv beside the folder")
        self.file_column = QLineEdit(objectName="fileColumn")
        self.file_column.setPlaceholderText("found from the table's cells (img_001.png …)")
        self.delimiter = combo_of(DELIMITERS, "delimiter")
        self.status = QLabel(objectName="sourceStatus", wordWrap=True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form = QFormLayout()
        self.form.addRow("Kind", self.kind)
        self.form.addRow("File", self.data_path)
        self.form.addRow("Image folder", self.image_folder)
        self.form.addRow("Labels table", self.labels_path)
        self.form.addRow("File-name column", self.file_column)
        self.form.addRow("Delimiter", self.delimiter)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.runner = ThreadRunner(self, name="mogui-data-summary")
        self.runner.succeeded.connect(self._read)
        self.runner.failed.connect(self._failed)
        self.runner.finished.connect(self.completeChanged)  # Next again once reading ended
        self.kind.currentIndexChanged.connect(self._kind_changed)
        for field in (self.data_path, self.image_folder, self.labels_path):
            field.changed.connect(self._choice_changed)
            field.edit.textChanged.connect(self._choice_changed)
        self.file_column.textChanged.connect(self._choice_changed)
        self.delimiter.currentIndexChanged.connect(self._choice_changed)
        self._kind_changed()

    def set_data(self, path: str | Path, kind: str | None = None) -> None:
        """Choose ``path`` (its kind from what it is unless given)."""
        path = Path(path)
        kind = kind or ("image_folder" if path.is_dir() else
                        "npz" if path.suffix.lower() == ".npz" else "csv")
        self.kind.setCurrentIndex(self.kind.findData(kind))
        (self.image_folder if kind == "image_folder" else self.data_path).set_path(str(path))

    def request(self) -> Request | None:
        """What to read, as the fields say; ``None`` while no file or folder is chosen."""
        kind = self.kind.currentData()
        images = kind == "image_folder"
        path = (self.image_folder if images else self.data_path).resolved()
        if path is None:
            return None
        labels = self.labels_path.resolved() if images else None
        return (kind, str(path.absolute()), str(labels.absolute()) if labels else "",
                self.file_column.text().strip() if images else "", self.delimiter.currentData())

    def _kind_changed(self) -> None:
        images = self.kind.currentData() == "image_folder"
        self.form.setRowVisible(self.data_path, not images)
        for widget in (self.image_folder, self.labels_path, self.file_column):
            self.form.setRowVisible(widget, images)
        self.completeChanged.emit()

    def _choice_changed(self, *_args: object) -> None:
        """A field changed: what was said about the earlier choice no longer applies."""
        if not self.runner.is_running:
            self._say("")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802 - Qt's name
        return self.request() is not None and not self.runner.is_running

    def validatePage(self) -> bool:  # noqa: N802 - Qt's name
        """True once the chosen data has been read; otherwise start reading it."""
        request = self.request()
        if request is None:
            return False
        if self.summary is not None and request == self._request:
            return True
        if not self.runner.is_running:
            self._say("Reading the data…")
            self.runner.start(_summarize, request)
            self.completeChanged.emit()
        return False

    def _read(self, result: tuple[Request, DataSummary]) -> None:
        request, summary = result
        if request != self.request():
            self._say("The choice changed while it was read; press Next again.")
            return
        self.summary, self._request = summary, request
        what = "arrays" if summary.kind == "npz" else "columns"
        self._say(f"{summary.path.name}: {summary.rows} rows, {len(summary.columns)} {what}.")
        self.completeChanged.emit()
        self.wizard().next()

    def _failed(self, error: JobError) -> None:
        exc = error.exception
        text = str(exc) if isinstance(exc, MoguiError) else \
            f"The data could not be read: {type(exc).__name__}: {exc}."
        self._say(text, error=True)
        self.completeChanged.emit()

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")
