"""What a background job sees, wherever it runs: a handle to report events and to learn that
it should stop. Jobs are plain functions ``fn(handle, *args)``; the app runs them in a thread
(``mogui.qt.jobs``) or in a child process (``mogui.runner``), the command line in a child
process, and each gives the job an object with this interface.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class JobCancelled(Exception):
    """Raised by :meth:`JobHandle.check_cancelled`: ends a job with neither success nor failure."""


class JobHandle(Protocol):
    """The job's side of a run."""

    def report(self, event: object) -> None:
        """Send ``event`` to whoever started the job; never waits for it."""

    @property
    def cancelled(self) -> bool:
        """True once cancellation was requested."""

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` when cancellation was requested."""

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when cancellation is requested (at once if it already was)."""

    def on_command(self, name: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the starter sends the command ``name`` (e.g. "pause")."""
