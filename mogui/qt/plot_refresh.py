"""When live plots are painted: one plot at a time, soon after new data, at a bounded rate.

Each refresh draws one plot, 50 ms after new data arrived (half of the worker's 100 ms drain
period) and then every 100 ms while a plot has undrawn points: the plots are painted in turns
(two plots: each at most 5 times a second), and not in the same moment as the progress bar
that the same data update; more plots (a plot per metric) take their turns the same way.
Keeping each paint short matters more than painting less often: the GUI
thread's timers wait for whatever paint is in progress.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt, QTimer

REDRAW_MS = 100  # one plot per tick: each of two plots at most 5 times a second
REDRAW_DELAY_MS = 50  # after new data, half a drain period: away from the progress repaint


class TurnRefresher(QObject):
    """Calls ``refresh(plot)`` for the plots marked as having undrawn data, one per tick."""

    def __init__(self, plots: Sequence[object], refresh: Callable[[object], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._plots = list(plots)
        self._refresh = refresh
        self._dirty: set[int] = set()  # ids of plots with data not yet drawn
        self._next_plot = 0
        self._timer = QTimer(self, singleShot=True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._refresh_next)

    def add(self, plot: object) -> None:
        """Take ``plot`` into the turns."""
        if all(plot is not p for p in self._plots):
            self._plots.append(plot)

    def remove(self, plot: object) -> None:
        """Leave ``plot`` out of the turns (it is going away)."""
        self._plots = [p for p in self._plots if p is not plot]
        self._dirty.discard(id(plot))
        self._next_plot %= max(1, len(self._plots))

    def mark(self, plot: object) -> None:
        """``plot`` has data not yet drawn (a plot not in the turns is ignored)."""
        if any(plot is p for p in self._plots):
            self._dirty.add(id(plot))

    def drawn(self, plot: object) -> None:
        """``plot`` has just been drawn."""
        self._dirty.discard(id(plot))

    def schedule(self) -> None:
        """New data: refresh a plot half a drain period from now, unless one is due sooner."""
        if self._dirty and (not self._timer.isActive()
                            or self._timer.remainingTime() > REDRAW_DELAY_MS):
            self._timer.start(REDRAW_DELAY_MS)

    def stop(self) -> None:
        """Forget every mark and cancel the pending refresh."""
        self._dirty.clear()
        self._timer.stop()

    def _refresh_next(self) -> None:
        """Refresh the next plot with undrawn data; come back for the other one later."""
        for step in range(len(self._plots)):
            index = (self._next_plot + step) % len(self._plots)
            if id(self._plots[index]) in self._dirty:
                self._next_plot = (index + 1) % len(self._plots)
                self._refresh(self._plots[index])
                break
        if self._dirty:
            self._timer.start(REDRAW_MS)
