"""Stop or pause a training run, or change its loss weights, from any thread."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping


class TrainingControl:
    """Stop or pause a training run from another thread.

    ``stop()`` works at any time, also before training starts; the run ends after the batch in
    progress. ``pause()`` holds the training thread after the current batch until ``resume()``
    or ``stop()``. ``set_loss_weights()`` gives heads new base loss weights, which the run
    applies before its next batch.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._lock = threading.Lock()
        self._weights: dict[str, float] = {}

    def set_loss_weights(self, weights: Mapping[str, float]) -> None:
        """New base loss weights for the named heads (each a number >= 0), applied before the
        next batch; later calls before then add to or replace earlier ones. Heads the run does
        not train are ignored. Raises ValueError for a weight that is not a number >= 0."""
        checked: dict[str, float] = {}
        for head, value in weights.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = math.nan
            if not math.isfinite(number) or number < 0:
                raise ValueError(f"the loss weight of head '{head}' must be a number >= 0, "
                                 f"got {value!r}")
            checked[str(head)] = number
        with self._lock:
            self._weights.update(checked)

    def take_loss_weights(self) -> dict[str, float]:
        """The weights set since the last call (empty when none); the run calls it."""
        with self._lock:
            weights, self._weights = self._weights, {}
        return weights

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
