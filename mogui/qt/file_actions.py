"""File handling of the main window: new (blank, from an example, from data), open, recent
files, save, unsaved-changes prompt. A new project has no file until it is saved."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QWidget

from mogui.core.demo_targets import DEMO_QUANTITIES
from mogui.core.io import anchor_data_paths, example_path, load_example
from mogui.core.project import HeadSpec, InputSpec, LayerSpec, Project
from mogui.core.validation import ProjectError
from mogui.qt import error_dialog
from mogui.qt.document import ProjectDocument
from mogui.qt.new_project_wizard import NewProjectWizard
from mogui.qt.settings import settings

RECENT_KEY = "recentFiles"
MAX_RECENT = 8
FILE_FILTER = "mogui projects (*.json);;All files (*)"


def recent_files() -> list[str]:
    """Recently opened or saved project files, newest first."""
    value = settings().value(RECENT_KEY, [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in (value or [])]


def forget_file(path: str | Path) -> None:
    """Take ``path`` off the recent files (it was moved or deleted)."""
    text = str(path)
    store = settings()
    store.setValue(RECENT_KEY, [f for f in recent_files() if f != text])
    store.sync()


def remember_file(path: Path) -> None:
    text = str(Path(path).resolve())
    files = [text, *(f for f in recent_files() if f != text)][:MAX_RECENT]
    store = settings()
    store.setValue(RECENT_KEY, files)
    store.sync()


def _suggested_file_name(document: ProjectDocument) -> str:
    """``shapes_bounding_box_class.mogui.json`` for a project named "Shapes: bounding box +
    class": the ``.mogui.json`` ending is what desktops know as a mogui project."""
    return f"{document.project.slug or 'project'}.mogui.json"


def blank_project() -> Project:
    """A new, untitled project that validates and trains as it is, on the demo shapes: their
    64x64 grey image, a Flatten and a Dense layer, and one head classifying the shape."""
    shape = DEMO_QUANTITIES["classification"]
    return Project(
        name="Untitled",
        inputs=[InputSpec(name="image", shape=[64, 64, 1])],
        trunk=[LayerSpec(name="flatten", kind="Flatten"),
               LayerSpec(name="dense", kind="Dense",
                         params={"units": 32, "activation": "relu"})],
        heads=[HeadSpec(name=shape.name, task=shape.task, units=shape.units)])


def project_error_text(exc: ProjectError) -> str:
    """Every problem of a project file, one per line (the first few when there are many)."""
    if len(exc.problems) <= 1:
        return str(exc)
    shown = exc.problems[:8]
    lines = [f"{exc.source or 'The project'} has {len(exc.problems)} problems:"]
    lines += [f"• {p}" for p in shown]
    if len(exc.problems) > len(shown):
        lines.append(f"… and {len(exc.problems) - len(shown)} more")
    return "\n".join(lines)


class FileActions(QObject):
    """Opens and saves the document for ``window``, asking before unsaved work is lost."""

    recent_changed = Signal()
    #: An untitled project was saved to a file for the first time (its path).
    first_saved = Signal(Path)

    def __init__(self, document: ProjectDocument, window: QWidget) -> None:
        super().__init__(window)
        self._document = document
        self._window = window

    def display_name(self) -> str:
        """The file's name, or the project's name while it has no file."""
        path = self._document.path
        if path is not None:
            return path.name
        return self._document.project.name.strip() or "Untitled"

    def confirm_discard(self, action: str = "continuing") -> bool:
        """True when the current project may be replaced (saved, discarded or clean); the
        question names the ``action`` about to happen."""
        if not self._document.dirty:
            return True
        answer = error_dialog.ask_save_changes(self._window, self.display_name(), action)
        if answer == "save":
            return self.save()
        return answer == "discard"

    def new_blank(self) -> bool:
        """Replace the project with :func:`blank_project` (after asking about unsaved work)."""
        if not self.confirm_discard("starting a new project"):
            return False
        self._document.replace(blank_project(), None)
        return True

    def new_from_data(self) -> bool:
        """Make a project from a data file with the New project wizard and open it, unsaved."""
        if not self.confirm_discard("starting a new project"):
            return False
        wizard = NewProjectWizard(self._window)
        accepted = wizard.exec() == QDialog.DialogCode.Accepted
        project = wizard.project
        wizard.deleteLater()
        if not accepted or project is None:
            return False
        self._document.replace(project, None)
        return True

    def new_from_example(self, name: str) -> bool:
        if not self.confirm_discard("opening the example"):
            return False
        try:
            # Its data sits beside the shipped file, not beside a file the user has yet to save.
            project = anchor_data_paths(load_example(name), example_path(name).parent)
        except ProjectError as exc:
            error_dialog.show_error(self._window, "Cannot open example", str(exc))
            return False
        self._document.replace(project, None)
        return True

    def open_dialog(self) -> bool:
        if not self.confirm_discard("opening another project"):
            return False
        start = str(self._document.path.parent) if self._document.path else str(Path.cwd())
        path, _ = QFileDialog.getOpenFileName(self._window, "Open project", start, FILE_FILTER)
        return self.open_path(Path(path), confirmed=True) if path else False

    def open_recent(self, path: str) -> bool:
        """Open a recent file; one that is gone is said so (before any question about
        unsaved changes) and taken off the list."""
        if not Path(path).is_file():
            error_dialog.show_error(self._window, "Cannot open project",
                                    f"{path} is no longer there (moved, renamed or deleted); "
                                    "it is taken off the recent files. The current project is "
                                    "unchanged.")
            forget_file(path)
            self.recent_changed.emit()
            return False
        return self.open_path(Path(path))

    def open_path(self, path: Path, confirmed: bool = False) -> bool:
        """Open ``path``; a broken file is reported and the current project kept."""
        if not confirmed and not self.confirm_discard("opening another project"):
            return False
        try:
            self._document.open(Path(path))
        except ProjectError as exc:
            error_dialog.show_error(self._window, "Cannot open project",
                                    f"{project_error_text(exc)}\n\n"
                                    "The current project is unchanged.")
            return False
        remember_file(Path(path))
        self.recent_changed.emit()
        return True

    def save(self) -> bool:
        if self._document.path is None:
            return self.save_as()
        if self._document.changed_on_disk():
            return self._save_over_changes()
        return self.save_to(self._document.path)

    def _save_over_changes(self) -> bool:
        """The file changed on disk since it was opened or saved here: ask before replacing
        what someone else wrote."""
        path = self._document.path
        answer = QMessageBox.question(
            self._window, "The file changed on disk",
            f"{path} was changed (or removed) by another program or person since you opened "
            "or last saved it here.\n\nReplace it with your version? Their changes would be "
            "lost. Cancel keeps both: Save As… saves yours under another name.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return self.save_to(path) if answer == QMessageBox.StandardButton.Yes else False

    def save_as(self) -> bool:
        start = str(self._document.path or Path.cwd() / _suggested_file_name(self._document))
        path, _ = QFileDialog.getSaveFileName(self._window, "Save project as", start,
                                              FILE_FILTER)
        return self.save_to(Path(path)) if path else False

    def save_to(self, path: Path) -> bool:
        """Save atomically; on failure show why and keep the unsaved changes."""
        untitled = self._document.path is None
        try:
            self._document.save(Path(path))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            error_dialog.show_error(
                self._window, "Cannot save project",
                f"{path} could not be saved: {reason}.\n\nYour changes are still open; "
                "use Save As to choose a folder you can write to.")
            return False
        remember_file(Path(path))
        self.recent_changed.emit()
        if untitled:
            self.first_saved.emit(Path(path))
        return True
