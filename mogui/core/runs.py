"""A training run as one object: what was trained, for which document, its files and outcome.

The training panel writes a run, the export dialog and "Save model…" read it, and a run list
can show several. A run keeps a snapshot of the project taken when it started, so what is
exported with it (script, README, project copy) is what was trained, whatever the editor
holds now; :attr:`Run.document_id` says which open document it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from mogui.core.project import Project

#: The files a run folder holds once at least one epoch has ended.
MODEL_FILE = "model.keras"
HISTORY_FILE = "history.csv"


class RunStatus(StrEnum):
    """Where a run stands; every run ends finished, stopped or failed."""

    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass
class Run:
    """One training run of a project snapshot."""

    project: Project
    document_id: str
    folder: Path
    project_path: Path | None = None
    started_at: datetime = field(default_factory=datetime.now)
    status: RunStatus = RunStatus.RUNNING
    history: dict[str, list[float]] = field(default_factory=dict)
    epochs_completed: int = 0
    #: The (1-based) epoch a stop interrupted, when it was not the last one to end.
    stopped_during_epoch: int | None = None
    message: str = ""
    #: The trained model object while it is still in memory (the engine's; opaque here).
    model: object | None = None

    @property
    def ended(self) -> bool:
        return self.status != RunStatus.RUNNING

    @property
    def has_model(self) -> bool:
        """True once the run has ended with a trained model written to its folder."""
        return (self.status in (RunStatus.FINISHED, RunStatus.STOPPED)
                and self.epochs_completed > 0 and (self.folder / MODEL_FILE).is_file())

    def belongs_to(self, document_id: str) -> bool:
        """True when the run was started from the document with this identity."""
        return self.document_id == document_id

    def describe(self) -> str:
        """One line for people: which project, when, how far it got."""
        when = self.started_at.strftime("%H:%M")
        epochs = f"{self.epochs_completed} epoch{'' if self.epochs_completed == 1 else 's'}"
        outcome = {
            RunStatus.RUNNING: "running",
            RunStatus.FINISHED: f"finished after {epochs}",
            RunStatus.STOPPED: f"stopped after {epochs}",
            RunStatus.FAILED: "failed",
        }[self.status]
        return f"“{self.project.name}”, started {when}, {outcome}"
