"""Where runs are kept: one folder per run, described by its ``run.json``; no Qt, no keras.

A saved project's runs live beside it, in ``<project folder>/runs/<project file stem>/``; an
untitled project's in ``<data dir>/runs/<slug of its name>/``. Each run folder is named after
the second it started (``20260102-093005``, then ``-2``, ``-3``… for runs started in the same
second) and holds ``project.json`` (the snapshot that trained), ``run.json`` (status, epochs,
times, final losses, the project's path, loss weights edited during the run), ``history.csv``
and ``model.keras``.

``run.json`` is written atomically when a run starts, after each epoch and when it ends. A run
still marked "running" whose process has ended is read back as interrupted; a folder whose
``run.json`` is missing or damaged is listed as unreadable, never an error.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mogui.core.errors import MoguiError
from mogui.core.events import (
    BatchEnded,
    EpochEnded,
    LossWeightsChanged,
    TrainingFailed,
    TrainingFinished,
)
from mogui.core.events import TrainingStarted as Started
from mogui.core.io import anchor_data_paths, atomic_write_text, load_project, save_project
from mogui.core.project import Project
from mogui.core.recovery import data_dir, pid_alive
from mogui.core.runs import (
    MODEL_FILE,
    MODEL_OUTCOMES,
    PROJECT_FILE,
    RUN_FILE,
    Run,
    RunStatus,
    plural,
)
from mogui.core.validation import ProjectError

#: Marks a mogui run record, and its format version.
FORMAT = "mogui-run"
FORMAT_VERSION = 1
#: ``20260102-093005`` or ``20260102-093005-2``.
_FOLDER_NAME = re.compile(r"(\d{8}-\d{6})(?:-(\d+))?")
_STAMP = "%Y%m%d-%H%M%S"
_log = logging.getLogger(__name__)


class RunStoreError(MoguiError):
    """A run folder cannot be made, written, read or deleted; the message says why."""


class RunFolderError(RunStoreError):
    """A run folder someone named is not one, or its files cannot be read (bad input)."""


def runs_dir(project: Project, project_path: Path | None) -> Path:
    """The folder that holds the runs of ``project`` (saved at ``project_path``, or untitled)."""
    if project_path is not None:
        path = Path(project_path).absolute()
        return path.parent / "runs" / path.name.removesuffix(".json").removesuffix(".mogui")
    return data_dir() / "runs" / (project.slug or "untitled")


# -- writing ------------------------------------------------------------------------------------

def create_run(project: Project, project_path: Path | None, *, document_id: str = "",
               folder: Path | None = None, now: datetime | None = None) -> Run:
    """A new run of a snapshot of ``project``, started ``now``: its folder made (a new one in
    the project's runs folder, or exactly ``folder``), ``project.json`` and ``run.json``
    written."""
    started = (now or datetime.now()).replace(microsecond=0)
    target = folder if folder is not None else runs_dir(project, project_path)
    try:
        if folder is None:
            folder = _new_folder(target, started)
        else:
            folder.mkdir(parents=True, exist_ok=True)
        run = Run(project=project.model_copy(deep=True), document_id=document_id,
                  folder=Path(folder).absolute(), started_at=started, pid=os.getpid(),
                  host=socket.gethostname(),
                  project_path=Path(project_path).absolute() if project_path else None)
        # Data paths relative to the project file would not resolve from the run folder.
        snapshot = run.project if project_path is None else \
            anchor_data_paths(run.project, Path(project_path).absolute().parent)
        save_project(snapshot, run.folder / PROJECT_FILE)
    except OSError as exc:
        raise RunStoreError(f"The run folder cannot be made in '{target}': "
                            f"{exc.strerror or exc}.") from None
    save_run(run)
    return run


def _new_folder(parent: Path, started: datetime) -> Path:
    """Make ``parent/<stamp>`` (or ``<stamp>-2``…, whichever is free first)."""
    parent.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime(_STAMP)
    number = 1
    while True:
        folder = parent / (stamp if number == 1 else f"{stamp}-{number}")
        try:
            folder.mkdir()
        except FileExistsError:
            number += 1
            continue
        return folder


def save_run(run: Run) -> None:
    """Write ``run.json`` (atomically: readers see the old or the new record, never half)."""
    try:
        atomic_write_text(run.folder / RUN_FILE, json.dumps(run_record(run), indent=2) + "\n")
    except OSError as exc:
        raise RunStoreError(f"The run's record '{run.folder / RUN_FILE}' cannot be written: "
                            f"{exc.strerror or exc}.") from None


def record_epoch(run: Run, logs: dict[str, float]) -> None:
    """Add a complete epoch's figures to ``run`` and write its record."""
    for key, value in logs.items():
        run.history.setdefault(key, []).append(float(value))
    run.epochs_completed += 1
    save_run(run)


def record_weight_change(run: Run, event: LossWeightsChanged) -> None:
    """Add loss weights edited during ``run`` (from ``event``) to its record and write it."""
    run.weight_changes.append({"epoch": event.epoch + 1, "batch": event.batch + 1,
                               "weights": {str(h): float(w) for h, w in event.weights.items()}})
    save_run(run)


def finish_run(run: Run, status: RunStatus, *, stopped_during_epoch: int | None = None,
               message: str = "", restored_epoch: int | None = None) -> None:
    """Mark ``run`` as ended and write its record (``restored_epoch``: whose weights early
    stopping gave the model, counted from 1)."""
    run.status = status
    run.stopped_during_epoch = stopped_during_epoch
    run.restored_epoch = restored_epoch
    run.message = message
    run.ended_at = datetime.now().replace(microsecond=0)
    save_run(run)


def final_losses(project: Project, history: dict[str, list[float]],
                 epoch: int | None = None) -> tuple[str, float | None, dict[str, float]]:
    """``(split, total, per head)``: the validation losses (``"validation"``) of the epoch
    whose weights the model ends with (the last, or ``epoch``, counted from 1, when early
    stopping restored it), or its training losses when there was no validation
    (``"training"``); ``("", None, {})`` before the first epoch. A head is left out when its
    loss was not logged on its own."""
    heads = [head.name for head in project.loss_heads()]
    per_head = project.loss_mode == "joint" or len(heads) > 1
    for split, prefix in (("validation", "val_"), ("training", "")):
        total = history.get(f"{prefix}loss")
        if not total:
            continue
        keys = {name: f"{prefix}{name}_loss" if per_head else f"{prefix}loss" for name in heads}
        at = epoch - 1 if epoch is not None and 0 < epoch <= len(total) else -1
        losses = {name: history[key][at if len(history[key]) == len(total) else -1]
                  for name, key in keys.items() if history.get(key)}
        return split, total[at], losses
    return "", None, {}


def run_record(run: Run) -> dict[str, Any]:
    """What ``run.json`` holds for ``run``."""
    split, total, losses = final_losses(run.project, run.history, run.restored_epoch)
    return {
        "format": FORMAT, "version": FORMAT_VERSION,
        "status": run.status.value,
        "epochs_completed": run.epochs_completed,
        "stopped_during_epoch": run.stopped_during_epoch,
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "ended_at": run.ended_at.isoformat(timespec="seconds") if run.ended_at else None,
        "message": run.message,
        "final_losses": {"split": split, "total": total, "heads": losses},
        "restored_epoch": run.restored_epoch,
        "project_name": run.project.name,
        "project_path": str(run.project_path) if run.project_path else None,
        "pid": run.pid, "host": run.host,
        "weight_changes": run.weight_changes,
    }


class RunRecorder:
    """Keeps a run's record current from the training events it is given (the command line).

    An epoch that a stop cut short (its last batch never ran) is not counted as complete. A
    record that cannot be written is logged as a warning; training goes on.
    """

    def __init__(self, run: Run) -> None:
        self.run = run
        self._steps = 0
        self._last_batch: tuple[int, int] | None = None  # (epoch, batch)
        self._partial: int | None = None

    def __call__(self, event: object) -> None:
        if isinstance(event, Started):
            self._steps = event.steps_per_epoch
        elif isinstance(event, BatchEnded):
            self._last_batch = (event.epoch, event.batch)
        elif isinstance(event, EpochEnded):
            last = self._last_batch
            if last is not None and last[0] == event.epoch and last[1] + 1 < self._steps:
                self._partial = event.epoch + 1
            else:
                self._write(record_epoch, self.run, event.logs)
        elif isinstance(event, LossWeightsChanged):
            self._write(record_weight_change, self.run, event)
        elif isinstance(event, TrainingFinished):
            # What early stopping did, when it was on, is the record's message.
            stop = event.early_stop
            self.finish(RunStatus.STOPPED if event.stopped else RunStatus.FINISHED,
                        stop.summary if stop is not None else "",
                        restored_epoch=stop.restored_epoch if stop is not None else None)
        elif isinstance(event, TrainingFailed):
            self.finish(RunStatus.FAILED, event.message)

    def finish(self, status: RunStatus, message: str = "", *,
               restored_epoch: int | None = None) -> None:
        """End the run (once; later calls change nothing)."""
        if self.run.ended:
            return
        partial = self._partial if status == RunStatus.STOPPED else None
        self._write(finish_run, self.run, status, stopped_during_epoch=partial, message=message,
                    restored_epoch=restored_epoch)

    @staticmethod
    def _write(step: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        try:
            step(*args, **kwargs)
        except RunStoreError as exc:
            _log.warning("%s", exc)


# -- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunInfo:
    """One run folder as listed: what its ``run.json`` says (``status`` ``None``: unreadable,
    ``problem`` says why)."""

    folder: Path
    status: RunStatus | None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    epochs_completed: int = 0
    stopped_during_epoch: int | None = None
    message: str = ""
    losses_split: str = ""
    final_loss: float | None = None
    final_losses: dict[str, float] = field(default_factory=dict)
    project_name: str = ""
    project_path: Path | None = None
    problem: str = ""
    #: Loss weights edited during the run (see :attr:`mogui.core.runs.Run.weight_changes`).
    weight_changes: tuple[dict[str, Any], ...] = ()

    @property
    def readable(self) -> bool:
        return self.status is not None

    @property
    def has_model(self) -> bool:
        """True when the run ended with a trained model in its folder."""
        return (self.status in MODEL_OUTCOMES and self.epochs_completed > 0
                and (self.folder / MODEL_FILE).is_file())

    def status_text(self) -> str:
        """``finished``, ``stopped after 5 epochs``, ``failed``, ``interrupted``, ``unreadable``."""
        return "unreadable" if self.status is None else self.status.describe(
            self.epochs_completed)

    def losses_text(self) -> str:
        """``bbox 0.1234 · classification 0.5678`` (``(training)`` after training losses)."""
        if self.final_losses:
            text = " · ".join(f"{name} {value:.4g}" for name, value in self.final_losses.items())
        elif self.final_loss is not None:
            text = f"loss {self.final_loss:.4g}"
        else:
            return ""
        return text + (" (training)" if self.losses_split == "training" else "")

    def describe(self) -> str:
        """One line: when, how it ended, the epochs and the final losses."""
        when = self.started_at.strftime("%Y-%m-%d %H:%M:%S") if self.started_at else "?"
        parts = [when, self.status_text()]
        if self.readable:
            parts.append(plural(self.epochs_completed, "epoch"))
        if losses := self.losses_text():
            parts.append(losses)
        return ", ".join(parts)


def read_run_info(folder: Path) -> RunInfo:
    """What ``folder/run.json`` says; a missing or damaged record gives an unreadable entry."""
    folder = Path(folder)
    try:
        data = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return RunInfo(folder, None, problem=f"it has no {RUN_FILE}")
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        return RunInfo(folder, None, problem=f"its {RUN_FILE} cannot be read ({exc})")
    try:
        return _info_from(folder, data)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        return RunInfo(folder, None, problem=f"its {RUN_FILE} is not a mogui run record "
                       f"({type(exc).__name__}: {exc})")


def _info_from(folder: Path, data: Any) -> RunInfo:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("no 'format': 'mogui-run'")
    status = RunStatus(data["status"])
    if status == RunStatus.INTERRUPTED:
        raise ValueError("'interrupted' is never written")
    if status == RunStatus.RUNNING and not _still_running(data):
        status = RunStatus.INTERRUPTED
    losses = data.get("final_losses") or {}
    heads = losses.get("heads") or {}
    project_path = data.get("project_path")
    return RunInfo(
        folder=folder, status=status, started_at=_time(data["started_at"]),
        ended_at=_time(data.get("ended_at")),
        epochs_completed=_whole(data.get("epochs_completed", 0)),
        stopped_during_epoch=_optional_whole(data.get("stopped_during_epoch")),
        message=str(data.get("message") or ""),
        losses_split=str(losses.get("split") or ""),
        final_loss=None if losses.get("total") is None else float(losses["total"]),
        final_losses={str(name): float(value) for name, value in heads.items()},
        project_name=str(data.get("project_name") or ""),
        project_path=Path(project_path) if isinstance(project_path, str) else None,
        weight_changes=_weight_changes(data.get("weight_changes")))


def _weight_changes(value: Any) -> tuple[dict[str, Any], ...]:
    """The record's weight changes; entries that are not one are left out (older records
    have none)."""
    changes = []
    for item in value if isinstance(value, list) else []:
        try:
            weights = {str(h): float(w) for h, w in dict(item["weights"]).items()}
            changes.append({"epoch": _whole(item["epoch"]), "batch": _whole(item["batch"]),
                            "weights": weights})
        except (TypeError, ValueError, KeyError):
            continue
    return tuple(changes)


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value))
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{value!r} is not a count")
    return value


def _optional_whole(value: Any) -> int | None:
    return None if value is None else _whole(value)


def _still_running(data: dict[str, Any]) -> bool:
    """True unless the process that records the run is known to have ended."""
    pid, host = data.get("pid"), data.get("host")
    if not isinstance(pid, int) or host != socket.gethostname():
        return True  # another machine's run (a shared folder): it may well be running
    return pid == os.getpid() or pid_alive(pid)


def list_runs(project: Project, project_path: Path | None) -> list[RunInfo]:
    """The runs of ``project``, newest first (folders of other things are left out)."""
    folder = runs_dir(project, project_path)
    try:
        children = [child for child in folder.iterdir() if child.is_dir()]
    except OSError:
        return []
    runs = [read_run_info(child) for child in children
            if _FOLDER_NAME.fullmatch(child.name) or (child / RUN_FILE).is_file()]
    return sorted(runs, key=_newest_first, reverse=True)


def _newest_first(info: RunInfo) -> tuple[datetime, int, str]:
    match = _FOLDER_NAME.fullmatch(info.folder.name)
    started = info.started_at
    if started is None and match is not None:
        started = datetime.strptime(match.group(1), _STAMP)
    if started is None:
        try:
            started = datetime.fromtimestamp(info.folder.stat().st_mtime)
        except OSError:
            started = datetime.min
    number = int(match.group(2) or 1) if match is not None else 0
    return started, number, info.folder.name


def load_run(folder: Path) -> Run:
    """The run in ``folder`` with the project it trained (``project.json``), for export."""
    info = read_run_info(folder)
    if info.status is None:
        raise RunFolderError(f"The run folder '{folder}' cannot be read: {info.problem}.")
    return Run(project=run_project(folder), document_id="", folder=Path(folder),
               project_path=info.project_path, started_at=info.started_at or datetime.now(),
               status=info.status, epochs_completed=info.epochs_completed,
               stopped_during_epoch=info.stopped_during_epoch, message=info.message,
               ended_at=info.ended_at, weight_changes=list(info.weight_changes))


def run_project(folder: Path) -> Project:
    """The project a run trained, from its ``project.json``."""
    path = Path(folder) / PROJECT_FILE
    try:
        return load_project(path, strict=False)
    except ProjectError as exc:
        raise RunFolderError(f"The project the run in '{folder}' trained cannot be read: "
                             f"{exc}. The run folder is damaged: restore its {PROJECT_FILE} "
                             "or train the project again.") from None


def recorded_project_path(folder: Path) -> Path | None:
    """The project file the run in ``folder`` was started from, as its record says."""
    return read_run_info(folder).project_path


def delete_run(folder: Path) -> None:
    """Delete one run folder; refuses a folder without ``run.json`` and a run still training."""
    folder = Path(folder)
    if folder.is_symlink() or not (folder / RUN_FILE).is_file():
        raise RunFolderError(f"'{folder}' is not a mogui run folder (it holds no {RUN_FILE}), "
                            "so it was not deleted.")
    if read_run_info(folder).status == RunStatus.RUNNING:
        raise RunStoreError(f"The run in '{folder}' is still training; stop it before "
                            "deleting it.")
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        raise RunStoreError(f"The run folder '{folder}' could not be deleted completely: "
                            f"{exc.strerror or exc}.") from None
