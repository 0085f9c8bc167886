"""The real app, started as ``mogui`` starts it, run as a script by tests/qt/test_startup.py.

``python tests/qt/startup_app.py [PROJECT]`` runs :func:`mogui.qt.app.run_gui` with
``MOGUI_STARTUP_TIMING=quit`` (the app closes once the shape table is filled) and prints, at
each of the app's timing markers, one JSON line of what the app held then: whether TensorFlow
(and the plotting library) was imported, whether the Training tab was built, the shape table's
status and row count, the thread that loaded TensorFlow and the window's title.
"""

from __future__ import annotations

import json
import os
import sys

from PySide6.QtWidgets import QApplication

from mogui.qt import app, engine_loader, startup_timing
from mogui.qt.main_window import MainWindow


def report(event: str) -> None:
    [window] = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    inspector = window.editor.inspector
    print(json.dumps({
        "event": event,
        "tensorflow": "tensorflow" in sys.modules,
        "keras": "keras" in sys.modules,
        "pyqtgraph": "pyqtgraph" in sys.modules,
        "training_tab": window.training_panel is not None,
        "visible": window.isVisible(),
        "status": inspector.status.text(),
        "rows": inspector.table.rowCount(),
        "loaded_by": engine_loader.load_info["thread"],
        "title": window.windowTitle(),
    }), flush=True)


if __name__ == "__main__":
    os.environ["MOGUI_STARTUP_TIMING"] = "quit"
    startup_timing.mark = report
    app.mark = report
    sys.exit(app.run_gui(sys.argv[:1], sys.argv[1] if len(sys.argv) > 1 else None))
