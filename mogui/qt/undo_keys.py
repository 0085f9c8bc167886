"""Ctrl+Z in a field whose own typing has nothing left to undo undoes the project's last
edit, as it does elsewhere in the window.

A focused text field (or number box) claims the Undo and Redo keys for its own typing, even
when it has none: after Enter committed an edit, Ctrl+Z there did nothing. This filter lets
those keys through to the window's Undo and Redo when the field has nothing of its own.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit


def _line_edit(obj: QObject) -> QLineEdit | None:
    if isinstance(obj, QLineEdit):
        return obj
    if isinstance(obj, QAbstractSpinBox):
        return obj.findChild(QLineEdit)
    return None


class FieldUndoKeys(QObject):
    """An event filter for the window's fields (install it on the application)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() != QEvent.Type.ShortcutOverride:
            return False
        edit = _line_edit(obj)
        if edit is None or not isinstance(event, QKeyEvent):
            return False
        if event.matches(QKeySequence.StandardKey.Undo):
            own = edit.isUndoAvailable()
        elif event.matches(QKeySequence.StandardKey.Redo):
            own = edit.isRedoAvailable()
        else:
            return False
        return not own  # True: the field does not claim the key, the window's action runs


__all__ = ["FieldUndoKeys"]
