"""The one place mogui's UI preferences (window geometry, recent files, options) are stored."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

#: "Lower background threads' priority while training" (off unless the user turns it on).
LOWER_PRIORITY_KEY = "training/lowerBackgroundPriority"


def settings() -> QSettings:
    """mogui's QSettings: an INI file in ``$MOGUI_SETTINGS_DIR`` when set, else the user default."""
    folder = os.environ.get("MOGUI_SETTINGS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / "mogui.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "mogui", "mogui")


def lower_priority_enabled() -> bool:
    """True when the user chose to lower background threads' OS priority while they work."""
    return bool(settings().value(LOWER_PRIORITY_KEY, False, type=bool))


def set_lower_priority_enabled(on: bool) -> None:
    """Store the preference read by :func:`lower_priority_enabled` (used from the next job)."""
    stored = settings()
    stored.setValue(LOWER_PRIORITY_KEY, bool(on))
    stored.sync()


#: "Reopen the last project on launch" (on unless the user turns it off).
REOPEN_LAST_KEY = "startup/reopenLastProject"


def reopen_last_enabled() -> bool:
    """True when the app starts on the project opened or saved last (the default)."""
    return bool(settings().value(REOPEN_LAST_KEY, True, type=bool))


def set_reopen_last_enabled(on: bool) -> None:
    """Store the preference read by :func:`reopen_last_enabled` (used at the next launch)."""
    stored = settings()
    stored.setValue(REOPEN_LAST_KEY, bool(on))
    stored.sync()


#: "Log runs to MLflow" and "Write TensorBoard logs" (both off unless the user turns them on).
MLFLOW_KEY = "tracking/mlflow"
TENSORBOARD_KEY = "tracking/tensorboard"


def tracking_enabled(key: str) -> bool:
    """Whether the run-tracking preference ``key`` (:data:`MLFLOW_KEY`,
    :data:`TENSORBOARD_KEY`) is on; read when a run starts."""
    return bool(settings().value(key, False, type=bool))


def set_tracking_enabled(key: str, on: bool) -> None:
    """Store a run-tracking preference read by :func:`tracking_enabled` (from the next run)."""
    stored = settings()
    stored.setValue(key, bool(on))
    stored.sync()
