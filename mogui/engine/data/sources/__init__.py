"""Data sources beyond the demo and ``.npz``: CSV tables and image folders, in memory or streamed.

:func:`open_source` returns a :class:`~mogui.engine.data.dataset.Dataset` when the data fits in
memory and a :class:`~mogui.engine.data.sources.streaming.StreamingDataset` otherwise; training
accepts both.
"""

from __future__ import annotations

from pathlib import Path

from mogui.core.project import CsvData, ImageFolderData, Project
from mogui.engine.data.dataset import Dataset
from mogui.engine.data.sources.csv_source import open_csv
from mogui.engine.data.sources.image_folder import open_image_folder
from mogui.engine.data.sources.streaming import RowSelection, StreamingDataset

__all__ = ["RowSelection", "StreamingDataset", "open_source", "resolve"]


def resolve(path: str, project_dir: Path | None) -> Path:
    """``path`` as stored in the project (relative to the project file) made usable."""
    candidate = Path(path)
    if not candidate.is_absolute() and project_dir is not None:
        candidate = Path(project_dir) / candidate
    return candidate


def open_source(project: Project, project_dir: Path | None = None
                ) -> Dataset | StreamingDataset:
    """The project's CSV or image-folder data, unchecked (see :mod:`mogui.engine.data.checks`)."""
    source = project.data
    if isinstance(source, CsvData):
        return open_csv(project, source, resolve(source.path, project_dir))
    if isinstance(source, ImageFolderData):
        return open_image_folder(project, source, resolve(source.folder, project_dir),
                                 resolve(source.labels, project_dir))
    raise ValueError(f"open_source handles csv and image_folder data, not {source.kind!r}")
