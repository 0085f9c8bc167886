"""Open a project's data from whichever source it names, before any check reads it."""

from __future__ import annotations

from pathlib import Path

from mogui.core.project import CsvData, ImageFolderData, Project
from mogui.engine.data.builtin import read_builtin
from mogui.engine.data.dataset import Dataset
from mogui.engine.data.sources import StreamingDataset, open_source


def open_data(project: Project, project_dir: Path | None = None) -> Dataset | StreamingDataset:
    """The project's data: CSV and image folders via :mod:`.sources`, demo and ``.npz`` here."""
    if isinstance(project.data, CsvData | ImageFolderData):
        return open_source(project, project_dir)
    return read_builtin(project, project_dir)
