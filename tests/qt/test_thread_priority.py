"""Background threads get a lower OS priority than the GUI thread (Linux)."""

from __future__ import annotations

import os
import threading

import pytest

from mogui.qt import thread_priority as tp

pytestmark = pytest.mark.skipif(not tp.supported(), reason="per-thread priority is Linux-only")

#: Tests that lower threads other than their own, which only a process that can raise a
#: priority back may run without leaving later tests slower.
restorable = pytest.mark.skipif(not tp.can_restore(),
                                reason="raising a priority back needs CAP_SYS_NICE")


@pytest.fixture(autouse=True)
def _priorities_put_back():
    """Every thread of the test process gets back the niceness it had before the test."""
    before = {tid: tp.thread_niceness(tid) for tid in tp.thread_ids()}
    yield
    for tid, niceness in before.items():
        now = tp.thread_niceness(tid)
        if niceness is not None and now is not None and now != niceness:
            try:
                os.setpriority(os.PRIO_PROCESS, tid, niceness)
            except OSError:
                pass  # the thread ended meanwhile
    for tid, niceness in before.items():
        now = tp.thread_niceness(tid)
        assert now in (None, niceness), f"thread {tid} kept niceness {now} (was {niceness})"


def _parked_thread(target=None) -> tuple[threading.Thread, threading.Event, list[int]]:
    release = threading.Event()
    ids: list[int] = []

    def body() -> None:
        if target is not None:
            target()
        ids.append(threading.get_native_id())  # after target: the caller sees its effect
        release.wait(10)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    while not ids:
        threading.Event().wait(0.001)
    return thread, release, ids


@restorable
def test_every_thread_but_the_kept_one_is_lowered():
    main = threading.get_native_id()
    before = tp.thread_niceness(main)
    thread, release, ids = _parked_thread()
    try:
        assert tp.lower_background_threads(keep=main) >= 1
        assert tp.thread_niceness(ids[0]) == tp.BACKGROUND_NICENESS
        assert tp.thread_niceness(main) == before  # the GUI thread keeps its priority
        assert tp.lower_background_threads(keep=main) == 0  # nothing left to lower
    finally:
        release.set()
        thread.join()


def test_threads_started_by_a_lowered_thread_inherit_it():
    children: list[int] = []

    def start_child() -> None:
        assert tp.lower_this_thread()
        _thread, release, ids = _parked_thread()
        children.append(tp.thread_niceness(ids[0]))
        release.set()

    thread, release, _ids = _parked_thread(start_child)
    release.set()
    thread.join()
    assert children == [tp.BACKGROUND_NICENESS]


@restorable
def test_priority_is_only_ever_lowered():
    thread, release, ids = _parked_thread(lambda: tp.lower_this_thread(15))
    try:
        tp.lower_background_threads(keep=threading.get_native_id(), niceness=10)
        assert tp.thread_niceness(ids[0]) == 15
    finally:
        release.set()
        thread.join()


@restorable
def test_restore_gives_each_lowered_thread_its_niceness_back():
    main = threading.get_native_id()
    main_before = tp.thread_niceness(main)
    thread, release, ids = _parked_thread()
    try:
        before = tp.thread_niceness(ids[0])
        change = tp.lower_priority(keep=main)
        assert change.previous[ids[0]] == before
        assert tp.thread_niceness(ids[0]) == tp.BACKGROUND_NICENESS
        assert tp.restore_priority(change) >= 1
        assert tp.thread_niceness(ids[0]) == before
        assert tp.thread_niceness(main) == main_before
    finally:
        release.set()
        thread.join()


@restorable
def test_threads_started_during_a_change_get_the_baseline_back():
    seen: list[int | None] = []
    children: list[tuple[threading.Thread, threading.Event, list[int]]] = []

    def lowered_work() -> None:
        before = tp.thread_niceness(threading.get_native_id())
        change = tp.lower_priority()  # this thread only
        children.append(_parked_thread())
        seen.append(tp.thread_niceness(children[0][2][0]))
        tp.restore_priority(change)
        seen.extend([tp.thread_niceness(children[0][2][0]),
                     tp.thread_niceness(threading.get_native_id()), before])

    thread, release, _ids = _parked_thread(lowered_work)
    release.set()
    thread.join()
    child, child_release, _child_ids = children[0]
    child_release.set()
    child.join()
    inherited, child_after, own_after, before = seen
    assert inherited == tp.BACKGROUND_NICENESS
    assert child_after == before and own_after == before


@restorable
def test_overlapping_changes_restore_when_the_last_one_ends():
    main = threading.get_native_id()
    thread, release, ids = _parked_thread()
    try:
        before = tp.thread_niceness(ids[0])
        first = tp.lower_priority(keep=main)
        second = tp.lower_priority(keep=main)  # finds the thread lowered already
        tp.restore_priority(first)
        assert tp.thread_niceness(ids[0]) == tp.BACKGROUND_NICENESS  # still in use
        tp.restore_priority(second)
        assert tp.thread_niceness(ids[0]) == before
    finally:
        release.set()
        thread.join()
