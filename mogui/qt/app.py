"""Start the desktop app."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from mogui.core.io import load_example, load_project
from mogui.core.validation import ProjectError
from mogui.qt import error_dialog
from mogui.qt.autosave import offer_recovery
from mogui.qt.document import ProjectDocument
from mogui.qt.main_window import MainWindow

DEMO = "bbox_classification"


def create_window(project_path: str | None = None, *, warm_child: bool = False) -> MainWindow:
    """The main window on ``project_path``, or on the demo when none is given or it is broken;
    then unsaved changes a crashed mogui left are offered for restoring."""
    problem = None
    document = None
    if project_path:
        try:
            document = ProjectDocument(load_project(project_path, strict=False),
                                       Path(project_path))
        except ProjectError as exc:
            problem = str(exc)
    if document is None:
        document = ProjectDocument(load_example(DEMO))
    window = MainWindow(document, warm_child=warm_child)
    if problem:
        error_dialog.show_error(window, "Cannot open project",
                                f"{problem}\n\nThe demo project was opened instead.")
    offer_recovery(window, window.document, window.autosave)
    return window


def run_gui(argv: list[str], project_path: str | None = None) -> int:
    """Run the app until its window closes; returns the exit status."""
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("mogui")
    app.setOrganizationName("mogui")
    app.setApplicationDisplayName("mogui")
    app.setWindowIcon(QIcon(str(resources.files("mogui.resources") / "icons" / "mogui.svg")))
    # GPU memory growth must be set before TensorFlow runs its first op (the shape worker).
    from mogui.engine.training.devices import configure_devices

    configure_devices()
    window = create_window(project_path, warm_child=True)
    window.show()
    # A child process imports TensorFlow while the user looks around: the first run, dry run
    # or export that needs it starts at once.
    QTimer.singleShot(2000, window.spare.prepare)
    return app.exec()
