"""User code runs in a child process that can always be stopped, and whose end never takes
the caller with it. Real processes, real training, real signals."""

from __future__ import annotations

import json
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from mogui.core.errors import CustomCodeError
from mogui.core.events import EpochEnded, TrainingStarted
from mogui.core.io import save_project
from mogui.core.jobs import JobCancelled
from mogui.runner import ChildProcess, ChildProcessError, run_to_end
from mogui.runner.parent import STOP_GRACE_S, TERMINATE_GRACE_S
from mogui.runner.requests import TrainRequest
from mogui.runner.scratch import PREFIX

pytestmark = pytest.mark.slow

LOOPS = "def loss(y_true, y_pred):\n    while True:\n        pass\n"
EXITS = "import sys\n\n\ndef loss(y_true, y_pred):\n    sys.exit(7)\n"
DIES = "import os\n\n\ndef loss(y_true, y_pred):\n    os._exit(7)\n"
CRASHES = "import ctypes\n\n\ndef loss(y_true, y_pred):\n    return ctypes.string_at(0)\n"


def _with_loss(project, source: str):
    project.heads[0].loss.kind = "custom"
    project.heads[0].loss.source = source
    return project


def _train(project, out: Path) -> ChildProcess:
    child = ChildProcess()
    allowed = [h.loss.source for h in project.heads if h.is_custom]
    child.start_job("train", (TrainRequest(project, None, out, 1),), allowed)
    return child


def test_stopping_a_loss_stuck_in_a_loop_ends_the_child_within_two_seconds(demo_project,
                                                                           tmp_path):
    assert STOP_GRACE_S + 2 * TERMINATE_GRACE_S <= 2.0  # the longest stop() can take
    child = _train(_with_loss(demo_project, LOOPS), tmp_path / "run")
    messages = child.messages()
    for kind, event in messages:  # the loop starts once the first batch is traced
        if kind == "event" and isinstance(event, TrainingStarted):
            break
    assert child.stop() is True
    assert not child.process.is_alive()
    outcome = [value for kind, value in messages if kind == "outcome"]
    assert [o.kind for o in outcome] == ["cancelled"]
    child.close()


def test_a_cooperative_stop_ends_the_run_with_its_result(demo_project, tmp_path):
    demo_project.training.epochs = 50
    child = _train(demo_project, tmp_path / "run")
    events = []

    def on_event(event):
        events.append(event)
        if isinstance(event, EpochEnded):
            child.command("cancel")  # the job's own stop: after the batch in progress

    summary = run_to_end(child, on_event)
    assert summary.stopped and summary.epochs_run >= 1
    assert (tmp_path / "run" / "model.keras").is_file()
    child.process.join(60)
    assert child.process.exitcode == 0
    assert any(child.scratch.iterdir())  # TensorFlow's generated code, not the system's folder
    child.close()
    assert not child.scratch.exists()


@pytest.mark.parametrize(("source", "error", "words"), [
    (EXITS, CustomCodeError, "called sys.exit(7)"),
    (DIES, ChildProcessError, "exited with code 7"),
    (CRASHES, ChildProcessError, "SIGSEGV"),
])
def test_a_loss_that_ends_its_process_is_reported_not_obeyed(demo_project, tmp_path, source,
                                                             error, words):
    child = _train(_with_loss(demo_project, source), tmp_path / "run")
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        run_to_end(child)
    child.close()


def test_a_cancelled_child_raises_job_cancelled(demo_project, tmp_path):
    child = _train(_with_loss(demo_project, LOOPS), tmp_path / "run")
    messages = child.messages()
    next(kind for kind, event in messages if isinstance(event, TrainingStarted))
    child.stop()
    with pytest.raises(JobCancelled):
        run_to_end(child)
    child.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_stops_mogui_train_stuck_in_user_code(demo_project, tmp_path, sig):
    path = tmp_path / "loop.json"
    save_project(_with_loss(demo_project, LOOPS), path)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mogui", "train", str(path), "--trust", "--out",
         str(tmp_path / "run")], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    for line in process.stdout:  # the epoch table's header: training has started
        if line.startswith("epoch"):
            break
    process.send_signal(sig)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, err
    assert "Stopped." in err
    assert "Traceback" not in err
    # The child's scratch folder went with it.
    assert not list(Path(tempfile.gettempdir()).glob(f"{PREFIX}{process.pid}-*"))


def _start_train(demo_project, tmp_path: Path, epochs: int) -> subprocess.Popen:
    """``mogui train`` of the demo for ``epochs`` into ``tmp_path/run``, its output piped."""
    project = demo_project.model_copy(deep=True)
    project.training.epochs = epochs
    path = tmp_path / "demo.json"
    save_project(project, path)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
    return subprocess.Popen(
        [sys.executable, "-m", "mogui", "train", str(path), "--out", str(tmp_path / "run")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_run_stopped_between_batches_exits_1_with_its_complete_epochs(demo_project,
                                                                        tmp_path):
    process = _start_train(demo_project, tmp_path, epochs=500)
    for line in process.stdout:  # the first epoch's row: one epoch is complete
        if line.split()[:1] == ["1"]:
            break
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    assert "Stopped after" in err and "complete epoch" in err and "Traceback" not in err
    record = (tmp_path / "run" / "run.json").read_text()
    assert '"status": "stopped"' in record
    assert (tmp_path / "run" / "model.keras").is_file()


def test_a_run_whose_output_is_no_longer_read_trains_to_the_end(demo_project, tmp_path):
    """'mogui train … | head -3': the reader goes away, the run finishes all the same."""
    process = _start_train(demo_project, tmp_path, epochs=3)
    assert process.stdout.readline().startswith("Run folder:")
    process.stdout.close()
    with process.stderr:
        err = process.stderr.read()
    assert process.wait(timeout=300) == 0, err
    assert "Traceback" not in err
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["status"] == "finished" and record["epochs_completed"] == 3


def test_a_child_ends_when_its_parent_goes_away(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path.cwd())!r})
        from mogui.runner import ChildProcess

        if __name__ == "__main__":
            child = ChildProcess()
            print(child.pid, flush=True)
            os._exit(0)  # no clean-up: the child must notice by itself
    """)
    (tmp_path / "orphan.py").write_text(script)
    done = subprocess.run([sys.executable, str(tmp_path / "orphan.py")], capture_output=True,
                          text=True, timeout=120)
    pid = int(done.stdout.split()[0])
    try:
        process = os.pidfd_open(pid)  # readable once that process has ended
    except ProcessLookupError:
        return  # already gone
    try:
        readable, _, _ = select.select([process], [], [], 120)
    finally:
        os.close(process)
    assert readable, "the orphaned child kept running"


def test_validate_stops_a_dry_run_that_never_returns(demo_project, tmp_path, monkeypatch,
                                                     capsys):
    from mogui import cli

    path = tmp_path / "loop.json"
    save_project(_with_loss(demo_project, LOOPS), path)
    monkeypatch.setattr(cli, "DRY_RUN_TIMEOUT_S", 15.0)
    assert cli.main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "did not finish within 15 s" in err and "Traceback" not in err


def test_an_error_this_process_cannot_rebuild_still_arrives_as_text():
    from mogui.runner.child import ErrorInfo

    # Pickled by reference to a module only the child had (user code's own classes).
    pickled = pickle.dumps(ValueError("x")).replace(b"builtins", b"no_such_m")
    info = ErrorInfo("Oops", "from the loss", "Traceback…", pickled)
    error = info.exception()
    assert isinstance(error, RuntimeError) and str(error) == "Oops: from the loss"
