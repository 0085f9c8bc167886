"""The Data dialog: pick a data source, map its columns to inputs and heads, check it.

The dialog edits a copy of the project's data settings; OK applies them (with the validation
split, seed and shuffle, and whether each regression head is standardized) as one undoable
step through :meth:`ProjectDocument.edit`. The checks are :mod:`mogui.qt.data_check_panel`'s.
Values are
checked with the project's own rules: a field that breaks one (10 demo samples, a split of 1,
a two-character delimiter, no file chosen …) is marked with the reason under it, and OK keeps
the dialog open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mogui.core.errors import DataError
from mogui.core.project import (
    CsvData,
    DemoShapesData,
    ImageFolderData,
    NpzData,
    Project,
    TrainingSettings,
)
from mogui.core.tasks import Task
from mogui.qt.data_check_panel import DataCheckPanel, error_html
from mogui.qt.data_widgets import (
    SOURCE_MODELS,
    PathField,
    column_values,
    combo_of,
    is_number,
    read_preview,
    select_data,
    settings_problems,
    split_names,
)
from mogui.qt.document import ProjectDocument
from mogui.qt.form_editors import Editor, number_box, with_message

KINDS = (("demo_shapes", "Demo shapes"), ("npz", "NumPy .npz"), ("csv", "CSV table"),
         ("image_folder", "Image folder + labels CSV"))
STREAMING = (("auto", "Automatic (stream large data)"), ("always", "Always stream"),
             ("never", "Load into memory"))
SCALES = (("unit", "0..1"), ("symmetric", "-1..1"), ("none", "0..255 (unchanged)"))
CACHES = (("none", "No (decode every epoch)"), ("memory", "In memory"),
          ("disk", "In a temporary file"))
CLASS_TASKS = (Task.BINARY, Task.MULTICLASS, Task.MULTICLASS_ONEHOT)


class DataDialog(QDialog):
    """Choose and check the project's training data. ``accept()`` applies it (undoable)."""

    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dataDialog")
        self.setWindowTitle("Data")
        self.document = document
        project = document.project
        base = self.project_dir
        self.kind = combo_of(KINDS, "sourceKind")
        self.pages = QStackedWidget(objectName="sourcePages")

        self.demo_samples = number_box("demoSamples")
        self.demo_size = number_box("demoImageSize")
        self.demo_seed = number_box("demoSeed")
        self.npz_path = PathField("NumPy archive (*.npz)", base, name="npzPath")
        self.csv_path = PathField("CSV table (*.csv *.txt)", base, name="csvPath")
        self.image_folder = PathField("", base, folder=True, name="imageFolder")
        self.labels_path = PathField("CSV table (*.csv *.txt)", base, name="labelsPath")
        self.delimiter = QComboBox(objectName="delimiter", editable=True)
        self.delimiter.addItems([",", ";", "\t", "|"])
        self.streaming = combo_of(STREAMING, "streaming")
        self.chunk_rows = number_box("chunkRows")
        self.file_column = QComboBox(objectName="fileColumn", editable=True)
        self.image_input = QComboBox(objectName="imageInput")
        self.image_input.addItems(project.input_names)
        self.resize_images = QCheckBox("Resize images to the input's size",
                                       objectName="resizeImages")
        self.scale = combo_of(SCALES, "pixelScale")
        self.cache = combo_of(CACHES, "imageCache")
        self.cache.setToolTip("Streamed images: keep them decoded after the first epoch, so "
                              "later epochs skip decoding (as much memory or disk as the "
                              "decoded images)")
        self.validation_split = number_box("validationSplit", decimals=3)
        self.validation_split.setSingleStep(0.05)
        self.seed = number_box("splitSeed")
        self.checks: dict[str, Editor] = {}  # by field; each shows why its value is refused
        self._fields: dict[str, QWidget] = {}
        for path, widget in (
                ("data.samples", self.demo_samples), ("data.image_size", self.demo_size),
                ("data.seed", self.demo_seed), ("data.path:npz", self.npz_path),
                ("data.path:csv", self.csv_path), ("data.folder", self.image_folder),
                ("data.labels", self.labels_path), ("data.delimiter", self.delimiter),
                ("data.chunk_rows", self.chunk_rows), ("data.file_column", self.file_column),
                ("training.validation_split", self.validation_split),
                ("training.seed", self.seed)):
            self.checks[path], self._fields[path] = with_message(widget, widget.objectName())
        self._build_pages()

        self.mapping = QTableWidget(0, 4, objectName="columnMapping")
        self.mapping.setHorizontalHeaderLabels(["Feeds", "Task / shape", "Columns",
                                                "Classes (names, in id order)"])
        self.mapping.horizontalHeader().setStretchLastSection(True)
        self.mapping.verticalHeader().hide()
        self.mapping.setMinimumHeight(150)
        self.auto_map = QPushButton("Auto-map columns", objectName="autoMap")
        self.preview = QTableWidget(0, 0, objectName="preview")
        self.preview.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.preview.setMinimumHeight(150)

        self.shuffle = QCheckBox("Shuffle training rows each epoch", objectName="shuffle")

        self.standardize: dict[str, QCheckBox] = {
            head.name: QCheckBox(f"{head.name}: standardized",
                                 objectName=f"standardize_{head.name}", checked=head.standardize,
                                 toolTip="Learn in standard deviations of the target and predict "
                                 "in its units (the model rescales its output)")
            for head in project.heads if head.task == Task.REGRESSION}

        # The check's runner belongs to the document: a check still running when the dialog
        # closes ends harmlessly.
        self.check_panel = DataCheckPanel(document, self._class_names)
        self.checked = self.check_panel.checked
        self.check_button = self.check_panel.button
        self.summary = self.check_panel.summary
        self.problems = self.check_panel.problems
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self._layout()
        self._load(project)

        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.csv_path.changed.connect(self._refresh_preview)
        self.labels_path.changed.connect(self._refresh_preview)
        self.npz_path.changed.connect(self._refresh_preview)
        self.auto_map.clicked.connect(self.auto_map_columns)
        self.check_button.clicked.connect(lambda _checked=False: self.run_checks())
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._kind_changed()
        self.resize(920, 900)

    # -- layout ------------------------------------------------------------------------------
    def _build_pages(self) -> None:
        demo, npz, table, images = (QWidget() for _ in range(4))
        field = self._fields
        form = QFormLayout(demo)
        form.addRow("Samples", field["data.samples"])
        form.addRow("Image size (pixels)", field["data.image_size"])
        form.addRow("Seed", field["data.seed"])
        QFormLayout(npz).addRow("Archive", field["data.path:npz"])
        form = QFormLayout(table)
        form.addRow("Table", field["data.path:csv"])
        form.addRow("Delimiter", field["data.delimiter"])
        form.addRow("Reading", self.streaming)
        form.addRow("Rows per chunk", field["data.chunk_rows"])
        form = QFormLayout(images)
        form.addRow("Image folder", field["data.folder"])
        form.addRow("Labels table", field["data.labels"])
        form.addRow("File-name column", field["data.file_column"])
        form.addRow("Feeds input", self.image_input)
        form.addRow("", self.resize_images)
        form.addRow("Pixel values", self.scale)
        form.addRow("Keep decoded images", self.cache)
        for page in (demo, npz, table, images):
            self.pages.addWidget(page)

    def _layout(self) -> None:
        top = QFormLayout()
        top.addRow("Source", self.kind)
        mapping_box = QGroupBox("Columns for each input and head", objectName="mappingBox")
        mapping_layout = QVBoxLayout(mapping_box)
        mapping_layout.addWidget(self.mapping)
        mapping_layout.addWidget(self.auto_map, 0, Qt.AlignmentFlag.AlignLeft)
        self.mapping_box = mapping_box
        preview_box = QGroupBox("Preview (first rows)")
        QVBoxLayout(preview_box).addWidget(self.preview)
        split_box = QGroupBox("Training / validation split")
        split = QHBoxLayout(split_box)
        split.addWidget(QLabel("Validation fraction"))
        split.addWidget(self._fields["training.validation_split"])
        split.addWidget(QLabel("Seed"))
        split.addWidget(self._fields["training.seed"])
        split.addWidget(self.shuffle)
        split.addStretch(1)
        scaling_box = QGroupBox("Regression targets", objectName="scalingBox")
        scaling = QGridLayout(scaling_box)
        for i, box in enumerate(self.standardize.values()):
            scaling.addWidget(box, i // 3, i % 3)
        scaling_box.setVisible(bool(self.standardize))
        row = QHBoxLayout()
        row.addWidget(split_box)
        row.addWidget(scaling_box)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.pages)
        layout.addWidget(mapping_box, 2)
        layout.addWidget(preview_box, 2)
        layout.addLayout(row)
        layout.addWidget(self.check_panel, 2)
        layout.addWidget(self.buttons)

    # -- project <-> form --------------------------------------------------------------------
    @property
    def project_dir(self) -> Path | None:
        path = self.document.path
        return Path(path).parent if path is not None else None

    def _load(self, project: Project) -> None:
        data = project.data
        select_data(self.kind, data.kind)
        demo = data if isinstance(data, DemoShapesData) else DemoShapesData()
        self.demo_samples.setValue(demo.samples)
        self.demo_size.setValue(demo.image_size)
        self.demo_seed.setValue(demo.seed)
        if isinstance(data, NpzData):
            self.npz_path.set_path(data.path)
        table = data if isinstance(data, CsvData) else CsvData(path="-")
        images = data if isinstance(data, ImageFolderData) else ImageFolderData(
            folder="-", labels="-", input=project.input_names[0])
        if isinstance(data, CsvData):
            self.csv_path.set_path(data.path)
        if isinstance(data, ImageFolderData):
            self.image_folder.set_path(data.folder)
            self.labels_path.set_path(data.labels)
        delimiter = data.delimiter if isinstance(data, CsvData | ImageFolderData) else ","
        self.delimiter.setCurrentText(delimiter)
        select_data(self.streaming, data.streaming if isinstance(data, CsvData | ImageFolderData)
                else "auto")
        self.chunk_rows.setValue(table.chunk_rows)
        self.file_column.setCurrentText(images.file_column)
        self.image_input.setCurrentText(images.input)
        self.resize_images.setChecked(images.resize)
        select_data(self.scale, images.scale)
        select_data(self.cache, images.cache)
        maps = {m.name: m for m in (*table.inputs, *table.targets, *images.targets)}
        self._fill_mapping(project, maps)
        settings = project.training
        self.validation_split.setValue(settings.validation_split)
        self.seed.setValue(settings.seed)
        self.shuffle.setChecked(settings.shuffle)

    def _fill_mapping(self, project: Project, maps: dict[str, Any]) -> None:
        rows = [(spec.name, f"input {list(spec.shape)}") for spec in project.inputs]
        rows += [(h.name, f"{h.task.value}, {h.units} unit(s)") for h in project.heads]
        self.mapping.setRowCount(len(rows))
        for r, (name, kind) in enumerate(rows):
            for c, text in enumerate((name, kind)):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.mapping.setItem(r, c, item)
            found = maps.get(name)
            self.mapping.setItem(r, 2, QTableWidgetItem(", ".join(found.columns)
                                                        if found else ""))
            self.mapping.setItem(r, 3, QTableWidgetItem(", ".join(found.classes)
                                                        if found else ""))
        self.mapping.resizeColumnsToContents()

    def _maps(self, names: list[str]) -> list[dict[str, Any]]:
        maps = []
        for r in range(self.mapping.rowCount()):
            name = self.mapping.item(r, 0).text()
            columns = split_names(self.mapping.item(r, 2).text())
            if name in names and columns:
                maps.append({"name": name, "columns": columns,
                             "classes": split_names(self.mapping.item(r, 3).text())})
        return maps

    def _raw_source(self) -> dict[str, Any]:
        """The data settings as the form shows them, not checked yet."""
        project = self.document.project
        kind = self.kind.currentData()
        if kind == "demo_shapes":
            current = project.data
            targets = dict(current.targets) if isinstance(current, DemoShapesData) else {}
            return {"kind": kind, "samples": self.demo_samples.value(),
                    "image_size": self.demo_size.value(), "seed": self.demo_seed.value(),
                    "targets": targets}
        common = {"delimiter": self.delimiter.currentText(),
                  "streaming": self.streaming.currentData()}
        if kind == "npz":
            return {"kind": kind, "path": self.npz_path.text()}
        if kind == "csv":
            return {"kind": kind, "path": self.csv_path.text(),
                    "inputs": self._maps(project.input_names),
                    "targets": self._maps(project.head_names),
                    "chunk_rows": self.chunk_rows.value(), **common}
        return {"kind": kind, "folder": self.image_folder.text(),
                "labels": self.labels_path.text(),
                "file_column": self.file_column.currentText().strip(),
                "input": self.image_input.currentText(),
                "targets": self._maps(project.head_names),
                "resize": self.resize_images.isChecked(), "scale": self.scale.currentData(),
                "cache": self.cache.currentData(), **common}

    def _raw_training(self) -> dict[str, Any]:
        settings = self.document.project.training.model_dump()
        settings.update(validation_split=round(self.validation_split.value(), 4),
                        seed=self.seed.value(), shuffle=self.shuffle.isChecked())
        return settings

    def field_problems(self) -> dict[str, str]:
        """What is wrong with each field the project's rules refuse, by field (``data.samples``,
        ``data.path:csv`` …); empty when every field is fine."""
        kind = self.kind.currentData()
        paths = {"npz": (("data.path:npz", self.npz_path, "the .npz archive"),),
                 "csv": (("data.path:csv", self.csv_path, "the CSV table"),),
                 "image_folder": (("data.folder", self.image_folder, "the image folder"),
                                  ("data.labels", self.labels_path, "the labels table"))}
        empty = {key: what for key, field, what in paths.get(kind, ()) if not field.text()}
        return settings_problems(kind, self._raw_source(), self._raw_training(), empty)

    def show_field_problems(self) -> dict[str, str]:
        """Mark the fields :meth:`field_problems` finds (and clear the others); return them."""
        found = self.field_problems()
        for key, check in self.checks.items():
            check.report(found.get(key, ""))
        if found:
            self.problems.setText(error_html(" ".join(found.values())))
        return found

    def source(self) -> DemoShapesData | NpzData | CsvData | ImageFolderData:
        """The data settings as the form shows them; DataError saying what is wrong."""
        found = self.field_problems()
        if found:
            raise DataError(" ".join(found.values()))
        return SOURCE_MODELS[self.kind.currentData()].model_validate(self._raw_source())

    def candidate(self) -> Project:
        """The project as it would be after OK."""
        project = self.document.project.model_copy(deep=True)
        self._apply_to(project)
        return project

    def _apply_to(self, project: Project) -> None:
        project.data = self.source()
        project.training = TrainingSettings.model_validate(self._raw_training())
        for head in project.heads:
            if head.name in self.standardize:
                head.standardize = self.standardize[head.name].isChecked()

    @property
    def report(self):  # noqa: ANN201 - the DataReport of the last check, or None
        return self.check_panel.report

    def _class_names(self) -> dict[str, list[str]]:
        return {m["name"]: m["classes"] for m in self._maps(self.document.project.head_names)}

    # -- actions -----------------------------------------------------------------------------
    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        self.pages.setCurrentIndex(self.kind.currentIndex())
        for index in range(self.pages.count()):  # the stack takes the height of its page only
            policy = QSizePolicy.Policy.Preferred if index == self.pages.currentIndex() \
                else QSizePolicy.Policy.Ignored
            self.pages.widget(index).setSizePolicy(policy, policy)
        self.pages.adjustSize()
        self.mapping_box.setVisible(kind in ("csv", "image_folder"))
        inputs = set(self.document.project.input_names)
        for r in range(self.mapping.rowCount()):
            is_input = self.mapping.item(r, 0).text() in inputs
            self.mapping.setRowHidden(r, kind == "image_folder" and is_input)
        self._refresh_preview()

    def _table_path(self) -> Path | None:
        kind = self.kind.currentData()
        field = {"csv": self.csv_path, "image_folder": self.labels_path,
                 "npz": self.npz_path}.get(kind)
        return field.resolved() if field is not None else None

    def _refresh_preview(self) -> None:
        path = self._table_path()
        header, rows = read_preview(path, self.delimiter.currentText()[:1] or ",")
        self.preview.clear()
        self.preview.setColumnCount(len(header))
        self.preview.setRowCount(len(rows))
        self.preview.setHorizontalHeaderLabels(header)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row[:len(header)]):
                self.preview.setItem(r, c, QTableWidgetItem(cell))
        if self.kind.currentData() == "image_folder" and header:
            current = self.file_column.currentText()
            self.file_column.clear()
            self.file_column.addItems(header)
            self.file_column.setCurrentText(current if current in header else header[0])

    def auto_map_columns(self) -> None:
        """Map empty rows to same-named columns; fill classes of text-valued class columns."""
        header = [self.preview.horizontalHeaderItem(c).text()
                  for c in range(self.preview.columnCount())]
        project = self.document.project
        for r in range(self.mapping.rowCount()):
            name = self.mapping.item(r, 0).text()
            columns_item = self.mapping.item(r, 2)
            if not columns_item.text().strip() and name in header:
                columns_item.setText(name)
            columns = split_names(columns_item.text())
            if name in project.head_names and project.head(name).task in CLASS_TASKS \
                    and len(columns) == 1 and not self.mapping.item(r, 3).text().strip():
                values = self._column_values(header, columns[0])
                if values and not all(is_number(v) for v in values):
                    self.mapping.item(r, 3).setText(", ".join(sorted(values)))

    def _column_values(self, header: list[str], column: str) -> set[str]:
        return column_values(self._table_path(), self.delimiter.currentText()[:1] or ",",
                             column)  # a preview: a delimiter that is refused still reads

    def run_checks(self) -> bool:
        """Start checking the data as configured, as a background job.

        ``checked`` carries the report, also shown as per-head summaries and problems.
        Returns False when a check is already running.
        """
        if self.check_panel.is_running:
            return False
        self.show_field_problems()
        return self.check_panel.start(self.candidate, self.project_dir)

    def accept(self) -> None:
        """Apply the settings as one undoable step; with a field refused, stay open."""
        if self.show_field_problems():
            return
        self.document.edit("Change data", self._apply_to)
        super().accept()

