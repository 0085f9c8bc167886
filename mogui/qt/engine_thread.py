"""One thread for every Keras model the app builds, and garbage collection that never overlaps it.

Keras models hold reference cycles, so Python's cyclic collector frees them, on whichever thread
happens to allocate at the time. A collection on the GUI thread that frees TensorFlow objects
while another thread builds a model can deadlock the process. So in the app's process:

- every job that builds models (shape inspection, the loss contract) runs on one long-lived
  thread, :data:`ENGINE_THREAD`, one job at a time (:class:`EngineRunner`);
- automatic collection is off (:func:`manage_garbage`); the GUI thread collects on a timer, and
  only while the engine thread is idle (:func:`collect_garbage` holds its lock meanwhile), so
  Qt objects are still freed on the GUI thread and models are never freed while one is built;
- once TensorFlow is imported, everything alive is frozen out of the collector's scans
  (``gc.freeze``), so a full collection takes microseconds instead of ~0.2 s.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from mogui.qt.jobs import Job, JobHandle, Priority, ThreadRunner

#: How often the GUI thread collects young garbage, and every how many ticks all of it.
COLLECT_INTERVAL_MS = 1000
FULL_COLLECTION_EVERY = 10


class EngineThread:
    """A daemon thread that runs submitted callables one at a time, in order."""

    def __init__(self, name: str = "mogui-engine") -> None:
        self._name = name
        self._tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        #: Held while a task runs; :func:`collect_garbage` takes it so the two never overlap.
        self.busy = threading.Lock()

    @property
    def name(self) -> str:
        """The thread's name (``threading.current_thread().name`` inside a task)."""
        return self._name

    def submit(self, task: Callable[[], None]) -> None:
        """Run ``task()`` on the engine thread after the tasks submitted before it."""
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name=self._name,
                                                daemon=True)
                self._thread.start()
        self._tasks.put(task)

    def _serve(self) -> None:
        while True:
            task = self._tasks.get()
            with self.busy:
                task()  # ThreadRunner._run: catches everything and reports it
            del task


ENGINE_THREAD = EngineThread()


class EngineRunner(ThreadRunner):
    """A :class:`ThreadRunner` whose jobs run on :data:`ENGINE_THREAD`, queued behind the jobs
    of the other engine runners. A job cancelled before its turn ends without running."""

    def __init__(self, parent: QObject | None = None, *, name: str = "mogui-engine",
                 priority: Priority = Priority.NORMAL) -> None:
        super().__init__(parent, name=name, priority=priority)
        self._done: threading.Event | None = None

    def _launch(self, fn: Job, args: tuple, handle: JobHandle) -> None:
        scope = self._priority_scope()
        gui = threading.get_native_id()  # start() runs on the GUI thread
        done = self._done = threading.Event()

        def task() -> None:
            try:
                self._run(_unless_cancelled(fn), args, handle, scope, gui)
            finally:
                done.set()

        ENGINE_THREAD.submit(task)

    def _join(self, deadline_ms: int) -> bool:
        done = self._done
        return done is None or done.wait(max(0, deadline_ms) / 1000)


def _unless_cancelled(fn: Job) -> Job:
    def run(handle: JobHandle, *args: object) -> object:
        handle.check_cancelled()  # cancelled while queued: JobCancelled, nothing built
        return fn(handle, *args)

    return run


def collect_garbage(generation: int = 2) -> bool:
    """Collect cyclic garbage now unless the engine thread is running a job; True if it did."""
    if not ENGINE_THREAD.busy.acquire(blocking=False):
        return False
    try:
        gc.collect(generation)
    finally:
        ENGINE_THREAD.busy.release()
    return True


class GarbageTimer(QObject):
    """Collects on the GUI thread every second (everything every tenth time), never while the
    engine thread works; automatic collection stays off while it lives."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ticks = 0
        self._timer = QTimer(self, interval=COLLECT_INTERVAL_MS)
        self._timer.timeout.connect(self.tick)
        self._timer.start()
        gc.disable()
        self.destroyed.connect(lambda *_: gc.enable())

    def tick(self) -> None:
        """One timer tick: a young or, every tenth, a full collection (skipped while busy)."""
        self._ticks += 1
        full = self._ticks % FULL_COLLECTION_EVERY == 0
        if not collect_garbage(2 if full else 1) and full:
            self._ticks -= 1  # try the full one again next tick


def manage_garbage(parent: QObject) -> GarbageTimer:
    """Turn automatic collection off and collect from the GUI thread instead (see above)."""
    return GarbageTimer(parent)
