"""Trains in a child process (:mod:`mogui.runner`) and relays the run's events to the window.

The project's own code runs in that child, never in the app: Stop always ends the run (the
child is terminated when a loss does not return), and a crash of the child ends the run with a
message while the window stays up. Batch events are coalesced: the GUI gets them as
``batches`` at most ten times a second. Pause and resume are commands to the child, and so are
loss weights edited during a pause (:meth:`TrainingWorker.set_loss_weights`); the child answers
with :class:`~mogui.core.events.LossWeightsChanged` once they apply. When the
user opted in (Edit ▸ Lower background threads' priority while training), the child runs at a
lower OS priority than the app for the length of the run.
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
    GradientsSampled,
    LossWeightsChanged,
    StateChanged,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
)
from mogui.core.project import Project
from mogui.core.tracking import TrackingOptions
from mogui.core.trust import project_code
from mogui.qt.jobs import Coalescing, JobError, is_connected
from mogui.qt.process_runner import ProcessRunner, SpareChild
from mogui.qt.settings import lower_priority_enabled
from mogui.qt.thread_priority import BACKGROUND_NICENESS
from mogui.runner.requests import TrainRequest

_log = logging.getLogger(__name__)

#: GUI refresh period for coalesced batch events (10 Hz: progress text needs no more).
DRAIN_INTERVAL_MS = 100
#: Most batch events kept between two drains; older ones are dropped first.
MAX_PENDING_BATCHES = 20_000


def failure_from_exception(exc: BaseException) -> TrainingFailed:
    """Turn any exception into a readable :class:`TrainingFailed` event."""
    if isinstance(exc, MoguiError):
        return TrainingFailed(str(exc), getattr(exc, "details", ""))
    details = getattr(exc, "child_traceback", "") or "".join(
        traceback.format_exception(type(exc), exc, exc.__traceback__))
    return TrainingFailed(
        f"Training stopped because of an unexpected error: {type(exc).__name__}: {exc}. "
        "Check the model and loss settings, then start again.", details)


def _is_batch(event: object) -> bool:
    return isinstance(event, BatchEnded)


class TrainingWorker(QObject):
    """Starts, pauses, resumes and stops one training run at a time.

    Signals carry the :mod:`mogui.core.events` dataclasses unchanged.
    """

    started = Signal(object)  # TrainingStarted
    batches = Signal(list)  # list[BatchEnded], coalesced, at most 10 per second
    epoch_ended = Signal(object)  # EpochEnded
    state_changed = Signal(str)  # "running" | "paused" | "stopping"
    weights_changed = Signal(object)  # LossWeightsChanged: edited weights took effect
    gradients_sampled = Signal(object)  # GradientsSampled (gradient diagnostics on)
    finished = Signal(object)  # TrainingFinished
    failed = Signal(object)  # TrainingFailed
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, *,
                 spare: SpareChild | None = None) -> None:
        super().__init__(parent)
        coalescing = Coalescing(_is_batch, DRAIN_INTERVAL_MS, MAX_PENDING_BATCHES)
        self._runner = ProcessRunner(self, coalescing=coalescing, spare=spare)
        self._runner.started.connect(self._on_job_started)
        self._runner.progress.connect(self._relay)
        self._runner.succeeded.connect(self._on_succeeded)
        self._runner.failed.connect(self._on_job_failed)
        self._runner.finished.connect(self._on_job_finished)
        self._state: str | None = None
        self._epochs: list[EpochEnded] = []
        self._failed_reported = False
        self._stop_requested = False
        self.last_failure: TrainingFailed | None = None
        self.last_result: TrainingFinished | None = None
        #: The child's :class:`~mogui.runner.requests.TrainSummary` of the last run that
        #: finished or was stopped (its model is ``out_dir/model.keras``).
        self.last_training: Any = None
        self.last_out_dir: Path | None = None

    # -- control ----------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._runner.is_running

    @property
    def paused(self) -> bool:
        return self.is_running and self._state == "paused"

    @property
    def pending_batches(self) -> int:
        """Batch events received from the run and not delivered through ``batches`` yet."""
        return self._runner.pending

    @property
    def child_pid(self) -> int | None:
        """The process id of the child that trains (while a run goes)."""
        return self._runner.child_pid

    def start(self, project: Project, data: Any = None, *, epochs: int | None = None,
              project_dir: Path | None = None, out_dir: Path | None = None,
              tracking: TrackingOptions | None = None) -> None:
        """Train a deep copy of ``project`` in a child process (``data=None`` loads it there),
        logged to MLflow and TensorBoard as ``tracking`` says.

        Only code the user trusted runs there; the child refuses the rest.
        """
        if self.is_running:
            raise RuntimeError("a training run is already in progress")
        self.last_failure = None
        self.last_result = None
        self.last_training = None
        self.last_out_dir = out_dir
        self._failed_reported = False
        self._stop_requested = False
        self._state = None
        self._epochs = []
        request = TrainRequest(project.model_copy(deep=True), project_dir, out_dir, epochs, data,
                               tracking=tracking)
        self._runner.niceness = BACKGROUND_NICENESS if lower_priority_enabled() else 0
        self._runner.start("train", request,
                           allowed_code=[item.source for item in project_code(project)])

    def pause(self) -> None:
        self._runner.command("pause")

    def resume(self) -> None:
        self._runner.command("resume")

    def set_loss_weights(self, weights: dict[str, float]) -> bool:
        """Send the run new loss weights (head -> weight), to apply from its next batch.

        Only while paused: a running batch could not take them at a defined point. Returns
        whether they were sent; the run reports ``weights_changed`` once they apply.
        """
        if not self.paused or not weights:
            return False
        self._runner.command(("loss_weights", {str(h): float(w) for h, w in weights.items()}))
        return True

    def stop(self) -> None:
        """Stop after the current batch; a run stuck in a loss is ended within two seconds."""
        if self.is_running:
            self._stop_requested = True
        self._runner.cancel()

    def flush_batches(self) -> None:
        """Deliver the batch events received so far now, not at the next tick."""
        self._runner.flush()

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
            self._state = "running"
            self.started.emit(payload)
        elif isinstance(payload, EpochEnded):
            self._epochs.append(payload)
            self.epoch_ended.emit(payload)
        elif isinstance(payload, StateChanged):
            self._state = payload.state
            self.state_changed.emit(payload.state)
        elif isinstance(payload, LossWeightsChanged):
            self.weights_changed.emit(payload)
        elif isinstance(payload, GradientsSampled):
            self.gradients_sampled.emit(payload)
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
        if self.last_result is None and self.last_failure is None and self._stop_requested:
            # The child was ended by force (a loss that never returned): say so.
            history: dict[str, list[float]] = {}
            for event in self._epochs:
                for key, value in event.logs.items():
                    history.setdefault(key, []).append(value)
            elapsed = self._epochs[-1].elapsed if self._epochs else 0.0
            self.last_result = TrainingFinished(history=history, stopped=True, elapsed=elapsed,
                                                epochs_run=len(self._epochs), forced=True)
            self.finished.emit(self.last_result)
        self._state = None
        self.running_changed.emit(False)
