"""Which user loss code made a compiled training step fail, and at which line.

An error inside a compiled step (TensorFlow's "Graph execution error") is raised outside the
user's Python, so it names no line, and its node may even be a gradient of another layer. The
loss code is run once more, eagerly, on the first batch (the dry run): a failure there is the
user's, with their line. Otherwise the failing node's name may still say whose loss it was.
"""

from __future__ import annotations

from typing import Any

from mogui.core.errors import CustomCodeError
from mogui.core.project import Project
from mogui.engine.losses.code_errors import user_code_failure
from mogui.engine.losses.dry_run import dry_run

#: Errors of a compiled step that user code can cause (not out-of-memory and the like).
_STEP_ERRORS = ("InvalidArgumentError",)


def training_failure(project: Project, data: Any, exc: BaseException
                     ) -> CustomCodeError | None:
    """The user's loss code that ``exc``, raised by a training step, came from; ``None`` when
    it is not the user's (or the project runs no code of theirs)."""
    if type(exc).__name__ not in _STEP_ERRORS or not _runs_user_code(project):
        return None
    try:
        dry_run(project, data)
    except CustomCodeError as found:
        return found
    except Exception:  # noqa: BLE001, S110 - not the user's: the step's own error is reported
        pass
    return user_code_failure(project, exc)


def _runs_user_code(project: Project) -> bool:
    return project.loss_mode == "joint" or any(h.is_custom for h in project.loss_heads())
