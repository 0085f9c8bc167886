"""The app's first moments: a call once the window is on screen, and timing markers of the
start for ``benchmarks/startup.py``.

With ``MOGUI_STARTUP_TIMING=1`` the app writes one line per milestone to standard error,
``mogui-startup <event> <unix time> <CPU seconds the process has used>``: ``window`` when
the main window is first on screen (its first expose), ``shapes`` when the shape table first
holds the project's rows (TensorFlow loaded), or ``mogui-startup failed <why>`` when the
shapes could not be computed. With ``MOGUI_STARTUP_TIMING=quit`` it also closes the window
then.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

from mogui.qt.inspection import LiveInspection

ENV = "MOGUI_STARTUP_TIMING"
PREFIX = "mogui-startup"


def timing_mode() -> str:
    """``""`` (off), ``"1"`` (print markers) or ``"quit"`` (print, then close after shapes)."""
    return os.environ.get(ENV, "").strip().lower()


def mark(event: str) -> None:
    """Write the marker of ``event`` now (when timing is on)."""
    if not timing_mode():
        return
    print(f"{PREFIX} {event} {time.time():.6f} {time.process_time():.3f}", file=sys.stderr,
          flush=True)


class _FirstExpose(QObject):
    """Calls ``callback`` once, after ``window``'s native window is first exposed (and so
    painted)."""

    def __init__(self, window: QWidget, callback: Callable[[], None]) -> None:
        super().__init__(window)
        self._callback: Callable[[], None] | None = callback

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if self._callback is not None and event.type() == QEvent.Type.Expose \
                and watched.isExposed():
            QTimer.singleShot(0, self._callback)  # after the expose has been painted
            self._callback = None
        return False


def when_on_screen(window: QWidget, callback: Callable[[], None]) -> None:
    """Call ``callback`` once ``window`` is first on screen (call before showing it)."""
    window.winId()  # create the native window, so its expose events can be watched
    window.windowHandle().installEventFilter(_FirstExpose(window, callback))


def watch_shapes(window: QWidget, inspection: LiveInspection) -> None:
    """Mark ``shapes`` when ``inspection`` first delivers (and close ``window`` in ``quit``
    mode); does nothing unless :data:`ENV` is set. The app marks ``window`` itself."""
    mode = timing_mode()
    if not mode:
        return

    def on_updated() -> None:
        if inspection.inspection is None and not inspection.failure:
            return
        inspection.updated.disconnect(on_updated)
        if inspection.inspection is None:
            print(f"{PREFIX} failed {inspection.failure}", file=sys.stderr, flush=True)
        else:
            mark("shapes")
        if mode == "quit":
            QTimer.singleShot(0, window.close)

    inspection.updated.connect(on_updated)
