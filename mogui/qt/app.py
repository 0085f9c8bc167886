"""Start the desktop app.

The window comes first: nothing here imports TensorFlow, which loads in the background (see
:mod:`mogui.qt.engine_loader`) while the tree, graph and forms are already usable. The app
starts on the project given, else on the last project opened or saved (a preference, on by
default), else on the demo.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from mogui.core.io import load_example, load_project
from mogui.core.paths import path_problem
from mogui.core.validation import ProjectError
from mogui.qt import error_dialog
from mogui.qt.autosave import offer_recovery
from mogui.qt.document import ProjectDocument
from mogui.qt.engine_loader import hold_engine, release_engine
from mogui.qt.engine_thread import manage_garbage
from mogui.qt.file_actions import project_error_text, recent_files, remember_file
from mogui.qt.main_window import MainWindow
from mogui.qt.settings import reopen_last_enabled
from mogui.qt.startup_timing import mark, watch_shapes, when_on_screen

DEMO = "bbox_classification"
#: TensorFlow loads after this long even when the window has not been exposed (minimised).
RELEASE_AFTER_MS = 3000
#: How long after the first shapes the spare child process starts importing TensorFlow.
SPARE_AFTER_MS = 1000


def last_project() -> str | None:
    """The project file opened or saved last, if any."""
    files = recent_files()
    return files[0] if files else None


def start_document(project_path: str | None, *, reopen_last: bool = False
                   ) -> tuple[ProjectDocument, str | None]:
    """The document to start on, and why it is the demo although a project was asked for
    (``None`` when nothing went wrong): ``project_path``; else, with ``reopen_last``, the
    last project; else the demo."""
    asked = project_path
    what = "the project"
    if asked is None and reopen_last:
        asked, what = last_project(), "the last project"
    if asked:
        problem = path_problem(asked)
        if problem is None:
            try:
                document = ProjectDocument(load_project(asked, strict=False), Path(asked))
                remember_file(Path(asked))  # File ▸ Open Recent lists it from the start
                return document, None
            except ProjectError as exc:
                problem = project_error_text(exc)
        else:
            problem = f"{asked} {problem}"
        reason = f"Cannot open {what}: {problem}\n\nThe demo project was opened instead."
        return ProjectDocument(load_example(DEMO)), reason
    return ProjectDocument(load_example(DEMO)), None


def report_start(window: MainWindow, problem: str | None) -> None:
    """Say why the demo opened instead (if it did); then offer to restore unsaved changes a
    crashed mogui left."""
    if problem:
        error_dialog.show_error(window, "Cannot open project", problem)
    offer_recovery(window, window.document, window.autosave)


def create_window(project_path: str | None = None, *, warm_child: bool = False,
                  reopen_last: bool = False) -> MainWindow:
    """The main window on ``project_path`` (or the last project, or the demo; see
    :func:`start_document`), its problems reported and crashed work offered at once."""
    document, problem = start_document(project_path, reopen_last=reopen_last)
    window = MainWindow(document, warm_child=warm_child)
    report_start(window, problem)
    return window


def run_gui(argv: list[str], project_path: str | None = None) -> int:
    """Run the app until its window closes; returns the exit status."""
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("mogui")
    app.setOrganizationName("mogui")
    app.setApplicationDisplayName("mogui")
    app.setWindowIcon(QIcon(str(resources.files("mogui.resources") / "icons" / "mogui.svg")))
    manage_garbage(app)  # collections never overlap a model being built (engine_thread)
    hold_engine()  # TensorFlow loads once the window is on screen, not while it is drawn
    document, problem = start_document(project_path, reopen_last=reopen_last_enabled())
    window = MainWindow(document, warm_child=True, defer_training_tab=True)
    inspection = window.editor.inspection
    watch_shapes(window, inspection)

    def on_screen() -> None:
        mark("window")
        window.build_training_tab()  # its plotting library: after the first paint
        release_engine()

    when_on_screen(window, on_screen)
    QTimer.singleShot(RELEASE_AFTER_MS, release_engine)  # a window that is never exposed
    window.show()
    # Questions wait until the window is on screen.
    QTimer.singleShot(0, lambda: report_start(window, problem))

    def prepare_child() -> None:
        # A child process imports TensorFlow for the first run, dry run or export: once this
        # process has it (the shapes are in), so that the two imports do not share the CPU.
        inspection.updated.disconnect(prepare_child)
        if window.spare is not None:
            QTimer.singleShot(SPARE_AFTER_MS, window.spare.prepare)

    inspection.updated.connect(prepare_child)
    return app.exec()
