"""The app's runs as a Qt model: the current run, its folder, and a signal when it changes.

The training panel writes the run (:meth:`begin`, :meth:`record_epoch`, :meth:`finish`); the
export dialog and "Save model…" read :attr:`current`. Nothing is handed from view to view.
A run's folder lives until the next run replaces it or the app quits (:meth:`discard`).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from mogui.core.project import Project
from mogui.core.runs import Run, RunStatus


class RunModel(QObject):
    """Holds the last run started in the app."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.current: Run | None = None

    def begin(self, project: Project, document_id: str, project_path: Path | None) -> Run:
        """A new run of a snapshot of ``project``, in a new folder; the previous one goes."""
        self.discard()
        folder = Path(tempfile.mkdtemp(prefix="mogui-run-"))
        self.current = Run(project=project.model_copy(deep=True), document_id=document_id,
                           folder=folder, project_path=project_path)
        self.changed.emit()
        return self.current

    def record_epoch(self, logs: dict[str, float]) -> None:
        """A complete epoch's figures."""
        run = self.current
        if run is None:
            return
        for key, value in logs.items():
            run.history.setdefault(key, []).append(float(value))
        run.epochs_completed += 1
        self.changed.emit()

    def finish(self, status: RunStatus, *, stopped_during_epoch: int | None = None,
               message: str = "") -> None:
        """The run has ended."""
        run = self.current
        if run is None:
            return
        run.status = status
        run.stopped_during_epoch = stopped_during_epoch
        run.message = message
        self.changed.emit()

    def discard(self) -> None:
        """Forget the current run and delete its folder."""
        if self.current is not None:
            shutil.rmtree(self.current.folder, ignore_errors=True)
            self.current = None
            self.changed.emit()
