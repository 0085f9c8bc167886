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


def _niceness_of_all() -> dict[int, int | None]:
    return {int(t): thread_priority.thread_niceness(int(t)) for t in os.listdir("/proc/self/task")}


def _train_and_watch(qtbot, worker, project) -> tuple[dict[int, int | None], int | None]:
    """Train one epoch; the niceness of every thread, and of the training thread, while
    batches arrive."""
    seen: dict[int, int | None] = {}
    training: list[int | None] = []

    def record(_items) -> None:  # while training: TensorFlow's threads exist by now
        if not seen:
            seen.update(_niceness_of_all())
            training.extend(thread_priority.thread_niceness(t.native_id)
                            for t in threading.enumerate() if t.name == "mogui-training")

    worker.batches.connect(record)
    with qtbot.waitSignal(worker.running_changed, timeout=60_000,
                          check_params_cb=lambda running: not running):
        worker.start(project, epochs=1)
    assert seen and len(training) == 1, "no batch arrived"
    return seen, training[0]


@linux_only
def test_opted_in_training_threads_run_below_the_gui_thread_then_get_it_back(
        qtbot, worker, demo_project):
    set_lower_priority_enabled(True)
    gui = threading.get_native_id()
    gui_niceness = thread_priority.thread_niceness(gui)
    before = _niceness_of_all()
    seen, _training = _train_and_watch(qtbot, worker, demo_project)
    assert worker.last_result is not None and not worker.last_result.stopped
    assert seen[gui] == gui_niceness
    others = {tid: nice for tid, nice in seen.items() if tid != gui and nice is not None}
    assert len(others) >= 2  # the training thread and TensorFlow's compute threads
    assert min(others.values()) >= thread_priority.BACKGROUND_NICENESS
    if not thread_priority.can_restore():
        pytest.skip("raising a priority back needs CAP_SYS_NICE")
    after = _niceness_of_all()
    assert after[gui] == gui_niceness
    assert {tid: nice for tid, nice in after.items() if tid in before} == \
        {tid: nice for tid, nice in before.items() if tid in after}
    started_meanwhile = [nice for tid, nice in after.items() if tid not in before]
    assert all(nice == gui_niceness for nice in started_meanwhile if nice is not None)


@linux_only
def test_without_the_preference_no_priority_changes(qtbot, worker, demo_project):
    gui = threading.get_native_id()
    gui_niceness = thread_priority.thread_niceness(gui)
    before = _niceness_of_all()
    seen, training = _train_and_watch(qtbot, worker, demo_project)
    assert training == gui_niceness
    assert {tid: nice for tid, nice in seen.items() if tid in before} == \
        {tid: nice for tid, nice in before.items() if tid in seen}


def test_pause_holds_and_resume_continues(qtbot, worker, demo_project):
    demo_project.training.batch_size = 4
    seen = _collect(worker)
    worker.batches.connect(lambda _items: worker.pause())
    worker.start(demo_project, epochs=1)
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


def test_stop_mid_epoch_stops_within_one_batch(qtbot, worker, demo_project):
    demo_project.training.batch_size = 4
    seen = _collect(worker)
    produced_at_stop: list[int] = []

    def stop_now(items: list) -> None:
        if not produced_at_stop:
            worker.stop()
            produced_at_stop.append(len(seen["batches"]) + worker.pending_batches)

    worker.batches.connect(stop_now)
    worker.start(demo_project, epochs=3)
    qtbot.waitUntil(lambda: not worker.is_running, timeout=60_000)
    finished: TrainingFinished = seen["finished"][0]
    assert finished.stopped and finished.epochs_run == 1
    steps = seen["batches"][0].steps_per_epoch
    assert len(seen["batches"]) <= produced_at_stop[0] + 1 < steps
    assert "stopping" in seen["states"]


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
