"""The open project as a Qt object: current state, undo stack, file path, dirty flag, and
which of its code the user has trusted.

Views never own project state: they read ``document.project`` and call :meth:`edit`, which
records an undoable snapshot; every change (edit, undo, redo, open) emits ``changed``. Each
opened or new project gets a new :attr:`identity`, which runs remember. Code the user types
in the app is trusted as typed; code that arrives with a file is not, until
:meth:`trust_code` (see docs/security.md).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from mogui.core.data_paths import rebase_data_paths
from mogui.core.io import load_project, save_project
from mogui.core.project import Project
from mogui.core.trust import CodeItem, TrustStore, TrustStoreError, project_code, untrusted_code
from mogui.core.validation import (
    Problem,
    check_project,
    field_problems,
    problems_from_validation_error,
)


def _problems_of(project: Project) -> list[Problem]:
    """Field checks (as on loading the saved file) plus cross-field checks."""
    problems: list[Problem] = []
    try:
        Project.model_validate(project.model_dump(mode="json", warnings=False))
    except ValidationError as exc:
        problems = problems_from_validation_error(exc)
    seen = set(problems)
    problems += [p for p in check_project(project.model_copy(deep=True)) if p not in seen]
    return problems


class _SnapshotCommand(QUndoCommand):
    """Undo/redo by swapping whole project snapshots (projects are small)."""

    def __init__(self, document: ProjectDocument, before: Project, after: Project,
                 text: str) -> None:
        super().__init__(text)
        self._document = document
        self._before = before
        self._after = after

    def redo(self) -> None:
        self._document._set(self._after.model_copy(deep=True))

    def undo(self) -> None:
        self._document._set(self._before.model_copy(deep=True))

    def rebase(self, change: Callable[[Project], Project]) -> None:
        """Apply ``change`` to both snapshots (data paths after a save elsewhere)."""
        self._before, self._after = change(self._before), change(self._after)


class ProjectDocument(QObject):
    """Holds the project being edited. Emits ``changed`` after every change."""

    changed = Signal()
    path_changed = Signal()
    trust_changed = Signal()

    def __init__(self, project: Project, path: Path | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._project = project
        self._path = path
        self._disk = disk_stamp(path)  # the file as opened: a save checks it is still so
        self._problems: list[Problem] = _problems_of(project)
        self.identity = uuid.uuid4().hex
        self._untrusted = untrusted_code(project)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self.path_changed)

    # -- state ------------------------------------------------------------------------------
    @property
    def project(self) -> Project:
        """The current project. Treat as read-only: change it through :meth:`edit`."""
        return self._project

    @property
    def problems(self) -> list[Problem]:
        """Validation problems of the current project (empty when it is valid)."""
        return self._problems

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def untrusted_code(self) -> list[CodeItem]:
        """The project's code that would run and that this user has not trusted."""
        return self._untrusted

    def trust_code(self) -> None:
        """Record the project's code as trusted (the user read it and said so)."""
        items = self._untrusted
        if items:
            TrustStore.load().trust(items, self._path)
        self._refresh_trust()

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    # -- editing ----------------------------------------------------------------------------
    def edit(self, text: str, mutate: Callable[[Project], None]) -> None:
        """Apply ``mutate`` to a copy of the project and push it as one undoable step."""
        after = self._project.model_copy(deep=True)
        mutate(after)
        self._push(text, after)

    def edit_field(self, text: str, field: str, mutate: Callable[[Project], None]
                   ) -> list[Problem]:
        """Like :meth:`edit` for an edit of one field (``heads[0].units``…), which is refused
        when it leaves a problem at that field (:func:`field_problems`): returns those
        problems, and the project keeps its value. Returns ``[]`` when the edit is made."""
        after = self._project.model_copy(deep=True)
        mutate(after)
        refused = field_problems(after, field)
        if not refused:
            self._push(text, after)
        return refused

    def _push(self, text: str, after: Project) -> None:
        before = self._project.model_copy(deep=True)
        if after == before:
            return
        self._trust_typed(before, after)
        self.undo_stack.push(_SnapshotCommand(self, before, after, text))

    def _trust_typed(self, before: Project, after: Project) -> None:
        """Code an edit brings in was typed (or chosen) by the user here: trusted as typed."""
        old = {item.sha256 for item in project_code(before, every_mode=True)}
        typed = [item for item in project_code(after, every_mode=True) if item.sha256 not in old]
        if typed:
            try:
                TrustStore.load().trust(typed, self._path)
            except TrustStoreError:
                pass  # not recorded: the code stays untrusted and the banner says so

    def replace(self, project: Project, path: Path | None) -> None:
        """Swap in another project (after Open/New); clears undo history."""
        self.undo_stack.clear()
        self._path = path
        self._disk = disk_stamp(path)
        self.identity = uuid.uuid4().hex
        self._set(project)
        self.undo_stack.setClean()
        self.path_changed.emit()

    def restore(self, project: Project, path: Path | None, saved: Project | None) -> None:
        """Open recovered unsaved changes to ``path``: with ``saved`` (that file as on disk)
        as the clean state and one undoable step to ``project``; without it, dirty from the
        start. Trusts nothing: the code is judged as for any opened file."""
        self.replace(saved if saved is not None else project, path)
        if saved is None:
            self.undo_stack.resetClean()
        elif saved != project:
            self.undo_stack.push(_SnapshotCommand(self, saved, project,
                                                  "Restore unsaved changes"))

    def _set(self, project: Project) -> None:
        self._project = project
        self._problems = _problems_of(project)
        self._refresh_trust(emit=False)
        self.changed.emit()

    def _refresh_trust(self, emit: bool = True) -> None:
        before = [item.sha256 for item in self._untrusted]
        self._untrusted = untrusted_code(self._project)
        if emit or before != [item.sha256 for item in self._untrusted]:
            self.trust_changed.emit()

    # -- files ------------------------------------------------------------------------------
    def open(self, path: Path) -> None:
        """Load ``path``; raises :class:`mogui.core.validation.ProjectError` unchanged."""
        self.replace(load_project(path, strict=False), Path(path))

    def save(self, path: Path | None = None) -> None:
        """Save atomically to ``path`` (or the current path) and mark the document clean."""
        target = Path(path) if path is not None else self._path
        if target is None:
            raise ValueError("no file name: use Save As")
        old = self._path.parent if self._path is not None else None
        project = rebase_data_paths(self._project, old, target.parent)
        save_project(project, target)
        self._path = target
        self._disk = disk_stamp(target)
        if project != self._project:  # data paths as saved, in every undo step too
            self._rebase_history(old, target.parent)
            self._set(project)
        self.undo_stack.setClean()
        self.path_changed.emit()

    def changed_on_disk(self) -> bool:
        """True when the project's file is no longer as this document opened or last saved
        it (another program or person changed, replaced or removed it)."""
        return self._path is not None and disk_stamp(self._path) != self._disk

    def _rebase_history(self, old: Path | None, new: Path) -> None:
        """Keep the data paths of undo steps right for a file saved in another folder."""
        for index in range(self.undo_stack.count()):
            command = self.undo_stack.command(index)
            if isinstance(command, _SnapshotCommand):
                command.rebase(lambda project: rebase_data_paths(project, old, new))


def disk_stamp(path: Path | None) -> str | None:
    """What a file holds, as a SHA-256 (``None``: no file, or it cannot be read)."""
    if path is None:
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
