"""Small widgets of the Data dialog: a path field with a file picker, and table previews."""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget

from mogui.core.errors import DataError

PREVIEW_ROWS = 20


def relative_to(path: str, base: Path | None) -> str:
    """``path`` relative to ``base`` (the project's folder) when possible; as given otherwise."""
    if base is None or not os.path.isabs(path):
        return path
    try:
        return os.path.relpath(path, base)
    except ValueError:  # another drive
        return path


class PathField(QWidget):
    """A path (stored relative to the project file) and a Browse… button."""

    changed = Signal()

    def __init__(self, file_filter: str, base: Path | None, *, folder: bool = False,
                 name: str = "") -> None:
        super().__init__(objectName=name)
        self.base = base
        self.file_filter = file_filter
        self.folder = folder
        self.edit = QLineEdit(objectName=f"{name}Edit")
        self.edit.setPlaceholderText("relative to the project file" if base else
                                     "save the project first to store relative paths")
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

    def require(self, what: str) -> str:
        if not self.text():
            raise DataError(f"Choose {what} (Browse…).")
        return self.text()

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
