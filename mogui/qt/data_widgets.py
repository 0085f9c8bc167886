"""Small widgets of the Data dialog: a path field with a file picker, table previews, combo
helpers and the check of the dialog's settings against the project's rules."""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget

from mogui.core.data_paths import stored_path
from mogui.core.project import (
    CsvData,
    DemoShapesData,
    ImageFolderData,
    NpzData,
    TrainingSettings,
)
from mogui.core.validation import problems_from_validation_error

PREVIEW_ROWS = 20
SOURCE_MODELS: dict[str, type[BaseModel]] = {
    "demo_shapes": DemoShapesData, "npz": NpzData, "csv": CsvData,
    "image_folder": ImageFolderData}
#: What each checked field is called in its message.
FIELD_LABELS = {
    "data.samples": "Samples", "data.image_size": "Image size", "data.seed": "Seed",
    "data.path": "The file", "data.folder": "The image folder", "data.labels": "The labels table",
    "data.delimiter": "Delimiter", "data.chunk_rows": "Rows per chunk",
    "data.file_column": "File-name column", "training.validation_split": "Validation fraction",
    "training.seed": "Seed"}


def settings_problems(kind: str, source: dict[str, Any], training: dict[str, Any],
                      empty: dict[str, str]) -> dict[str, str]:
    """Why the Data dialog's settings cannot be used, by field: the data ``source`` of
    ``kind`` and the ``training`` settings as raw values, checked with the project's models;
    ``empty`` names the path fields left empty (``data.path:csv`` -> "the CSV table")."""
    found = {key: f"Choose {what} (Browse…)." for key, what in empty.items()}
    for model, raw, prefix in ((SOURCE_MODELS[kind], source, "data"),
                               (TrainingSettings, training, "training")):
        try:
            model.model_validate(raw)
        except ValidationError as exc:
            for problem in problems_from_validation_error(exc, (prefix,)):
                key = problem.path if problem.path != "data.path" else f"data.path:{kind}"
                label = FIELD_LABELS.get(problem.path, problem.path)
                found.setdefault(key, f"{label} {problem.message}.")
    return found


def combo_of(items: tuple[tuple[str, str], ...], name: str) -> QComboBox:
    """A combo box of ``(value, label)`` items."""
    combo = QComboBox(objectName=name)
    for value, label in items:
        combo.addItem(label, value)
    return combo


def select_data(combo: QComboBox, value: str) -> None:
    """Select the item whose value is ``value`` (the first one when none is)."""
    combo.setCurrentIndex(max(combo.findData(value), 0))


def split_names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def relative_to(path: str, base: Path | None) -> str:
    """``path`` as the project stores it: relative to ``base`` (the project's folder) when it
    is inside or below it, as given otherwise."""
    if base is None or not os.path.isabs(path):
        return path
    return stored_path(Path(path), base)


class PathField(QWidget):
    """A path and a Browse… button; a path in the project's folder is shown (and stored)
    relative to the project file."""

    changed = Signal()

    def __init__(self, file_filter: str, base: Path | None, *, folder: bool = False,
                 name: str = "") -> None:
        super().__init__(objectName=name)
        self.base = base
        self.file_filter = file_filter
        self.folder = folder
        self.edit = QLineEdit(objectName=f"{name}Edit")
        self.edit.setPlaceholderText(
            "relative to the project file" if base else
            "a file in the project's folder is stored relative to it when the project is saved")
        self.browse = QPushButton("Browse…", objectName=f"{name}Browse")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.browse)
        self.browse.clicked.connect(self._browse)
        self.edit.editingFinished.connect(self.changed.emit)

    def set_path(self, path: str) -> None:
        self.edit.setText(relative_to(path, self.base))
        self.changed.emit()

    def text(self) -> str:
        return self.edit.text().strip()

    def resolved(self) -> Path | None:
        """The path on disk, or None when the field is empty."""
        if not self.text():
            return None
        path = Path(self.text())
        return path if path.is_absolute() or self.base is None else self.base / path

    def _browse(self) -> None:
        start = str(self.resolved() or self.base or Path.cwd())
        if self.folder:
            chosen = QFileDialog.getExistingDirectory(self, "Choose a folder", start)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, "Choose a file", start,
                                                    self.file_filter)
        if chosen:
            self.set_path(chosen)


def read_preview(path: Path | None, delimiter: str = ",", rows: int = PREVIEW_ROWS
                 ) -> tuple[list[str], list[list[str]]]:
    """Header and first rows of a CSV table, or the arrays of an .npz; empty when unreadable."""
    if path is None or not path.is_file():
        return [], []
    if path.suffix.lower() == ".npz":
        try:
            with np.load(path, allow_pickle=False) as npz:
                return ["array", "shape", "dtype"], [
                    [name, str(npz[name].shape), str(npz[name].dtype)] for name in npz.files]
        except (OSError, ValueError, zipfile.BadZipFile, EOFError):
            return [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = [name.strip() for name in next(reader, [])]
            body = []
            for row in reader:
                if len(body) >= rows:
                    break
                body.append(row)
    except (OSError, UnicodeDecodeError, csv.Error):
        return [], []
    return header, body


def column_values(path: Path | None, delimiter: str, column: str,
                  limit: int = 1000) -> set[str]:
    """Distinct non-empty cells of one column of a CSV table (at most ``limit`` of them)."""
    if path is None or not path.is_file():
        return set()
    values: set[str] = set()
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            header = [name.strip() for name in next(reader, [])]
            if column not in header:
                return set()
            index = header.index(column)
            for row in reader:
                if index < len(row) and row[index].strip():
                    values.add(row[index].strip())
                    if len(values) >= limit:
                        break
    except (OSError, UnicodeDecodeError, csv.Error):
        return set()
    return values
