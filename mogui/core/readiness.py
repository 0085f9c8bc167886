"""Whether a project can start training, decided in one place: the app's status bar shows
the answer and Start obeys it, so the two never disagree."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mogui.core.data_paths import missing_data
from mogui.core.project import CsvData, ImageFolderData, Project
from mogui.core.project_code import CodeItem, project_code
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


def code_syntax_problem(project: Project) -> str | None:
    """The first piece of the project's code that is not valid Python (read, never run)."""
    for item in project_code(project):
        try:
            ast.parse(item.source)
        except SyntaxError as exc:
            return (f"the {item.label} (line {exc.lineno}) is not valid Python: {exc.msg}; "
                    "correct it on the Losses tab")
    return None


def mapping_problem(project: Project) -> str | None:
    """A table's input or a head training needs with no column to read it from."""
    data = project.data
    if not isinstance(data, CsvData | ImageFolderData):
        return None
    mapped = {m.name for m in data.targets}
    trained = {h.name for h in project.loss_heads()}
    unmapped = [h.name for h in project.heads if h.name not in mapped
                and (h.name in trained or h.loss.metrics)]
    if unmapped:
        return (f"head '{unmapped[0]}' has no target column to learn from; map one in Edit ▸ "
                "Data… (or turn its loss off on the Losses tab)")
    if isinstance(data, CsvData):
        fed = {m.name for m in data.inputs}
        if missing := [name for name in project.input_names if name not in fed]:
            return (f"input '{missing[0]}' has no columns to read; map them in Edit ▸ Data… "
                    "(or remove the input)")
    return None


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
    for problem in (code_syntax_problem(project), mapping_problem(project),
                    missing_data(project, folder)):
        if problem is not None:
            message = CANNOT_TRAIN + problem
            return Blocker(message, message)
    if build_error:
        message = f"{CANNOT_TRAIN}the model cannot be built: {build_error}"
        return Blocker(message, message)
    return None
