"""The app's start: the window before TensorFlow, TensorFlow off the GUI thread, the shape
table once it is loaded, and the last project reopened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mogui.core.io import save_project
from mogui.qt.app import create_window, start_document
from mogui.qt.document import ProjectDocument
from mogui.qt.file_actions import remember_file
from mogui.qt.main_window import MainWindow
from mogui.qt.settings import reopen_last_enabled
from mogui.qt.training_panel import TrainingPanel

pytestmark = pytest.mark.gui

STARTUP_APP = Path(__file__).with_name("startup_app.py")


def test_importing_the_command_line_and_the_app_loads_no_tensorflow_nor_plots():
    code = ("import sys, mogui.cli, mogui.qt.app, mogui.qt.main_window\n"
            "print(sorted(m for m in ('tensorflow', 'keras', 'pyqtgraph') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]"


def test_the_window_shows_before_tensorflow_which_loads_off_the_gui_thread(tmp_path,
                                                                           demo_project):
    path = tmp_path / "shapes.json"
    save_project(demo_project, path)
    remember_file(path)  # the settings folder of this test, which the app below reads
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, str(STARTUP_APP)], capture_output=True, text=True,
                          timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [line["event"] for line in lines] == ["window", "shapes"]
    window, shapes = lines
    # On screen, usable, and not waiting for TensorFlow: it is not even imported yet.
    assert window["visible"] and not window["tensorflow"] and not window["keras"]
    assert not window["pyqtgraph"] and not window["training_tab"]  # built right after
    assert window["status"] == "Loading TensorFlow…" and window["rows"] == 0
    assert window["title"] == "shapes.json — mogui"  # the last project, reopened
    # Then loaded by a background thread, and the table filled.
    assert shapes["tensorflow"] and shapes["loaded_by"] not in (None, "MainThread")
    assert shapes["training_tab"]
    assert shapes["rows"] == (len(demo_project.inputs) + len(demo_project.trunk)
                              + sum(1 + len(head.layers) for head in demo_project.heads))
    assert shapes["status"].startswith("Total parameters:")


def test_the_last_project_reopens(qtbot, dialogs, tmp_path, demo_project):
    assert reopen_last_enabled()  # on by default
    demo_project.name = "Last one"
    path = tmp_path / "last.json"
    save_project(demo_project, path)
    remember_file(path)
    window = create_window(reopen_last=True)
    qtbot.addWidget(window)
    assert window.document.path == path.resolve()
    assert window.document.project.name == "Last one"
    assert dialogs.errors == []
    window.editor.inspection.wait()


def test_without_the_preference_or_a_last_project_the_demo_opens(tmp_path, demo_project):
    document, problem = start_document(None, reopen_last=True)
    assert document.path is None and problem is None
    assert document.project.head_names == ["bbox", "classification"]
    path = tmp_path / "last.json"
    demo_project.name = "Last one"
    save_project(demo_project, path)
    remember_file(path)
    document, problem = start_document(None, reopen_last=False)
    assert document.path is None and problem is None
    assert document.project.name != "Last one"


@pytest.mark.parametrize(("content", "reason"), [
    (None, "does not exist"),
    ("{ not json", "is not valid JSON"),
])
def test_a_last_project_that_cannot_open_gives_the_demo_and_the_reason(
        qtbot, dialogs, tmp_path, content, reason):
    path = tmp_path / "gone.json"
    path.write_text(content or "{}", encoding="utf-8")
    remember_file(path)
    if content is None:
        path.unlink()
    window = create_window(reopen_last=True)
    qtbot.addWidget(window)
    [error] = dialogs.errors
    assert error.startswith("Cannot open the last project: ")
    assert reason in error and str(path.resolve()) in error
    assert error.endswith("The demo project was opened instead.")
    assert window.document.path is None
    assert window.document.project.head_names == ["bbox", "classification"]
    window.editor.inspection.wait()


def test_the_reopen_preference_is_a_remembered_menu_option(window):
    action = window.action_reopen_last
    assert action.isCheckable() and action.isChecked()
    action.setChecked(False)
    assert not reopen_last_enabled()
    action.setChecked(True)
    assert reopen_last_enabled()


def test_a_deferred_training_tab_is_built_when_asked_or_first_shown(qtbot, dialogs,
                                                                    demo_project):
    window = MainWindow(ProjectDocument(demo_project), defer_training_tab=True)
    qtbot.addWidget(window)
    window.show()
    assert window.training_panel is None
    assert [window.tabs.tabText(i) for i in range(4)] == ["Model", "Losses", "Training", "Runs"]
    window.tabs.setCurrentIndex(2)  # the user opens it before the app got to it
    panel = window.training_panel
    assert isinstance(panel, TrainingPanel)
    assert window.tabs.currentWidget() is panel and window.tabs.tabText(2) == "Training"
    assert window.build_training_tab() is panel  # once
    panel.running_changed.emit(True)  # wired to the window as a panel built at once is
    assert window.editor.locked
    panel.running_changed.emit(False)
    window.editor.inspection.wait()


def test_a_window_closed_before_its_training_tab_was_built_closes(qtbot, dialogs,
                                                                 demo_project):
    window = MainWindow(ProjectDocument(demo_project), defer_training_tab=True)
    qtbot.addWidget(window)
    window.show()
    assert window.close()
    assert window.training_panel is None


def test_a_project_given_at_start_is_a_recent_file(tmp_path, demo_project):
    from mogui.qt.file_actions import recent_files

    path = tmp_path / "given.json"
    save_project(demo_project, path)
    assert str(path.resolve()) not in recent_files()
    document, problem = start_document(str(path))
    assert problem is None and document.path == path
    assert recent_files()[0] == str(path.resolve())
