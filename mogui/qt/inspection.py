"""Live shape inspection of the open project, shared by the graph and the shape inspector.

Changes are debounced (150 ms) and inspected in a worker thread: building the demo's Keras
model takes longer than a frame, so doing it in the GUI thread would stall typing.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from mogui.core.project import Project
from mogui.qt.document import ProjectDocument

DEBOUNCE_MS = 150


class _Relay(QObject):
    done = Signal(int, object, float)
    failed = Signal(int, str)


class _InspectTask(QRunnable):
    def __init__(self, generation: int, project: Project, relay: _Relay) -> None:
        super().__init__()
        self._generation = generation
        self._project = project
        self._relay = relay

    def run(self) -> None:
        started = time.perf_counter()
        try:
            from mogui.engine.model.shapes import inspect_project

            result = inspect_project(self._project)
        except Exception as exc:  # shown to the user, never lost
            self._relay.failed.emit(self._generation, f"Shapes could not be computed: {exc}")
            return
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        self._relay.done.emit(self._generation, result, elapsed_ms)


class LiveInspection(QObject):
    """Re-inspects the project shortly after each change; emits ``updated`` with the result.

    ``inspection`` is the latest ``mogui.engine.model.shapes.Inspection`` (``None`` until the first
    one arrives or when inspecting failed; ``failure`` then says why).
    """

    updated = Signal()

    def __init__(self, document: ProjectDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self.inspection: Any = None
        self.failure: str | None = None
        self.last_duration_ms: float | None = None
        self._generation = 0
        self._delivered = 0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._relay.failed.connect(self._on_failed)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh_now)
        document.changed.connect(self._timer.start)
        self._timer.start()

    @property
    def pending(self) -> bool:
        """True while a change has not been inspected yet."""
        return self._timer.isActive() or self._delivered != self._generation

    def refresh_now(self) -> None:
        """Inspect the current project now (results arrive through ``updated``)."""
        self._timer.stop()
        self._generation += 1
        project = self._document.project.model_copy(deep=True)
        self._pool.start(_InspectTask(self._generation, project, self._relay))

    def wait(self) -> None:
        """Block until queued inspections are done (used at shutdown)."""
        self._pool.waitForDone()

    def _on_done(self, generation: int, result: object, elapsed_ms: float) -> None:
        if generation != self._generation:
            return
        self._delivered = generation
        self.inspection, self.failure, self.last_duration_ms = result, None, elapsed_ms
        self.updated.emit()

    def _on_failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._delivered = generation
        self.inspection, self.failure = None, message
        self.updated.emit()
