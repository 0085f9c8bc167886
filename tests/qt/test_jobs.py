"""The background-job mechanism with real threads: results, errors, cancel, coalescing, join,
and OS priorities only when the user opted in."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from mogui.core.jobs import CANCEL, JobCancelled
from mogui.qt import thread_priority as tp
from mogui.qt.jobs import (
    Coalescing,
    JobError,
    JobHandle,
    Priority,
    ThreadRunner,
)
from mogui.qt.settings import set_lower_priority_enabled

linux_only = pytest.mark.skipif(not tp.supported(), reason="per-thread priority is Linux-only")


@pytest.fixture
def runner(qtbot) -> Iterator[ThreadRunner]:
    made = ThreadRunner()
    yield made
    made.cancel()
    assert made.join(10_000)


def _record(runner: ThreadRunner) -> list[str]:
    order: list[str] = []
    for name in ("started", "succeeded", "failed", "finished"):
        getattr(runner, name).connect(lambda *_args, name=name: order.append(name))
    return order


def _broken(_job: JobHandle) -> None:
    raise ValueError("boom")


def _parked() -> tuple[threading.Thread, threading.Event]:
    release = threading.Event()
    thread = threading.Thread(target=release.wait, args=(30,), daemon=True)
    thread.start()
    return thread, release


def _niceness_of_all() -> dict[int, int | None]:
    return {tid: tp.thread_niceness(tid) for tid in tp.thread_ids()}


def test_the_result_is_delivered_on_the_gui_thread(qtbot, runner):
    order = _record(runner)
    results: list[tuple[object, int]] = []
    runner.succeeded.connect(lambda value: results.append((value, threading.get_native_id())))
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        assert runner.start(lambda _job, x: (x * 2, threading.get_native_id()), 21)
        assert runner.is_running
        assert not runner.start(_broken)  # one job at a time
    ((value, job_thread), delivered_on), = results
    gui = threading.get_native_id()
    assert value == 42 and job_thread != gui and delivered_on == gui
    assert order == ["started", "succeeded", "finished"]
    assert not runner.is_running


def test_an_exception_reaches_failed_with_its_traceback(qtbot, runner):
    order = _record(runner)
    with qtbot.waitSignal(runner.failed, timeout=10_000) as blocker:
        runner.start(_broken)
    error: JobError = blocker.args[0]
    assert isinstance(error.exception, ValueError) and str(error) == "ValueError: boom"
    assert error.traceback.startswith("Traceback")
    assert 'raise ValueError("boom")' in error.traceback
    qtbot.waitUntil(lambda: not runner.is_running, timeout=10_000)
    assert order == ["started", "failed", "finished"]


def test_an_unconnected_failure_is_logged(qtbot, runner, caplog):
    with caplog.at_level(logging.ERROR, logger="mogui.qt.jobs"):
        with qtbot.waitSignal(runner.finished, timeout=10_000):
            runner.start(_broken)
    assert "ValueError: boom" in caplog.text
    assert 'raise ValueError("boom")' in caplog.text


def test_cancel_stops_a_cooperative_job(qtbot, runner):
    entered = threading.Event()

    def until_cancelled(job: JobHandle) -> str:
        woken = threading.Event()
        job.on_cancel(woken.set)
        entered.set()
        woken.wait(30)
        job.check_cancelled()
        return "not cancelled"

    outcomes: list[object] = []
    runner.succeeded.connect(outcomes.append)
    runner.failed.connect(outcomes.append)
    runner.start(until_cancelled)
    assert entered.wait(10)
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        runner.cancel()
    assert outcomes == []  # cancelled: neither a result nor an error
    assert not runner.is_running


def test_a_cancel_before_the_job_listens_still_reaches_it():
    handle = JobHandle(lambda _handle, _event: None)
    assert not handle.cancelled
    handle.deliver(CANCEL)
    called: list[int] = []
    handle.on_cancel(lambda: called.append(1))
    assert called == [1] and handle.cancelled
    with pytest.raises(JobCancelled):
        handle.check_cancelled()


def test_coalesced_events_arrive_as_lists_in_order_and_none_is_lost(qtbot):
    runner = ThreadRunner(coalescing=Coalescing(lambda event: isinstance(event, int)))
    go = threading.Event()

    def burst(job: JobHandle) -> None:
        for i in range(500):
            job.report(i)
        job.report("half")
        go.wait(30)
        for i in range(500, 1000):
            job.report(i)

    deliveries: list[object] = []
    runner.progress.connect(deliveries.append)
    with qtbot.waitSignal(runner.progress, timeout=10_000,
                          check_params_cb=lambda payload: payload == "half"):
        runner.start(burst)
    go.set()
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        pass
    half = deliveries.index("half")
    lists = [d for d in deliveries if d != "half"]
    assert all(isinstance(d, list) and d for d in lists)
    assert [n for d in deliveries[:half] for n in d] == list(range(500))
    assert [n for d in lists for n in d] == list(range(1000))
    assert runner.pending == 0


def test_only_the_oldest_coalesced_events_are_dropped_beyond_the_limit():
    coalescing = Coalescing(lambda event: isinstance(event, int), max_pending=10)
    runner = ThreadRunner(coalescing=coalescing)

    def flood(job: JobHandle) -> None:
        for i in range(30):
            job.report(i)
        job.report("kept")
        for i in range(30, 35):
            job.report(i)

    deliveries: list[object] = []
    runner.progress.connect(deliveries.append)
    runner.start(flood)
    assert runner.join(10_000)  # no event loop ran meanwhile: all of it waited in the runner
    assert deliveries == [list(range(25, 30)), "kept", list(range(30, 35))]


def test_join_waits_until_the_deadline_then_delivers(qtbot, runner):
    release = threading.Event()
    order = _record(runner)
    runner.start(lambda _job: release.wait(30))
    assert not runner.join(50)  # the job blocks on the event
    assert runner.is_running and order == ["started"]
    release.set()
    assert runner.join(10_000)
    assert order == ["started", "succeeded", "finished"] and not runner.is_running


@linux_only
def test_priorities_stay_as_they_are_unless_the_user_opted_in(qtbot, runner):
    runner.priority = Priority.LOWER_BACKGROUND
    before = _niceness_of_all()
    with qtbot.waitSignal(runner.succeeded, timeout=10_000) as blocker:
        runner.start(lambda _job: (threading.get_native_id(), _niceness_of_all()))
    job_thread, during = blocker.args[0]
    assert during[job_thread] == before[threading.get_native_id()]
    assert all(during[tid] == nice for tid, nice in before.items() if tid in during)


@linux_only
def test_opted_in_a_job_lowers_only_its_own_thread(qtbot, runner):
    set_lower_priority_enabled(True)
    runner.priority = Priority.LOWER_THREAD
    parked, release = _parked()
    try:
        before = tp.thread_niceness(parked.native_id)
        with qtbot.waitSignal(runner.succeeded, timeout=10_000) as blocker:
            runner.start(lambda _job: (tp.thread_niceness(threading.get_native_id()),
                                       tp.thread_niceness(parked.native_id)))
        assert blocker.args[0] == (tp.BACKGROUND_NICENESS, before)
    finally:
        release.set()
        parked.join()


@linux_only
@pytest.mark.skipif(not tp.can_restore(), reason="raising a priority back needs CAP_SYS_NICE")
def test_opted_in_background_threads_are_lowered_then_restored(qtbot, runner):
    set_lower_priority_enabled(True)
    runner.priority = Priority.LOWER_BACKGROUND
    gui = threading.get_native_id()
    parked, release = _parked()
    try:
        before = tp.thread_niceness(parked.native_id)
        gui_before = tp.thread_niceness(gui)
        seen: list[object] = []
        runner.succeeded.connect(seen.append)
        with qtbot.waitSignal(runner.finished, timeout=10_000):
            runner.start(lambda _job: tp.thread_niceness(parked.native_id))
        assert seen == [tp.BACKGROUND_NICENESS]
        assert tp.thread_niceness(parked.native_id) == before  # restored when the job ended
        assert tp.thread_niceness(gui) == gui_before
    finally:
        release.set()
        parked.join()


def test_commands_reach_every_callback_and_cancel_only_once():
    handle = JobHandle(lambda _handle, _event: None)
    calls: list[str] = []
    handle.on_command("pause", lambda: calls.append("pause"))
    handle.on_cancel(lambda: calls.append("cancel"))
    handle.deliver("pause")
    handle.deliver("pause")
    handle.deliver(CANCEL)
    handle.deliver(CANCEL)
    assert calls == ["pause", "pause", "cancel"]
