"""Fixtures for the desktop app's tests: a main window on the demo, non-blocking dialogs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from PySide6.QtWidgets import QMessageBox

from mogui.core.project import Project
from mogui.qt.document import ProjectDocument
from mogui.qt.main_window import MainWindow
from mogui.qt.model_editor import ModelEditor


@dataclass
class MessageLog:
    """Message boxes shown during a test; ``answer`` replies to unsaved-changes questions."""

    errors: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    answer: QMessageBox.StandardButton = QMessageBox.StandardButton.Discard


@pytest.fixture
def dialogs(monkeypatch) -> MessageLog:
    """Capture QMessageBox texts instead of blocking on a modal box."""
    log = MessageLog()

    def critical(_parent, _title, text, *args, **kwargs):
        log.errors.append(text)
        return QMessageBox.StandardButton.Ok

    def question(_parent, _title, text, *args, **kwargs):
        log.questions.append(text)
        return log.answer

    monkeypatch.setattr(QMessageBox, "critical", staticmethod(critical))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return log


def wait_for_shapes(qtbot, editor: ModelEditor, timeout: int = 60_000) -> None:
    """Wait until the live inspection has caught up with the latest change."""
    qtbot.waitUntil(lambda: not editor.inspection.pending
                    and editor.inspection.inspection is not None, timeout=timeout)


@pytest.fixture
def window(qtbot, dialogs, demo_project: Project) -> Iterator[MainWindow]:
    """The main window on the (shrunk) demo project, shapes already computed."""
    main = MainWindow(ProjectDocument(demo_project))
    qtbot.addWidget(main)
    main.show()
    wait_for_shapes(qtbot, main.editor)
    yield main
    main.document.undo_stack.setClean()  # closing must not ask about unsaved changes
