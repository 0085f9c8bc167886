"""Real sweeps started from the app: ``mogui sweep`` in a child process, followed live by the
Sweep view, to the end or stopped as Ctrl-C would stop it."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt

from mogui.core.sweep_results import TRIALS_FILE, read_trials
from mogui.qt.sweep_dialog import SweepDialog
from mogui.qt.sweep_process import SweepRequest
from mogui.qt.sweep_watch import read_sweep

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def saved(window, tmp_path):
    """The shrunk demo saved (so the sweep reads its file), trained for one epoch a trial."""
    path = tmp_path / "demo.json"
    window.document.save(path)
    return path


def test_a_sweep_started_from_the_menu_runs_to_the_end(qtbot, window, saved, tmp_path):
    window.action_sweep.trigger()
    dialog = window.findChild(SweepDialog)
    assert dialog is not None and dialog.isVisible()
    out = tmp_path / "sweep"
    dialog.out_edit.setText(str(out))
    dialog.trials_spin.setValue(2)
    dialog.epochs_spin.setValue(1)
    assert dialog.start_button.isEnabled(), dialog.problem_label.text()
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    view = window.sweeps.views[out]
    assert view.isVisible() and view.stop_button.isVisible()
    assert view.process.request.project == saved and view.process.request.trials == 2
    qtbot.waitUntil(lambda: view.process.exit_code is not None, timeout=300_000)
    log = view.log.toPlainText()
    assert view.process.exit_code == 0, log
    qtbot.waitUntil(lambda: len(view.rows()) == 2, timeout=10_000)
    assert [row[1] for row in view.rows()] == ["complete", "complete"], log
    assert view.plot.plotted_trials() == [0, 1]
    assert view.plot.plotted_front() == list(read_sweep(out).front)
    assert not view.stop_button.isEnabled()
    view.select_trial(1)
    dialog = view.open_run()
    assert dialog is not None
    assert dialog.run.folder == read_sweep(out).run_folder(1)
    assert dialog.run.folder.is_relative_to(out) and dialog.info.has_model
    assert dialog.history  # the trial's own history.csv
    dialog.close()


def test_stop_ends_a_running_sweep_cleanly(qtbot, window, saved, tmp_path):
    out = tmp_path / "stopped"
    manager = window.open_sweeps()
    for dialog in window.findChildren(SweepDialog):
        dialog.reject()
    view = manager.start(SweepRequest(project=saved, out=out, trials=40, epochs=1))
    qtbot.waitUntil(lambda: any(row[1] == "complete" for row in view.rows())
                    or view.process.exit_code is not None, timeout=300_000)
    assert view.process.exit_code is None, view.log.toPlainText()
    pid = view.process.pid
    qtbot.mouseClick(view.stop_button, Qt.MouseButton.LeftButton)
    assert not view.stop_button.isEnabled()
    qtbot.waitUntil(lambda: view.process.exit_code is not None, timeout=60_000)
    assert view.process.stopping and view.process.exit_code not in (0, 2)
    assert "stopped" in view.detail.text()
    # No process of the sweep's group is left (an exited worker is reaped once its parent
    # has gone, hence the wait).
    qtbot.waitUntil(lambda: not _group_alive(pid), timeout=20_000)
    trials = read_trials(out / TRIALS_FILE)  # whole and readable
    assert 1 <= len([t for t in trials if t.state == "COMPLETE"]) < 40
    assert not manager.running
