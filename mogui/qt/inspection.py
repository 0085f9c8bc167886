"""Live shape inspection of the open project, shared by the graph and the shape inspector.

Changes are debounced (150 ms) and inspected as a background job: building the demo's Keras
model takes longer than a frame, so doing it in the GUI thread would stall typing. One
inspection runs at a time; a change meanwhile queues one more of the project as it is then,
and a result that no longer matches the latest change is discarded.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from mogui.core.project import Project
from mogui.qt.document import ProjectDocument
from mogui.qt.engine_loader import load_engine
from mogui.qt.engine_thread import EngineRunner
from mogui.qt.jobs import JobError, JobHandle

DEBOUNCE_MS = 150


def _inspect(_job: JobHandle, project: Project) -> tuple[Any, float]:
    """The job: inspect ``project``; returns the result and the milliseconds it took.

    The first one loads TensorFlow (seconds), here rather than on the GUI thread."""
    load_engine()
    from mogui.engine.model import inspect_project  # loaded by load_engine: at once

    started = time.perf_counter()
    result = inspect_project(project)
    return result, (time.perf_counter() - started) * 1000.0


class LiveInspection(QObject):
    """Re-inspects the project shortly after each change; emits ``updated`` with the result.

    ``inspection`` is the latest ``mogui.engine.model.shapes.Inspection`` (``None`` until the
    first one arrives or when inspecting failed; ``failure`` then says why).
    """

    updated = Signal()

    def __init__(self, document: ProjectDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self.inspection: Any = None
        self.failure: str | None = None
        self.last_duration_ms: float | None = None
        self._generation = 0  # counts refresh requests
        self._delivered = 0  # the generation of the result shown
        self._running = 0  # the generation being inspected
        self._queued = False  # a refresh came while one ran
        self._runner = EngineRunner(self, name="mogui-inspection")
        self._runner.succeeded.connect(self._on_done)
        self._runner.failed.connect(self._on_failed)
        self._runner.finished.connect(self._on_finished)
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
        self._start()

    def wait(self, deadline_ms: int = 60_000) -> bool:
        """Block until the running and queued inspections are done (used at shutdown)."""
        while self._runner.is_running:
            if not self._runner.join(deadline_ms):
                return False
        return True

    def _start(self) -> None:
        project = self._document.project.model_copy(deep=True)
        if self._runner.start(_inspect, project):
            self._running = self._generation
        else:
            self._queued = True

    @Slot(object)
    def _on_done(self, outcome: tuple[Any, float]) -> None:
        if self._running != self._generation:
            return  # the project changed meanwhile
        result, elapsed_ms = outcome
        self._delivered = self._running
        self.inspection, self.failure, self.last_duration_ms = result, None, elapsed_ms
        self.updated.emit()

    @Slot(object)
    def _on_failed(self, error: JobError) -> None:
        if self._running != self._generation:
            return
        self._delivered = self._running
        self.inspection, self.failure = None, f"Shapes could not be computed: {error.exception}"
        self.updated.emit()

    @Slot()
    def _on_finished(self) -> None:
        if self._queued:
            self._queued = False
            self._start()
