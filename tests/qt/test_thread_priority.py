"""Background threads get a lower OS priority than the GUI thread (Linux)."""

from __future__ import annotations

import threading

import pytest

from mogui.qt import thread_priority as tp

pytestmark = pytest.mark.skipif(not tp.supported(), reason="per-thread priority is Linux-only")


def _parked_thread(target=None) -> tuple[threading.Thread, threading.Event, list[int]]:
    release = threading.Event()
    ids: list[int] = []

    def body() -> None:
        ids.append(threading.get_native_id())
        if target is not None:
            target()
        release.wait(10)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    while not ids:
        threading.Event().wait(0.001)
    return thread, release, ids


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


def test_priority_is_only_ever_lowered():
    thread, release, ids = _parked_thread(lambda: tp.lower_this_thread(15))
    try:
        tp.lower_background_threads(keep=threading.get_native_id(), niceness=10)
        assert tp.thread_niceness(ids[0]) == 15
    finally:
        release.set()
        thread.join()
