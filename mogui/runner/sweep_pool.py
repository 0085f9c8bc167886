"""A sweep's worker processes on this machine, seen from the process that started them: each
a :class:`~mogui.runner.parent.ChildProcess` running the ``"sweep_worker"`` job, their
messages merged into one stream read on the caller's thread, and one way to stop them all.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from mogui.runner.parent import ChildProcess, JobOutcome
from mogui.runner.sweep_plan import SweepPlan

#: After a cancel, how long a worker may stay silent (ending its batch, saving its model,
#: marking its trial interrupted) before it is terminated.
STOP_GRACE_S = 8.0


class WorkerPool:
    """``count`` worker processes of ``plan``'s sweep, started at once."""

    def __init__(self, plan: SweepPlan, count: int, allowed_code: Iterable[str] = ()) -> None:
        allowed = list(allowed_code)
        self._queue: queue.Queue[tuple[int, str, Any]] = queue.Queue()
        self.children = [ChildProcess() for _ in range(count)]
        self._readers = []
        self._stoppers: list[threading.Thread] = []
        self._lock = threading.Lock()
        for index, child in enumerate(self.children):
            child.start_job("sweep_worker", (plan,), allowed)
            reader = threading.Thread(target=self._read, args=(index, child),
                                      name=f"mogui-sweep-worker-{index}", daemon=True)
            reader.start()
            self._readers.append(reader)

    def _read(self, index: int, child: ChildProcess) -> None:
        for kind, value in child.messages():
            self._queue.put((index, kind, value))

    def messages(self) -> Iterator[tuple[int, str, Any]]:
        """``(worker, "event", event)`` and, once per worker, ``(worker, "outcome",
        JobOutcome)``, until every worker has ended. Wakes up often, so that signal handlers
        run on the caller's thread."""
        ended = 0
        while ended < len(self.children):
            try:
                index, kind, value = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            ended += kind == "outcome"
            yield index, kind, value

    @property
    def stopping(self) -> bool:
        return bool(self._stoppers)

    def stop(self) -> None:
        """Cancel every worker (each ends its trial cleanly, or is terminated after
        :data:`STOP_GRACE_S` of silence); returns at once."""
        with self._lock:
            if self._stoppers:
                return
            for child in self.children:
                thread = threading.Thread(target=child.stop, args=(STOP_GRACE_S,), daemon=True)
                thread.start()
                self._stoppers.append(thread)

    def close(self) -> None:
        """Wait for the stops, end any worker still running and release the pipes."""
        for thread in list(self._stoppers):
            thread.join()
        for child in self.children:
            child.close()
        for reader in self._readers:
            reader.join(1.0)


def outcome_error(outcome: JobOutcome) -> BaseException | None:
    """The exception a failed worker ended with (``None`` for a result or a cancel)."""
    if outcome.kind != "error" or outcome.error is None:
        return None
    error = outcome.error.exception()
    error.child_traceback = outcome.error.traceback  # type: ignore[attr-defined]
    return error
