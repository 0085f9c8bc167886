"""The check Start runs before training, for the open document; the status bar shows it."""

from __future__ import annotations

from mogui.core.readiness import Blocker, training_blocker
from mogui.qt.document import ProjectDocument
from mogui.qt.inspection import LiveInspection

READY = "Ready"


def start_blocker(document: ProjectDocument,
                  inspection: LiveInspection | None = None) -> Blocker | None:
    """Why Start would refuse to train ``document``'s project now; ``None`` when it would not.

    With ``inspection``, a model that its latest shape inspection could not build also
    blocks (an inspection still catching up with an edit is not used).
    """
    build_error = None
    if inspection is not None and not inspection.pending:
        error = getattr(inspection.inspection, "error", None)
        build_error = str(error) if error is not None else None
    path = document.path
    return training_blocker(document.project, document.problems, document.untrusted_code,
                            path.parent if path is not None else None, build_error)
