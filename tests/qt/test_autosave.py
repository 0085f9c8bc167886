"""Autosave and crash recovery: real windows (offscreen), real files, a real app process
killed with SIGKILL and its unsaved edit restored."""

from __future__ import annotations

import json
import os
import queue
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mogui.core.io import load_project, save_project
from mogui.core.project import NpzData
from mogui.core.recovery import read_recovery, recovery_dir, write_recovery
from mogui.qt import autosave
from mogui.qt.app import create_window
from mogui.qt.document import ProjectDocument
from mogui.qt.main_window import MainWindow

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
CRASH_APP = Path(__file__).with_name("crash_app.py")


@pytest.fixture(autouse=True)
def _quick_autosave(monkeypatch):
    monkeypatch.setattr(autosave, "DELAY_MS", 20)


@pytest.fixture
def answers(monkeypatch) -> dict:
    """Answers the restore question without a modal box; records the questions asked."""
    state: dict = {"answer": "restore", "asked": []}

    def ask(_parent, text):
        state["asked"].append(text)
        return state["answer"]

    monkeypatch.setattr(autosave, "ask_restore", ask)
    return state


@pytest.fixture
def saved(tmp_path, demo_project) -> Path:
    path = tmp_path / "project.json"
    save_project(demo_project, path)
    return path


def _window(qtbot, path: Path) -> MainWindow:
    document = ProjectDocument(load_project(path), path)
    window = MainWindow(document)
    qtbot.addWidget(window)
    return window


def _rename(window: MainWindow, name: str) -> None:
    window.document.edit("Rename project", lambda p: setattr(p, "name", name))


def _wait_written(qtbot, window: MainWindow) -> Path:
    qtbot.waitUntil(lambda: window.autosave.file is not None
                    and window.autosave.file.exists(), timeout=10_000)
    return window.autosave.file


def test_an_edit_is_written_to_a_private_recovery_file(qtbot, dialogs, window):
    assert window.autosave.file is None and not recovery_dir().exists()
    with qtbot.waitSignal(window.autosave.written, timeout=10_000):
        _rename(window, "Edited")
    file = window.autosave.file
    assert file.parent == recovery_dir()
    assert file.name == f"{os.getpid()}-{window.document.identity}.json"
    recovery = read_recovery(file)
    assert recovery.project().name == "Edited"
    assert recovery.path is None and recovery.pid == os.getpid()
    assert recovery.name() == 'the untitled project "Edited"'
    if sys.platform != "win32":
        assert stat.S_IMODE(file.stat().st_mode) == 0o600

    with qtbot.waitSignal(window.autosave.written, timeout=10_000):
        _rename(window, "Edited again")  # the same file, brought up to date
    assert window.autosave.file == file
    assert read_recovery(file).project().name == "Edited again"
    assert [p.name for p in recovery_dir().iterdir()] == [file.name]


def test_saving_removes_the_recovery_file(qtbot, dialogs, saved):
    window = _window(qtbot, saved)
    _rename(window, "Edited")
    file = _wait_written(qtbot, window)
    assert read_recovery(file).path == saved
    assert window.files.save_to(saved)
    assert not file.exists() and window.autosave.file is None
    assert load_project(saved).name == "Edited"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX links")
def test_a_refused_save_says_why_and_keeps_changes_and_recovery(qtbot, dialogs, saved,
                                                                tmp_path):
    window = _window(qtbot, saved)
    _rename(window, "Edited")
    file = _wait_written(qtbot, window)
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "gone" / "project.json")
    assert window.files.save_to(link) is False
    assert len(dialogs.errors) == 1
    assert "is a symbolic link to" in dialogs.errors[0]
    assert "which does not exist; fix or remove the link" in dialogs.errors[0]
    assert window.document.dirty and window.document.path == saved
    assert file.exists() and read_recovery(file).project().name == "Edited"


def test_undo_back_to_the_saved_state_removes_it_redo_writes_it_again(qtbot, dialogs, saved):
    window = _window(qtbot, saved)
    _rename(window, "Edited")
    file = _wait_written(qtbot, window)
    window.document.undo_stack.undo()
    assert not window.document.dirty
    assert not file.exists() and window.autosave.file is None
    window.document.undo_stack.redo()
    assert _wait_written(qtbot, window) == file


def test_a_clean_quit_removes_it_a_cancelled_one_keeps_it(qtbot, dialogs, saved):
    window = _window(qtbot, saved)
    window.show()
    _rename(window, "Edited")
    file = _wait_written(qtbot, window)
    dialogs.answer = dialogs.answer.Cancel
    assert window.close() is False
    assert file.exists()
    dialogs.answer = dialogs.answer.Discard
    assert window.close() is True
    assert not file.exists()
    assert load_project(saved).name != "Edited"  # discarded, as asked


def test_opening_another_project_removes_the_recovery_of_the_discarded_one(qtbot, dialogs,
                                                                          saved, tmp_path):
    window = _window(qtbot, saved)
    _rename(window, "Edited")
    file = _wait_written(qtbot, window)
    other = tmp_path / "other.json"
    save_project(load_project(saved), other)
    assert window.files.open_path(other)  # "Discard" answered
    assert not file.exists() and not any(recovery_dir().iterdir())
    _rename(window, "Other edited")
    new_file = _wait_written(qtbot, window)
    assert new_file != file and read_recovery(new_file).path == other


def test_files_of_running_processes_are_not_offered(qtbot, dialogs, answers, window):
    with qtbot.waitSignal(window.autosave.written, timeout=10_000):
        _rename(window, "Still open here")
    other = create_window(None)  # a second window of this running process
    qtbot.addWidget(other)
    assert answers["asked"] == []
    assert window.autosave.file.exists()


def _leave_recovery(document_project, path: Path | None, pid: int) -> Path:
    """A recovery file as process ``pid`` would have left it."""
    file = write_recovery(document_project, path, "0" * 32)
    data = json.loads(file.read_text())
    data["pid"] = pid
    dead = file.with_name(f"{pid}-{'0' * 32}.json")
    dead.write_text(json.dumps(data))
    file.unlink()
    return dead


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_discard_deletes_the_recovery_later_keeps_it(qtbot, dialogs, answers, demo_project):
    demo_project.name = "Lost work"
    file = _leave_recovery(demo_project, None, _dead_pid())

    answers["answer"] = "later"
    first = create_window(None)
    qtbot.addWidget(first)
    assert len(answers["asked"]) == 1 and 'the untitled project "Lost work"' in \
        answers["asked"][0]
    assert file.exists() and first.document.project.name != "Lost work"
    assert not first.document.dirty

    answers["answer"] = "discard"
    second = create_window(None)
    qtbot.addWidget(second)
    assert len(answers["asked"]) == 2 and not file.exists()
    assert second.document.project.name != "Lost work"


def test_an_untitled_project_is_restored_unsaved_and_untitled(qtbot, dialogs, answers,
                                                              demo_project):
    demo_project.name = "Lost work"
    file = _leave_recovery(demo_project, None, _dead_pid())
    window = create_window(None)
    qtbot.addWidget(window)
    assert "mogui quit unexpectedly" in answers["asked"][0]
    document = window.document
    assert document.project.name == "Lost work"
    assert document.dirty and document.path is None
    assert window.windowTitle().startswith("Lost work*")
    assert not file.exists()  # taken over by this process's own recovery file
    assert read_recovery(window.autosave.file).project().name == "Lost work"


def test_a_damaged_recovery_is_reported_and_kept(qtbot, dialogs, answers, demo_project):
    file = _leave_recovery(demo_project, None, _dead_pid())
    data = json.loads(file.read_text())
    data["project"]["schema_version"] = 999
    file.write_text(json.dumps(data))
    window = create_window(None)
    qtbot.addWidget(window)
    assert len(dialogs.errors) == 1 and "update mogui" in dialogs.errors[0]
    assert str(file) in dialogs.errors[0] and file.exists()
    assert not window.document.dirty


@pytest.mark.untrusted
def test_restoring_runs_no_code_and_trusts_none(qtbot, dialogs, answers, demo_project,
                                                tmp_path):
    marker = tmp_path / "ran"
    demo_project.heads[0].loss.kind = "custom"
    demo_project.heads[0].loss.source = (f"open({str(marker)!r}, 'w').close()\n\n"
                                         "def loss(y_true, y_pred):\n    return y_pred\n")
    _leave_recovery(demo_project, None, _dead_pid())
    window = create_window(None)
    qtbot.addWidget(window)
    window.show()
    assert window.document.dirty
    assert [item.describe() for item in window.document.untrusted_code] == \
        ["custom loss of head 'bbox'"]
    assert window.trust_banner.isVisible()
    assert not marker.exists()


def test_the_restore_question_has_restore_discard_and_later(qtbot):
    for name, expected in [("restoreButton", "restore"), ("discardRecoveryButton", "discard"),
                           ("laterButton", "later")]:
        box = autosave.restore_box(None, "Restore?")
        qtbot.addWidget(box)
        box.open()
        buttons = {b.objectName(): b.text() for b in box.buttons()}
        assert buttons == {"restoreButton": "Restore", "discardRecoveryButton": "Discard",
                           "laterButton": "Later"}
        next(b for b in box.buttons() if b.objectName() == name).click()
        assert autosave.box_answer(box) == expected


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_killed_apps_unsaved_edit_is_restored(qtbot, dialogs, answers, tmp_path,
                                                demo_project):
    demo_project.data = NpzData(path="data.npz")  # relative to the project file
    path = tmp_path / "project.json"
    save_project(demo_project, path)
    stderr = open(tmp_path / "child.err", "w")  # noqa: SIM115 (closed below)
    child = subprocess.Popen(
        [sys.executable, str(CRASH_APP), str(path), "Edited before the crash"],
        cwd=ROOT, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
        stdout=subprocess.PIPE, stderr=stderr, text=True)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(child.stdout, lines), daemon=True)
    reader.start()
    try:
        line = lines.get(timeout=300)
        assert line and line.startswith("RECOVERY "), \
            f"the app ended: {(tmp_path / 'child.err').read_text()[-3000:]}"
        file = Path(line.removeprefix("RECOVERY ").strip())
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        reader.join(timeout=60)  # the pipe ends with the process
        child.stdout.close()
        stderr.close()
    assert child.returncode == -signal.SIGKILL
    assert file.exists() and file.name.startswith(f"{child.pid}-")
    assert load_project(path).name != "Edited before the crash"  # never saved

    window = create_window(None)  # the next start, with the same data folder
    qtbot.addWidget(window)
    assert len(answers["asked"]) == 1
    assert "Restore the unsaved changes to project.json from" in answers["asked"][0]
    document = window.document
    assert document.project.name == "Edited before the crash"
    assert document.dirty and document.path == path
    assert document.path.parent / document.project.data.path == tmp_path / "data.npz"
    assert not file.exists()
    assert read_recovery(window.autosave.file).path == path

    document.undo_stack.undo()  # back to the file as it was saved
    assert not document.dirty and document.project == load_project(path)
    document.undo_stack.redo()
    assert window.files.save()  # Save writes where it came from
    assert load_project(path).name == "Edited before the crash"
    assert not any(recovery_dir().iterdir())
