"""TrainingWorker: real training in a background job, coalesced batches, pause/stop, failures,
and thread priorities lowered only when the user opted in (restored after the run)."""

from __future__ import annotations

import logging
import os
import threading

import pytest

from mogui.core.events import BatchEnded, TrainingFailed, TrainingFinished
from mogui.qt import thread_priority
from mogui.qt.settings import set_lower_priority_enabled
from mogui.qt.training_worker import TrainingWorker

pytestmark = pytest.mark.gui


@pytest.fixture
def worker(qtbot):
    w = TrainingWorker()
    yield w
    w.shutdown()


def _collect(worker: TrainingWorker) -> dict[str, list]:
    seen: dict[str, list] = {"batches": [], "ticks": [], "epochs": [], "states": [],
                             "failed": [], "finished": []}
    worker.batches.connect(lambda items: (seen["ticks"].append(len(items)),
                                          seen["batches"].extend(items)))
    worker.epoch_ended.connect(seen["epochs"].append)
    worker.state_changed.connect(seen["states"].append)
    worker.failed.connect(seen["failed"].append)
    worker.finished.connect(seen["finished"].append)
    return seen


def test_trains_and_delivers_every_batch_coalesced(qtbot, worker, demo_project):
    demo_project.training.batch_size = 4
    seen = _collect(worker)
    starts: list = []
    worker.started.connect(starts.append)
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        worker.start(demo_project, epochs=1)
    started = starts[0]
    qtbot.waitUntil(lambda: not worker.is_running, timeout=10_000)
    assert started.heads == ("bbox", "classification")
    assert [b.batch for b in seen["batches"]] == list(range(started.steps_per_epoch))
    assert all(isinstance(b, BatchEnded) for b in seen["batches"])
    assert len(seen["ticks"]) <= len(seen["batches"])
    assert len(seen["epochs"]) == 1 and "val_bbox_loss" in seen["epochs"][0].logs
    finished: TrainingFinished = seen["finished"][0]
    assert not finished.stopped and finished.epochs_run == 1
    assert seen["failed"] == []


linux_only = pytest.mark.skipif(not thread_priority.supported(),
                                reason="per-thread priority is Linux-only")


def _niceness_of(pid: int | str = "self") -> dict[int, int | None]:
    """The niceness of every thread of a process."""
    return {int(tid): thread_priority.thread_niceness(int(tid))
            for tid in os.listdir(f"/proc/{pid}/task")}


def _train_and_watch(qtbot, worker, project) -> tuple[dict[int, int | None], dict]:
    """Train one epoch; the niceness of the child's threads and of the app's, while batches
    arrive."""
    child: dict[int, int | None] = {}
    app: dict[int, int | None] = {}

    def record(_items) -> None:  # while training: TensorFlow's threads exist by now
        if not child and worker.child_pid is not None:
            child.update(_niceness_of(worker.child_pid))
            app.update(_niceness_of())

    worker.batches.connect(record)
    with qtbot.waitSignal(worker.running_changed, timeout=60_000,
                          check_params_cb=lambda running: not running):
        worker.start(project, epochs=1)
    assert child, "no batch arrived"
    return child, app


@linux_only
def test_opted_in_the_training_process_runs_below_the_app(qtbot, worker, demo_project):
    set_lower_priority_enabled(True)
    before = _niceness_of()
    child, app = _train_and_watch(qtbot, worker, demo_project)
    assert worker.last_result is not None and not worker.last_result.stopped
    assert len(child) >= 2  # the training thread and TensorFlow's compute threads
    base = thread_priority.thread_niceness(threading.get_native_id())
    assert all(nice is not None and nice >= base + thread_priority.BACKGROUND_NICENESS
               for nice in child.values() if nice is not None)
    assert {tid: nice for tid, nice in app.items() if tid in before} == \
        {tid: nice for tid, nice in before.items() if tid in app}  # the app is left alone


@linux_only
def test_without_the_preference_no_priority_changes(qtbot, worker, demo_project):
    base = thread_priority.thread_niceness(threading.get_native_id())
    before = _niceness_of()
    child, app = _train_and_watch(qtbot, worker, demo_project)
    assert set(child.values()) <= {base, None}
    assert {tid: nice for tid, nice in app.items() if tid in before} == \
        {tid: nice for tid, nice in before.items() if tid in app}


def test_pause_holds_and_resume_continues(qtbot, worker, demo_project):
    demo_project.training.batch_size = 4
    seen = _collect(worker)
    worker.batches.connect(lambda _items: worker.pause())
    worker.start(demo_project, epochs=5)  # a later batch to pause at, however fast
    qtbot.waitUntil(lambda: "paused" in seen["states"], timeout=60_000)
    assert worker.paused
    count = len(seen["batches"]) + worker.pending_batches
    qtbot.wait(400)
    assert len(seen["batches"]) + worker.pending_batches == count
    worker.batches.disconnect()
    worker.batches.connect(lambda items: seen["batches"].extend(items))
    worker.resume()
    qtbot.waitUntil(lambda: not worker.is_running, timeout=60_000)
    assert seen["states"][-1] == "running"
    assert seen["finished"] and not seen["finished"][0].stopped


def test_stop_while_paused_ends_the_run_at_that_batch(qtbot, worker, demo_project):
    demo_project.training.batch_size = 4
    seen = _collect(worker)
    worker.batches.connect(lambda _items: worker.pause())
    worker.start(demo_project, epochs=5)
    qtbot.waitUntil(lambda: "paused" in seen["states"], timeout=60_000)
    worker.flush_batches()
    held_at = len(seen["batches"])  # the run waits after this batch
    worker.stop()
    qtbot.waitUntil(lambda: not worker.is_running, timeout=60_000)
    finished: TrainingFinished = seen["finished"][0]
    assert finished.stopped and not finished.forced and finished.epochs_run < 5
    assert len(seen["batches"]) == held_at  # no batch after the stop
    assert "stopping" in seen["states"]


LOOPS = "def loss(y_true, y_pred):\n    while True:\n        pass\n"


def test_stop_ends_a_run_stuck_in_a_loss_and_the_worker_runs_again(qtbot, worker,
                                                                  demo_project):
    stuck = demo_project.model_copy(deep=True)
    stuck.head("bbox").loss.kind = "custom"
    stuck.head("bbox").loss.source = LOOPS
    seen = _collect(worker)
    started: list = []
    worker.started.connect(started.append)
    worker.start(stuck, epochs=1)
    qtbot.waitUntil(lambda: bool(started), timeout=60_000)
    with qtbot.waitSignal(worker.running_changed, timeout=10_000,
                          check_params_cb=lambda running: not running):
        worker.stop()
    finished: TrainingFinished = seen["finished"][0]
    assert finished.stopped and finished.forced and finished.epochs_run == 0
    assert seen["failed"] == []
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        worker.start(demo_project, epochs=1)


@pytest.mark.parametrize(("source", "words"), [
    ("import sys\n\n\ndef loss(y_true, y_pred):\n    sys.exit(7)\n", "sys.exit(7)"),
    ("import os\n\n\ndef loss(y_true, y_pred):\n    os._exit(7)\n", "exited with code 7"),
])
def test_a_loss_that_ends_its_process_leaves_the_app_up(qtbot, worker, demo_project, source,
                                                       words):
    ending = demo_project.model_copy(deep=True)
    ending.head("bbox").loss.kind = "custom"
    ending.head("bbox").loss.source = source
    with qtbot.waitSignal(worker.failed, timeout=60_000) as blocker:
        worker.start(ending, epochs=1)
    assert words in blocker.args[0].message
    qtbot.waitUntil(lambda: not worker.is_running, timeout=10_000)


def test_failure_is_signalled_and_the_worker_can_run_again(qtbot, worker, demo_project):
    failing = demo_project.model_copy(deep=True)
    head = failing.head("bbox")
    head.loss.kind = "custom"
    head.loss.source = "def loss(y_true, y_pred):\n    raise ValueError('broken loss')\n"
    seen = _collect(worker)
    with qtbot.waitSignal(worker.failed, timeout=60_000) as blocker:
        worker.start(failing, epochs=1)
    event: TrainingFailed = blocker.args[0]
    assert "broken loss" in event.message
    assert "raise ValueError('broken loss')" in event.details  # the user's own lines only
    assert "site-packages" not in event.details
    qtbot.waitUntil(lambda: not worker.is_running, timeout=10_000)
    assert seen["finished"] == []
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        worker.start(demo_project, epochs=1)


def test_unconnected_failure_is_logged_not_lost(qtbot, worker, demo_project, caplog):
    demo_project.data.image_size = 48  # does not match the 32x32 input
    with caplog.at_level(logging.ERROR, logger="mogui.qt.training_worker"):
        worker.start(demo_project, epochs=1)
        qtbot.waitUntil(lambda: not worker.is_running, timeout=60_000)
    assert worker.last_failure is not None
    assert worker.last_failure.message in caplog.text


def test_failure_details_show_a_traceback_only_for_unexpected_errors():
    from mogui.core.errors import CustomCodeError, DataError
    from mogui.qt.training_worker import failure_from_exception

    plain = failure_from_exception(DataError("The file has no column 'x'."))
    assert plain.message == "The file has no column 'x'." and plain.details == ""
    custom = failure_from_exception(CustomCodeError("boom", "bbox loss", 2,
                                                    details='  line 2, in loss\n'))
    assert custom.details == "  line 2, in loss\n"
    try:
        raise KeyError("surprise")
    except KeyError as exc:
        unexpected = failure_from_exception(exc)
    assert "unexpected error: KeyError" in unexpected.message
    assert unexpected.details.startswith("Traceback")
