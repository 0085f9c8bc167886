"""Run background threads at a lower OS priority than the thread that draws the window.

Training keeps every core busy in bursts: TensorFlow's compute threads and the thread that
runs the Keras loop. At equal priority the GUI thread waits its turn behind them, and each
repaint or timer is late by a few milliseconds. With the background threads at niceness 10,
the scheduler runs the GUI thread first whenever it wants a core; when it does not, training
has all of them, so throughput only loses what the GUI itself uses.

Linux only (``setpriority`` on a thread id changes that one thread); elsewhere a no-op.
Niceness is only ever raised, which needs no privileges.
"""

from __future__ import annotations

import os
import sys
import threading

#: Niceness given to background threads (0 is normal, 19 the lowest priority).
BACKGROUND_NICENESS = 10

_TASKS = "/proc/self/task"


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


def lower_background_threads(keep: int, niceness: int = BACKGROUND_NICENESS) -> int:
    """Give every thread of this process except ``keep`` at least ``niceness``.

    ``keep`` is the native id of the GUI thread (``threading.get_native_id()`` there).
    Threads started later by a lowered thread inherit its niceness; call this again to catch
    threads started meanwhile by others. Returns how many threads were lowered.
    """
    if not supported():
        return 0
    try:
        tids = [int(name) for name in os.listdir(_TASKS)]
    except OSError:
        return 0
    return sum(_lower(tid, niceness) is True for tid in tids if tid != keep)


def lower_this_thread(niceness: int = BACKGROUND_NICENESS) -> bool:
    """Lower the calling thread (and so every thread it starts from now on)."""
    return supported() and _lower(threading.get_native_id(), niceness) is not None


def _lower(tid: int, niceness: int) -> bool | None:
    """Raise one thread's niceness to ``niceness``: True if raised, False if it already was,
    None when the thread ended meanwhile or the system refuses (it is left as it is)."""
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) >= niceness:
            return False
        os.setpriority(os.PRIO_PROCESS, tid, niceness)
        return True
    except OSError:
        return None
