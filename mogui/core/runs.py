"""A training run as one object: what was trained, for which document, its files and outcome.

The training panel writes a run, the export dialog and "Save model…" read it, and the run
list shows every run of a project (:mod:`mogui.core.run_store` keeps them on disk). A run keeps
a snapshot of the project taken when it started, so what is exported with it (script, README,
project copy) is what was trained, whatever the editor holds now; :attr:`Run.document_id`
says which open document it belongs to (empty for a run read back from its folder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from mogui.core.project import Project

#: The files a run folder holds once at least one epoch has ended.
MODEL_FILE = "model.keras"
HISTORY_FILE = "history.csv"
#: The files a run folder holds from the start: what the run is, and the project it trained.
RUN_FILE = "run.json"
PROJECT_FILE = "project.json"


class RunStatus(StrEnum):
    """Where a run stands; every run ends finished, stopped or failed (or, when the process
    recording it dies first, is read back as interrupted)."""

    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    #: Never written: a run recorded as running whose process has ended without saying how.
    INTERRUPTED = "interrupted"

    def describe(self, epochs_completed: int) -> str:
        """``finished``, ``stopped after 5 epochs``, ``failed``, ``interrupted``…"""
        if self == RunStatus.STOPPED:
            return f"stopped after {plural(epochs_completed, 'epoch')}"
        return self.value


#: The outcomes that leave a trained model behind (given an epoch and the file).
MODEL_OUTCOMES = (RunStatus.FINISHED, RunStatus.STOPPED, RunStatus.INTERRUPTED)


def plural(count: int, word: str) -> str:
    """``1 epoch``, ``2 epochs``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


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
    ended_at: datetime | None = None
    #: The process that records the run (its ``run.json`` says "running" while it lives).
    pid: int | None = None
    host: str = ""
    #: The trained model object while it is still in memory (the engine's; opaque here).
    model: object | None = None
    #: The epoch (from 1) whose weights early stopping restored, when it did: the model's.
    restored_epoch: int | None = None
    #: Loss weights edited during the run: ``{"epoch": 3, "batch": 12, "weights": {head: w}}``
    #: each, 1-based (the new base weights applied from that batch of that epoch on).
    weight_changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.status != RunStatus.RUNNING

    @property
    def has_model(self) -> bool:
        """True once the run has ended with a trained model written to its folder."""
        return (self.status in MODEL_OUTCOMES and self.epochs_completed > 0
                and (self.folder / MODEL_FILE).is_file())

    def belongs_to(self, document_id: str) -> bool:
        """True when the run was started from the document with this identity."""
        return self.document_id == document_id

    def describe(self, today: date | None = None) -> str:
        """One line for people: which project, when (the date too unless ``today``, by
        default the current date), how far it got."""
        same_day = self.started_at.date() == (today or date.today())
        when = self.started_at.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M")
        outcome = self.status.describe(self.epochs_completed)
        if self.status == RunStatus.FINISHED:
            outcome += f" after {plural(self.epochs_completed, 'epoch')}"
        return f"“{self.project.name}”, started {when}, {outcome}"

