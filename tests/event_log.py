"""A reporter that keeps every training event, for tests to read."""

from __future__ import annotations

from dataclasses import dataclass, field

from mogui.core.events import TrainingEvent


@dataclass
class EventLog:
    """Keeps every event it is called with."""

    events: list[TrainingEvent] = field(default_factory=list)

    def __call__(self, event: TrainingEvent) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]
