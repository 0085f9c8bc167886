"""Autosave of unsaved changes, and the offer to restore them after a crash.

:class:`Autosaver` writes the document's recovery file (``mogui.core.recovery``) shortly
after the last edit while there are unsaved changes, and removes it when the document is
saved, becomes clean again (undo back to the saved state), is replaced or the window quits
cleanly. :func:`offer_recovery` asks, at start, about files that a process that is no longer
running left behind.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from mogui.core.errors import MoguiError
from mogui.core.io import load_project
from mogui.core.recovery import (
    Recovery,
    orphaned_recoveries,
    remove_recovery,
    write_recovery,
)
from mogui.core.validation import ProjectError
from mogui.qt import error_dialog
from mogui.qt.document import ProjectDocument

log = logging.getLogger(__name__)

#: Milliseconds after the last edit before the recovery file is written.
DELAY_MS = 2000


class Autosaver(QObject):
    """Keeps the recovery file of ``document`` up to date; ``written`` after each write."""

    written = Signal(object)  # the file's Path

    def __init__(self, document: ProjectDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._file: Path | None = None
        self._failing = False
        self._timer = QTimer(self, singleShot=True, interval=DELAY_MS)
        self._timer.timeout.connect(self.write_now)
        self._signals = (document.changed, document.path_changed,
                         document.undo_stack.indexChanged, document.undo_stack.cleanChanged)
        for signal in self._signals:
            signal.connect(self._refresh)

    @property
    def file(self) -> Path | None:
        """The recovery file written for the document, while there is one."""
        return self._file

    def _refresh(self, *_args: object) -> None:
        """After any change: (re)start the countdown while dirty, else remove the file."""
        if self._document.dirty:
            self._timer.start(DELAY_MS)
        else:
            self._timer.stop()
            self.remove()

    def write_now(self) -> None:
        """Write the recovery file now (nothing while the document is clean)."""
        self._timer.stop()
        document = self._document
        if not document.dirty:
            self.remove()
            return
        try:
            file = write_recovery(document.project, document.path, document.identity)
        except OSError as exc:
            if not self._failing:  # once per failing streak, not every two seconds
                log.warning("Cannot write the recovery file (unsaved changes are not kept "
                            "if mogui quits unexpectedly): %s", exc)
            self._failing = True
            return
        self._failing = False
        if self._file is not None and self._file != file:  # another document since
            self.remove()
        self._file = file
        self.written.emit(file)

    def remove(self) -> None:
        """Delete the recovery file (saved, discarded, clean again or quitting)."""
        file, self._file = self._file, None
        try:
            remove_recovery(file)
        except OSError as exc:
            log.warning("Cannot remove the recovery file %s: %s", file, exc)

    def shutdown(self) -> None:
        """A clean quit: stop watching the document and remove its recovery file."""
        self._timer.stop()
        for signal in self._signals:
            try:
                signal.disconnect(self._refresh)
            except (RuntimeError, TypeError):
                pass  # already gone with its object
        self.remove()


# -- restoring after a crash ----------------------------------------------------------------

def restore_question(recovery: Recovery) -> str:
    """The question asked about one recovery file."""
    when = recovery.saved_at.astimezone().strftime("%Y-%m-%d %H:%M")
    return (f"mogui quit unexpectedly while {recovery.name()} had unsaved changes.\n\n"
            f"Restore the unsaved changes to {recovery.name()} from {when}?")


def restore_box(parent: QWidget | None, text: str) -> QMessageBox:
    """The question as a message box: Restore, Discard, Later (keep them for next time)."""
    box = QMessageBox(QMessageBox.Icon.Question, "Restore unsaved changes", text,
                      parent=parent)
    box.setObjectName("restoreRecoveryBox")
    restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
    restore.setObjectName("restoreButton")
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    discard.setObjectName("discardRecoveryButton")
    later = box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
    later.setObjectName("laterButton")
    later.setToolTip("Keep the changes and ask again at the next start")
    box.setDefaultButton(restore)
    box.setEscapeButton(later)
    return box


def box_answer(box: QMessageBox) -> str:
    """``"restore"``, ``"discard"`` or ``"later"`` after the box was answered."""
    clicked = box.clickedButton()
    name = clicked.objectName() if clicked is not None else ""
    return {"restoreButton": "restore", "discardRecoveryButton": "discard"}.get(name, "later")


def ask_restore(parent: QWidget | None, text: str) -> str:
    """Ask the question (modal); tests replace this function to answer it."""
    box = restore_box(parent, text)
    box.exec()
    return box_answer(box)


def restore_into(document: ProjectDocument, recovery: Recovery) -> None:
    """Open the recovered project in ``document``: unsaved, with its original path, so Save
    writes where it came from and undo goes back to that file as saved."""
    project = recovery.project()
    saved = None
    if recovery.path is not None:
        try:
            saved = load_project(recovery.path, strict=False)
        except ProjectError:
            saved = None  # moved, deleted or unreadable: all of it counts as unsaved
    document.restore(project, recovery.path, saved)


def offer_recovery(window: QWidget, document: ProjectDocument,
                   autosaver: Autosaver | None = None) -> bool:
    """Offer to restore what crashed mogui processes left, newest first, until one is
    restored or the user says Later. True when a project was restored."""
    for recovery in orphaned_recoveries():
        answer = ask_restore(window, restore_question(recovery))
        if answer == "later":
            return False
        if answer == "discard":
            _remove(recovery.file)
            continue
        try:
            restore_into(document, recovery)
        except (MoguiError, ProjectError) as exc:
            error_dialog.show_error(window, "Cannot restore unsaved changes",
                                    f"{exc}\n\nThe recovery file is kept: {recovery.file}")
            return False
        if autosaver is not None:
            autosaver.write_now()  # this process keeps them before the old file goes
        _remove(recovery.file)
        return True
    return False


def _remove(file: Path) -> None:
    try:
        remove_recovery(file)
    except OSError as exc:
        log.warning("Cannot remove the recovery file %s: %s", file, exc)
