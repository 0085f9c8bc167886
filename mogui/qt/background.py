"""Run one function call at a time in a worker thread, with the result or error as signals."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from mogui.qt.thread_priority import lower_this_thread


class _CallJob(QObject):
    succeeded = Signal(object)
    failed = Signal(object, str)  # exception, traceback text
    done = Signal()

    def __init__(self, fn: Callable[..., Any], args: tuple) -> None:
        super().__init__()
        self._fn = fn
        self._args = args

    @Slot()
    def run(self) -> None:
        lower_this_thread()  # the GUI thread comes first
        try:
            self.succeeded.emit(self._fn(*self._args))
        except Exception as exc:  # noqa: BLE001 - shown to the user, never lost
            self.failed.emit(exc, traceback.format_exc())
        finally:
            self.done.emit()


class BackgroundCall(QObject):
    """Runs one function call at a time in a worker thread; result or error come as signals."""

    succeeded = Signal(object)
    failed = Signal(object, str)  # exception, traceback text
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._job: _CallJob | None = None

    @property
    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Call ``fn(*args)`` in a new thread; False (and nothing done) while one runs."""
        if self._thread is not None:
            return False
        thread = QThread()
        job = _CallJob(fn, args)
        job.moveToThread(thread)
        thread.started.connect(job.run)
        job.succeeded.connect(self.succeeded)
        job.failed.connect(self.failed)
        job.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._on_finished)
        self._thread, self._job = thread, job
        thread.start()
        self.running_changed.emit(True)
        return True

    def wait(self, msecs: int = 60_000) -> bool:
        return True if self._thread is None else self._thread.wait(msecs)

    @Slot()
    def _on_finished(self) -> None:
        thread, job = self._thread, self._job
        self._thread = self._job = None
        if job is not None:
            job.deleteLater()
        if thread is not None:
            thread.deleteLater()
        self.running_changed.emit(False)
