"""The real app, run as a script by tests/qt/test_autosave.py and then killed.

``python tests/qt/crash_app.py PROJECT NEW_NAME`` opens the window on PROJECT (settings, data
and config folders come from the environment), renames the project through the document
and prints ``RECOVERY <file>`` once the recovery file holding that edit is on disk. It then
runs until it is killed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from mogui.qt import autosave
from mogui.qt.app import create_window


def main(project_path: str, new_name: str) -> int:
    app = QApplication(sys.argv[:1])
    autosave.DELAY_MS = 20
    window = create_window(project_path)
    window.show()

    def written(file: Path) -> None:
        print(f"RECOVERY {file}", flush=True)

    window.autosave.written.connect(written)
    window.document.edit("Rename project", lambda project: setattr(project, "name", new_name))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
