"""Message boxes for errors and the unsaved-changes question."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

Button = QMessageBox.StandardButton


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """Show a plain-language error; ``message`` is the text the user reads."""
    QMessageBox.critical(parent, title, message)


def confirm_stop_training(parent: QWidget | None) -> bool:
    """Ask before quitting while a model trains; True means stop it and quit."""
    answer = QMessageBox.question(
        parent, "Training in progress",
        "A model is still training. Stop the run and quit? The epochs completed so far are "
        "kept with the run (the Runs tab lists it).", Button.Yes | Button.Cancel, Button.Cancel)
    return answer == Button.Yes


def ask_save_changes(parent: QWidget | None, name: str, action: str = "continuing") -> str:
    """Ask what to do with unsaved changes before ``action`` (``quitting``, ``opening another
    project``…): returns ``"save"``, ``"discard"`` or ``"cancel"``."""
    answer = QMessageBox.question(
        parent, "Unsaved changes",
        f"{name} has unsaved changes. Save them before {action}?",
        Button.Save | Button.Discard | Button.Cancel, Button.Save)
    if answer == Button.Save:
        return "save"
    if answer == Button.Discard:
        return "discard"
    return "cancel"
