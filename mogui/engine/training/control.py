"""Stop or pause a training run from any thread."""

from __future__ import annotations

import threading


class TrainingControl:
    """Stop or pause a training run from another thread.

    ``stop()`` works at any time, also before training starts; the run ends after the batch in
    progress. ``pause()`` holds the training thread after the current batch until ``resume()``
    or ``stop()``.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused run so it can stop

    def pause(self) -> None:
        if not self._stop.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> None:
        """Block until resumed or stopped (returns at once when not paused)."""
        self._running.wait()
