"""What the dialogs that run a trained model's job in a child process share (evaluation,
predictions, export from a run): the code the model file holds, and a failure in words."""

from __future__ import annotations

from pathlib import Path

from mogui.core.errors import MoguiError
from mogui.core.project_code import run_folder_code
from mogui.qt.jobs import JobError


def model_code(folder: Path) -> list[str]:
    """The code a run folder's model file holds (the child checks its trust again)."""
    try:
        return [item.source for item in run_folder_code(folder)]
    except MoguiError:
        return []  # the job itself says what is wrong with the folder


def failure_text(error: JobError, what: str) -> str:
    """A failed job in plain words: its own message for mogui's errors."""
    exc = error.exception
    if isinstance(exc, MoguiError):
        return str(exc)
    return f"The {what} failed unexpectedly: {type(exc).__name__}: {exc}"
