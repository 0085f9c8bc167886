"""What a background job sees, wherever it runs: a handle to report events and to learn that
it should stop. Jobs are plain functions ``fn(handle, *args)``; the app runs them in a thread
(``mogui.qt.jobs``) or in a child process (``mogui.runner``), the command line in a child
process, and each gives the job a :class:`JobHandle` of its own kind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

#: The command that cancels a job.
CANCEL = "cancel"


class JobCancelled(Exception):
    """Raised by :meth:`JobHandle.check_cancelled`: ends a job with neither success nor failure."""


class JobHandle:
    """The job's side of a run: :meth:`report` (each runner says where events go), and the
    commands its starter sends — cancel, or a job's own such as ``"pause"``, some with a
    payload (``("loss_weights", {head: weight})``) — delivered on any thread through
    :meth:`deliver`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._callbacks: dict[str, list[Callable[..., None]]] = {}

    def report(self, event: object) -> None:
        """Send ``event`` to whoever started the job; never waits for it."""
        raise NotImplementedError

    @property
    def cancelled(self) -> bool:
        """True once cancellation was requested."""
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` when cancellation was requested."""
        if self._cancel.is_set():
            raise JobCancelled

    def on_command(self, name: str, callback: Callable[..., None]) -> None:
        """Call ``callback`` whenever the starter sends the command ``name``: with the
        command's payload as its one argument when the command carries one."""
        with self._lock:
            self._callbacks.setdefault(name, []).append(callback)

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when cancellation is requested (at once if it already was)."""
        with self._lock:
            if not self._cancel.is_set():
                self._callbacks.setdefault(CANCEL, []).append(callback)
                return
        callback()

    def deliver(self, name: str, payload: Any = None) -> None:
        """The starter's side: run the callbacks of command ``name`` (cancel: once), given
        ``payload`` when it is not ``None``."""
        with self._lock:
            if name == CANCEL:
                if self._cancel.is_set():
                    return
                self._cancel.set()
            callbacks = list(self._callbacks.get(name, ()))
        for callback in callbacks:
            if payload is None:
                callback()
            else:
                callback(payload)
