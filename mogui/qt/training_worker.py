"""Runs :func:`mogui.engine.training.run_training` in a QThread and relays its events.

Batch events are coalesced: the training thread only appends them to a locked deque, and a
10 Hz timer on the GUI thread drains it and emits ``batches`` once per tick. The training
thread never waits for the GUI. Every other event crosses threads as a queued Qt signal.
When a run starts, every thread but the GUI thread is given a lower OS priority
(:mod:`mogui.qt.thread_priority`), so the window is served first while training keeps the
cores busy.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections import deque
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from mogui.core.errors import MoguiError
from mogui.core.events import (
    BatchEnded,
    EpochEnded,
    StateChanged,
    TrainingEvent,
    TrainingFailed,
    TrainingFinished,
    TrainingStarted,
)
from mogui.core.project import Project
from mogui.qt.thread_priority import lower_background_threads

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


class _TrainingJob(QObject):
    """Lives in the training thread; ``run`` calls the engine there."""

    event = Signal(object)
    done = Signal()

    def __init__(self, project: Project, data, epochs: int | None, project_dir: Path | None,
                 out_dir: Path | None, control, batches: deque, lock: threading.Lock,
                 gui_thread_id: int) -> None:
        super().__init__()
        self._gui_thread_id = gui_thread_id
        self._project = project
        self._data = data
        self._epochs = epochs
        self._project_dir = project_dir
        self._out_dir = out_dir
        self._control = control
        self._batches = batches
        self._lock = lock
        self._failed_reported = False
        self.result = None  # the engine's TrainingResult once the run has finished

    def _report(self, event: TrainingEvent) -> None:
        if isinstance(event, BatchEnded):
            with self._lock:
                self._batches.append(event)
            return
        if isinstance(event, TrainingFailed):
            self._failed_reported = True
        self.event.emit(event)

    @Slot()
    def run(self) -> None:
        # This thread too, so threads TensorFlow starts from here inherit the priority.
        lower_background_threads(keep=self._gui_thread_id)
        try:
            from mogui.engine.data import load_data
            from mogui.engine.training import run_training

            data = self._data
            if data is None:
                data = load_data(self._project, self._project_dir)
            self.result = run_training(self._project, data, self._report, self._control,
                                       epochs=self._epochs, out_dir=self._out_dir)
        except BaseException as exc:  # noqa: BLE001 - everything goes to the GUI
            if not self._failed_reported:
                self.event.emit(failure_from_exception(exc))
        finally:
            self.done.emit()


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
        self._lock = threading.Lock()
        self._pending: deque[BatchEnded] = deque(maxlen=MAX_PENDING_BATCHES)
        self._thread: QThread | None = None
        self._job: _TrainingJob | None = None
        self._control = None
        self._drain_timer = QTimer(self)
        self._drain_timer.setInterval(DRAIN_INTERVAL_MS)
        self._drain_timer.setTimerType(Qt.TimerType.PreciseTimer)  # keeps its phase to the plots
        self._drain_timer.timeout.connect(self.drain)
        self.last_failure: TrainingFailed | None = None
        self.last_result: TrainingFinished | None = None
        #: The engine's ``TrainingResult`` (with the trained model) of the last run that
        #: finished or was stopped; ``None`` while a run is going and after a failure.
        self.last_training = None
        self.last_out_dir: Path | None = None
        self._gui_thread_id = threading.get_native_id()  # made on the GUI thread

    # -- control ----------------------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._thread is not None

    @property
    def paused(self) -> bool:
        return bool(self._control is not None and self._control.paused)

    def start(self, project: Project, data=None, *, epochs: int | None = None,
              project_dir: Path | None = None, out_dir: Path | None = None) -> None:
        """Train a deep copy of ``project`` in a new thread (``data=None`` loads it there)."""
        if self.is_running:
            raise RuntimeError("a training run is already in progress")
        from mogui.engine.training import TrainingControl

        self.last_failure = None
        self.last_result = None
        self.last_training = None
        self.last_out_dir = out_dir
        with self._lock:
            self._pending.clear()
        self._control = TrainingControl()
        thread = QThread()
        thread.setObjectName("mogui-training")
        job = _TrainingJob(project.model_copy(deep=True), data, epochs, project_dir, out_dir,
                           self._control, self._pending, self._lock, self._gui_thread_id)
        job.moveToThread(thread)
        thread.started.connect(job.run)
        job.event.connect(self._relay)
        job.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._job = thread, job
        self._drain_timer.start()
        thread.start()
        self.running_changed.emit(True)

    def pause(self) -> None:
        if self._control is not None:
            self._control.pause()

    def resume(self) -> None:
        if self._control is not None:
            self._control.resume()

    def stop(self) -> None:
        """Ask the run to stop after the current batch (also releases a pause)."""
        if self._control is not None:
            self._control.stop()

    def wait(self, msecs: int = 60_000) -> bool:
        """Block until the training thread ends (for shutdown and scripts)."""
        thread = self._thread
        return True if thread is None else thread.wait(msecs)

    def shutdown(self, msecs: int = 30_000) -> None:
        """Stop any run and wait for its thread, then deliver what is still queued."""
        self.stop()
        self.wait(msecs)
        if self._thread is not None:
            self._on_thread_finished()

    # -- GUI-thread side --------------------------------------------------------------------
    def take_batches(self) -> list[BatchEnded]:
        """Remove and return the batch events collected since the last call."""
        with self._lock:
            items = list(self._pending)
            self._pending.clear()
        return items

    @Slot()
    def drain(self) -> None:
        items = self.take_batches()
        if items:
            self.batches.emit(items)

    @Slot(object)
    def _relay(self, event: TrainingEvent) -> None:
        if not isinstance(event, TrainingStarted | StateChanged):
            self.drain()  # keep order: batches of an epoch arrive before its end
        if isinstance(event, TrainingStarted):
            self.started.emit(event)
        elif isinstance(event, EpochEnded):
            self.epoch_ended.emit(event)
        elif isinstance(event, StateChanged):
            self.state_changed.emit(event.state)
        elif isinstance(event, TrainingFinished):
            self.last_result = event
            self.finished.emit(event)
        elif isinstance(event, TrainingFailed):
            self.last_failure = event
            if self.receivers("2failed(PyObject)") > 0:
                self.failed.emit(event)
            else:
                _log.error("%s\n%s", event.message, event.details)

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._thread is None:
            return
        self._drain_timer.stop()
        self.drain()
        thread, job = self._thread, self._job
        self._thread = self._job = None
        self._control = None
        if job is not None:
            self.last_training = job.result
            job.deleteLater()
        if thread is not None:
            thread.deleteLater()
        self.running_changed.emit(False)
