"""The app's runs as a Qt model: the current run, kept on disk, and signals when it changes.

The training panel writes the run (:meth:`begin`, :meth:`record_epoch`, :meth:`finish`); the
export dialog and "Save model…" read :attr:`current`; the run list lists every run of the
project. Each run gets a folder of its own in the run store (:mod:`mogui.core.run_store`),
whose ``run.json`` is kept current; nothing is deleted when the next run starts or the app
quits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from mogui.core import run_store
from mogui.core.events import LossWeightsChanged
from mogui.core.project import Project
from mogui.core.run_moves import move_run
from mogui.core.runs import Run, RunStatus

_log = logging.getLogger(__name__)


class RunModel(QObject):
    """Holds the last run started in the app."""

    changed = Signal()
    #: A run began (its folder and record exist) or ended (its record says how).
    started = Signal(object)  # Run
    ended = Signal(object)  # Run

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.current: Run | None = None
        #: Every run started in this app session, oldest first.
        self.begun: list[Run] = []

    def begin(self, project: Project, document_id: str, project_path: Path | None) -> Run:
        """A new run of a snapshot of ``project`` in a new run folder.

        Raises :class:`~mogui.core.run_store.RunStoreError` when the folder cannot be made.
        """
        self.current = run_store.create_run(project, project_path, document_id=document_id)
        self.begun.append(self.current)
        self.changed.emit()
        self.started.emit(self.current)
        return self.current

    def record_epoch(self, logs: dict[str, float]) -> None:
        """A complete epoch's figures."""
        if self._record(run_store.record_epoch, logs):
            self.changed.emit()

    def record_weight_change(self, event: LossWeightsChanged) -> None:
        """Loss weights edited during a pause, as applied (kept in run.json)."""
        self._record(run_store.record_weight_change, event)

    def _record(self, write: Callable[[Run, Any], None], what: Any) -> bool:
        """``write(run, what)`` for the current run; False when no run is going."""
        run = self.current
        if run is None:
            return False
        try:
            write(run, what)
        except run_store.RunStoreError as exc:
            _log.warning("%s", exc)  # the run goes on; its folder keeps the model and history
        return True

    def finish(self, status: RunStatus, *, stopped_during_epoch: int | None = None,
               message: str = "", restored_epoch: int | None = None) -> None:
        """The run has ended."""
        run = self.current
        if run is None or run.ended:
            return
        try:
            run_store.finish_run(run, status, stopped_during_epoch=stopped_during_epoch,
                                 message=message, restored_epoch=restored_epoch)
        except run_store.RunStoreError as exc:
            _log.warning("%s", exc)
        self.changed.emit()
        self.ended.emit(run)

    @property
    def running_folder(self) -> Path | None:
        """The folder of the run in progress, if one is."""
        run = self.current
        return run.folder if run is not None and not run.ended else None

    def forget(self, folder: Path) -> None:
        """The run in ``folder`` was deleted: it is no longer the current run."""
        if self.current is not None and self.current.folder == Path(folder):
            self.current = None
            self.changed.emit()

    def follow_first_save(self, document_id: str, project: Project, path: Path
                          ) -> tuple[list[Run], list[str]]:
        """An untitled project was first saved at ``path``: move the runs the document
        (``document_id``) trained while untitled into the saved project's runs folder.
        Returns the runs moved, and why any others stayed (still training, or not movable)."""
        target = run_store.runs_dir(project, path)
        moved: list[Run] = []
        stayed: list[str] = []
        for run in self.begun:
            if not run.belongs_to(document_id) or run.project_path is not None \
                    or not run.folder.is_dir():
                continue
            try:
                move_run(run, target, path)
                moved.append(run)
            except run_store.RunStoreError as exc:
                stayed.append(str(exc))
        if moved:
            self.changed.emit()
        return moved, stayed
