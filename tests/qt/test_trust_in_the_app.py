"""Opening a project with code runs none of it until the user trusts it; quitting while a run
goes never aborts. Real windows (offscreen), real files, real child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from PySide6.QtWidgets import QPlainTextEdit

from mogui.core.io import load_project, save_project
from mogui.core.trust import TrustStore
from mogui.qt.document import ProjectDocument
from mogui.qt.main_window import MainWindow
from tests.qt.conftest import wait_for_shapes

pytestmark = [pytest.mark.gui, pytest.mark.untrusted]


def _marker_source(marker) -> str:
    return textwrap.dedent(f"""
        open({str(marker)!r} + ".module", "w").close()


        def loss(y_true, y_pred):
            open({str(marker)!r} + ".body", "w").close()
            return ops.mean(ops.square(y_true - y_pred), axis=-1)
    """).lstrip()


@pytest.fixture
def shared_project(tmp_path, demo_project):
    """A project from someone else: its bbox loss writes marker files when it runs."""
    marker = tmp_path / "ran"
    demo_project.heads[0].loss.kind = "custom"
    demo_project.heads[0].loss.source = _marker_source(marker)
    path = tmp_path / "shared.json"
    save_project(demo_project, path)
    return path, marker


def _ran(marker) -> list[str]:
    return sorted(p.name for p in marker.parent.glob(f"{marker.name}.*"))


def test_untrusted_code_is_shown_and_runs_nowhere_until_trusted(qtbot, dialogs,
                                                                shared_project):
    path, marker = shared_project
    window = MainWindow(ProjectDocument(load_project(path, strict=False), path))
    qtbot.addWidget(window)
    window.show()
    wait_for_shapes(qtbot, window.editor)  # the model and shapes work as usual

    banner = window.trust_banner
    assert banner.isVisible() and "custom loss of head 'bbox'" in banner.message.text()
    panel = window.loss_panel
    assert panel.head_code.editor.isReadOnly() and panel.restricted_note.isVisibleTo(panel)
    assert not panel.dry_run_button.isEnabled()
    panel.dry_run()
    window.training_panel.start()
    assert not window.training_panel.is_running
    assert "Cannot train" in window.training_panel.status_label.text()
    assert window.problems_label.text() == window.training_panel.status_label.text()
    assert _ran(marker) == []

    banner.keep_button.click()  # keep disabled: the banner goes, the restriction stays
    assert not banner.isVisible() and panel.head_code.editor.isReadOnly()

    banner.trust_button.click()
    assert window.document.untrusted_code == []
    assert TrustStore.load().is_trusted(window.document.project.heads[0].loss.source)
    assert not panel.head_code.editor.isReadOnly() and panel.dry_run_button.isEnabled()
    with qtbot.waitSignal(panel.runner.finished, timeout=120_000):
        panel.dry_run()
    view = panel.dry_run_view
    assert "Total loss" in view.total_label.text(), view.message.text()
    assert view.table.rowCount() == 2
    assert _ran(marker) == ["ran.body", "ran.module"]  # ran in the child, once trusted
    window.document.undo_stack.setClean()


def test_code_typed_in_the_app_is_trusted_as_typed(qtbot, dialogs, demo_project, tmp_path):
    document = ProjectDocument(demo_project)
    source = "def loss(y_true, y_pred):\n    return ops.mean(ops.abs(y_true - y_pred), axis=-1)\n"

    def make_custom(p):
        p.heads[0].loss.kind = "custom"
        p.heads[0].loss.source = source

    document.edit("Custom loss", make_custom)
    assert document.untrusted_code == []
    assert TrustStore.load().is_trusted(source)


def test_the_code_dialog_shows_the_code_read_only(qtbot, dialogs, shared_project):
    from mogui.qt.trust_banner import CodeDialog

    path, marker = shared_project
    document = ProjectDocument(load_project(path, strict=False), path)
    dialog = CodeDialog(document)
    qtbot.addWidget(dialog)
    view = dialog.findChild(QPlainTextEdit, "untrustedCodeView")
    assert view.isReadOnly() and "def loss(y_true, y_pred):" in view.toPlainText()
    assert document.untrusted_code[0].sha256 in view.toPlainText()
    assert _ran(marker) == []


QUIT_WHILE_TRAINING = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from mogui.core.io import load_project
    from mogui.qt import error_dialog
    from mogui.qt.document import ProjectDocument
    from mogui.qt.main_window import MainWindow

    if __name__ == "__main__":
        app = QApplication(sys.argv)
        error_dialog.confirm_stop_training = lambda parent: True  # "Stop the run and quit?"
        window = MainWindow(ProjectDocument(load_project(sys.argv[1], strict=False)))
        window.show()
        panel = window.training_panel
        panel.worker.started.connect(lambda _event: QTimer.singleShot(200, window.close))
        QTimer.singleShot(0, panel.start)
        app.exec()
        print("running after quit:", panel.is_running)
""")


def test_quitting_while_a_loss_is_stuck_exits_cleanly(tmp_path, demo_project):
    demo_project.heads[0].loss.kind = "custom"
    demo_project.heads[0].loss.source = "def loss(y_true, y_pred):\n    while True:\n        pass\n"
    demo_project.training.epochs = 50
    path = tmp_path / "stuck.json"
    save_project(demo_project, path)
    TrustStore.load().trust([demo_project.heads[0].loss.source])
    script = tmp_path / "quit.py"
    script.write_text(QUIT_WHILE_TRAINING)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.getcwd()}
    done = subprocess.run([sys.executable, str(script), str(path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "running after quit: False" in done.stdout
    for bad in ("Destroyed while thread", "Internal C++ object", "Traceback"):
        assert bad not in done.stderr


QUIT_DISCARDING = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox
    from mogui.qt.app import create_window

    if __name__ == "__main__":
        app = QApplication(sys.argv)
        QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Discard)
        window = create_window()
        window.show()
        window.document.edit("rename", lambda p: setattr(p, "name", "changed"))
        QTimer.singleShot(0, window.action_quit.trigger)
        app.exec()
        print("closed")
""")


def test_quit_discarding_changes_exits_without_errors(tmp_path):
    script = tmp_path / "quit_discard.py"
    script.write_text(QUIT_DISCARDING)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": os.getcwd()}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "closed" in done.stdout, done.stderr[-2000:]
    assert "Internal C++ object" not in done.stderr and "Traceback" not in done.stderr
