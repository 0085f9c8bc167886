"""Where a project's data files are, and how their paths are written when it is saved.

A data path inside the project's folder (or below it) is stored relative to the project file,
so the folder can be moved or shared; a path elsewhere is stored absolute. A relative path
means relative to the project file's folder; while a project has no file yet, relative to the
current folder (as the engine reads it).
"""

from __future__ import annotations

import os
from pathlib import Path

from mogui.core.paths import Kind, path_problem
from mogui.core.project import Project

#: The data fields that hold a path, per data kind, and whether each is a file or a folder.
DATA_PATH_FIELDS: dict[str, tuple[tuple[str, Kind], ...]] = {
    "npz": (("path", "file"),),
    "csv": (("path", "file"),),
    "image_folder": (("folder", "folder"), ("labels", "file")),
}


def resolve(value: str, folder: Path | None) -> Path:
    """The stored path ``value`` made usable: relative ones are taken from ``folder``."""
    path = Path(value)
    return path if path.is_absolute() or folder is None else Path(folder) / path


def _inside(path: Path, folder: Path) -> str | None:
    """``path`` relative to ``folder`` (with ``/``) when it is inside or below it."""
    if path.is_relative_to(folder):
        return path.relative_to(folder).as_posix()
    return None


def stored_path(path: Path, folder: Path) -> str:
    """How ``path`` is written in a project saved in ``folder``: relative when inside or below
    it (also through symbolic links), absolute otherwise."""
    absolute, base = Path(os.path.abspath(path)), Path(os.path.abspath(folder))
    relative = _inside(absolute, base)
    if relative is None:
        relative = _inside(Path(os.path.realpath(absolute)), Path(os.path.realpath(base)))
    if relative is None:
        return str(absolute)
    return relative or "."


def _same_folder(a: Path | None, b: Path) -> bool:
    return a is not None and os.path.realpath(a) == os.path.realpath(b)


def rebase_data_paths(project: Project, old_folder: Path | None, new_folder: Path) -> Project:
    """A copy of ``project`` for saving in ``new_folder`` that was kept in ``old_folder``
    (``None``: not saved yet): absolute paths inside ``new_folder`` become relative, and
    relative ones follow the file to its new folder. Relative paths stay as written when the
    folder does not change, and when it was unknown (they already mean the project's folder)."""
    copy = project.model_copy(deep=True)
    moved = not _same_folder(old_folder, new_folder)
    for name, _kind in DATA_PATH_FIELDS.get(copy.data.kind, ()):
        value = getattr(copy.data, name)
        if not Path(value).is_absolute() and (old_folder is None or not moved):
            continue
        setattr(copy.data, name, stored_path(resolve(value, old_folder), new_folder))
    return copy


def missing_data(project: Project, folder: Path | None) -> str | None:
    """Why the project's data cannot be read because a file or folder is not usable there
    (``folder``: the project file's folder); ``None`` when each one is."""
    for name, kind in DATA_PATH_FIELDS.get(project.data.kind, ()):
        value = getattr(project.data, name)
        path = resolve(value, folder)
        problem = path_problem(path, kind)
        if problem is not None:
            what = {"path": f"the data file '{value}'", "folder": f"the image folder '{value}'",
                    "labels": f"the labels table '{value}'"}[name]
            where = f" (looked for {path})" if str(path) != value else ""
            return f"{what}{where} {problem}; choose it again in Edit ▸ Data…"
    return None
