"""Whether a project can start training, decided in one place: the app's status bar shows
the answer and Start obeys it, so the two never disagree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mogui.core.data_paths import missing_data
from mogui.core.project import Project
from mogui.core.project_code import CodeItem
from mogui.core.validation import Problem, describe_problem

CANNOT_TRAIN = "Cannot train: "


@dataclass(frozen=True)
class Blocker:
    """Why training cannot start: ``message`` (one line, ``Cannot train: …``) and every
    reason in full, one per line, in ``details``."""

    message: str
    details: str


def untrusted_message(items: Sequence[CodeItem]) -> str:
    """Why a project with untrusted code does not train, and what to do."""
    names = ", ".join(item.describe() for item in items)
    return (f"{CANNOT_TRAIN}this project holds code you have not trusted ({names}), so nothing "
            "runs it. Read it on the Losses tab, then press “Trust and enable” in the banner "
            "above the tabs.")


def training_blocker(project: Project, problems: Sequence[Problem],
                     untrusted: Sequence[CodeItem], folder: Path | None,
                     build_error: str | None = None) -> Blocker | None:
    """Why ``project`` cannot train now, or ``None`` when it can.

    Checked in order: its problems (``problems``, as validation reports them), code the user
    has not trusted (``untrusted``), data files that are not there (relative paths are taken
    from ``folder``, the project file's folder) and ``build_error``, why its model cannot be
    built when that is known.
    """
    if problems:
        described = [describe_problem(p, project) for p in problems]
        more = len(described) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        return Blocker(f"{CANNOT_TRAIN}{described[0]}{suffix}", "\n".join(described))
    if untrusted:
        message = untrusted_message(untrusted)
        return Blocker(message, message)
    if (missing := missing_data(project, folder)) is not None:
        message = CANNOT_TRAIN + missing
        return Blocker(message, message)
    if build_error:
        message = f"{CANNOT_TRAIN}the model cannot be built: {build_error}"
        return Blocker(message, message)
    return None
