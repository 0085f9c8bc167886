"""TensorFlow and Keras, loaded once per app process, off the GUI thread.

Importing TensorFlow takes seconds. The window is shown without it: the first background job
that needs the engine (the shape inspection, a moment after start) calls :func:`load_engine`,
which imports it, lets the GPU grow its memory as needed (before TensorFlow's first op), and
imports the whole engine. Views ask :func:`engine_loaded` to say "Loading TensorFlow…" meanwhile.

Every place of the app that imports the engine calls :func:`load_engine` first: two threads
importing TensorFlow at once can deadlock on its module locks, so one thread imports it all
while the others wait. At start the app holds the load (:func:`hold_engine`) until its window
is on screen (:func:`release_engine`), so the import does not slow the first paint. What the
import leaves alive is frozen out of garbage collection (see :mod:`mogui.qt.engine_thread`).
"""

from __future__ import annotations

import gc
import threading
import time

from mogui.runner.native_log import held_native_stderr

_lock = threading.Lock()
_loaded = threading.Event()
_may_load = threading.Event()
_may_load.set()
#: How the load went: the thread that did it and the seconds it took (``None`` until done).
load_info: dict[str, object] = {"thread": None, "seconds": None}


def engine_loaded() -> bool:
    """True once TensorFlow, Keras and the engine are imported in this process."""
    return _loaded.is_set()


def hold_engine() -> None:
    """Make :func:`load_engine` wait until :func:`release_engine` (the app, until its window
    is on screen)."""
    _may_load.clear()


def release_engine() -> None:
    """Let :func:`load_engine` import the engine (it is waiting, or will not wait)."""
    _may_load.set()


def load_engine() -> None:
    """Import TensorFlow, Keras and the engine (seconds, the first time); thread-safe, and at
    once when done before. On the GUI thread it blocks until the import is done: call it from
    background jobs, and from the GUI thread only for an action the user asked for."""
    if _loaded.is_set():
        return
    _may_load.wait()
    with _lock:
        if _loaded.is_set():
            return
        started = time.perf_counter()
        # Imported here, not at the top, so that the app's window appears without TensorFlow.
        # Its start-up lines are dropped; whatever else reaches stderr meanwhile is kept.
        with held_native_stderr(pass_others=True):
            from mogui.engine.training.devices import configure_devices

            configure_devices()  # GPU memory growth: before TensorFlow's first op
            import mogui.engine.export  # noqa: F401 - Keras and every engine layer below

        gc.freeze()  # TensorFlow's ~300,000 objects stay: keep them out of collections

        load_info.update(thread=threading.current_thread().name,
                         seconds=time.perf_counter() - started)
        _loaded.set()
