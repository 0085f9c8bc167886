"""Every model is built on one engine thread, and garbage is collected only while it is idle."""

from __future__ import annotations

import gc
import threading
import weakref

from mogui.core.io import load_example
from mogui.qt.engine_thread import (
    ENGINE_THREAD,
    EngineRunner,
    GarbageTimer,
    collect_garbage,
)
from mogui.qt.jobs import JobHandle


def _thread_name(_job: JobHandle) -> str:
    return threading.current_thread().name


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_jobs_of_different_runners_run_on_the_one_engine_thread_in_order(qtbot):
    first, second = EngineRunner(), EngineRunner()
    release = threading.Event()
    order: list[str] = []

    def blocking(_job: JobHandle) -> str:
        release.wait(30)
        order.append("first")
        return threading.current_thread().name

    def quick(_job: JobHandle) -> str:
        order.append("second")
        return threading.current_thread().name

    names: list[str] = []
    first.succeeded.connect(names.append)
    second.succeeded.connect(names.append)
    first.start(blocking)
    second.start(quick)
    assert not second.join(50)  # queued behind the first job, not run beside it
    release.set()
    assert first.join(10_000) and second.join(10_000)
    assert order == ["first", "second"]
    assert names == ["mogui-engine", "mogui-engine"]


def test_a_job_cancelled_while_queued_never_runs(qtbot):
    blocker, queued = EngineRunner(), EngineRunner()
    release = threading.Event()
    ran: list[bool] = []
    blocker.start(lambda _job: release.wait(30))
    queued.start(lambda _job: ran.append(True))
    outcomes: list[object] = []
    queued.succeeded.connect(outcomes.append)
    queued.cancel()
    release.set()
    assert blocker.join(10_000) and queued.join(10_000)
    assert ran == [] and outcomes == []  # ended as cancelled: no result


def test_no_collection_while_the_engine_thread_works(qtbot):
    runner = EngineRunner()
    inside, release = threading.Event(), threading.Event()

    def work(_job: JobHandle) -> None:
        inside.set()
        release.wait(30)

    garbage = _Cycle()
    freed = weakref.ref(garbage)
    del garbage
    runner.start(work)
    assert inside.wait(10)
    assert collect_garbage() is False
    assert freed() is not None  # the cycle survives: nothing was collected
    release.set()
    assert runner.join(10_000)
    assert collect_garbage() is True
    assert freed() is None


def test_the_garbage_timer_turns_automatic_collection_off_and_collects_itself(qtbot):
    timer = GarbageTimer()
    assert not gc.isenabled()
    garbage = _Cycle()
    freed = weakref.ref(garbage)
    del garbage
    for _ in range(10):  # the tenth tick is a full collection
        timer.tick()
    assert freed() is None


def test_shape_inspection_and_the_loss_contract_run_on_the_engine_thread(qtbot, monkeypatch):
    from mogui.qt import dry_run_view, inspection
    from mogui.qt.document import ProjectDocument
    from mogui.qt.dry_run_view import ContractView

    threads: list[tuple[str, str]] = []

    def recorded(kind, job):
        def run(handle, *args):
            threads.append((kind, threading.current_thread().name))
            return job(handle, *args)

        return run

    monkeypatch.setattr(inspection, "_inspect", recorded("shapes", inspection._inspect))
    monkeypatch.setattr(dry_run_view, "contract_of", recorded("contract", dry_run_view.contract_of))
    document = ProjectDocument(load_example("bbox_classification"))
    live = inspection.LiveInspection(document)
    with qtbot.waitSignal(live.updated, timeout=60_000):
        live.refresh_now()
    view = ContractView(lambda: document.project)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view._call.finished, timeout=60_000):
        view.refresh()
    assert ("shapes", ENGINE_THREAD.name) in threads
    assert ("contract", ENGINE_THREAD.name) in threads
    assert {name for _kind, name in threads} == {ENGINE_THREAD.name}
