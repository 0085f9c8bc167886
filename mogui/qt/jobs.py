"""One way to run work off the GUI thread: jobs, the handle they get, and runners.

A *job* is a plain function ``fn(job, *args)`` run off the GUI thread; ``job`` is its
:class:`JobHandle`. ``job.report(event)`` sends any object to the GUI thread;
``job.cancelled`` / ``job.check_cancelled()`` tell whether :meth:`JobRunner.cancel` was called,
and ``job.on_cancel(callback)`` maps a cancel onto the job's own stop switch
(see :class:`mogui.core.jobs.JobHandle`).

A :class:`JobRunner` runs one job at a time and answers only with signals, all emitted on the
GUI thread: ``started``; ``progress`` (a reported event, or a list of coalesced ones);
``succeeded(result)`` or ``failed(JobError)`` (exception and traceback text); ``finished``,
always last, once ``is_running`` is False again. A failure nobody is connected to is logged.
``cancel()`` is cooperative; ``join(deadline_ms)`` waits for the job and delivers what is left.

With :class:`Coalescing`, the events it accepts are buffered and delivered as one list per
tick (10 Hz), the oldest dropped beyond a limit; any other event is delivered at once, after
the buffered ones reported before it, so order is kept. A job never waits for the GUI.
A runner's :class:`Priority` lowers OS thread priorities only when the user opted in
(:func:`mogui.qt.settings.lower_priority_enabled`), and restores them when the job ends.

Runners differ only in where the job runs: :class:`ThreadRunner` uses a Python thread. A
process runner (user code in a ``multiprocessing`` spawn child) plugs in by implementing
:meth:`JobRunner._launch` and :meth:`JobRunner._join` (and extending ``cancel``): ``fn`` and
``args`` are pickled to the child, whose handle writes ``("event", obj)`` to a pipe and reads
``cancelled`` from a ``multiprocessing.Event`` that ``cancel`` sets; the child sends its outcome
last (a result, or a :class:`JobError` rebuilt from the type name, message and traceback text
when the exception does not pickle). A reader thread in this process calls :meth:`_post` and
:meth:`_post_end`, so coalescing, order, signals and error logging stay the same; it
lowers the child's priority (``os.setpriority`` on its pid) instead of threads.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from PySide6.QtCore import QMetaMethod, QObject, Qt, QTimer, Signal, SignalInstance, Slot

from mogui.core.jobs import CANCEL, JobCancelled
from mogui.core.jobs import JobHandle as BaseJobHandle
from mogui.qt.settings import lower_priority_enabled
from mogui.qt.thread_priority import lower_priority, restore_priority

_log = logging.getLogger(__name__)

Job = Callable[..., Any]  # fn(handle: JobHandle, *args) -> result


@dataclass(frozen=True)
class JobError:
    """Why a job failed: the exception it raised and the traceback as text."""

    exception: BaseException
    traceback: str

    def __str__(self) -> str:
        return f"{type(self.exception).__name__}: {self.exception}"


@dataclass(frozen=True)
class Coalescing:
    """Events ``accepts`` says yes to reach the GUI as lists, every ``interval_ms``."""

    accepts: Callable[[object], bool]
    interval_ms: int = 100
    #: most events kept between two deliveries; the oldest are dropped first
    max_pending: int = 20_000


class Priority(Enum):
    """What a runner does to OS thread priorities, only when the user opted in (settings)."""

    NORMAL = "normal"  # nothing
    LOWER_THREAD = "thread"  # the job's thread and the threads it starts
    LOWER_BACKGROUND = "background"  # every thread but the GUI thread


@dataclass(frozen=True)
class Result:
    """A job's return value, as its outcome."""

    value: Any


#: The outcome of a job that was cancelled.
CANCELLED = object()


def is_connected(owner: QObject, signal: SignalInstance) -> bool:
    """True when anything is connected to ``owner``'s ``signal``."""
    return owner.isSignalConnected(QMetaMethod.fromSignal(signal))


class JobHandle(BaseJobHandle):
    """What a job in this process sees: reports go to its runner, commands come from it."""

    def __init__(self, post: Callable[[JobHandle, object], None]) -> None:
        super().__init__()
        self._post = post

    def report(self, event: object) -> None:
        """Send ``event`` to the GUI thread (``progress``); never waits for the GUI."""
        self._post(self, event)


class JobRunner(QObject):
    """Runs one job at a time; subclasses decide where (see the module docstring).

    Use it from the GUI thread: ``start``, ``cancel``, ``join`` and every signal live there.
    """

    started = Signal()
    progress = Signal(object)  # one reported event, or a list of coalesced events
    succeeded = Signal(object)  # the job's return value
    failed = Signal(object)  # JobError
    finished = Signal()  # always, last; is_running is False by then
    _wake = Signal()

    def __init__(self, parent: QObject | None = None, *,
                 coalescing: Coalescing | None = None) -> None:
        super().__init__(parent)
        self._coalescing = coalescing
        self._lock = threading.Lock()
        self._inbox: deque[tuple[str, Any]] = deque()  # ("batch", deque) | ("event" | "end", x)
        self._pending = 0  # coalesced events in the inbox
        self._open: JobHandle | None = None  # the handle whose reports are still taken
        self._handle: JobHandle | None = None  # the running job's handle
        self._running = False
        self._wake.connect(self._deliver_ready, Qt.ConnectionType.QueuedConnection)
        self._timer = QTimer(self)
        if coalescing is not None:
            self._timer.setInterval(coalescing.interval_ms)
            self._timer.setTimerType(Qt.TimerType.PreciseTimer)  # keeps its phase to the plots
            self._timer.timeout.connect(self.flush)

    @property
    def is_running(self) -> bool:
        """True from ``start`` until just before ``finished``."""
        return self._running

    @property
    def pending(self) -> int:
        """How many coalesced events wait for the next delivery."""
        with self._lock:
            return self._pending

    def start(self, fn: Job, *args: Any) -> bool:
        """Run ``fn(handle, *args)``; False (and nothing done) while a job runs."""
        if self._running:
            return False
        handle = JobHandle(self._post)
        with self._lock:
            self._inbox.clear()
            self._pending = 0
            self._open = self._handle = handle
        self._running = True
        if self._coalescing is not None:
            self._timer.start()
        try:
            self._launch(fn, args, handle)
        except Exception as exc:  # noqa: BLE001 - e.g. no thread could be started
            self._post_end(handle, JobError(exc, traceback.format_exc()))
        self.started.emit()
        return True

    def cancel(self) -> None:
        """Ask the running job to stop (it checks ``cancelled`` or registered ``on_cancel``)."""
        if self._handle is not None:
            self._handle.deliver(CANCEL)

    def join(self, deadline_ms: int) -> bool:
        """Wait up to ``deadline_ms`` for the job to end, then deliver everything it left
        (through ``finished``). False when it is still running at the deadline."""
        if not self._running:
            return True
        if not self._join(deadline_ms):
            return False
        self.flush()
        return True

    @Slot()
    def flush(self) -> None:
        """Deliver everything reported so far (the coalescing timer calls this)."""
        self._deliver(everything=True)

    # -- for subclasses ---------------------------------------------------------------------
    def _launch(self, fn: Job, args: tuple, handle: JobHandle) -> None:
        """Start ``fn(handle, *args)`` elsewhere; it must end with :meth:`_post_end`."""
        raise NotImplementedError

    def _join(self, deadline_ms: int) -> bool:
        """Wait up to ``deadline_ms`` until the job has called :meth:`_post_end`."""
        raise NotImplementedError

    def _post(self, handle: JobHandle, event: object) -> None:
        """Take one reported event (any thread)."""
        coalescing = self._coalescing
        batched = coalescing is not None and coalescing.accepts(event)
        with self._lock:
            if handle is not self._open:
                return  # the job has ended
            if batched:
                if not self._inbox or self._inbox[-1][0] != "batch":
                    self._inbox.append(("batch", deque()))
                self._inbox[-1][1].append(event)
                self._pending += 1
                if self._pending > coalescing.max_pending:
                    self._drop_oldest()
                return
            self._inbox.append(("event", event))
        self._emit_wake()

    def _post_end(self, handle: JobHandle, outcome: object) -> None:
        """Take the job's outcome (any thread): a ``_Result``, a JobError or ``CANCELLED``."""
        with self._lock:
            if handle is not self._open:
                return
            self._open = None
            self._inbox.append(("end", outcome))
        self._emit_wake()

    # -- GUI thread -------------------------------------------------------------------------
    def _emit_wake(self) -> None:
        try:
            self._wake.emit()
        except RuntimeError:  # the runner was deleted with its parent: nobody is left to tell
            pass

    def _drop_oldest(self) -> None:
        for kind, events in self._inbox:
            if kind == "batch" and events:
                events.popleft()
                self._pending -= 1
                return

    @Slot()
    def _deliver_ready(self) -> None:
        self._deliver(everything=False)

    def _deliver(self, everything: bool) -> None:
        """Emit the inbox in order: all of it, or up to its last event that is not coalesced
        (coalesced ones after it wait for the timer)."""
        with self._lock:
            count = len(self._inbox)
            if not everything:
                while count and self._inbox[count - 1][0] == "batch":
                    count -= 1
            items = [self._inbox.popleft() for _ in range(count)]
            self._pending -= sum(len(value) for kind, value in items if kind == "batch")
        for kind, value in items:
            if kind == "batch":
                if value:
                    self.progress.emit(list(value))
            elif kind == "event":
                self.progress.emit(value)
            else:
                self._finish(value)

    def _finish(self, outcome: object) -> None:
        self._timer.stop()
        self._handle = None
        if isinstance(outcome, JobError):
            if is_connected(self, self.failed):
                self.failed.emit(outcome)
            else:
                _log.error("A background job failed: %s\n%s", outcome, outcome.traceback)
        elif isinstance(outcome, Result):
            self.succeeded.emit(outcome.value)
        self._running = False
        self.finished.emit()


class ThreadRunner(JobRunner):
    """Runs each job in a new Python thread of this process."""

    def __init__(self, parent: QObject | None = None, *, name: str = "mogui-job",
                 coalescing: Coalescing | None = None,
                 priority: Priority = Priority.NORMAL) -> None:
        super().__init__(parent, coalescing=coalescing)
        self._name = name
        self.priority = priority
        self._thread: threading.Thread | None = None

    def _priority_scope(self) -> Priority:
        """The priority this runner's jobs get: NORMAL unless the user opted in (settings)."""
        lower = self.priority is not Priority.NORMAL and lower_priority_enabled()
        return self.priority if lower else Priority.NORMAL

    def _launch(self, fn: Job, args: tuple, handle: JobHandle) -> None:
        scope = self._priority_scope()
        gui = threading.get_native_id()  # start() runs on the GUI thread
        thread = threading.Thread(target=self._run, args=(fn, args, handle, scope, gui),
                                  name=self._name, daemon=True)
        thread.start()
        self._thread = thread

    def _join(self, deadline_ms: int) -> bool:
        thread = self._thread
        if thread is None:
            return True
        thread.join(max(0, deadline_ms) / 1000)
        return not thread.is_alive()

    def _run(self, fn: Job, args: tuple, handle: JobHandle, scope: Priority, gui: int) -> None:
        change = None
        if scope is not Priority.NORMAL:
            change = lower_priority(gui if scope is Priority.LOWER_BACKGROUND else None)
        try:
            outcome: object = Result(fn(handle, *args))
        except JobCancelled:
            outcome = CANCELLED
        except BaseException as exc:  # noqa: BLE001 - nothing a job raises may vanish
            outcome = JobError(exc, traceback.format_exc())
        if change is not None:
            restore_priority(change)
        self._post_end(handle, outcome)
