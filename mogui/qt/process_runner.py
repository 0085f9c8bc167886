"""Jobs in a child process: the same signals as any :class:`~mogui.qt.jobs.JobRunner`, while
the project's code runs outside the app, where a stop can always end it.

A job is named (a key of :data:`mogui.runner.jobs.JOBS`); its arguments and results cross a
pipe. A reader thread turns the child's messages into the runner's events and outcome, so
coalescing, ordering and error reporting are those of every runner. ``cancel`` asks the job
to stop, then terminates and kills the child (see :meth:`mogui.runner.ChildProcess.stop`)
on a helper thread: the window never waits. A child that crashes or exits ends the job with a
plain :class:`~mogui.runner.ChildProcessError`; the app stays up.

One warm child can be kept ready (:class:`SpareChild`): it has imported TensorFlow while
waiting, so the next job starts without that delay.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QObject

from mogui.core.trust import is_trusted
from mogui.qt.jobs import CANCELLED, Coalescing, JobError, JobHandle, JobRunner, Result
from mogui.runner import ChildProcess


class SpareChild:
    """At most one idle child process, started ahead of the job that will use it."""

    def __init__(self) -> None:
        self._child: ChildProcess | None = None

    def prepare(self) -> None:
        """Start a child now (if none waits), to be taken by the next job."""
        if self._child is None or not self._child.process.is_alive():
            self._child = ChildProcess()

    def take(self) -> ChildProcess:
        """The waiting child, or a new one."""
        child, self._child = self._child, None
        if child is not None and child.process.is_alive():
            return child
        return ChildProcess()

    def close(self) -> None:
        if self._child is not None:
            self._child.close()
            self._child = None


class ProcessRunner(JobRunner):
    """Runs each job in its own child process."""

    def __init__(self, parent: QObject | None = None, *, coalescing: Coalescing | None = None,
                 spare: SpareChild | None = None) -> None:
        super().__init__(parent, coalescing=coalescing)
        self._spare = spare
        self._child: ChildProcess | None = None
        self._reader: threading.Thread | None = None
        self._stopper: threading.Thread | None = None
        self._allowed: list[str] = []
        if spare is not None:  # the next job starts warm too
            self.finished.connect(spare.prepare)
        #: OS niceness of the next job's child (> 0: below the app); such a child is new.
        self.niceness = 0

    @property
    def child_pid(self) -> int | None:
        """The process id of the running job's child."""
        return self._child.pid if self._child is not None and self.is_running else None

    def start(self, fn: Any, *args: Any, allowed_code: Iterable[str] = ()) -> bool:
        """Run job ``fn`` (its name) with ``args``; ``allowed_code``: sources the caller has
        checked are trusted, allowed to run in the child (others are refused there)."""
        if self.is_running:
            return False
        self._allowed = [source for source in allowed_code if is_trusted(source)]
        return super().start(fn, *args)

    def command(self, name: str | tuple[str, Any]) -> None:
        """Send the running job a command of its own (e.g. ``"pause"``, or ``(name, payload)``
        such as ``("loss_weights", {head: weight})``)."""
        if self._child is not None:
            self._child.command(name)

    def _launch(self, fn: Any, args: tuple, handle: JobHandle) -> None:
        if self.niceness or self._spare is None:
            child = ChildProcess(self.niceness)
        else:
            child = self._spare.take()
        self._child = child
        child.start_job(str(fn), args, self._allowed)
        handle.on_cancel(lambda: self._stop(child))
        self._reader = threading.Thread(target=self._read, args=(child, handle),
                                        name="mogui-job-reader", daemon=True)
        self._reader.start()

    def _stop(self, child: ChildProcess) -> None:
        if self._stopper is None or not self._stopper.is_alive():
            self._stopper = threading.Thread(target=child.stop, name="mogui-job-stop",
                                             daemon=True)
            self._stopper.start()

    def _read(self, child: ChildProcess, handle: JobHandle) -> None:
        outcome: object = CANCELLED
        for kind, value in child.messages():
            if kind == "event":
                self._post(handle, value)
                continue
            if value.kind == "result":
                outcome = Result(value.value)
            elif value.kind == "error":
                outcome = JobError(value.error.exception(), value.error.traceback)
        if self._stopper is not None:
            self._stopper.join()
        child.close()
        self._post_end(handle, outcome)

    def _join(self, deadline_ms: int) -> bool:
        reader = self._reader
        if reader is None:
            return True
        reader.join(max(0, deadline_ms) / 1000)
        return not reader.is_alive()
