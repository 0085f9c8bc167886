"""Run background threads at a lower OS priority than the thread that draws the window.

Training keeps every core busy in bursts: TensorFlow's compute threads and the thread that
runs the Keras loop. At equal priority the GUI thread waits its turn behind them, and each
repaint or timer is late by a few milliseconds. With the background threads at niceness 10,
the scheduler runs the GUI thread first whenever it wants a core; when it does not, training
has all of them, so throughput only loses what the GUI itself uses.

This is opt-in (a user preference) and undone afterwards: :func:`lower_priority` records what
it changed and :func:`restore_priority` puts it back, including threads that lowered threads
started meanwhile. Putting a priority back up needs ``CAP_SYS_NICE`` or a large enough
``RLIMIT_NICE``; where the system refuses, those threads stay lowered (logged once).
Changes may overlap (a dry run during training): a thread still lowered for another change
is handed over to it and only restored when the last change ends.

Linux only (``setpriority`` on a thread id changes that one thread); elsewhere a no-op.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass, field

_log = logging.getLogger(__name__)

#: Niceness given to background threads (0 is normal, 19 the lowest priority).
BACKGROUND_NICENESS = 10

_TASKS = "/proc/self/task"


@dataclass(eq=False)
class PriorityChange:
    """What one :func:`lower_priority` call changed, for :func:`restore_priority`."""

    niceness: int
    #: thread id -> its niceness before this change lowered it
    previous: dict[int, int] = field(default_factory=dict)
    #: every thread alive when the change was made (others started during it)
    existing: frozenset[int] = frozenset()
    #: the niceness a thread started later by a lowered thread would otherwise have had
    baseline: int | None = None


_active: list[PriorityChange] = []
_active_lock = threading.Lock()


def supported() -> bool:
    """True where single threads can be given their own priority (Linux)."""
    return sys.platform.startswith("linux") and os.path.isdir(_TASKS)


def thread_niceness(native_id: int) -> int | None:
    """The niceness of one thread of this process, or ``None`` where it cannot be read."""
    if not supported():
        return None
    try:
        return os.getpriority(os.PRIO_PROCESS, native_id)
    except OSError:
        return None


def thread_ids() -> list[int]:
    """The native ids of this process's threads (empty where not :func:`supported`)."""
    if not supported():
        return []
    try:
        return [int(name) for name in os.listdir(_TASKS)]
    except OSError:
        return []


def can_restore() -> bool:
    """True when this process may give a lowered thread its priority back (root,
    ``CAP_SYS_NICE`` or a large enough ``RLIMIT_NICE``); tried on a short-lived thread."""
    if not supported():
        return False
    allowed: list[bool] = []

    def probe() -> None:
        tid = threading.get_native_id()
        try:
            before = os.getpriority(os.PRIO_PROCESS, tid)
            os.setpriority(os.PRIO_PROCESS, tid, before + 1)
            os.setpriority(os.PRIO_PROCESS, tid, before)
            allowed.append(True)
        except OSError:
            allowed.append(False)

    thread = threading.Thread(target=probe, name="mogui-priority-probe")
    thread.start()
    thread.join()
    return allowed == [True]


def lower_background_threads(keep: int, niceness: int = BACKGROUND_NICENESS,
                             record: PriorityChange | None = None) -> int:
    """Give every thread of this process except ``keep`` at least ``niceness``.

    ``keep`` is the native id of the GUI thread (``threading.get_native_id()`` there).
    Threads started later by a lowered thread inherit its niceness. ``record`` notes each
    thread lowered with its niceness before. Returns how many threads were lowered.
    """
    lowered = 0
    for tid in thread_ids():
        if tid != keep and _lower(tid, niceness, record):
            lowered += 1
    return lowered


def lower_this_thread(niceness: int = BACKGROUND_NICENESS,
                      record: PriorityChange | None = None) -> bool:
    """Lower the calling thread (and so every thread it starts from now on)."""
    if not supported():
        return False
    tid = threading.get_native_id()
    _lower(tid, niceness, record)
    now = thread_niceness(tid)
    return now is not None and now >= niceness


def lower_priority(keep: int | None = None,
                   niceness: int = BACKGROUND_NICENESS) -> PriorityChange:
    """Lower every thread but ``keep``, or with ``keep=None`` only the calling thread.

    Returns the record to hand to :func:`restore_priority` when the work is done.
    """
    own = threading.get_native_id()
    change = PriorityChange(niceness, existing=frozenset(thread_ids()))
    change.baseline = thread_niceness(own if keep is None else keep)
    with _active_lock:
        _active.append(change)
    if keep is None:
        lower_this_thread(niceness, change)
    else:
        lower_background_threads(keep, niceness, change)
    return change


def restore_priority(change: PriorityChange) -> int:
    """Undo ``change``: lowered threads get their niceness back, threads started meanwhile at
    the lowered niceness get ``baseline``. Returns how many threads were put back."""
    with _active_lock:
        if change in _active:
            _active.remove(change)
        previous = dict(change.previous)
    restored = refused = 0
    for tid in thread_ids():
        if thread_niceness(tid) != change.niceness:
            continue  # not lowered by us, or changed by someone else since
        target = previous.get(tid)
        if target is None and tid not in change.existing:
            target = change.baseline
        if target is None or target >= change.niceness or _hand_over(tid, target):
            continue
        try:
            os.setpriority(os.PRIO_PROCESS, tid, target)
            restored += 1
        except PermissionError:
            refused += 1
        except OSError:
            pass  # the thread ended meanwhile
    if refused:
        _log.warning("%d thread(s) keep their lowered priority: raising it back needs "
                     "CAP_SYS_NICE or RLIMIT_NICE.", refused)
    return restored


def _hand_over(tid: int, target: int) -> bool:
    """Let a change still in progress restore ``tid`` later; False when none is."""
    with _active_lock:
        if not _active:
            return False
        _active[-1].previous.setdefault(tid, target)
        return True


def _lower(tid: int, niceness: int, record: PriorityChange | None) -> bool:
    """Raise one thread's niceness to ``niceness``; True if raised. A thread already that
    low, ended meanwhile or refused by the system is left as it is."""
    try:
        before = os.getpriority(os.PRIO_PROCESS, tid)
        if before >= niceness:
            return False
        os.setpriority(os.PRIO_PROCESS, tid, niceness)
    except OSError:
        return False
    if record is not None:
        with _active_lock:
            record.previous[tid] = before
    return True
