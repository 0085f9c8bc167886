"""The one place mogui's UI preferences (window geometry, recent files) are stored."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings


def settings() -> QSettings:
    """mogui's QSettings: an INI file in ``$MOGUI_SETTINGS_DIR`` when set, else the user default."""
    folder = os.environ.get("MOGUI_SETTINGS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / "mogui.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "mogui", "mogui")
