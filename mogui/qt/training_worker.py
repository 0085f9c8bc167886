"""Runs :func:`mogui.engine.training.run_training` as a background job and relays its events.

The run is a :class:`~mogui.qt.jobs.ThreadRunner` job. Batch events are coalesced: the
training thread only buffers them, and the GUI gets them as ``batches`` at most ten times a
second, so the training thread never waits for the GUI. Every other event crosses at once,
after the batches reported before it. Stop is the job's cancel, mapped onto the run's
``TrainingControl``. When the user opted in (Edit ▸ Lower background threads' priority while
training), every thread but the GUI thread runs at a lower OS priority during the run and gets
its previous priority back when the run ends (:mod:`mogui.qt.thread_priority`).
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from mogui.core.errors import MoguiError
from mogui.core.events import (
    BatchEnded,
    EpochEnded,
    StateChanged,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
)
from mogui.core.project import Project
from mogui.qt.jobs import Coalescing, JobError, JobHandle, Priority, ThreadRunner, is_connected

_log = logging.getLogger(__name__)

#: GUI refresh period for coalesced batch events (10 Hz: progress text needs no more).
DRAIN_INTERVAL_MS = 100
#: Most batch events kept between two drains; older ones are dropped first.
MAX_PENDING_BATCHES = 20_000


def failure_from_exception(exc: BaseException) -> TrainingFailed:
    """Turn any exception into a readable :class:`TrainingFailed` event."""
    if isinstance(exc, MoguiError):
        return TrainingFailed(str(exc), getattr(exc, "details", ""))
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return TrainingFailed(
        f"Training stopped because of an unexpected error: {type(exc).__name__}: {exc}. "
        "Check the model and loss settings, then start again.", details)


def _is_batch(event: object) -> bool:
    return isinstance(event, BatchEnded)


def _train(job: JobHandle, project: Project, data: Any, epochs: int | None,
           project_dir: Path | None, out_dir: Path | None, control: Any) -> Any:
    """The job: load the data unless given, then train; returns the engine's TrainingResult."""
    # engine loads TensorFlow: imported when first needed
    from mogui.engine.data import load_data
    from mogui.engine.training import run_training

    job.on_cancel(control.stop)
    if data is None:
        data = load_data(project, project_dir)
    return run_training(project, data, job.report, control, epochs=epochs, out_dir=out_dir)


class TrainingWorker(QObject):
    """Starts, pauses, resumes and stops one training run at a time.

    Signals carry the :mod:`mogui.core.events` dataclasses unchanged.
    """

    started = Signal(object)  # TrainingStarted
    batches = Signal(list)  # list[BatchEnded], coalesced, at most 10 per second
    epoch_ended = Signal(object)  # EpochEnded
    state_changed = Signal(str)  # "running" | "paused" | "stopping"
    finished = Signal(object)  # TrainingFinished
    failed = Signal(object)  # TrainingFailed
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        coalescing = Coalescing(_is_batch, DRAIN_INTERVAL_MS, MAX_PENDING_BATCHES)
        self._runner = ThreadRunner(self, name="mogui-training", coalescing=coalescing,
                                    priority=Priority.LOWER_BACKGROUND)
        self._runner.started.connect(self._on_job_started)
        self._runner.progress.connect(self._relay)
        self._runner.succeeded.connect(self._on_succeeded)
        self._runner.failed.connect(self._on_job_failed)
        self._runner.finished.connect(self._on_job_finished)
        self._control: Any = None  # the run's TrainingControl
        self._failed_reported = False
        self.last_failure: TrainingFailed | None = None
        self.last_result: TrainingFinished | None = None
        #: The engine's ``TrainingResult`` (with the trained model) of the last run that
        #: finished or was stopped; ``None`` while a run is going and after a failure.
        self.last_training: Any = None
        self.last_out_dir: Path | None = None

    # -- control ----------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._runner.is_running

    @property
    def paused(self) -> bool:
        return bool(self._control is not None and self._control.paused)

    @property
    def pending_batches(self) -> int:
        """Batch events reported by the run and not delivered through ``batches`` yet."""
        return self._runner.pending

    def start(self, project: Project, data: Any = None, *, epochs: int | None = None,
              project_dir: Path | None = None, out_dir: Path | None = None) -> None:
        """Train a deep copy of ``project`` in the background (``data=None`` loads it there)."""
        if self.is_running:
            raise RuntimeError("a training run is already in progress")
        # engine loads TensorFlow: imported when first needed
        from mogui.engine.training import TrainingControl

        self.last_failure = None
        self.last_result = None
        self.last_training = None
        self.last_out_dir = out_dir
        self._failed_reported = False
        self._control = TrainingControl()
        self._runner.start(_train, project.model_copy(deep=True), data, epochs, project_dir,
                           out_dir, self._control)

    def pause(self) -> None:
        if self._control is not None:
            self._control.pause()

    def resume(self) -> None:
        if self._control is not None:
            self._control.resume()

    def stop(self) -> None:
        """Ask the run to stop after the current batch (also releases a pause)."""
        self._runner.cancel()

    def wait(self, msecs: int = 60_000) -> bool:
        """Block until the run ends and its events are delivered (for shutdown and scripts)."""
        return self._runner.join(msecs)

    def shutdown(self, msecs: int = 30_000) -> None:
        """Stop any run, wait for it and deliver what it left."""
        self.stop()
        if not self.wait(msecs):
            _log.warning("The training run did not stop within %d ms.", msecs)

    # -- GUI-thread side --------------------------------------------------------------------
    @Slot()
    def _on_job_started(self) -> None:
        self.running_changed.emit(True)

    @Slot(object)
    def _relay(self, payload: object) -> None:
        if isinstance(payload, list):
            self.batches.emit(payload)
        elif isinstance(payload, TrainingStarted):
            self.started.emit(payload)
        elif isinstance(payload, EpochEnded):
            self.epoch_ended.emit(payload)
        elif isinstance(payload, StateChanged):
            self.state_changed.emit(payload.state)
        elif isinstance(payload, TrainingFinished):
            self.last_result = payload
            self.finished.emit(payload)
        elif isinstance(payload, TrainingFailed):
            self._failed_reported = True
            self._report_failure(payload)

    @Slot(object)
    def _on_job_failed(self, error: JobError) -> None:
        if not self._failed_reported:  # the engine reports its own failures first
            self._report_failure(failure_from_exception(error.exception))

    def _report_failure(self, event: TrainingFailed) -> None:
        self.last_failure = event
        if is_connected(self, self.failed):
            self.failed.emit(event)
        else:
            _log.error("%s\n%s", event.message, event.details)

    @Slot(object)
    def _on_succeeded(self, result: object) -> None:
        self.last_training = result

    @Slot()
    def _on_job_finished(self) -> None:
        self._control = None
        self.running_changed.emit(False)
