"""An untitled project's runs follow it when it is first saved; no Qt, no keras.

Runs of an untitled project are kept in mogui's data folder (:func:`~mogui.core.run_store.
runs_dir`); once the project has a file, its runs are looked for beside that file. The app
moves the runs the document trained into the new runs folder, so that the Runs tab, Predict…
and ``mogui runs`` still find them. A run still training stays where it writes.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from mogui.core.run_store import RunStoreError, save_run
from mogui.core.runs import Run


def free_folder(parent: Path, name: str) -> Path:
    """``parent/name``, or ``name-2``, ``name-3``… whichever does not exist yet."""
    folder, number = parent / name, 1
    while folder.exists():
        number += 1
        folder = parent / f"{name}-{number}"
    return folder


def move_folder(source: Path, target: Path) -> None:
    """Move the folder ``source`` to ``target`` (which must not exist). Across file systems it
    is copied, then the original removed; a copy that fails is removed and the original kept."""
    try:
        os.rename(source, target)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    try:
        shutil.copytree(source, target)
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    shutil.rmtree(source)


def move_run(run: Run, runs_folder: Path, project_path: Path) -> None:
    """Move an ended ``run`` into ``runs_folder`` as a run of the project saved at
    ``project_path``; its ``run.json`` then names that file. Raises
    :class:`~mogui.core.run_store.RunStoreError` saying why a run could not move (it is then
    where it was)."""
    if not run.ended:
        raise RunStoreError(f"The run in '{run.folder}' is still training; it stays there.")
    target = free_folder(runs_folder, run.folder.name)
    try:
        runs_folder.mkdir(parents=True, exist_ok=True)
        move_folder(run.folder, target)
    except OSError as exc:
        reason = "some of its files could not be copied" if isinstance(exc, shutil.Error) \
            else exc.strerror or str(exc)
        raise RunStoreError(f"The run '{run.folder}' could not be moved to '{runs_folder}': "
                            f"{reason}. It is still in its old folder.") from None
    run.folder, run.project_path = target, Path(project_path).absolute()
    save_run(run)


__all__ = ["free_folder", "move_folder", "move_run"]
